package credits

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"entgo.io/ent/dialect"

	"creditgate/auth"
	"creditgate/ent"
	"creditgate/ent/apikey"
	"creditgate/events"
	"creditgate/gid"
)

// Service credentials (API keys) and what a SERVICE viewer may do.
//
// A SERVICE viewer (an API key, or a JWT with role "service") acts on the
// accounts of its agency, or of every agency when it has none (scopeOf),
// and only within its scopes:
//
//	recordUsage                                ScopeUsageWrite
//	createHold, captureHold, releaseHold       ScopeHoldsWrite
//	balance, balances, holds, services reads   ScopeBalancesRead
//
// Everything else is FORBIDDEN to it: the API gates every other operation
// with @hasRole (SERVICE is listed only where the contract allows it), and
// the domain's requireRole lists never include RoleService elsewhere.
// An operation open to SERVICE calls requireScope with its scope first:
//
//	if err := requireScope(ctx, ScopeUsageWrite); err != nil {
//		return nil, err
//	}

// The scopes of a SERVICE viewer (the API's ApiKeyScope).
const (
	ScopeUsageWrite   = auth.ScopeUsageWrite
	ScopeHoldsWrite   = auth.ScopeHoldsWrite
	ScopeBalancesRead = auth.ScopeBalancesRead
)

// requireScope is FORBIDDEN for a SERVICE viewer without scope; every other
// viewer passes (their role is checked by requireRole and @hasRole), as
// does the system's own work.
func requireScope(ctx context.Context, scope auth.Scope) error {
	if isSystem(ctx) {
		return nil
	}
	v, err := viewerOf(ctx)
	if err != nil {
		return err
	}
	if v.Role == auth.RoleService && !v.HasScope(scope) {
		return newErr(CodeForbidden, "this API key lacks the %s scope", scope)
	}
	return nil
}

// RequireScope is requireScope for the API layer, where an operation open to
// SERVICE viewers does not reach a domain method that checks it (the
// balanceUpdated subscription).
func (s *Service) RequireScope(ctx context.Context, scope auth.Scope) error {
	return requireScope(ctx, scope)
}

