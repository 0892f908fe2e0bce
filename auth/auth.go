// Package auth verifies the bearer JWT carried by every gateway request and
// turns it into a Viewer stored in the request context.
//
// Tokens are signed either with a shared secret (HS256, Config.Secret) or by an
// identity provider whose public keys are published as a JWKS (RS256 or ES256,
// Config.JWKSURL). The accepted algorithms are pinned by the configuration:
// "none" is never accepted and an HS256 token is never accepted by a JWKS
// verifier, so a token "signed" with a public key as HMAC secret fails.
package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
)

// Role is the role claim of a token.
type Role string

// The roles a token may carry. Any other value is rejected.
const (
	RoleClient      Role = "client"
	RoleClientOwner Role = "client_owner"
	RoleAgencyAdmin Role = "agency_admin"
	RoleSystemAdmin Role = "system_admin"
	// RoleService is a back-end service of the platform: an API key (see
	// apikey.go) or a JWT with role "service" (agency_id optional).
	RoleService Role = "service"
)

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool {
	switch r {
	case RoleClient, RoleClientOwner, RoleAgencyAdmin, RoleSystemAdmin, RoleService:
		return true
	}
	return false
}

// Viewer is who makes the request, from a verified token.
//
// AgencyID is set for every role but RoleSystemAdmin (for which it is whatever
// the token carried, usually empty); AccountID is set for RoleClient and
// RoleClientOwner. Both are GraphQL IDs, copied from the token unchanged.
// A RoleService viewer's AgencyID is empty when it acts for every agency
// (a platform-wide key, a service token without agency_id); Scopes are
// what it may do (every scope for a service token).
type Viewer struct {
	UserID    string
	Role      Role
	AgencyID  string
	AccountID string
	Scopes    []Scope // RoleService only; shared between copies, never modified
	ExpiresAt time.Time
}

// IsClient reports whether the viewer is a client user (client or
// client_owner), i.e. confined to one client account.
func (v *Viewer) IsClient() bool {
	return v != nil && (v.Role == RoleClient || v.Role == RoleClientOwner)
}

type ctxKey int

const (
	viewerKey ctxKey = iota
	errorKey
)

// NewContext returns a copy of ctx carrying v.
func NewContext(ctx context.Context, v *Viewer) context.Context {
	return context.WithValue(ctx, viewerKey, v)
}

// FromContext returns the viewer stored in ctx, if any.
func FromContext(ctx context.Context) (*Viewer, bool) {
	v, ok := ctx.Value(viewerKey).(*Viewer)
	return v, ok && v != nil
}

// ErrorFromContext returns the verification error stored by Middleware, if
// any. It is nil when the request carried a valid token.
func ErrorFromContext(ctx context.Context) error {
	err, _ := ctx.Value(errorKey).(error)
	return err
}

// ErrUnauthenticated is wrapped by every verification failure. The error's
// message says why in plain words ("unauthenticated: token expired") and never
// contains the token.
var ErrUnauthenticated = errors.New("unauthenticated")

// authError is a verification failure. Its message is a fixed, plain reason;
// the underlying library error, if any, is reachable with errors.Is/As (e.g.
// errors.Is(err, jwt.ErrTokenExpired)) but is not part of the message, since
// library messages may quote parts of the token.
type authError struct {
	reason string
	cause  error
}

func (e *authError) Error() string { return ErrUnauthenticated.Error() + ": " + e.reason }

func (e *authError) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrUnauthenticated}
	}
	return []error{ErrUnauthenticated, e.cause}
}

func fail(reason string, cause error) error { return &authError{reason: reason, cause: cause} }

// Preallocated failures for the common, cause-less cases.
var (
	errMissingToken   = fail("missing bearer token", nil)
	errNotBearer      = fail("authorization scheme is not Bearer", nil)
	errTokenTooLarge  = fail("token too large", nil)
	errMissingSub     = fail("missing sub claim", nil)
	errMissingRole    = fail("missing role claim", nil)
	errMissingAgency  = fail("missing agency_id claim", nil)
	errMissingAccount = fail("missing account_id claim", nil)
	errNoVerifier     = fail("no token verifier configured", nil)
)

