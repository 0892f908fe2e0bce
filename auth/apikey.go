package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// API keys: service credentials sent as "Authorization: Bearer <secret>".
//
// A secret is "cgk_" + the random part of the key's id + "_" + 256 random
// bits (base64url): the verifier recognises it by its prefix (no JWT
// parse), finds the key by the id inside it, and compares the SHA-256 of
// the secret with the stored one in constant time. Only the hash is
// stored; the secret exists once, in the answer that created the key.
//
// Verified keys are remembered in memory (keyTTL at most), so a request
// costs a hash and a map read. Revocation reaches every instance within a
// second: the domain announces it (KeyStore.OnKeyRevoked) and the key is
// dropped from the cache. lastUsedAt is written when a key is looked up,
// so at most once per keyTTL per key and instance, never per request.

// Scope is a permission of a SERVICE viewer (the API's ApiKeyScope).
type Scope string

const (
	ScopeUsageWrite   Scope = "USAGE_WRITE"   // recordUsage
	ScopeHoldsWrite   Scope = "HOLDS_WRITE"   // createHold, captureHold, releaseHold
	ScopeBalancesRead Scope = "BALANCES_READ" // balance, balances, holds, services
)

// AllScopes are every scope, in the API's order: what a service JWT gets.
var AllScopes = []Scope{ScopeUsageWrite, ScopeHoldsWrite, ScopeBalancesRead}

// Valid reports whether s is a known scope.
func (s Scope) Valid() bool {
	switch s {
	case ScopeUsageWrite, ScopeHoldsWrite, ScopeBalancesRead:
		return true
	}
	return false
}

// HasScope reports whether v is a SERVICE viewer holding s.
func (v *Viewer) HasScope(s Scope) bool {
	if v == nil || v.Role != RoleService {
		return false
	}
	for _, have := range v.Scopes {
		if have == s {
			return true
		}
	}
	return false
}

// KeyPrefix starts every API key secret.
const KeyPrefix = "cgk_"

const (
	keyIDPrefix  = "key_" // gid.APIKey + "_": the id of the key in the secret
	keyIDLen     = 26     // the random part of a gid
	keySecretLen = 43     // 32 bytes, base64url without padding
	keyLen       = len(KeyPrefix) + keyIDLen + 1 + keySecretLen
)

// IsAPIKey reports whether token is shaped like an API key secret (it may
// still be unknown or wrong).
func IsAPIKey(token string) bool { return strings.HasPrefix(token, KeyPrefix) }

// NewKeySecret makes the secret of the key whose id is id (gid "key_…"),
// its SHA-256 and the prefix to show in its place.
func NewKeySecret(id string) (secret string, hash [32]byte, prefix string, err error) {
	part, ok := strings.CutPrefix(id, keyIDPrefix)
	if !ok || len(part) != keyIDLen {
		return "", hash, "", errors.New("auth: not an API key id: " + id)
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", hash, "", err
	}
	prefix = KeyPrefix + part
	secret = prefix + "_" + base64.RawURLEncoding.EncodeToString(b[:])
	return secret, HashKeySecret(secret), prefix, nil
}

// HashKeySecret is what is stored of a secret.
func HashKeySecret(secret string) [32]byte { return sha256.Sum256([]byte(secret)) }

// keyID is the id of the key a secret names, "" when it is malformed.
func keyID(secret string) string {
	if len(secret) != keyLen || !strings.HasPrefix(secret, KeyPrefix) || secret[len(KeyPrefix)+keyIDLen] != '_' {
		return ""
	}
	part := secret[len(KeyPrefix) : len(KeyPrefix)+keyIDLen]
	for _, c := range part {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z') {
			return ""
		}
	}
	return keyIDPrefix + part
}

// StoredKey is what the store knows of a key.
type StoredKey struct {
	ID       string
	Hash     []byte // SHA-256 of the secret
	AgencyID string // "" for a platform-wide key
	Scopes   []Scope
	Revoked  bool
}

