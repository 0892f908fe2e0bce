package main

// Service credentials (API keys) end to end: creating, listing, using and
// revoking keys through the real gateway on both databases; what a SERVICE
// viewer may do; the secret kept out of the database, the logs and every
// answer after the one that made it; and revocation reaching a second
// gateway process within a second. Helpers are prefixed key.

import (
	"bytes"
	"context"
	"encoding/hex"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"creditgate/auth"
	"creditgate/credits"
	"creditgate/dbtest"
	"creditgate/ent"
	"creditgate/gid"
	"creditgate/graph"
)

const (
	keyMCreate = `mutation($ag: ID, $n: String!, $s: [ApiKeyScope!]!){ createApiKey(input:{agencyId: $ag, name: $n, scopes: $s}) { secret apiKey { id name prefix scopes createdBy lastUsedAt revokedAt agency { id } } } }`
	keyMRevoke = `mutation($k: ID!){ revokeApiKey(input:{apiKeyId: $k}) { id prefix revokedAt } }`
	keyQList   = `query($ag: ID){ apiKeys(agencyId: $ag) { id name prefix scopes lastUsedAt revokedAt agency { id } } }`
	keyQNode   = `query($id: ID!){ node(id: $id) { id ... on ApiKey { name prefix } } }`
)

// keys remembers the secret of each (gateway, agency, scopes) key that
// keyOf made, so a test's many requests use one key.
var keys sync.Map

// keyOf is the secret of an API key of agency (every agency when "")
// with scopes, made by a system admin, and used once: its first use
// records lastUsedAt, which must not show in a later snapshot.
func keyOf(a *testAPI, agency gid.ID, scopes ...auth.Scope) string {
	a.t.Helper()
	name := string(agency) + "/" + joinScopes(scopes)
	id := struct {
		a    *testAPI
		name string
	}{a, name}
	if s, ok := keys.Load(id); ok {
		return s.(string)
	}
	in := credits.NewAPIKey{Name: "test " + name, Scopes: scopes}
	if agency != "" {
		in.AgencyID = &agency
	}
	_, secret, err := a.svc.CreateAPIKey(sys(), in)
	if err != nil {
		a.t.Fatalf("fixture: API key %s: %v", name, err)
	}
	if r := a.gql(secret, authzQViewer, nil); len(r.Errors) > 0 {
		a.t.Fatalf("fixture: the new key %s is refused: %+v", name, r.Errors)
	}
	keys.Store(id, secret)
	return secret
}

func joinScopes(s []auth.Scope) string {
	out := make([]string, len(s))
	for i, sc := range s {
		out[i] = string(sc)
	}
	return strings.Join(out, ",")
}

type keyCreated struct {
	Secret string
	Key    keyInfo `json:"apiKey"`
}

type keyInfo struct {
	ID         gid.ID
	Name       string
	Prefix     string
	Scopes     []string
	CreatedBy  string
	LastUsedAt *time.Time
	RevokedAt  *time.Time
	Agency     *struct{ ID gid.ID }
}

// keyCreate makes a key through the API as token.
func keyCreate(t testing.TB, a *testAPI, token string, agency *gid.ID, name string, scopes ...string) keyCreated {
	t.Helper()
	vars := map[string]any{"n": name, "s": scopes}
	if agency != nil {
		vars["ag"] = *agency
	}
	var out struct{ CreateApiKey keyCreated }
	authzAt(a, t).gql(token, keyMCreate, vars).decode(t, &out)
	return out.CreateApiKey
}