// maxTokenLen bounds the work done on hostile input before any verification.
// Identity-provider tokens are typically well under 4 KiB.
const maxTokenLen = 16 << 10

// leeway tolerates clock skew between the token issuer and this server for
// exp and nbf.
const leeway = 30 * time.Second

// Config selects how tokens are verified. Exactly one of Secret and JWKSURL
// must be set. Issuer and Audience, when non-empty, must match the token's
// iss and aud claims (the claims are then required).
type Config struct {
	// Secret is the HS256 key (JWT_SECRET). Tokens must be HS256.
	Secret []byte
	// JWKSURL is the identity provider's JWKS endpoint (JWT_JWKS_URL).
	// Tokens must be RS256 or ES256, signed by a key of that set.
	JWKSURL string
	// Issuer (JWT_ISSUER) and Audience (JWT_AUDIENCE) are checked when set.
	Issuer, Audience string
}

// Verifier verifies bearer tokens. It is safe for concurrent use; build one
// at startup and share it.
type Verifier struct {
	parser  *jwt.Parser
	keyfunc jwt.Keyfunc
	methods []string
	issuer  string
	aud     string

	// verified remembers tokens that passed, so a client's next requests
	// skip the signature and the claims' decoding: token -> verifiedToken.
	verified sync.Map
	nCached  atomic.Int64
	evicting sync.Mutex

	admit Admitter // nil: every verified token is admitted

	keys apiKeys // API keys (apikey.go); off until UseKeys
}

// An Admitter checks what a signature cannot, such as that a client token's
// account is a client account of its agency. It is asked once per token
// verification, before the token is remembered; its refusal (see Refuse) is
// UNAUTHENTICATED like any other.
type Admitter interface {
	Admit(ctx context.Context, v *Viewer) error
}

// Admit installs a; call it before serving.
func (v *Verifier) Admit(a Admitter) { v.admit = a }

// Refuse is an Admitter's refusal, with the reason in plain words.
func Refuse(reason string) error { return fail(reason, nil) }

// admitTimeout bounds an Admitter's look-up.
const admitTimeout = 5 * time.Second

func (v *Verifier) admitted(viewer *Viewer) error {
	if v.admit == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), admitTimeout)
	defer cancel()
	err := v.admit.Admit(ctx, viewer)
	if err == nil || errors.Is(err, ErrUnauthenticated) {
		return err
	}
	return fail("the token's account could not be checked", err)
}

// A verified token is remembered until it expires, and at most a minute
// (so a key removed from a JWKS stops being honoured soon); at most
// maxVerified tokens are kept (past that, see evict).
const (
	verifiedTTL = time.Minute
	maxVerified = 10000
)

type verifiedToken struct {
	viewer *Viewer
	until  time.Time
}

