package httpx

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"creditgate/reqid"
)

// echo answers 200 with the body it was given and its Content-Type.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusTeapot)
		return
	}
	w.Header().Set("X-Got-Content-Type", r.Header.Get("Content-Type"))
	_, _ = w.Write(b)
})

type errResp struct {
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

// wantError checks a GraphQL-shaped refusal: status, JSON, code.
func wantError(t *testing.T, rr *httptest.ResponseRecorder, status int) {
	t.Helper()
	if rr.Code != status {
		t.Fatalf("status %d, want %d (body %s)", rr.Code, status, rr.Body)
	}
	if ct := rr.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") && !strings.HasPrefix(ct, MediaGraphQLResponse) {
		t.Fatalf("Content-Type %q, want JSON", ct)
	}
	var e errResp
	if err := json.Unmarshal(rr.Body.Bytes(), &e); err != nil {
		t.Fatalf("body is not JSON: %s", rr.Body)
	}
	if len(e.Errors) != 1 || e.Errors[0].Message == "" || e.Errors[0].Extensions["code"] != CodeBadUserInput {
		t.Fatalf("body %s: want one error with code %s", rr.Body, CodeBadUserInput)
	}
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, r)
	return rr
}

func TestWriteErrorMediaType(t *testing.T) {
	for accept, want := range map[string]string{
		"":                                      MediaJSON,
		"*/*":                                   MediaJSON,
		MediaJSON:                               MediaJSON,
		MediaGraphQLResponse:                    MediaGraphQLResponse,
		MediaGraphQLResponse + ", " + MediaJSON: MediaJSON,
	} {
		r := httptest.NewRequest(http.MethodPost, "/graphql", nil)
		if accept != "" {
			r.Header.Set("Accept", accept)
		}
		rr := httptest.NewRecorder()
		WriteError(rr, r, http.StatusTeapot, CodeBadUserInput, "no")
		wantError(t, rr, http.StatusTeapot)
		if ct := rr.Header().Get("Content-Type"); ct != want+"; charset=utf-8" {
			t.Errorf("Accept %q: Content-Type %q, want %s", accept, ct, want)
		}
	}
}

