package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

func hsVerifier(t testing.TB, cfg Config) *Verifier {
	t.Helper()
	if cfg.Secret == nil {
		cfg.Secret = testSecret
	}
	v, err := NewVerifier(context.Background(), cfg)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

func claims(role Role, sub, agency, account string, ttl time.Duration) Claims {
	now := time.Now()
	return Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   sub,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
		Role:      role,
		AgencyID:  agency,
		AccountID: account,
	}
}

func sign(t testing.TB, c Claims) string {
	t.Helper()
	tok, err := SignHS256(testSecret, c)
	if err != nil {
		t.Fatalf("SignHS256: %v", err)
	}
	return tok
}

// wantFail asserts err is an ErrUnauthenticated whose message contains reason
// and does not echo the token.
func wantFail(t *testing.T, err error, token, reason string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want error containing %q, got nil", reason)
	}
	if !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("error %v does not wrap ErrUnauthenticated", err)
	}
	if !strings.Contains(err.Error(), reason) {
		t.Fatalf("error %q does not contain %q", err, reason)
	}
	if token != "" {
		for _, part := range strings.Split(token, ".") {
			if len(part) > 8 && strings.Contains(err.Error(), part) {
				t.Fatalf("error %q echoes the token", err)
			}
		}
	}
}

func TestRoleValid(t *testing.T) {
	for _, r := range []Role{RoleClient, RoleClientOwner, RoleAgencyAdmin, RoleSystemAdmin} {
		if !r.Valid() {
			t.Errorf("%q not valid", r)
		}
	}
	for _, r := range []Role{"", "admin", "CLIENT", "system_admin "} {
		if r.Valid() {
			t.Errorf("%q valid", r)
		}
	}
}

func TestVerifyValidPerRole(t *testing.T) {
	v := hsVerifier(t, Config{})
	tests := []struct {
		role             Role
		agency, account  string
		isClient         bool
		wantAgency, want string
	}{
		{RoleClient, "QWdlbmN5OjE=", "QWNjb3VudDox", true, "QWdlbmN5OjE=", "QWNjb3VudDox"},
		{RoleClientOwner, "QWdlbmN5OjI=", "QWNjb3VudDoy", true, "QWdlbmN5OjI=", "QWNjb3VudDoy"},
		{RoleAgencyAdmin, "QWdlbmN5OjM=", "", false, "QWdlbmN5OjM=", ""},
		{RoleSystemAdmin, "", "", false, "", ""},
	}
	for _, tc := range tests {
		t.Run(string(tc.role), func(t *testing.T) {
			tok, err := NewToken(testSecret, tc.role, "user-"+string(tc.role), tc.agency, tc.account, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			got, err := v.Verify(tok)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got.UserID != "user-"+string(tc.role) || got.Role != tc.role ||
				got.AgencyID != tc.wantAgency || got.AccountID != tc.want {
				t.Fatalf("viewer = %+v", got)
			}
			if got.IsClient() != tc.isClient {
				t.Fatalf("IsClient = %v, want %v", got.IsClient(), tc.isClient)
			}
			if d := time.Until(got.ExpiresAt); d < 58*time.Minute || d > time.Hour+time.Second {
				t.Fatalf("ExpiresAt %v is not ~1h from now", got.ExpiresAt)
			}
		})
	}
}

func TestVerifyClaimFailures(t *testing.T) {
	v := hsVerifier(t, Config{})
	noExp := claims(RoleAgencyAdmin, "u1", "ag", "", time.Hour)
	noExp.ExpiresAt = nil
	tests := []struct {
		name   string
		c      Claims
		reason string
	}{
		{"expired", claims(RoleAgencyAdmin, "u1", "ag", "", -time.Hour), "token expired"},
		{"no exp", noExp, "missing exp claim"},
		{"unknown role", claims("superuser", "u1", "ag", "acc", time.Hour), `unknown role "superuser"`},
		{"empty role", claims("", "u1", "ag", "acc", time.Hour), "missing role claim"},
		{"missing sub", claims(RoleAgencyAdmin, "", "ag", "", time.Hour), "missing sub claim"},
		{"agency_admin without agency", claims(RoleAgencyAdmin, "u1", "", "", time.Hour), "missing agency_id claim"},
		{"client without agency", claims(RoleClient, "u1", "", "acc", time.Hour), "missing agency_id claim"},
		{"client without account", claims(RoleClient, "u1", "ag", "", time.Hour), "missing account_id claim"},
		{"client_owner without account", claims(RoleClientOwner, "u1", "ag", "", time.Hour), "missing account_id claim"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok := sign(t, tc.c)
			got, err := v.Verify(tok)
			if got != nil {
				t.Fatalf("got viewer %+v", got)
			}
			wantFail(t, err, tok, tc.reason)
		})
	}
}

