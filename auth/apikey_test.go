package auth

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// keyStore is an in-memory KeyStore that counts its look-ups and touches.
type keyStore struct {
	mu      sync.Mutex
	keys    map[string]*StoredKey
	lookups int
	touched []time.Time
	forget  []func(string)
}

func (s *keyStore) LookupKey(_ context.Context, id string) (*StoredKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lookups++
	k, ok := s.keys[id]
	if !ok {
		return nil, nil
	}
	c := *k
	return &c, nil
}

func (s *keyStore) TouchKey(_ context.Context, _ string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.touched = append(s.touched, at)
	return nil
}

func (s *keyStore) OnKeyRevoked(f func(string)) { s.forget = append(s.forget, f) }

// revoke marks id revoked and announces it, as the domain does.
func (s *keyStore) revoke(id string) {
	s.mu.Lock()
	s.keys[id].Revoked = true
	s.mu.Unlock()
	for _, f := range s.forget {
		f(id)
	}
}

func (s *keyStore) counts() (int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lookups, len(s.touched)
}

func newKey(t *testing.T, s *keyStore, agency string, scopes ...Scope) (id, secret string) {
	t.Helper()
	id = "key_" + strings.Repeat("a", keyIDLen)
	secret, hash, prefix, err := NewKeySecret(id)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, prefix) || strings.Contains(prefix, secret[len(prefix)+1:]) {
		t.Fatalf("prefix %q of secret %q", prefix, secret)
	}
	if s.keys == nil {
		s.keys = map[string]*StoredKey{}
	}
	s.keys[id] = &StoredKey{ID: id, Hash: hash[:], AgencyID: agency, Scopes: scopes}
	return id, secret
}

func TestAPIKeyVerified(t *testing.T) {
	v := hsVerifier(t, Config{})
	store := &keyStore{}
	v.UseKeys(store)
	id, secret := newKey(t, store, "agy_a", ScopeUsageWrite)

	got, err := v.FromHeader("Bearer " + secret)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if got.Role != RoleService || got.UserID != "apikey:"+id || got.AgencyID != "agy_a" || got.AccountID != "" {
		t.Fatalf("viewer %+v", got)
	}
	if !got.HasScope(ScopeUsageWrite) || got.HasScope(ScopeBalancesRead) {
		t.Fatalf("scopes %v", got.Scopes)
	}
	// Cached: 100 more requests cost no look-up and no write.
	for range 100 {
		if _, err := v.Verify(secret); err != nil {
			t.Fatal(err)
		}
	}
	if l, w := store.counts(); l != 1 || w != 1 {
		t.Fatalf("%d look-ups and %d lastUsedAt writes for 101 requests, want 1 and 1", l, w)
	}
}

func TestAPIKeyRefused(t *testing.T) {
	v := hsVerifier(t, Config{})
	store := &keyStore{}
	v.UseKeys(store)
	id, secret := newKey(t, store, "agy_a", ScopeUsageWrite)
	if _, err := v.Verify(secret); err != nil {
		t.Fatal(err)
	}
	wrong := secret[:len(secret)-2] + "xx"
	if wrong == secret {
		wrong = secret[:len(secret)-2] + "yy"
	}
	other := KeyPrefix + strings.Repeat("b", keyIDLen) + secret[len(KeyPrefix)+keyIDLen:]
	for name, tok := range map[string]string{
		"wrong_secret_of_a_cached_key": wrong,
		"unknown_key":                  other,
		"malformed":                    KeyPrefix + "short",
		"uppercase_id":                 KeyPrefix + strings.ToUpper(secret[len(KeyPrefix):]),
	} {
		_, err := v.Verify(tok)
		if !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("%s: err %v, want UNAUTHENTICATED", name, err)
		}
		if err != nil && len(tok) > 12 && strings.Contains(err.Error(), tok[len(tok)-12:]) {
			t.Errorf("%s: the error quotes the secret: %v", name, err)
		}
	}

	// Revoked (announced): refused at once, though it was cached.
	store.revoke(id)
	if _, err := v.Verify(secret); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("revoked key: err %v, want UNAUTHENTICATED", err)
	}
}

func TestAPIKeyForgetAll(t *testing.T) {
	v := hsVerifier(t, Config{})
	store := &keyStore{}
	v.UseKeys(store)
	id, secret := newKey(t, store, "", ScopeBalancesRead)
	if got, err := v.Verify(secret); err != nil || got.AgencyID != "" {
		t.Fatalf("platform-wide key: %+v %v", got, err)
	}
	// Revoked while its announcement is lost; the listener's reconnect
	// makes every key be looked up again.
	store.mu.Lock()
	store.keys[id].Revoked = true
	store.mu.Unlock()
	if _, err := v.Verify(secret); err != nil {
		t.Fatalf("still cached: %v", err)
	}
	v.ForgetKey("")
	if _, err := v.Verify(secret); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("after forgetting every key: err %v, want UNAUTHENTICATED", err)
	}
}

func TestAPIKeyWithoutStore(t *testing.T) {
	v := hsVerifier(t, Config{})
	secret, _, _, err := NewKeySecret("key_" + strings.Repeat("c", keyIDLen))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(secret); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("err %v, want UNAUTHENTICATED", err)
	}
}

func TestServiceToken(t *testing.T) {
	v := hsVerifier(t, Config{})
	for _, agency := range []string{"", "agy_a"} {
		got, err := v.Verify(sign(t, claims(RoleService, "svc-sms", agency, "acc_x", time.Hour)))
		if err != nil {
			t.Fatalf("agency %q: %v", agency, err)
		}
		if got.Role != RoleService || got.AgencyID != agency || got.AccountID != "" {
			t.Fatalf("viewer %+v", got)
		}
		for _, sc := range AllScopes {
			if !got.HasScope(sc) {
				t.Errorf("a service token lacks %s", sc)
			}
		}
	}
}