func TestGraphQLGuard(t *testing.T) {
	h := GraphQLGuard(echo)
	get := func(q url.Values, hdr ...string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/graphql?"+q.Encode(), nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		return r
	}
	post := func(ct, body string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		return r
	}
	t.Run("GET query passes", func(t *testing.T) {
		for _, q := range []url.Values{
			{"query": {"{ __typename }"}},
			{"query": {"query Q { a } mutation M { b }"}, "operationName": {"Q"}},
			{"query": {"{"}}, // syntax error: the handler reports it
			{"query": {"query A { a } mutation B { b }"}},              // ambiguous: the handler reports it
			{"extensions": {`{"persistedQuery":{"sha256Hash":"ab"}}`}}, // APQ hash only
			{},
		} {
			if rr := serve(h, get(q)); rr.Code != http.StatusOK {
				t.Errorf("%v: %d %s", q, rr.Code, rr.Body)
			}
		}
	})
	t.Run("GET mutation or subscription is 405", func(t *testing.T) {
		for _, q := range []url.Values{
			{"query": {"mutation { buyCredits }"}},
			{"query": {"  mutation M($a: ID!) { x(a: $a) }"}},
			{"query": {"subscription { balanceUpdated { available } }"}},
			{"query": {"query Q { a } mutation M { b }"}, "operationName": {"M"}},
		} {
			rr := serve(h, get(q))
			wantError(t, rr, http.StatusMethodNotAllowed)
			if rr.Header().Get("Allow") != http.MethodPost {
				t.Errorf("%v: Allow %q", q, rr.Header().Get("Allow"))
			}
		}
	})
	t.Run("WebSocket upgrade passes", func(t *testing.T) {
		if rr := serve(h, get(nil, "Upgrade", "websocket", "Connection", "Upgrade")); rr.Code != http.StatusOK {
			t.Errorf("%d %s", rr.Code, rr.Body)
		}
	})
	t.Run("POST JSON passes", func(t *testing.T) {
		for ct, forwarded := range map[string]string{
			"application/json":                                "application/json",
			"application/json; charset=utf-8":                 "application/json; charset=utf-8",
			"Application/JSON; charset=UTF-8":                 "Application/JSON; charset=UTF-8",
			"application/graphql-response+json":               "application/json",
			"application/graphql-response+json;charset=utf-8": "application/json; charset=utf-8",
		} {
			rr := serve(h, post(ct, `{"query":"{ a }"}`))
			if rr.Code != http.StatusOK || rr.Body.String() != `{"query":"{ a }"}` {
				t.Errorf("%q: %d %s", ct, rr.Code, rr.Body)
			}
			if got := rr.Header().Get("X-Got-Content-Type"); got != forwarded {
				t.Errorf("%q forwarded as %q, want %q", ct, got, forwarded)
			}
		}
	})
	t.Run("POST of anything else is 415", func(t *testing.T) {
		for _, ct := range []string{
			"", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
			"text/plain", "text/plain;charset=UTF-8", "application/graphql",
			"application/json; charset=latin1", "application/json;;", "json",
		} {
			wantError(t, serve(h, post(ct, `{"query":"mutation { a }"}`)), http.StatusUnsupportedMediaType)
		}
	})
	t.Run("POST that is not a GraphQL request is 400", func(t *testing.T) {
		for _, body := range []string{
			``, `   `, `{`, `{"query": "{ a }"} trailing`, `[{"query": "{ a }"}]`, `"query"`, `null`, `42`,
			`{"query": 1}`, `{"query": {"a": 1}}`, `{"query": ["{ a }"]}`, `{"query": false}`,
			`{"query": "{ a }", "operationName": 0}`, `{"query": "{ a }", "operationName": {}}`,
			`{"query": "{ a }", "variables": "{}"}`, `{"query": "{ a }", "variables": []}`, `{"query": "{ a }", "variables": 0}`,
			`{"query": "{ a }", "extensions": "x"}`, `{"query": "{ a }", "extensions": [1]}`,
			`{}`, `{"notquery": "{ a }"}`, `{"query": ""}`, `{"query": null, "extensions": {"other": 1}}`,
		} {
			wantError(t, serve(h, post("application/json", body)), http.StatusBadRequest)
		}
		for _, body := range []string{
			` {"query": "{ a }", "variables": null, "operationName": null, "extensions": null}`,
			`{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "ab"}}}`,
			`{"query": null, "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "ab"}}}`,
			`{"query": "{ a }", "variables": {"x": [1, {"y": null}]}, "operationName": "Q", "extensions": {}}`,
		} {
			if rr := serve(h, post("application/json", body)); rr.Code != http.StatusOK || rr.Body.String() != body {
				t.Errorf("%s: %d %s", body, rr.Code, rr.Body)
			}
		}
	})
	t.Run("GET with malformed parameters is 400", func(t *testing.T) {
		for _, raw := range []string{
			"query=%7B+a+%7D&variables=%7B", "query=%7B+a+%7D&variables=%5B%5D", "query=%7B+a+%7D&variables=%22x%22",
			"query=%7B+a+%7D&extensions=1", "query=%zz",
		} {
			wantError(t, serve(h, httptest.NewRequest(http.MethodGet, "/graphql?"+raw, nil)), http.StatusBadRequest)
		}
		if rr := serve(h, get(url.Values{"query": {"{ a }"}, "variables": {"null"}, "extensions": {`{"a":1}`}})); rr.Code != http.StatusOK {
			t.Errorf("null variables: %d %s", rr.Code, rr.Body)
		}
	})
	t.Run("other methods are 405", func(t *testing.T) {
		for _, m := range []string{http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodHead, "PROPFIND"} {
			r := httptest.NewRequest(m, "/graphql", strings.NewReader(`{}`))
			r.Header.Set("Content-Type", "application/json")
			rr := serve(h, r)
			if rr.Code != http.StatusMethodNotAllowed || rr.Header().Get("Allow") == "" {
				t.Errorf("%s: %d, Allow %q", m, rr.Code, rr.Header().Get("Allow"))
			}
		}
	})
	t.Run("OPTIONS passes", func(t *testing.T) {
		if rr := serve(h, httptest.NewRequest(http.MethodOptions, "/graphql", nil)); rr.Code != http.StatusOK {
			t.Errorf("%d", rr.Code)
		}
	})
}