func TestExpiredWrapsJWTError(t *testing.T) {
	v := hsVerifier(t, Config{})
	_, err := v.Verify(sign(t, claims(RoleSystemAdmin, "u1", "", "", -time.Hour)))
	if !errors.Is(err, jwt.ErrTokenExpired) {
		t.Fatalf("errors.Is(%v, jwt.ErrTokenExpired) = false", err)
	}
	if err.Error() != "unauthenticated: token expired" {
		t.Fatalf("message = %q", err.Error())
	}
}

func TestLeeway(t *testing.T) {
	v := hsVerifier(t, Config{})
	// Expired 5s ago: within the 30s clock-skew leeway.
	if _, err := v.Verify(sign(t, claims(RoleSystemAdmin, "u1", "", "", -5*time.Second))); err != nil {
		t.Fatalf("token within leeway rejected: %v", err)
	}
}

func TestSystemAdminWithoutAgency(t *testing.T) {
	v := hsVerifier(t, Config{})
	got, err := v.Verify(sign(t, claims(RoleSystemAdmin, "root", "", "", time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if got.Role != RoleSystemAdmin || got.AgencyID != "" || got.IsClient() {
		t.Fatalf("viewer = %+v", got)
	}
}

func TestBadSignature(t *testing.T) {
	v := hsVerifier(t, Config{})
	tok, err := SignHS256([]byte("another-secret-another-secret-xx"), claims(RoleSystemAdmin, "u1", "", "", time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(tok)
	wantFail(t, err, tok, "invalid signature")

	// Tampered payload, original signature.
	good := sign(t, claims(RoleClient, "u1", "ag", "acc", time.Hour))
	parts := strings.Split(good, ".")
	payload := b64(`{"sub":"u1","role":"system_admin","exp":` + itoa(time.Now().Add(time.Hour).Unix()) + `}`)
	forged := parts[0] + "." + payload + "." + parts[2]
	_, err = v.Verify(forged)
	wantFail(t, err, forged, "invalid signature")
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func itoa(n int64) string { return big.NewInt(n).String() }

func TestAlgNone(t *testing.T) {
	payload := b64(`{"sub":"u1","role":"system_admin","exp":` + itoa(time.Now().Add(time.Hour).Unix()) + `}`)
	for _, header := range []string{
		`{"alg":"none","typ":"JWT"}`,
		`{"alg":"None","typ":"JWT"}`,
		`{"typ":"JWT"}`,
	} {
		tok := b64(header) + "." + payload + "."
		v := hsVerifier(t, Config{})
		_, err := v.Verify(tok)
		wantFail(t, err, tok, "")
		if !strings.Contains(err.Error(), "not allowed") && !strings.Contains(err.Error(), "unsupported signing algorithm") {
			t.Fatalf("header %s: unexpected reason %q", header, err)
		}
	}
	tok := b64(`{"alg":"none","typ":"JWT"}`) + "." + payload + "."
	_, err := hsVerifier(t, Config{}).Verify(tok)
	wantFail(t, err, tok, `signing algorithm "none" not allowed`)
}

func TestMalformed(t *testing.T) {
	v := hsVerifier(t, Config{})
	for _, tok := range []string{"x", "a.b", "a.b.c.d", "!!!.???.***", b64("{") + "." + b64("{}") + ".sig"} {
		_, err := v.Verify(tok)
		wantFail(t, err, tok, "")
	}
	// Non-string agency_id: rejected as malformed, not coerced.
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "u1", "role": "agency_admin", "agency_id": 7, "exp": time.Now().Add(time.Hour).Unix(),
	}).SignedString(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(tok)
	wantFail(t, err, tok, "malformed token")

	_, err = v.Verify(strings.Repeat("a", maxTokenLen+1))
	wantFail(t, err, "", "token too large")
}

func TestIssuerAudience(t *testing.T) {
	v := hsVerifier(t, Config{Issuer: "https://idp.example", Audience: "creditgate"})
	base := claims(RoleAgencyAdmin, "u1", "ag", "", time.Hour)

	ok := base
	ok.Issuer, ok.Audience = "https://idp.example", jwt.ClaimStrings{"other", "creditgate"}
	if _, err := v.Verify(sign(t, ok)); err != nil {
		t.Fatalf("matching iss/aud rejected: %v", err)
	}

	tests := []struct {
		name   string
		iss    string
		aud    jwt.ClaimStrings
		reason string
	}{
		{"wrong issuer", "https://evil.example", jwt.ClaimStrings{"creditgate"}, "wrong issuer"},
		{"missing issuer", "", jwt.ClaimStrings{"creditgate"}, "missing iss claim"},
		{"wrong audience", "https://idp.example", jwt.ClaimStrings{"other"}, "wrong audience"},
		{"missing audience", "https://idp.example", nil, "missing aud claim"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			c.Issuer, c.Audience = tc.iss, tc.aud
			tok := sign(t, c)
			_, err := v.Verify(tok)
			wantFail(t, err, tok, tc.reason)
		})
	}

	// Not configured: iss/aud are not checked.
	loose := hsVerifier(t, Config{})
	c := base
	c.Issuer, c.Audience = "https://anything", jwt.ClaimStrings{"whatever"}
	if _, err := loose.Verify(sign(t, c)); err != nil {
		t.Fatalf("unconfigured iss/aud rejected: %v", err)
	}
}

func TestNewVerifierConfig(t *testing.T) {
	ctx := context.Background()
	if _, err := NewVerifier(ctx, Config{}); err == nil {
		t.Fatal("no secret and no JWKS accepted")
	}
	if _, err := NewVerifier(ctx, Config{Secret: testSecret, JWKSURL: "https://idp.example/jwks"}); err == nil {
		t.Fatal("both secret and JWKS accepted")
	}
	if _, err := NewVerifier(ctx, Config{JWKSURL: "ftp://idp.example/jwks"}); err == nil {
		t.Fatal("non-http JWKS URL accepted")
	}
	if _, err := SignHS256(nil, Claims{}); err == nil {
		t.Fatal("SignHS256 with empty secret succeeded")
	}

	// The verifier keeps its own copy of the secret.
	secret := append([]byte(nil), testSecret...)
	v, err := NewVerifier(ctx, Config{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	secret[0] ^= 0xff
	if _, err := v.Verify(sign(t, claims(RoleSystemAdmin, "u1", "", "", time.Hour))); err != nil {
		t.Fatalf("secret mutated by caller affected verifier: %v", err)
	}
}

// --- JWKS (RS256 / ES256) ---

type jwksFixture struct {
	rsaKey   *rsa.PrivateKey
	ecKey    *ecdsa.PrivateKey
	otherRSA *rsa.PrivateKey
	jwks     []byte
}

var fixture = sync.OnceValue(func() *jwksFixture {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	point, err := ek.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		panic(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	set := map[string]any{"keys": []map[string]string{
		{
			"kty": "RSA", "kid": "rsa-1", "use": "sig", "alg": "RS256",
			"n": enc(rk.N.Bytes()),
			"e": enc(big.NewInt(int64(rk.E)).Bytes()),
		},
		{
			"kty": "EC", "kid": "ec-1", "use": "sig", "alg": "ES256", "crv": "P-256",
			"x": enc(point[1:33]),
			"y": enc(point[33:65]),
		},
	}}
	raw, err := json.Marshal(set)
	if err != nil {
		panic(err)
	}
	return &jwksFixture{rsaKey: rk, ecKey: ek, otherRSA: other, jwks: raw}
})

// jwksVerifier serves the fixture's JWKS over httptest and builds a verifier
// against it. It returns the number of JWKS fetches so far.
func jwksVerifier(t *testing.T, cfg Config) (*Verifier, *atomic.Int32) {
	t.Helper()
	f := fixture()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(f.jwks)
	}))
	t.Cleanup(srv.Close)
	cfg.JWKSURL = srv.URL + "/.well-known/jwks.json"
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel) // ends keyfunc's refresh goroutine
	v, err := NewVerifier(ctx, cfg)
	if err != nil {
		t.Fatalf("NewVerifier(JWKS): %v", err)
	}
	if hits.Load() == 0 {
		t.Fatal("JWKS was not fetched")
	}
	return v, &hits
}

func signWith(t *testing.T, m jwt.SigningMethod, kid string, key any, c Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign %s: %v", m.Alg(), err)
	}
	return s
}

func TestJWKSRS256AndES256(t *testing.T) {
	f := fixture()
	v, _ := jwksVerifier(t, Config{Issuer: "https://idp.example", Audience: "creditgate"})
	c := claims(RoleClientOwner, "u-rsa", "QWdlbmN5OjE=", "QWNjb3VudDox", time.Hour)
	c.Issuer, c.Audience = "https://idp.example", jwt.ClaimStrings{"creditgate"}

	got, err := v.Verify(signWith(t, jwt.SigningMethodRS256, "rsa-1", f.rsaKey, c))
	if err != nil {
		t.Fatalf("RS256: %v", err)
	}
	if got.UserID != "u-rsa" || got.Role != RoleClientOwner || got.AccountID != "QWNjb3VudDox" || !got.IsClient() {
		t.Fatalf("RS256 viewer = %+v", got)
	}

	c.Subject = "u-ec"
	got, err = v.Verify(signWith(t, jwt.SigningMethodES256, "ec-1", f.ecKey, c))
	if err != nil {
		t.Fatalf("ES256: %v", err)
	}
	if got.UserID != "u-ec" || got.AgencyID != "QWdlbmN5OjE=" {
		t.Fatalf("ES256 viewer = %+v", got)
	}

	// Claim checks apply to JWKS tokens as well.
	bad := c
	bad.Issuer = "https://evil.example"
	tok := signWith(t, jwt.SigningMethodES256, "ec-1", f.ecKey, bad)
	_, err = v.Verify(tok)
	wantFail(t, err, tok, "wrong issuer")

	// Right kid, wrong key type for the alg: ES256 header with the RSA kid.
	tok = signWith(t, jwt.SigningMethodES256, "rsa-1", f.ecKey, c)
	_, err = v.Verify(tok)
	wantFail(t, err, tok, "")
}

func TestJWKSUnknownKid(t *testing.T) {
	f := fixture()
	v, hits := jwksVerifier(t, Config{})
	before := hits.Load()
	tok := signWith(t, jwt.SigningMethodRS256, "rotated-away", f.otherRSA, claims(RoleSystemAdmin, "u1", "", "", time.Hour))
	_, err := v.Verify(tok)
	wantFail(t, err, tok, "unknown signing key")
	if hits.Load() <= before {
		t.Errorf("unknown kid did not trigger a JWKS refresh")
	}

	// A known kid with a signature by another key fails as a bad signature.
	tok = signWith(t, jwt.SigningMethodRS256, "rsa-1", f.otherRSA, claims(RoleSystemAdmin, "u1", "", "", time.Hour))
	_, err = v.Verify(tok)
	wantFail(t, err, tok, "invalid signature")
}

func TestJWKSRejectsHS256Confusion(t *testing.T) {
	f := fixture()
	v, _ := jwksVerifier(t, Config{})
	der, err := x509.MarshalPKIXPublicKey(&f.rsaKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	c := claims(RoleSystemAdmin, "attacker", "", "", time.Hour)
	for name, key := range map[string][]byte{
		"pem": pemBytes, "der": der, "modulus": f.rsaKey.N.Bytes(), "pkcs1": x509.MarshalPKCS1PublicKey(&f.rsaKey.PublicKey),
	} {
		for _, kid := range []string{"rsa-1", ""} {
			tok := signWith(t, jwt.SigningMethodHS256, kid, key, c)
			_, err := v.Verify(tok)
			wantFail(t, err, tok, `signing algorithm "HS256" not allowed`)
			if !errors.Is(err, jwt.ErrTokenSignatureInvalid) {
				t.Errorf("%s/%q: %v does not wrap jwt.ErrTokenSignatureInvalid", name, kid, err)
			}
		}
	}

	// And the HS verifier refuses RS256 tokens outright.
	tok := signWith(t, jwt.SigningMethodRS256, "rsa-1", f.rsaKey, c)
	_, err = hsVerifier(t, Config{}).Verify(tok)
	wantFail(t, err, tok, `signing algorithm "RS256" not allowed`)
}

func TestJWKSNoKidTriesAllKeys(t *testing.T) {
	f := fixture()
	v, _ := jwksVerifier(t, Config{})
	if _, err := v.Verify(signWith(t, jwt.SigningMethodES256, "", f.ecKey, claims(RoleSystemAdmin, "u1", "", "", time.Hour))); err != nil {
		t.Fatalf("kid-less ES256 token: %v", err)
	}
}

// --- header and middleware ---

func TestFromHeader(t *testing.T) {
	v := hsVerifier(t, Config{})
	tok := sign(t, claims(RoleAgencyAdmin, "u1", "ag", "", time.Hour))
	for _, h := range []string{"Bearer " + tok, "bearer " + tok, "BEARER  " + tok + " "} {
		got, err := v.FromHeader(h)
		if err != nil {
			t.Fatalf("FromHeader(%.10q…): %v", h, err)
		}
		if got.UserID != "u1" || got.Role != RoleAgencyAdmin {
			t.Fatalf("viewer = %+v", got)
		}
	}
	tests := []struct{ h, reason string }{
		{"", "missing bearer token"},
		{"   ", "missing bearer token"},
		{"Bearer", "missing bearer token"},
		{"Bearer   ", "missing bearer token"},
		{"Basic " + tok, "authorization scheme is not Bearer"},
		{"Basic dXNlcjpwYXNz", "authorization scheme is not Bearer"},
		{tok, "authorization scheme is not Bearer"},
		{"Bearer x", "malformed token"},
		{"bearer x", "malformed token"},
	}
	for _, tc := range tests {
		got, err := v.FromHeader(tc.h)
		if got != nil {
			t.Fatalf("FromHeader(%q) returned a viewer", tc.h)
		}
		wantFail(t, err, tok, tc.reason)
	}
}

func TestMiddleware(t *testing.T) {
	v := hsVerifier(t, Config{})
	tok := sign(t, claims(RoleClient, "u1", "ag", "acc", time.Hour))
	type seen struct {
		viewer *Viewer
		ok     bool
		err    error
	}
	run := func(header string) (seen, *httptest.ResponseRecorder) {
		var s seen
		called := false
		h := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			called = true
			s.viewer, s.ok = FromContext(r.Context())
			s.err = ErrorFromContext(r.Context())
			w.WriteHeader(http.StatusTeapot)
		}))
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"{viewer{id}}"}`))
		if header != "" {
			req.Header.Set("Authorization", header)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if !called {
			t.Fatalf("header %q: next handler not called", header)
		}
		if rec.Code != http.StatusTeapot {
			t.Fatalf("header %q: middleware answered %d itself", header, rec.Code)
		}
		return s, rec
	}

	s, _ := run("Bearer " + tok)
	if !s.ok || s.err != nil || s.viewer.UserID != "u1" || s.viewer.AccountID != "acc" {
		t.Fatalf("valid token: %+v", s)
	}

	s, _ = run("")
	if s.ok || s.viewer != nil {
		t.Fatalf("no header: viewer stored: %+v", s)
	}
	wantFail(t, s.err, "", "missing bearer token")

	expired := sign(t, claims(RoleClient, "u1", "ag", "acc", -time.Hour))
	s, _ = run("Bearer " + expired)
	if s.ok {
		t.Fatalf("expired token: viewer stored")
	}
	wantFail(t, s.err, expired, "token expired")
}

func TestContextHelpers(t *testing.T) {
	ctx := context.Background()
	if v, ok := FromContext(ctx); ok || v != nil {
		t.Fatal("empty context has a viewer")
	}
	if ErrorFromContext(ctx) != nil {
		t.Fatal("empty context has an error")
	}
	want := &Viewer{UserID: "u1", Role: RoleSystemAdmin}
	got, ok := FromContext(NewContext(ctx, want))
	if !ok || got != want {
		t.Fatalf("FromContext = %v, %v", got, ok)
	}
	if _, ok := FromContext(NewContext(ctx, nil)); ok {
		t.Fatal("nil viewer reported present")
	}
	var nilViewer *Viewer
	if nilViewer.IsClient() {
		t.Fatal("nil viewer IsClient")
	}
}

func TestVerifyConcurrent(t *testing.T) {
	v := hsVerifier(t, Config{Issuer: "iss", Audience: "aud"})
	c := claims(RoleAgencyAdmin, "u1", "ag", "", time.Hour)
	c.Issuer, c.Audience = "iss", jwt.ClaimStrings{"aud"}
	good := sign(t, c)
	bad := sign(t, claims(RoleAgencyAdmin, "u1", "ag", "", -time.Hour))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 200 {
				if _, err := v.Verify(good); err != nil {
					t.Errorf("worker %d: %v", i, err)
					return
				}
				if _, err := v.Verify(bad); err == nil {
					t.Errorf("worker %d: expired token accepted", i)
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkVerifyHS256(b *testing.B) {
	v := hsVerifier(b, Config{Issuer: "https://idp.example", Audience: "creditgate"})
	c := claims(RoleClient, "user-123", "QWdlbmN5OjE=", "QWNjb3VudDox", time.Hour)
	c.Issuer, c.Audience = "https://idp.example", jwt.ClaimStrings{"creditgate"}
	tok := sign(b, c)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
}

// A population of clients a little larger than the cache keeps most of
// them cached (a cache that starts over when full would keep none of them
// by the time each comes back), and the cache never outgrows its bound.
func TestVerifiedCacheOverflow(t *testing.T) {
	v := hsVerifier(t, Config{})
	tokens := make([]string, maxVerified+maxVerified/20)
	for i := range tokens {
		tokens[i] = sign(t, claims(RoleClient, "u"+itoa(int64(i)), "ag", "acc", time.Hour))
	}
	for round := range 2 {
		for i, tok := range tokens {
			if _, err := v.Verify(tok); err != nil {
				t.Fatalf("round %d token %d: %v", round, i, err)
			}
			if n := v.nCached.Load(); n > maxVerified {
				t.Fatalf("round %d token %d: %d tokens cached, more than %d", round, i, n, maxVerified)
			}
		}
	}
	cached := 0
	for _, tok := range tokens {
		if _, ok := v.verified.Load(tok); ok {
			cached++
		}
	}
	if cached < maxVerified*3/4 {
		t.Fatalf("%d of %d tokens cached after two rounds, want at least %d", cached, len(tokens), maxVerified*3/4)
	}
	if n := v.nCached.Load(); int(n) != cached {
		t.Fatalf("count says %d cached, the map holds %d", n, cached)
	}
}