func TestApiKeyLifecycle(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		f := a.fx
		a.fund(f.A1, "40")
		admin := a.agencyAdmin()
		k := keyCreate(t, a, admin, nil, "SMS sender", "BALANCES_READ", "USAGE_WRITE", "USAGE_WRITE")
		if !strings.HasPrefix(k.Secret, auth.KeyPrefix) || len(k.Secret) < 60 {
			t.Fatalf("secret %q: want cgk_… with 256 random bits", k.Secret)
		}
		if !strings.HasPrefix(k.Secret, k.Key.Prefix) || len(k.Key.Prefix) >= len(k.Secret)-40 {
			t.Errorf("prefix %q is not the start of the secret without its random part", k.Key.Prefix)
		}
		authzWant(t, "scopes", k.Key.Scopes, []string{"USAGE_WRITE", "BALANCES_READ"})
		authzWant(t, "createdBy", k.Key.CreatedBy, "user-agency_admin")
		if k.Key.Agency == nil || k.Key.Agency.ID != f.AgencyA {
			t.Errorf("agency %v, want %s", k.Key.Agency, f.AgencyA)
		}

		// The key reads balances of its agency's accounts, as SERVICE.
		r := a.gql(k.Secret, `query($a: ID!){ viewer { role userId agency { id } account { id } } balances(accountId: $a) { available } services(accountId: $a) { id } }`, map[string]any{"a": f.A1})
		d := authzOK(t, r)
		authzWant(t, "viewer.role", authzGet(d, "viewer.role"), "SERVICE")
		authzWant(t, "viewer.userId", authzGet(d, "viewer.userId"), "apikey:"+string(k.Key.ID))
		authzWant(t, "viewer.agency.id", authzGet(d, "viewer.agency.id"), string(f.AgencyA))
		authzWant(t, "viewer.account", authzGet(d, "viewer.account"), nil)
		authzWant(t, "balances.0.available", authzGet(d, "balances.0.available"), "40.00")

		// Listed for its agency's admin (lastUsedAt recorded), not for B's.
		var list struct{ ApiKeys []keyInfo }
		a.gql(admin, keyQList, nil).decode(t, &list)
		if len(list.ApiKeys) != 1 || list.ApiKeys[0].ID != k.Key.ID || list.ApiKeys[0].LastUsedAt == nil {
			t.Fatalf("apiKeys of A = %+v, want the key, used", list.ApiKeys)
		}
		adminB := a.token(auth.RoleAgencyAdmin, f.AgencyB, "")
		a.gql(adminB, keyQList, nil).decode(t, &list)
		if len(list.ApiKeys) != 0 {
			t.Errorf("agency B's admin lists %+v", list.ApiKeys)
		}
		for _, c := range []struct {
			name, tok, doc string
			vars           map[string]any
		}{
			{"B_lists_A", adminB, keyQList, map[string]any{"ag": f.AgencyA}},
			{"B_creates_for_A", adminB, keyMCreate, map[string]any{"ag": f.AgencyA, "n": "x", "s": []string{"USAGE_WRITE"}}},
			{"B_revokes_A", adminB, keyMRevoke, map[string]any{"k": k.Key.ID}},
			{"B_node", adminB, keyQNode, map[string]any{"id": k.Key.ID}},
			{"owner_node", a.owner(), keyQNode, map[string]any{"id": k.Key.ID}},
		} {
			t.Run(c.name, func(t *testing.T) {
				before := snapshot(t, a)
				wantRefused(t, authzCall(t, a, c.tok, c.doc, c.vars), "NOT_FOUND")
				wantUnchanged(t, a, before)
			})
		}
		for _, role := range []auth.Role{authzClient, authzOwner, authzService} {
			for op, c := range map[string]struct {
				doc  string
				vars map[string]any
			}{
				"apiKeys":      {keyQList, nil},
				"createApiKey": {keyMCreate, map[string]any{"n": "x", "s": []string{"USAGE_WRITE"}}},
				"revokeApiKey": {keyMRevoke, map[string]any{"k": k.Key.ID}},
			} {
				t.Run(string(role)+"/"+op, func(t *testing.T) {
					tok := authzToken(a, role)
					if role == authzService {
						tok = k.Secret
					}
					before := snapshot(t, a)
					wantRefused(t, authzCall(t, a, tok, c.doc, c.vars), "FORBIDDEN")
					wantUnchanged(t, a, before)
				})
			}
		}
		t.Run("bad_input", func(t *testing.T) {
			for _, vars := range []map[string]any{
				{"n": "no scopes", "s": []string{}},
				{"n": "  ", "s": []string{"USAGE_WRITE"}},
				{"n": strings.Repeat("n", 201), "s": []string{"USAGE_WRITE"}},
			} {
				before := snapshot(t, a)
				wantRefused(t, authzCall(t, a, admin, keyMCreate, vars), "BAD_USER_INPUT")
				wantUnchanged(t, a, before)
			}
		})

		// Revoked: refused at once, for every operation; revoking again
		// changes nothing.
		var rev struct{ RevokeApiKey keyInfo }
		a.gql(admin, keyMRevoke, map[string]any{"k": k.Key.ID}).decode(t, &rev)
		if rev.RevokeApiKey.RevokedAt == nil {
			t.Fatalf("revokeApiKey answered %+v", rev.RevokeApiKey)
		}
		for _, doc := range []string{authzQViewer, authzQBalances} {
			wantRefused(t, authzCall(t, a, k.Secret, doc, map[string]any{"a": f.A1}), "UNAUTHENTICATED")
		}
		before := snapshot(t, a)
		var again struct{ RevokeApiKey keyInfo }
		a.gql(admin, keyMRevoke, map[string]any{"k": k.Key.ID}).decode(t, &again)
		if !again.RevokeApiKey.RevokedAt.Equal(*rev.RevokeApiKey.RevokedAt) {
			t.Errorf("revoking again moved revokedAt from %v to %v", rev.RevokeApiKey.RevokedAt, again.RevokeApiKey.RevokedAt)
		}
		wantUnchanged(t, a, before, "revoking a revoked key")
	})
}