// chunked hides a body's length, as a chunked upload does.
type chunked struct{ io.Reader }

// TestBodyLimitHandsBodyToGuard: behind BodyLimit the guard takes the
// body BodyLimit read, unread, without copying it, and the handler after
// the guard still reads all of it; a body already read from is read as
// any other.
func TestBodyLimitHandsBodyToGuard(t *testing.T) {
	const body = `{"query":"{ a }","variables":{"n":1}}`
	var got []byte
	var decoded *GraphQLRequest
	h := BodyLimit(1024)(GraphQLGuard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		decoded, _ = GraphQLRequestFrom(r.Context())
		got, _ = io.ReadAll(r.Body)
	})))
	r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if rr := serve(h, r); rr.Code != http.StatusOK || string(got) != body || decoded == nil || decoded.Query != "{ a }" {
		t.Fatalf("%d: handler read %q, decoded %+v", rr.Code, got, decoded)
	}
	if _, ok := bodyBytes(strings.NewReader(body)); ok {
		t.Error("bodyBytes took a body that is not BodyLimit's")
	}
	m := newMemBody([]byte(body))
	if b, ok := bodyBytes(m); !ok || string(b) != body {
		t.Errorf("bodyBytes of an unread body: %q %v", b, ok)
	}
	if _, err := m.Read(make([]byte, 3)); err != nil {
		t.Fatal(err)
	}
	if _, ok := bodyBytes(m); ok {
		t.Error("bodyBytes took a body already read from")
	}
}

// TestReadAll: readAll reads what io.ReadAll reads, whatever the declared
// length says.
func TestReadAll(t *testing.T) {
	for _, size := range []int{0, 1, 200, 511, 512, 513, 4096, 70_000, 200_000} {
		want := strings.Repeat("x", size)
		for _, declared := range []int64{-1, 0, int64(size) / 2, int64(size), int64(size) + 1, int64(size) * 3} {
			for _, r := range []io.Reader{strings.NewReader(want), chunked{strings.NewReader(want)}, iotestHalf{strings.NewReader(want)}} {
				got, err := readAll(r, declared)
				if err != nil || string(got) != want {
					t.Fatalf("size %d, declared %d, %T: %d bytes, %v", size, declared, r, len(got), err)
				}
			}
		}
	}
	boom := errors.New("boom")
	if _, err := readAll(io.MultiReader(strings.NewReader("abc"), errReader{boom}), 3); !errors.Is(err, boom) {
		t.Errorf("a read error: %v", err)
	}
}

// iotestHalf reads at most half of what is asked, at least one byte.
type iotestHalf struct{ r io.Reader }

