package httpx

import (
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/rs/cors"
)

// HSTS is the Strict-Transport-Security value sent in production: two
// years, subdomains included. It is only honoured over HTTPS, which in
// production the TLS-terminating proxy in front of the gateway provides.
const HSTS = "max-age=63072000; includeSubDomains"

// ContentSecurityPolicy returns the policy for a response served on host.
//
// It fits the embedded GraphiQL page (graphiql/): every script is a
// same-origin file under /graphiql/assets/ (init.js reads its settings from
// data attributes, so no inline script), the stylesheet is same-origin but
// the page has one inline <style> block and GraphiQL sets inline styles, its
// fonts and icons are data: URIs, and it talks to the gateway over fetch and
// WebSocket on the same host. ws:// and wss:// are named with the host
// because CSP Level 2 browsers do not count them as 'self'. Nothing may
// frame the page, post forms from it or change its base URL. API responses
// (JSON) get the same policy, where it is simply inert.
func ContentSecurityPolicy(host string) string {
	connect := "connect-src 'self'"
	if validHost(host) {
		connect += " ws://" + host + " wss://" + host
	}
	return "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
		"img-src 'self' data:; font-src 'self' data:; " + connect +
		"; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}

// validHost accepts what can be pasted into a CSP source expression: a host
// name or address with an optional port. net/http has already refused
// malformed Host headers; this keeps separators and quotes out regardless.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for _, c := range h {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.ContainsRune(".-:[]", c):
		default:
			return false
		}
	}
	return true
}

// SecurityHeaders sets, on every response: X-Content-Type-Options: nosniff,
// Referrer-Policy: no-referrer, X-Frame-Options: DENY, the Content-Security-
// Policy above, and with hsts (production) Strict-Transport-Security.
//
// The values are built once, not per response (Header.Set makes a slice
// for each value, and the policy is a concatenation): a cached balance
// read allocates little else per request, so these were a tenth of its
// allocations. The shared slices have no spare capacity, so a handler's
// Header().Add makes its own copy instead of writing into them.
func SecurityHeaders(hsts bool) func(http.Handler) http.Handler {
	fixed := [][2]string{
		{"X-Content-Type-Options", "nosniff"},
		{"Referrer-Policy", "no-referrer"},
		{"X-Frame-Options", "DENY"},
	}
	if hsts {
		fixed = append(fixed, [2]string{"Strict-Transport-Security", HSTS})
	}
	values := make([][]string, len(fixed))
	for i, kv := range fixed {
		values[i] = SharedValue(kv[1])
	}
	var csp cspCache
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			for i, kv := range fixed {
				h[kv[0]] = values[i]
			}
			h["Content-Security-Policy"] = csp.of(r.Host)
			next.ServeHTTP(w, r)
		})
	}
}

// SharedValue is a header value as a slice that Header.Add cannot write into
// (its capacity is its length), so that it can be shared by responses.
func SharedValue(v string) []string {
	return []string{v}[:1:1]
}

// cspCache keeps the policy of the host last served: a gateway is called
// by one or a few host names, and the policy names its host. Another host
// gets its policy built (and kept in place of the last one), so a client
// sending made-up hosts costs a concatenation per request, as before, and
// never grows anything.
type cspCache struct {
	last atomic.Pointer[cspEntry]
}

type cspEntry struct {
	host  string
	value []string
}

func (c *cspCache) of(host string) []string {
	if e := c.last.Load(); e != nil && e.host == host {
		return e.value
	}
	e := &cspEntry{host: host, value: SharedValue(ContentSecurityPolicy(host))}
	c.last.Store(e)
	return e.value
}

// CORS allows cross-origin browser requests from origins only: full origins
// such as "https://app.example.com", one "*" wildcard per entry
// ("https://*.example.com"), or "*" for any origin. With no origins no
// cross-origin request is allowed (same-origin pages, such as GraphiQL,
// need none). Allowed: GET, POST and OPTIONS with the Authorization,
// Content-Type and Accept headers; no credentials (tokens travel in
// Authorization, never in cookies). A disallowed origin gets no
// Access-Control-Allow-Origin, so the browser withholds the response.
// Preflights are answered here with 204.
func CORS(origins []string) func(http.Handler) http.Handler {
	opt := cors.Options{
		AllowedOrigins: origins,
		AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodOptions},
		AllowedHeaders: []string{"Authorization", "Content-Type", "Accept"},
		ExposedHeaders: []string{"X-Request-Id", "Retry-After"},
		MaxAge:         600,
	}
	if len(origins) == 0 {
		// rs/cors reads an empty list as "every origin".
		opt.AllowOriginFunc = func(string) bool { return false }
	}
	return cors.New(opt).Handler
}