// TestApiKeyScopes: a key acts within its agency and its scopes; a
// platform-wide key (a system admin's) on every agency; a service JWT with
// every scope.
func TestApiKeyScopes(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		f := a.fx
		a.fund(f.A1, "10")
		a.fund(f.B1, "20")
		noRead := keyOf(a, f.AgencyA, auth.ScopeUsageWrite, auth.ScopeHoldsWrite)
		reader := keyOf(a, f.AgencyA, auth.ScopeBalancesRead)
		platform := keyOf(a, "", auth.ScopeBalancesRead)
		for _, doc := range []string{authzQBalance, authzQBalances, authzQServices} {
			for _, acc := range []gid.ID{f.A1, f.B1, gid.New(gid.Account)} {
				t.Run("without_BALANCES_READ/"+string(acc), func(t *testing.T) {
					wantRefused(t, authzCall(t, a, noRead, doc, map[string]any{"a": acc}), "FORBIDDEN")
				})
			}
			t.Run("agency_A_key_on_B1", func(t *testing.T) {
				wantRefused(t, authzCall(t, a, reader, doc, map[string]any{"a": f.B1}), "NOT_FOUND")
			})
			t.Run("without_accountId", func(t *testing.T) {
				wantRefused(t, authzCall(t, a, reader, doc, nil), "BAD_USER_INPUT")
			})
			t.Run("platform_wide_key_on_both", func(t *testing.T) {
				authzOK(t, authzCall(t, a, platform, doc, map[string]any{"a": f.A1}))
				authzOK(t, authzCall(t, a, platform, doc, map[string]any{"a": f.B1}))
			})
		}
		d := authzOK(t, authzCall(t, a, platform, authzQBalance, map[string]any{"a": f.B1}))
		authzWant(t, "B1 balance", authzGet(d, "balance.available"), "20.00")

		// Only a system admin sees (and revokes) platform-wide keys.
		var list struct{ ApiKeys []keyInfo }
		a.gql(a.sysAdmin(), keyQList, nil).decode(t, &list)
		platformWide := 0
		for _, k := range list.ApiKeys {
			if k.Agency == nil {
				platformWide++
			}
		}
		if len(list.ApiKeys) != 3 || platformWide != 1 {
			t.Errorf("a system admin lists %d keys, %d platform-wide; want 3 and 1", len(list.ApiKeys), platformWide)
		}
		a.gql(a.agencyAdmin(), keyQList, nil).decode(t, &list)
		for _, k := range list.ApiKeys {
			if k.Agency == nil || k.Agency.ID != f.AgencyA {
				t.Errorf("agency A's admin lists a key of %v", k.Agency)
			}
		}
		sysKey := keyCreate(t, a, a.sysAdmin(), nil, "platform", "USAGE_WRITE")
		if sysKey.Key.Agency != nil {
			t.Errorf("a system admin's key without agencyId has agency %v, want platform-wide", sysKey.Key.Agency)
		}
		wantRefused(t, authzCall(t, a, a.agencyAdmin(), keyMRevoke, map[string]any{"k": sysKey.Key.ID}), "NOT_FOUND")

		// A service token: every scope, its agency's accounts.
		tok := a.token(auth.RoleService, f.AgencyA, "")
		authzOK(t, authzCall(t, a, tok, authzQBalances, map[string]any{"a": f.A1}))
		wantRefused(t, authzCall(t, a, tok, authzQBalances, map[string]any{"a": f.B1}), "NOT_FOUND")
		wantRefused(t, authzCall(t, a, tok, authzQHistory, map[string]any{"a": f.A1}), "FORBIDDEN")
		d = authzOK(t, authzCall(t, a, a.token(auth.RoleService, "", ""), authzQBalance, map[string]any{"a": f.B1}))
		authzWant(t, "B1 balance by a platform-wide service token", authzGet(d, "balance.available"), "20.00")

		// The scope in the domain, for the operations other engineers add.
		ctx := auth.NewContext(context.Background(), &auth.Viewer{UserID: "apikey:x", Role: auth.RoleService, Scopes: []auth.Scope{auth.ScopeBalancesRead}})
		if err := a.svc.RequireScope(ctx, credits.ScopeUsageWrite); credits.CodeOf(err) != credits.CodeForbidden {
			t.Errorf("requireScope(USAGE_WRITE) without it: %v, want FORBIDDEN", err)
		}
		if err := a.svc.RequireScope(ctx, credits.ScopeBalancesRead); err != nil {
			t.Errorf("requireScope(BALANCES_READ) with it: %v", err)
		}
	})
}