// BalancesOf is the balances query: the account named (a SERVICE viewer must
// name one, and hold ScopeBalancesRead, which is checked first).
func (s *Service) BalancesOf(ctx context.Context, id *gid.ID) ([]*ent.Balance, error) {
	if err := requireScope(ctx, ScopeBalancesRead); err != nil {
		return nil, err
	}
	acc, err := s.Account(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.Balances(ctx, acc)
}

// ServicesOf is the services query; see BalancesOf.
func (s *Service) ServicesOf(ctx context.Context, id *gid.ID) ([]*ent.Service, error) {
	if err := requireScope(ctx, ScopeBalancesRead); err != nil {
		return nil, err
	}
	acc, err := s.Account(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.Services(ctx, acc)
}

// ---------------------------------------------------------------- keys

// NewAPIKey describes createApiKey.
type NewAPIKey struct {
	AgencyID *gid.ID // nil: the agency admin's own; for a system admin, platform-wide
	Name     string
	Scopes   []auth.Scope
}

// CreateAPIKey makes a key and returns it with its secret, which exists
// nowhere else: only its SHA-256 is stored, and nothing logs it.
func (s *Service) CreateAPIKey(ctx context.Context, in NewAPIKey) (*ent.APIKey, string, error) {
	v, err := requireRole(ctx, auth.RoleAgencyAdmin, auth.RoleSystemAdmin)
	if err != nil {
		return nil, "", err
	}
	name, err := cleanName("name", in.Name, 200)
	if err != nil {
		return nil, "", err
	}
	scopes, err := cleanScopes(in.Scopes)
	if err != nil {
		return nil, "", err
	}
	var ag *ent.Agency
	if in.AgencyID != nil || v.Role != auth.RoleSystemAdmin {
		if ag, err = s.Agency(ctx, in.AgencyID); err != nil {
			return nil, "", err
		}
	}
	id := gid.New(gid.APIKey)
	secret, hash, prefix, err := auth.NewKeySecret(string(id))
	if err != nil {
		return nil, "", fmt.Errorf("making a key secret: %w", err)
	}
	var k *ent.APIKey
	err = s.inTx(ctx, func(tx *ent.Tx) error {
		create := tx.APIKey.Create().SetID(id).SetName(name).SetScopes(strings.Join(scopes, ",")).
			SetPrefix(prefix).SetSecretHash(hash[:]).SetCreatedBy(v.UserID)
		a := Audit{Action: "createApiKey", TargetID: id,
			Summary: fmt.Sprintf("created API key %s %q (%s)", id, name, strings.Join(scopes, ", "))}
		if ag != nil {
			create.SetAgencyID(ag.ID)
			a.AgencyID = ag.ID
		} else {
			a.Summary += ", platform-wide"
		}
		if k, err = create.Save(ctx); err != nil {
			return fmt.Errorf("creating API key: %w", err)
		}
		return s.audit(ctx, tx, a) // never the secret
	})
	if err != nil {
		return nil, "", err
	}
	k = k.Unwrap()
	k.Edges.Agency = ag
	return k, secret, nil
}

// KeyScopes are the scopes of k, in the API's order.
func KeyScopes(k *ent.APIKey) []auth.Scope {
	var out []auth.Scope
	for _, sc := range strings.Split(k.Scopes, ",") {
		if sc != "" {
			out = append(out, auth.Scope(sc))
		}
	}
	return out
}

// cleanScopes checks scopes and puts them in the API's order, once each.
func cleanScopes(in []auth.Scope) ([]string, error) {
	if len(in) == 0 {
		return nil, badInput("scopes: name at least one")
	}
	var out []string
	for _, sc := range auth.AllScopes {
		if slices.Contains(in, sc) {
			out = append(out, string(sc))
		}
	}
	for _, sc := range in {
		if !sc.Valid() {
			return nil, badInput("scopes: unknown scope %q", truncate(string(sc), 32))
		}
	}
	return out, nil
}

// APIKeys lists keys, newest first: an agency admin its agency's, a system
// admin the named agency's, or every key (platform-wide ones included)
// when none is named.
func (s *Service) APIKeys(ctx context.Context, agencyID *gid.ID) ([]*ent.APIKey, error) {
	v, err := requireRole(ctx, auth.RoleAgencyAdmin, auth.RoleSystemAdmin)
	if err != nil {
		return nil, err
	}
	q := s.db.APIKey.Query()
	if agencyID != nil || v.Role != auth.RoleSystemAdmin {
		ag, err := s.Agency(ctx, agencyID)
		if err != nil {
			return nil, err
		}
		q.Where(apikey.AgencyID(ag.ID))
	}
	keys, err := q.Order(ent.Desc(apikey.FieldCreatedAt), ent.Desc(apikey.FieldID)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing API keys: %w", err)
	}
	return keys, nil
}

// RevokeAPIKey revokes a key in the viewer's scope (NOT_FOUND otherwise).
// It is refused on every gateway instance within a second: the revocation
// is announced inside its transaction (PostgreSQL: pg_notify, heard by
// every instance's listener once it commits) and dropped from this
// instance's cache at once. Revoking a revoked key changes nothing.
func (s *Service) RevokeAPIKey(ctx context.Context, id gid.ID) (*ent.APIKey, error) {
	if _, err := requireRole(ctx, auth.RoleAgencyAdmin, auth.RoleSystemAdmin); err != nil {
		return nil, err
	}
	k, err := s.db.APIKey.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, notFound("API key")
	}
	if err != nil {
		return nil, nothingDone(fmt.Errorf("loading API key: %w", err))
	}
	if k.RevokedAt != nil {
		return k, nil
	}
	now := time.Now().UTC()
	err = s.inTx(ctx, func(tx *ent.Tx) error {
		n, err := tx.APIKey.Update().Where(apikey.ID(id), apikey.RevokedAtIsNil()).SetRevokedAt(now).Save(ctx)
		if err != nil {
			return fmt.Errorf("revoking API key: %w", err)
		}
		if n == 0 {
			return nil // revoked meanwhile: nothing changed here
		}
		a := Audit{Action: "revokeApiKey", TargetID: id, Summary: fmt.Sprintf("revoked API key %s %q", id, k.Name)}
		if k.AgencyID != nil {
			a.AgencyID = *k.AgencyID
		}
		if err := s.audit(ctx, tx, a); err != nil {
			return err
		}
		if s.dialect == dialect.Postgres {
			// Delivered to every instance's listener on COMMIT only.
			ev := events.Event{Key: &events.KeyRevoked{KeyID: id}}
			if _, err := tx.ExecContext(ctx, "SELECT pg_notify($1, $2)", events.Channel, ev.Encode()); err != nil {
				return fmt.Errorf("announcing the revocation: %w", err)
			}
		}
		return nil
	})
	// This instance forgets the key at once (on SQLite, the only one; on
	// PostgreSQL the others when they hear it), and also when the COMMIT's
	// outcome is unknown: a look-up costs little.
	s.keyRevoked(id)
	if err != nil {
		return nil, err
	}
	k, err = s.db.APIKey.Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("reading the revoked key: %w", err)
	}
	return k, nil
}