// NewVerifier builds a Verifier from cfg. Exactly one of cfg.Secret and
// cfg.JWKSURL must be set.
//
// With a JWKS URL the key set is fetched now and refreshed in the background
// (hourly, and on an unknown kid at most every five minutes) until ctx ends.
// An unreachable JWKS at startup is logged, not fatal: tokens fail with
// "unknown signing key" until a refresh succeeds.
func NewVerifier(ctx context.Context, cfg Config) (*Verifier, error) {
	hasSecret, hasJWKS := len(cfg.Secret) > 0, cfg.JWKSURL != ""
	v := &Verifier{issuer: cfg.Issuer, aud: cfg.Audience}
	switch {
	case hasSecret && hasJWKS:
		return nil, errors.New("auth: set either JWT_SECRET or JWT_JWKS_URL, not both")
	case !hasSecret && !hasJWKS:
		return nil, errors.New("auth: set JWT_SECRET or JWT_JWKS_URL")
	case hasSecret:
		// Boxed once here so the per-request keyfunc does not allocate;
		// copied so the caller cannot change the key afterwards.
		var key any = append([]byte(nil), cfg.Secret...)
		v.keyfunc = func(*jwt.Token) (any, error) { return key, nil }
		v.methods = []string{jwt.SigningMethodHS256.Alg()}
	default:
		u, err := url.Parse(cfg.JWKSURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, errors.New("auth: JWT_JWKS_URL must be an http(s) URL")
		}
		if ctx == nil {
			ctx = context.Background()
		}
		k, err := keyfunc.NewDefaultCtx(ctx, []string{cfg.JWKSURL})
		if err != nil {
			return nil, fmt.Errorf("auth: JWKS: %w", err)
		}
		v.keyfunc = k.Keyfunc
		v.methods = []string{jwt.SigningMethodRS256.Alg(), jwt.SigningMethodES256.Alg()}
	}

	opts := []jwt.ParserOption{
		jwt.WithValidMethods(v.methods),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(leeway),
		jwt.WithStrictDecoding(),
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	v.parser = jwt.NewParser(opts...)
	return v, nil
}

// Verify checks the token's signature, algorithm, expiry, issuer and audience
// (when configured) and the role-dependent claims, and returns the viewer.
// Every error wraps ErrUnauthenticated.
func (v *Verifier) Verify(token string) (*Viewer, error) { return v.verify(token, true) }

// verify is Verify; keep says whether to cache the result.
func (v *Verifier) verify(token string, keep bool) (*Viewer, error) {
	if v == nil || v.parser == nil {
		return nil, errNoVerifier
	}
	if token == "" {
		return nil, errMissingToken
	}
	if len(token) > maxTokenLen {
		return nil, errTokenTooLarge
	}
	if IsAPIKey(token) {
		return v.verifyKey(token) // recognised by its prefix: never parsed as a JWT
	}
	now := time.Now()
	if e, ok := v.verified.Load(token); ok {
		if vt := e.(verifiedToken); now.Before(vt.until) {
			viewer := *vt.viewer // a copy: callers may not share one
			return &viewer, nil
		}
		if _, ok := v.verified.LoadAndDelete(token); ok {
			v.nCached.Add(-1)
		}
	}
	var c Claims
	t, err := v.parser.ParseWithClaims(token, &c, v.keyfunc)
	if err != nil {
		return nil, v.explain(t, &c, err)
	}
	viewer, err := viewerFromClaims(&c)
	if err != nil {
		return nil, err
	}
	if err := v.admitted(viewer); err != nil {
		return nil, err
	}
	until := now.Add(verifiedTTL)
	if c.ExpiresAt != nil && c.ExpiresAt.Before(until) {
		until = c.ExpiresAt.Time
	}
	if !keep {
		return viewer, nil
	}
	if v.nCached.Load() >= maxVerified {
		v.evict(now)
	}
	cached := *viewer
	if _, loaded := v.verified.Swap(token, verifiedToken{viewer: &cached, until: until}); !loaded {
		v.nCached.Add(1)
	}
	return viewer, nil
}

// evict makes room in a full cache: it drops the expired tokens and an
// eighth of the others (whichever the map yields first). Starting over
// instead would make a population of clients just larger than the cache
// verify every token on every request, since each would be dropped before
// its next use.
func (v *Verifier) evict(now time.Time) {
	if !v.evicting.TryLock() {
		return // another request is making room
	}
	defer v.evicting.Unlock()
	drop := maxVerified / 8
	v.verified.Range(func(k, e any) bool {
		expired := !now.Before(e.(verifiedToken).until)
		if !expired && drop <= 0 {
			return true
		}
		if _, ok := v.verified.LoadAndDelete(k); ok {
			v.nCached.Add(-1)
			if !expired {
				drop--
			}
		}
		return true
	})
}

// FromHeader verifies the token of an Authorization header value
// "Bearer <jwt>" (scheme case-insensitive).
func (v *Verifier) FromHeader(h string) (*Viewer, error) { return v.fromHeader(h, true) }

// FromHeaderOnce is FromHeader for a credential presented once for a
// long-lived connection (a WebSocket's connection_init): a new token is not
// added to the cache of verified tokens, since nothing will present it
// again soon, and the cache would keep it (and its header) for each socket.
func (v *Verifier) FromHeaderOnce(h string) (*Viewer, error) { return v.fromHeader(h, false) }

func (v *Verifier) fromHeader(h string, keep bool) (*Viewer, error) {
	h = strings.TrimSpace(h)
	if h == "" {
		return nil, errMissingToken
	}
	scheme, token, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return nil, errNotBearer
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return nil, errMissingToken
	}
	return v.verify(token, keep)
}