// keyLog collects a gateway's log lines.
type keyLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *keyLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *keyLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// TestApiKeySecretNotKept: after createApiKey answered it, the secret is
// in no database row, no log line (debug level, the domain's and the
// gateway's) and no API answer, though the key is used, listed, fails
// and is revoked.
func TestApiKeySecretNotKept(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			a := newAPI(t, kind)
			f := a.fx
			logs := &keyLog{}
			log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			// A second gateway over the same database whose domain and
			// routes log everything into logs.
			svc := credits.New(a.db.Client, a.db.Dialect, log)
			verifier, err := auth.NewVerifier(context.Background(), auth.Config{Secret: testSecret})
			if err != nil {
				t.Fatal(err)
			}
			sockets := graph.NewSockets()
			srv := httptest.NewServer(routes(Config{Introspect: true, MaxConnsPerToken: 3, MaxSubsPerConn: 4}, a.db, svc, verifier, sockets, log))
			t.Cleanup(func() { sockets.CloseAll(); srv.Close() })
			gw := &testAPI{t: t, srv: srv, svc: svc, db: a.db, fx: f}

			k := keyCreate(t, gw, gw.agencyAdmin(), nil, "leak check", "BALANCES_READ")
			secret := k.Secret
			random := secret[len(k.Key.Prefix)+1:]
			var answers []string
			keep := func(r gqlResponse) gqlResponse {
				answers = append(answers, string(r.Data))
				for _, e := range r.Errors {
					answers = append(answers, e.Message)
				}
				return r
			}
			authzOK(t, keep(gw.gql(secret, authzQBalances, map[string]any{"a": f.A1})))
			authzOK(t, keep(gw.gql(secret, authzQViewer, nil)))
			keep(gw.gql(secret, authzQHistory, map[string]any{"a": f.A1}))
			keep(gw.gql(secret[:len(secret)-1]+"x", authzQViewer, nil)) // a wrong secret
			authzOK(t, keep(gw.gql(gw.agencyAdmin(), keyQList, nil)))
			authzOK(t, keep(gw.gql(gw.agencyAdmin(), keyQNode, map[string]any{"id": k.Key.ID})))
			authzOK(t, keep(gw.gql(gw.agencyAdmin(), keyMRevoke, map[string]any{"k": k.Key.ID})))
			keep(gw.gql(secret, authzQViewer, nil))

			hash := sha256Hex(secret)
			for what, text := range map[string]string{
				"the database":    snapshot(t, a),
				"the log":         logs.String(),
				"the API answers": strings.Join(answers, "\n"),
			} {
				if strings.Contains(text, random) || strings.Contains(text, secret) {
					t.Errorf("the secret is in %s", what)
				}
				if what != "the database" && strings.Contains(text, hash) {
					t.Errorf("the secret's hash is in %s", what)
				}
			}
			if !strings.Contains(logs.String(), "/graphql") {
				t.Fatalf("nothing was logged: is the log captured?\n%s", logs.String())
			}
			var row *ent.APIKey
			row, err = a.svc.DB().APIKey.Get(credits.System(context.Background()), k.Key.ID)
			if err != nil || len(row.SecretHash) != 32 || hex.EncodeToString(row.SecretHash) != hash {
				t.Errorf("stored hash %x (%v), want the SHA-256 of the secret", row.SecretHash, err)
			}
		})
	}
}