// ---------------------------------------------------------------- the verifier's store

// KeyStore is where the token verifier finds API keys (auth.KeyStore).
type KeyStore struct {
	s *Service
}

// KeyStore returns the store to install on the verifier (auth.Verifier.UseKeys).
func (s *Service) KeyStore() *KeyStore { return &KeyStore{s: s} }

var _ auth.KeyStore = (*KeyStore)(nil)

// LookupKey reads a key as the system (the verifier has no viewer yet).
func (ks *KeyStore) LookupKey(ctx context.Context, id string) (*auth.StoredKey, error) {
	k, err := ks.s.db.APIKey.Get(System(ctx), gid.ID(id))
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("loading API key: %w", err)
	}
	sk := &auth.StoredKey{ID: string(k.ID), Hash: k.SecretHash, Revoked: k.RevokedAt != nil, Scopes: KeyScopes(k)}
	if k.AgencyID != nil {
		sk.AgencyID = string(*k.AgencyID)
	}
	return sk, nil
}

// TouchKey sets lastUsedAt; the verifier calls it when it looks a key up,
// at most once a minute per key and instance, never per request.
func (ks *KeyStore) TouchKey(ctx context.Context, id string, at time.Time) error {
	_, err := ks.s.db.APIKey.Update().
		Where(apikey.ID(gid.ID(id)), apikey.Or(apikey.LastUsedAtIsNil(), apikey.LastUsedAtLT(at))).
		SetLastUsedAt(at.UTC()).Save(System(ctx))
	if err != nil {
		ks.s.log.WarnContext(ctx, "recording an API key's last use", "key", id, "error", err)
	}
	return err
}

// OnKeyRevoked makes forget hear of every revocation: this instance's at
// once, the others' through the broker's listener (PostgreSQL), and "" when
// the listener may have missed some.
func (ks *KeyStore) OnKeyRevoked(forget func(id string)) {
	s := ks.s
	s.keyHooks.mu.Lock()
	s.keyHooks.forget = append(s.keyHooks.forget, forget)
	s.keyHooks.mu.Unlock()
	if s.broker != nil && s.dialect == dialect.Postgres {
		s.broker.OnKeyRevoked(func(id gid.ID) { forget(string(id)) })
	}
}

// keyHooks are told of the keys revoked through this instance.
type keyHooks struct {
	mu     sync.Mutex
	forget []func(id string)
}

func (s *Service) keyRevoked(id gid.ID) {
	s.keyHooks.mu.Lock()
	hooks := s.keyHooks.forget
	s.keyHooks.mu.Unlock()
	for _, f := range hooks {
		f(string(id))
	}
}