func (h iotestHalf) Read(p []byte) (int, error) { return h.r.Read(p[:max(1, len(p)/2)]) }

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestBodyLimit(t *testing.T) {
	h := BodyLimit(1024)(echo)
	small := strings.Repeat("a", 1024)
	big := strings.Repeat("a", 1025)

	if rr := serve(h, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(small))); rr.Code != 200 || rr.Body.String() != small {
		t.Errorf("at the limit: %d, %d bytes back", rr.Code, rr.Body.Len())
	}
	wantError(t, serve(h, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(big))), http.StatusRequestEntityTooLarge)

	// No Content-Length: found out while reading, still before the handler.
	r := httptest.NewRequest(http.MethodPost, "/", chunked{strings.NewReader(big)})
	r.ContentLength = -1
	wantError(t, serve(h, r), http.StatusRequestEntityTooLarge)
	r = httptest.NewRequest(http.MethodPost, "/", chunked{strings.NewReader(small)})
	r.ContentLength = -1
	if rr := serve(h, r); rr.Code != 200 || rr.Body.String() != small {
		t.Errorf("chunked at the limit: %d, %d bytes back", rr.Code, rr.Body.Len())
	}
	// A lying Content-Length cannot get more through.
	r = httptest.NewRequest(http.MethodPost, "/", strings.NewReader(big))
	r.ContentLength = 10
	if rr := serve(h, r); rr.Code == 200 && rr.Body.Len() > 1024 {
		t.Errorf("read %d bytes past the limit", rr.Body.Len())
	}
	if rr := serve(h, httptest.NewRequest(http.MethodGet, "/", nil)); rr.Code != 200 {
		t.Errorf("no body: %d", rr.Code)
	}
	if rr := serve(BodyLimit(0)(echo), httptest.NewRequest(http.MethodPost, "/", strings.NewReader(strings.Repeat("a", DefaultMaxBodyBytes)))); rr.Code != 200 {
		t.Errorf("default limit: %d", rr.Code)
	}
	wantError(t, serve(BodyLimit(0)(echo), httptest.NewRequest(http.MethodPost, "/", strings.NewReader(strings.Repeat("a", DefaultMaxBodyBytes+1)))), http.StatusRequestEntityTooLarge)
}

func TestSecurityHeaders(t *testing.T) {
	for _, hsts := range []bool{false, true} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Host = "gw.example.com:8443"
		rr := serve(SecurityHeaders(hsts)(echo), r)
		h := rr.Header()
		for k, v := range map[string]string{
			"X-Content-Type-Options": "nosniff",
			"Referrer-Policy":        "no-referrer",
			"X-Frame-Options":        "DENY",
		} {
			if h.Get(k) != v {
				t.Errorf("%s: %q, want %q", k, h.Get(k), v)
			}
		}
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{
			"default-src 'none'", "script-src 'self';", "style-src 'self' 'unsafe-inline'",
			"connect-src 'self' ws://gw.example.com:8443 wss://gw.example.com:8443;", "frame-ancestors 'none'",
		} {
			if !strings.Contains(csp, want) {
				t.Errorf("CSP %q lacks %q", csp, want)
			}
		}
		if got := h.Get("Strict-Transport-Security"); (got != "") != hsts {
			t.Errorf("hsts=%v: Strict-Transport-Security %q", hsts, got)
		}
	}
	if csp := ContentSecurityPolicy("evil; script-src *"); strings.Contains(csp, "evil") {
		t.Errorf("a hostile Host reached the policy: %q", csp)
	}
}

// The header values SecurityHeaders shares between responses stay as they
// are when a handler adds to them, and each host gets its own policy.
func TestSecurityHeadersShared(t *testing.T) {
	adds := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Add("X-Frame-Options", "SAMEORIGIN")
		w.Header().Add("Content-Security-Policy", "sandbox")
	})
	mw := SecurityHeaders(false)
	for i, host := range []string{"a.example.com", "a.example.com", "b.example.com", "a.example.com"} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Host = host
		h := serve(mw(adds), r).Header()
		if got := h.Values("X-Frame-Options"); len(got) != 2 || got[0] != "DENY" {
			t.Errorf("request %d: X-Frame-Options %q", i, got)
		}
		csp := h.Values("Content-Security-Policy")
		if len(csp) != 2 || csp[0] != ContentSecurityPolicy(host) || csp[1] != "sandbox" {
			t.Errorf("request %d (%s): Content-Security-Policy %q", i, host, csp)
		}
	}
}

