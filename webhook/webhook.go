// Package webhook signs and sends outbound webhooks per the Standard
// Webhooks specification (https://www.standardwebhooks.com): secrets
// "whsec_" + base64 key, headers webhook-id, webhook-timestamp and
// webhook-signature ("v1," + base64 HMAC-SHA256 over "id.timestamp.body"),
// and guards the requests against server-side request forgery: only public
// addresses (unless allowed), checked on the address actually dialled.
package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SecretPrefix starts every secret.
const SecretPrefix = "whsec_"

// keyBytes is the key size: the specification asks for 24 to 64 bytes.
const keyBytes = 32

// NewSecret makes a secret and the first characters that tell it apart
// (never enough to sign with).
func NewSecret() (secret, prefix string, err error) {
	key := make([]byte, keyBytes)
	if _, err := rand.Read(key); err != nil {
		return "", "", fmt.Errorf("reading random key: %w", err)
	}
	secret = SecretPrefix + base64.StdEncoding.EncodeToString(key)
	return secret, secret[:len(SecretPrefix)+6], nil
}

// Key is the signing key of a secret.
func Key(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil || len(key) == 0 {
		return nil, errors.New("malformed webhook secret")
	}
	return key, nil
}

// Sign is the webhook-signature header of a message.
func Sign(secret, msgID string, ts time.Time, body []byte) (string, error) {
	key, err := Key(secret)
	if err != nil {
		return "", err
	}
	return "v1," + base64.StdEncoding.EncodeToString(mac(key, msgID, ts.Unix(), body)), nil
}

func mac(key []byte, msgID string, ts int64, body []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msgID))
	h.Write([]byte{'.'})
	h.Write([]byte(strconv.FormatInt(ts, 10)))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Verify checks a message as a receiver does: one of the space-separated
// v1 signatures matches, and the timestamp is within tolerance of now.
func Verify(secret, msgID, timestamp, signatures string, body []byte, now time.Time, tolerance time.Duration) error {
	key, err := Key(secret)
	if err != nil {
		return err
	}
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return errors.New("malformed webhook-timestamp")
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return errors.New("webhook-timestamp outside the tolerance")
	}
	want := mac(key, msgID, ts, body)
	for _, s := range strings.Fields(signatures) {
		v, sig, ok := strings.Cut(s, ",")
		if !ok || v != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(sig)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return errors.New("no matching signature")
}