func sha256Hex(s string) string {
	h := auth.HashKeySecret(s)
	return hex.EncodeToString(h[:])
}

// TestApiKeyRevokedOnSecondProcess: two gateway processes on one
// PostgreSQL schema; a key used on B is revoked through A, and B refuses
// it within a second (the revocation is announced with pg_notify inside
// its transaction and B's listener drops the key from its cache).
func TestApiKeyRevokedOnSecondProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the gateway and starts two processes")
	}
	h, instA, instB := e2eTwoInstances(t)
	f := h.fx
	admin := h.agencyAdmin()
	var created struct{ CreateApiKey keyCreated }
	instA.gql(t, admin, keyMCreate, map[string]any{"n": "two instances", "s": []string{"BALANCES_READ"}}).decode(t, &created)
	secret, id := created.CreateApiKey.Secret, created.CreateApiKey.Key.ID
	for range 3 { // cached on both
		instA.balance(t, secret, f.A1)
		instB.balance(t, secret, f.A1)
	}

	if r := instA.gql(t, admin, keyMRevoke, map[string]any{"k": id}); len(r.Errors) > 0 {
		t.Fatalf("revoking through A: %+v", r.Errors)
	}
	revoked := time.Now()
	if r := instA.gql(t, secret, authzQViewer, nil); r.code() != "UNAUTHENTICATED" {
		t.Fatalf("A still accepts the key it revoked: %+v %s", r.Errors, r.Data)
	}
	for {
		r := instB.gql(t, secret, `query($a: ID!){ balances(accountId: $a) { available } }`, map[string]any{"a": f.A1})
		if r.code() == "UNAUTHENTICATED" {
			t.Logf("B refused the key %v after A revoked it", time.Since(revoked).Round(time.Millisecond))
			break
		}
		if len(r.Errors) > 0 {
			t.Fatalf("B answered %+v", r.Errors)
		}
		if time.Since(revoked) > time.Second {
			t.Fatalf("B still accepts the key %v after A revoked it", time.Since(revoked))
		}
		time.Sleep(5 * time.Millisecond)
	}
	for _, in := range []*e2eInstance{instA, instB} {
		if strings.Contains(in.log(), secret[len(created.CreateApiKey.Key.Prefix)+1:]) {
			t.Errorf("instance %s logged the secret", in.name)
		}
	}
}

// A socket opened with an API key lives until the key is revoked: then it
// closes (4403), on PostgreSQL through the announcement every instance
// receives, on SQLite in-process.
func TestApiKeyRevokedClosesItsSockets(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		f := a.fx
		key, secret, err := a.svc.CreateAPIKey(sys(), credits.NewAPIKey{AgencyID: &f.AgencyA, Name: "socket", Scopes: []auth.Scope{auth.ScopeBalancesRead}})
		if err != nil {
			t.Fatal(err)
		}
		c, err := dialWS(t, a.srv.URL, protoTransportWS, secret)
		if err != nil {
			t.Fatal(err)
		}
		c.subscribe("1", `subscription($a: ID) { balanceUpdated(accountId: $a) { available } }`, map[string]any{"a": f.A1})
		waitSubscribed(t, a, 1)
		a.fund(f.A1, "1")
		if _, err := c.receive("1", 5*time.Second); err != nil {
			t.Fatalf("the key's subscription got nothing: %v", err)
		}
		if _, err := a.svc.RevokeAPIKey(sys(), key.ID); err != nil {
			t.Fatal(err)
		}
		select {
		case <-c.done:
			if code := closeStatus(c.err); code != 4403 {
				t.Errorf("closed with %v, want 4403", c.err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("socket still open 5 s after its key was revoked")
		}
	})
}