func TestCORS(t *testing.T) {
	req := func(method, origin string, hdr ...string) *http.Request {
		r := httptest.NewRequest(method, "/graphql", nil)
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		return r
	}
	h := CORS([]string{"https://app.example.com", "https://*.tenant.example"})(echo)
	for origin, allowed := range map[string]bool{
		"https://app.example.com":  true,
		"https://a.tenant.example": true,
		"https://evil.example":     false,
		"http://app.example.com":   false,
		"null":                     false,
	} {
		rr := serve(h, req(http.MethodPost, origin))
		if got := rr.Header().Get("Access-Control-Allow-Origin"); (got == origin) != allowed || (!allowed && got != "") {
			t.Errorf("%s: Access-Control-Allow-Origin %q", origin, got)
		}
		pre := serve(h, req(http.MethodOptions, origin, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization,content-type"))
		if pre.Code != http.StatusNoContent {
			t.Errorf("%s preflight: %d", origin, pre.Code)
		}
		if got := pre.Header().Get("Access-Control-Allow-Origin"); (got == origin) != allowed {
			t.Errorf("%s preflight: Access-Control-Allow-Origin %q", origin, got)
		}
		if allowed && !strings.Contains(strings.ToLower(pre.Header().Get("Access-Control-Allow-Headers")), "authorization") {
			t.Errorf("%s preflight: Access-Control-Allow-Headers %q", origin, pre.Header().Get("Access-Control-Allow-Headers"))
		}
	}
	// Methods and headers outside the list are not granted.
	pre := serve(h, req(http.MethodOptions, "https://app.example.com", "Access-Control-Request-Method", "DELETE"))
	if pre.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("DELETE preflight granted")
	}
	pre = serve(h, req(http.MethodOptions, "https://app.example.com", "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "x-custom"))
	if pre.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("X-Custom preflight granted")
	}
	// No list: no origin at all (rs/cors alone would allow every one).
	none := CORS(nil)(echo)
	if got := serve(none, req(http.MethodPost, "https://app.example.com")).Header().Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("empty list: Access-Control-Allow-Origin %q", got)
	}
	all := CORS([]string{"*"})(echo)
	if got := serve(all, req(http.MethodPost, "https://x.example")).Header().Get("Access-Control-Allow-Origin"); got != "*" {
		t.Errorf("*: Access-Control-Allow-Origin %q", got)
	}
}

func TestAccessLog(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(RequestIDHandler(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
	reg := prometheus.NewRegistry()
	mw := AccessLog(AccessLogOptions{
		Logger: log, Registerer: reg,
		Routes: []string{"/graphql", "/healthz", "/assets/"},
		Quiet:  []string{"/healthz"},
	})
	h := reqid.Middleware(mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/graphql":
			w.WriteHeader(http.StatusTeapot)
			_, _ = io.WriteString(w, "abc")
		case "/assets/x.js":
			_, _ = io.WriteString(w, "x")
		}
	})))
	serve(h, httptest.NewRequest(http.MethodPost, "/graphql?secret=1", nil))
	serve(h, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	serve(h, httptest.NewRequest(http.MethodGet, "/assets/x.js", nil))
	serve(h, httptest.NewRequest(http.MethodGet, "/wp-admin.php", nil))

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 lines (health check at Debug), got:\n%s", buf.String())
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if first["method"] != "POST" || first["path"] != "/graphql" || first["status"] != float64(418) ||
		first["bytes"] != float64(3) || first["level"] != "INFO" || !isNumber(first["duration_ms"]) {
		t.Errorf("log line %v", first)
	}
	if id, _ := first["request_id"].(string); len(id) != 16 {
		t.Errorf("request_id %v", first["request_id"])
	}
	if strings.Contains(buf.String(), "secret") {
		t.Errorf("the query string reached the log: %s", buf.String())
	}

	for labels, want := range map[[3]string]float64{
		{"POST", "/graphql", "418"}: 1,
		{"GET", "/healthz", "200"}:  1,
		{"GET", "/assets/", "200"}:  1,
		{"GET", "other", "200"}:     1,
	} {
		if got := counterValue(t, reg, "creditgate_http_requests_total", labels[:]...); got != want {
			t.Errorf("creditgate_http_requests_total%v = %v, want %v", labels, got, want)
		}
	}
	// A second AccessLog on the same registry shares the metrics.
	AccessLog(AccessLogOptions{Logger: log, Registerer: reg})
}