// Middleware verifies the request's Authorization header and stores the viewer
// (see FromContext) or the verification error (see ErrorFromContext) in the
// request context. It never answers 401 itself: the GraphQL layer turns a
// missing viewer into an UNAUTHENTICATED error with the contract's shape.
func (v *Verifier) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		viewer, err := v.FromHeader(r.Header.Get("Authorization"))
		var ctx context.Context
		if err != nil {
			ctx = context.WithValue(r.Context(), errorKey, err)
		} else {
			ctx = NewContext(r.Context(), viewer)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func viewerFromClaims(c *Claims) (*Viewer, error) {
	if c.Subject == "" {
		return nil, errMissingSub
	}
	switch {
	case c.Role == "":
		return nil, errMissingRole
	case !c.Role.Valid():
		return nil, fail(fmt.Sprintf("unknown role %q", truncate(string(c.Role), 32)), nil)
	}
	if c.Role != RoleSystemAdmin && c.Role != RoleService && c.AgencyID == "" {
		return nil, errMissingAgency
	}
	if (c.Role == RoleClient || c.Role == RoleClientOwner) && c.AccountID == "" {
		return nil, errMissingAccount
	}
	v := &Viewer{
		UserID:    c.Subject,
		Role:      c.Role,
		AgencyID:  c.AgencyID,
		AccountID: c.AccountID,
		ExpiresAt: c.ExpiresAt.Time, // non-nil: WithExpirationRequired
	}
	if c.Role == RoleService {
		v.AccountID = "" // a service acts on accounts, it is none of them
		v.Scopes = AllScopes
	}
	return v, nil
}

// explain turns a jwt parse error into a plain reason. Claim errors are only
// reported for tokens whose signature verified (jwt checks claims last).
func (v *Verifier) explain(t *jwt.Token, c *Claims, err error) error {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return fail("malformed token", err)
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		// Unknown/unspecified alg, or the keyfunc failed.
		if t != nil && t.Method == nil {
			return fail("unsupported signing algorithm", err)
		}
		if errors.Is(err, jwkset.ErrKeyNotFound) {
			return fail("unknown signing key", err)
		}
		return fail("signing key unavailable", err)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		if t != nil && t.Method != nil && !v.allowed(t.Method.Alg()) {
			// Alg is the name of a registered signing method, not free text.
			return fail(fmt.Sprintf("signing algorithm %q not allowed", t.Method.Alg()), err)
		}
		return fail("invalid signature", err)
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		switch {
		case c.ExpiresAt == nil:
			return fail("missing exp claim", err)
		case v.issuer != "" && c.Issuer == "":
			return fail("missing iss claim", err)
		case v.aud != "" && len(c.Audience) == 0:
			return fail("missing aud claim", err)
		}
		return fail("missing required claim", err)
	case errors.Is(err, jwt.ErrTokenExpired):
		return fail("token expired", err)
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return fail("token not valid yet", err)
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return fail("token used before issued", err)
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return fail("wrong issuer", err)
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return fail("wrong audience", err)
	}
	return fail("invalid token", err)
}

func (v *Verifier) allowed(alg string) bool {
	for _, m := range v.methods {
		if m == alg {
			return true
		}
	}
	return false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Claims are the token's claims: sub and exp (required), optionally iss/aud,
// plus role, agency_id and account_id.
type Claims struct {
	jwt.RegisteredClaims
	Role      Role   `json:"role"`
	AgencyID  string `json:"agency_id,omitempty"`
	AccountID string `json:"account_id,omitempty"`
}

// SignHS256 signs c with secret, for demo tokens and tests. It does not check
// the claims.
func SignHS256(secret []byte, c Claims) (string, error) {
	if len(secret) == 0 {
		return "", errors.New("auth: empty HS256 secret")
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(secret)
}

// NewToken signs an HS256 token with sub, iat, exp (now+ttl), role, agency_id
// and account_id. It sets neither iss nor aud; use SignHS256 when the verifier
// checks them.
func NewToken(secret []byte, role Role, userID, agencyID, accountID string, ttl time.Duration) (string, error) {
	now := time.Now()
	return SignHS256(secret, Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   userID,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
		Role:      role,
		AgencyID:  agencyID,
		AccountID: accountID,
	})
}
