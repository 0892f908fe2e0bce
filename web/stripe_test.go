package web

import (
	"net/http"
	"strings"
	"testing"

	"creditgate/httpx"
)

// With a Stripe publishable key the portal learns it from a data attribute
// and the pages' policy lets Stripe.js in (its script, frames and API);
// without one, or with something that is not a publishable key, neither.
func TestStripePublishableKey(t *testing.T) {
	withPolicy := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Security-Policy", httpx.ContentSecurityPolicy(r.Host))
			h.ServeHTTP(w, r)
		})
	}
	for _, c := range []struct {
		key  string
		want bool
	}{
		{"pk_test_51Hx0abcDEF", true},
		{"", false},
		{"sk_test_secret", false},
		{`pk_test_x" onload="alert(1)`, false},
	} {
		h := withPolicy(Handler(Options{StripePublishableKey: c.key}))
		r := get(t, h, "/portal/", nil)
		b := body(t, r)
		csp := r.Header.Get("Content-Security-Policy")
		hasAttr := strings.Contains(b, `data-stripe-key="`+c.key+`"`)
		allows := strings.Contains(csp, "script-src 'self' https://js.stripe.com") &&
			strings.Contains(csp, "connect-src 'self' https://api.stripe.com") &&
			strings.Contains(csp, "frame-src https://js.stripe.com")
		if hasAttr != c.want || allows != c.want || strings.Contains(b, "data-stripe-key") != c.want {
			t.Errorf("key %q: data-stripe-key %v, policy allows Stripe %v (%s); want %v", c.key, hasAttr, allows, csp, c.want)
		}
	}
}
