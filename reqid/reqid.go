// Package reqid gives every request an id that appears in each log line and
// in INTERNAL errors, so a user can quote it and an operator can find it.
package reqid

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/netip"
)

type key struct{}

// FromContext returns the request id, or "".
func FromContext(ctx context.Context) string {
	s, _ := ctx.Value(key{}).(string)
	return s
}

// NewContext returns ctx carrying id.
func NewContext(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, key{}, id)
}

// New returns a fresh random id.
func New() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Middleware assigns each request an id and echoes it in X-Request-Id. An
// id sent by the client is not trusted: it would let callers forge log lines.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := New()
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), id)))
	})
}

type addrKey struct{}

// ClientAddress is the client's address the gateway saw for this request
// (behind a trusted proxy, the one it forwarded), or "".
func ClientAddress(ctx context.Context) string {
	if ip, ok := ClientIP(ctx); ok {
		return ip.String()
	}
	return ""
}

// ClientIP is the client's address as WithClientIP put it in ctx.
func ClientIP(ctx context.Context) (netip.Addr, bool) {
	ip, ok := ctx.Value(addrKey{}).(netip.Addr)
	return ip, ok && ip.IsValid()
}

// WithClientIP returns ctx carrying the client's address. It is kept as
// an address, not as its text: every request carries it (for the rate
// limit), few write it down (audit records), so the text is made when
// asked for.
func WithClientIP(ctx context.Context, ip netip.Addr) context.Context {
	return context.WithValue(ctx, addrKey{}, ip)
}