// counterValue is the value of the counter name whose label values are
// values, in label-name order (code, method, route), or -1.
func counterValue(t *testing.T, reg *prometheus.Registry, name string, values ...string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	metrics:
		for _, m := range f.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for i, k := range []string{"method", "route", "code"} {
				if got[k] != values[i] {
					continue metrics
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return -1
}

func TestAccessLogKeepsFlushAndHijack(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	// Set by the handler's goroutine, read by the test's: atomics.
	var flushed, hijacked atomic.Bool
	h := AccessLog(AccessLogOptions{Logger: log, Registerer: prometheus.NewRegistry()})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/sse" {
			f, ok := w.(http.Flusher)
			if ok {
				// Before Flush: the client may read the response (and
				// check the flag) as soon as the headers are flushed.
				flushed.Store(true)
				f.Flush()
			}
			return
		}
		c, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		hijacked.Store(true)
		_, _ = rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n")
		_ = rw.Flush()
		_ = c.Close()
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/sse")
	if err != nil || !flushed.Load() {
		t.Errorf("flush: %v, flushed %v", err, flushed.Load())
	} else {
		resp.Body.Close()
	}
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n")
	resp, err = http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols || !hijacked.Load() {
		t.Errorf("hijack: %v %v %v", err, resp, hijacked.Load())
	}
}

func TestRequestIDHandler(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(RequestIDHandler(slog.NewTextHandler(&buf, nil))).With("component", "test")
	ctx := reqid.NewContext(context.Background(), "abc123")
	log.InfoContext(ctx, "one")
	log.InfoContext(ctx, "two", "request_id", "abc123") // already named: not twice
	log.Info("three")                                   // no request: no id
	out := buf.String()
	if strings.Count(out, "request_id=abc123") != 2 {
		t.Errorf("want request_id once on each of the first two lines:\n%s", out)
	}
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 3 || strings.Contains(lines[2], "request_id") ||
		!strings.Contains(lines[0], "component=test") {
		t.Errorf("lines:\n%s", out)
	}
}

func TestGraphQLGuardDropsDataOfRequestErrors(t *testing.T) {
	answer := func(status int, body string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = io.WriteString(w, body[:len(body)/2])
			_, _ = io.WriteString(w, body[len(body)/2:])
		})
	}
	errBody := `{"errors":[{"message":"Expected Name","extensions":{"code":"GRAPHQL_PARSE_FAILED"}}],"data":null}`
	post := func() *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"{"}`))
		r.Header.Set("Content-Type", "application/json")
		return r
	}
	for _, status := range []int{http.StatusBadRequest, http.StatusUnprocessableEntity} {
		for _, r := range []*http.Request{post(), httptest.NewRequest(http.MethodGet, "/graphql?query=%7B", nil)} {
			rr := serve(GraphQLGuard(answer(status, errBody)), r)
			if rr.Code != status || rr.Body.String() != `{"errors":[{"message":"Expected Name","extensions":{"code":"GRAPHQL_PARSE_FAILED"}}]}` {
				t.Errorf("%s %d: %d %s", r.Method, status, rr.Code, rr.Body)
			}
		}
	}
	// An executed operation keeps its data, null or not.
	for _, body := range []string{
		`{"errors":[{"message":"x","path":["a"],"extensions":{"code":"NOT_FOUND"}}],"data":null}`,
		`{"data":{"a":1}}`,
	} {
		if rr := serve(GraphQLGuard(answer(http.StatusOK, body)), post()); rr.Code != 200 || rr.Body.String() != body {
			t.Errorf("200: %d %s", rr.Code, rr.Body)
		}
	}
	// A huge request error passes as it is.
	huge := `{"errors":[` + strings.Repeat(`{"message":"x"},`, maxHeldError/10) + `{"message":"x"}],"data":null}`
	if rr := serve(GraphQLGuard(answer(http.StatusUnprocessableEntity, huge)), post()); rr.Code != 422 || rr.Body.String() != huge {
		t.Errorf("huge: %d, %d bytes", rr.Code, rr.Body.Len())
	}
}

// isNumber: durations are logged as JSON numbers (duration_ms), not strings.
func isNumber(v any) bool { _, ok := v.(float64); return ok }