// KeyStore is where the verifier finds API keys; the domain implements it
// (credits.Service.APIKeys).
type KeyStore interface {
	// LookupKey returns the key with this id, or nil when there is none.
	LookupKey(ctx context.Context, id string) (*StoredKey, error)
	// TouchKey records that the key was used at about at (lastUsedAt).
	TouchKey(ctx context.Context, id string, at time.Time) error
	// OnKeyRevoked registers forget, to be called with a key's id when it
	// is revoked on any instance, and with "" when revocations may have
	// been missed (forget every key).
	OnKeyRevoked(forget func(id string))
}

// keyTTL bounds how long a verified key is remembered: a revocation whose
// announcement was lost still takes effect within it.
const keyTTL = time.Minute

// maxKeys bounds the cache of verified keys (past that, it starts over:
// keys are few, unlike tokens).
const maxKeys = 10000

type apiKeys struct {
	store KeyStore
	mu    sync.Mutex
	byID  map[string]*cachedKey
	// epoch counts revocations: a look-up that started before one does
	// not cache what it read, which may be the key before its revocation.
	epoch atomic.Uint64
}

type cachedKey struct {
	hash   [32]byte
	viewer Viewer
	until  time.Time
}

var (
	errKeyMalformed = fail("malformed API key", nil)
	errKeyUnknown   = fail("unknown or revoked API key", nil)
	errKeysOff      = fail("API keys are not configured", nil)
)

// UseKeys makes the verifier accept API keys found in store; call it
// before serving.
func (v *Verifier) UseKeys(store KeyStore) {
	v.keys.store = store
	v.keys.byID = map[string]*cachedKey{}
	store.OnKeyRevoked(v.ForgetKey)
}

// KeyEpoch changes whenever a key is revoked (or every cached key is
// forgotten): a long-lived connection opened with a key checks its key
// again when it sees the epoch move.
func (v *Verifier) KeyEpoch() uint64 { return v.keys.epoch.Load() }

// ForgetKey drops the key id from the cache of verified keys ("": every
// key), so that its next use is looked up again.
func (v *Verifier) ForgetKey(id string) {
	k := &v.keys
	k.epoch.Add(1)
	k.mu.Lock()
	defer k.mu.Unlock()
	if id == "" {
		clear(k.byID)
		return
	}
	delete(k.byID, id)
}

// verifyKey verifies an API key secret. An unknown id, a revoked key and a
// wrong secret all answer the same.
func (v *Verifier) verifyKey(secret string) (*Viewer, error) {
	k := &v.keys
	if k.store == nil {
		return nil, errKeysOff
	}
	id := keyID(secret)
	if id == "" {
		return nil, errKeyMalformed
	}
	hash := HashKeySecret(secret)
	now := time.Now()
	k.mu.Lock()
	c := k.byID[id]
	k.mu.Unlock()
	if c != nil && now.Before(c.until) {
		if subtle.ConstantTimeCompare(hash[:], c.hash[:]) != 1 {
			return nil, errKeyUnknown
		}
		viewer := c.viewer
		return &viewer, nil
	}
	epoch := k.epoch.Load()
	ctx, cancel := context.WithTimeout(context.Background(), admitTimeout)
	defer cancel()
	sk, err := k.store.LookupKey(ctx, id)
	if err != nil {
		return nil, fail("the API key could not be checked", err)
	}
	if sk == nil || sk.Revoked || subtle.ConstantTimeCompare(hash[:], sk.Hash) != 1 {
		return nil, errKeyUnknown
	}
	c = &cachedKey{hash: hash, until: now.Add(keyTTL), viewer: Viewer{
		UserID: "apikey:" + sk.ID, Role: RoleService, AgencyID: sk.AgencyID, Scopes: sk.Scopes,
	}}
	// lastUsedAt: once per look-up, i.e. at most once per keyTTL here. A
	// failure only delays it.
	_ = k.store.TouchKey(ctx, id, now)
	if k.epoch.Load() == epoch {
		k.mu.Lock()
		if len(k.byID) >= maxKeys {
			clear(k.byID)
		}
		k.byID[id] = c
		k.mu.Unlock()
	}
	viewer := c.viewer
	return &viewer, nil
}
