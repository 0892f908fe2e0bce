package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"creditgate/auth"
	"creditgate/graph"
)

// The HTTP layer: CSRF wall, body limit, CORS, security headers, metrics,
// access log, production mode. Every refusal of a mutation is checked for
// its status and code and for having moved nothing.

const httpAllocate = `mutation($to: ID!, $amt: Decimal!){ allocateCredits(input:{toAccountId: $to, amount: $amt}) { transaction { id } } }`

// httpServer serves the harness API's database through routes() with cfg
// (the harness's own server uses a fixed development Config), logging to
// log (nil: nowhere).
func httpServer(t *testing.T, a *testAPI, cfg Config, log *slog.Logger) *httptest.Server {
	t.Helper()
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	verifier, err := auth.NewVerifier(context.Background(), auth.Config{Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	sockets := graph.NewSockets()
	srv := httptest.NewServer(routes(cfg, a.db, a.svc, verifier, sockets, log))
	t.Cleanup(func() { sockets.CloseAll(); srv.Close() })
	return srv
}

// httpDo sends req and returns the status, headers and body.
func httpDo(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

// httpWantError checks a refusal over HTTP: status, and a GraphQL-shaped
// JSON body refused with code and no data (wantRefusedNoData).
func httpWantError(t *testing.T, what string, resp *http.Response, body []byte, status int, code string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("%s: status %d, want %d (%s)", what, resp.StatusCode, status, body)
	}
	var out gqlResponse
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("%s: want a GraphQL error body, got %q", what, body)
	}
	wantRefusedNoData(t, out, code, what)
}

// httpBalances reads pool A and client A1, the two ends of httpAllocate.
func httpBalances(a *testAPI) [2]string {
	return [2]string{a.balance(a.fx.PoolA), a.balance(a.fx.A1)}
}

// httpControl runs the allocation the refused requests carried, properly,
// and checks that it moves money: the refusals were refused for how they
// were sent, not for what they asked.
func httpControl(t *testing.T, a *testAPI, before [2]string) {
	t.Helper()
	r := a.gql(a.agencyAdmin(), httpAllocate, map[string]any{"to": a.fx.A1, "amt": "25"})
	if len(r.Errors) > 0 {
		t.Fatalf("control allocation failed: %+v", r.Errors)
	}
	if after := httpBalances(a); after == before {
		t.Fatalf("control allocation moved nothing: %v", after)
	}
}

func httpGQLBody(query string, vars map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return b
}

func TestHTTPBodyTooLarge(t *testing.T) {
	a := newAPI(t, "sqlite")
	before, snap := httpBalances(a), snapshot(t, a)
	pad := strings.Repeat("x", 2<<20)
	body, _ := json.Marshal(map[string]any{
		"query":      httpAllocate,
		"variables":  map[string]any{"to": a.fx.A1, "amt": "25"},
		"extensions": map[string]any{"pad": pad},
	})
	for _, chunked := range []bool{false, true} {
		var r io.Reader = bytes.NewReader(body)
		if chunked {
			r = io.MultiReader(r) // no length: sent chunked, found out while reading
		}
		req, _ := http.NewRequest(http.MethodPost, a.srv.URL+"/graphql", r)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+a.agencyAdmin())
		resp, out := httpDo(t, req)
		httpWantError(t, "2 MiB body", resp, out, http.StatusRequestEntityTooLarge, "BAD_USER_INPUT")
		if chunked != (req.ContentLength == 0) {
			t.Fatalf("chunked=%v but ContentLength %d", chunked, req.ContentLength)
		}
	}
	wantUnchanged(t, a, snap, "a refused 2 MiB request")
	// MAX_BODY_BYTES moves the limit.
	srv := httpServer(t, a, Config{MaxBodyBytes: 4096}, nil)
	small := httpGQLBody(`{ __typename }`, map[string]any{"pad": strings.Repeat("x", 5000)})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", bytes.NewReader(small))
	req.Header.Set("Content-Type", "application/json")
	resp, out := httpDo(t, req)
	httpWantError(t, "5 KB body over a 4 KiB limit", resp, out, http.StatusRequestEntityTooLarge, "BAD_USER_INPUT")
	httpControl(t, a, before)
}

func TestHTTPGetMutationRefused(t *testing.T) {
	a := newAPI(t, "sqlite")
	before, snap := httpBalances(a), snapshot(t, a)
	vars, _ := json.Marshal(map[string]any{"to": a.fx.A1, "amt": "25"})
	for name, q := range map[string]url.Values{
		"mutation":              {"query": {httpAllocate}, "variables": {string(vars)}},
		"mutation by name":      {"query": {"query Q { __typename } " + httpAllocate[:8] + " M" + httpAllocate[8:]}, "operationName": {"M"}, "variables": {string(vars)}},
		"subscription":          {"query": {`subscription { balanceUpdated { available } }`}},
		"graphql-response+json": {"query": {httpAllocate}, "variables": {string(vars)}},
	} {
		req, _ := http.NewRequest(http.MethodGet, a.srv.URL+"/graphql?"+q.Encode(), nil)
		req.Header.Set("Authorization", "Bearer "+a.agencyAdmin())
		if name == "graphql-response+json" {
			req.Header.Set("Accept", "application/graphql-response+json")
		}
		resp, body := httpDo(t, req)
		httpWantError(t, "GET "+name, resp, body, http.StatusMethodNotAllowed, "BAD_USER_INPUT")
		if resp.Header.Get("Allow") != http.MethodPost {
			t.Errorf("GET %s: Allow %q, want POST", name, resp.Header.Get("Allow"))
		}
	}
	wantUnchanged(t, a, snap, "a GET mutation")
	// GET still runs queries.
	q := url.Values{"query": {`query($a: ID!){ balance(accountId: $a) { available } }`}, "variables": {`{"a":"` + string(a.fx.PoolA) + `"}`}}
	req, _ := http.NewRequest(http.MethodGet, a.srv.URL+"/graphql?"+q.Encode(), nil)
	req.Header.Set("Authorization", "Bearer "+a.agencyAdmin())
	if r := a.send(req); r.Status != http.StatusOK || len(r.Errors) > 0 || !strings.Contains(string(r.Data), before[0]) {
		t.Fatalf("GET query: %d %s %+v", r.Status, r.Data, r.Errors)
	}
	httpControl(t, a, before)
}

func TestHTTPFormPostsRefused(t *testing.T) {
	a := newAPI(t, "sqlite")
	before, snap := httpBalances(a), snapshot(t, a)
	vars, _ := json.Marshal(map[string]any{"to": a.fx.A1, "amt": "25"})
	op := httpGQLBody(httpAllocate, map[string]any{"to": a.fx.A1, "amt": "25"})

	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	_ = mw.WriteField("operations", string(op)) // the GraphQL multipart request spec
	_ = mw.WriteField("map", "{}")
	_ = mw.WriteField("query", httpAllocate)
	_ = mw.WriteField("variables", string(vars))
	_ = mw.Close()

	for _, c := range []struct {
		name, contentType string
		body              []byte
	}{
		{"form-urlencoded", "application/x-www-form-urlencoded", []byte(url.Values{"query": {httpAllocate}, "variables": {string(vars)}}.Encode())},
		{"multipart", mw.FormDataContentType(), mp.Bytes()},
		// <form enctype="text/plain"> can send a body that parses as JSON.
		{"text/plain JSON", "text/plain", op},
		{"no Content-Type", "", op},
		{"JSON in latin1", "application/json; charset=iso-8859-1", op},
	} {
		req, _ := http.NewRequest(http.MethodPost, a.srv.URL+"/graphql", bytes.NewReader(c.body))
		req.Header.Set("Authorization", "Bearer "+a.agencyAdmin())
		if c.contentType != "" {
			req.Header.Set("Content-Type", c.contentType)
		} else {
			req.Header["Content-Type"] = nil // Go would not add one, but be explicit
		}
		resp, body := httpDo(t, req)
		httpWantError(t, c.name, resp, body, http.StatusUnsupportedMediaType, "BAD_USER_INPUT")
	}
	// Other methods are not a way around it.
	for _, m := range []string{http.MethodPut, http.MethodPatch, http.MethodDelete} {
		req, _ := http.NewRequest(m, a.srv.URL+"/graphql", bytes.NewReader(op))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+a.agencyAdmin())
		resp, body := httpDo(t, req)
		httpWantError(t, m, resp, body, http.StatusMethodNotAllowed, "BAD_USER_INPUT")
	}
	wantUnchanged(t, a, snap, "a form post")
	httpControl(t, a, before)
}

func TestHTTPCORS(t *testing.T) {
	a := newAPI(t, "sqlite")
	cfg, err := loadConfig(httpEnv(map[string]string{"CORS_ORIGINS": "https://portal.example.com, https://*.agency.example/"}))
	if err != nil {
		t.Fatal(err)
	}
	srv := httpServer(t, a, cfg, nil)
	post := func(origin string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", bytes.NewReader(httpGQLBody(`{ __typename }`, nil)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", origin)
		resp, body := httpDo(t, req)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Query") {
			t.Fatalf("POST from %s: %d %s", origin, resp.StatusCode, body)
		}
		return resp
	}
	preflight := func(origin string) *http.Response {
		req, _ := http.NewRequest(http.MethodOptions, srv.URL+"/graphql", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
		resp, _ := httpDo(t, req)
		if resp.StatusCode/100 != 2 {
			t.Fatalf("preflight from %s: %d", origin, resp.StatusCode)
		}
		return resp
	}
	for _, origin := range []string{"https://portal.example.com", "https://north.agency.example"} {
		if got := post(origin).Header.Get("Access-Control-Allow-Origin"); got != origin {
			t.Errorf("allowed %s: Access-Control-Allow-Origin %q", origin, got)
		}
		p := preflight(origin)
		if got := p.Header.Get("Access-Control-Allow-Origin"); got != origin {
			t.Errorf("allowed %s preflight: Access-Control-Allow-Origin %q", origin, got)
		}
		if got := p.Header.Get("Access-Control-Allow-Methods"); got != "POST" {
			t.Errorf("allowed %s preflight: Access-Control-Allow-Methods %q", origin, got)
		}
		if got := strings.ToLower(p.Header.Get("Access-Control-Allow-Headers")); !strings.Contains(got, "authorization") || !strings.Contains(got, "content-type") {
			t.Errorf("allowed %s preflight: Access-Control-Allow-Headers %q", origin, got)
		}
	}
	for _, origin := range []string{"https://evil.example", "http://portal.example.com", "https://portal.example.com.evil.example", "null"} {
		if got := post(origin).Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("disallowed %s: Access-Control-Allow-Origin %q", origin, got)
		}
		if got := preflight(origin).Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("disallowed %s preflight: Access-Control-Allow-Origin %q", origin, got)
		}
	}
	// Without CORS_ORIGINS no origin is allowed (the harness server).
	req, _ := http.NewRequest(http.MethodPost, a.srv.URL+"/graphql", bytes.NewReader(httpGQLBody(`{ __typename }`, nil)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", "https://portal.example.com")
	if resp, _ := httpDo(t, req); resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("no CORS_ORIGINS: Access-Control-Allow-Origin %q", resp.Header.Get("Access-Control-Allow-Origin"))
	}
}

func TestHTTPSecurityHeaders(t *testing.T) {
	a := newAPI(t, "sqlite")
	prodCfg, err := loadConfig(httpEnv(map[string]string{"APP_ENV": "production", "JWT_SECRET": string(testSecret)}))
	if err != nil {
		t.Fatal(err)
	}
	prod := httpServer(t, a, prodCfg, nil)
	big := bytes.Repeat([]byte("x"), 2<<20)
	for _, c := range []struct {
		srv        string
		production bool
	}{{a.srv.URL, false}, {prod.URL, true}} {
		for _, r := range []struct {
			method, path, contentType string
			body                      []byte
		}{
			{"POST", "/graphql", "application/json", httpGQLBody(`{ __typename }`, nil)},
			{"GET", "/graphql?query=%7B__typename%7D", "", nil},
			{"POST", "/graphql", "application/json", big},
			{"POST", "/graphql", "text/plain", []byte("{}")},
			{"GET", "/", "", nil},
			{"GET", "/healthz", "", nil},
			{"GET", "/metrics", "", nil},
			{"GET", "/nope", "", nil},
		} {
			req, _ := http.NewRequest(r.method, c.srv+r.path, bytes.NewReader(r.body))
			if r.contentType != "" {
				req.Header.Set("Content-Type", r.contentType)
			}
			resp, _ := httpDo(t, req)
			h := resp.Header
			what := r.method + " " + r.path
			if c.production {
				what += " (production)"
			}
			for k, v := range map[string]string{
				"X-Content-Type-Options": "nosniff",
				"Referrer-Policy":        "no-referrer",
				"X-Frame-Options":        "DENY",
			} {
				if h.Get(k) != v {
					t.Errorf("%s: %s %q, want %q", what, k, h.Get(k), v)
				}
			}
			csp := h.Get("Content-Security-Policy")
			host := strings.TrimPrefix(c.srv, "http://")
			for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self' ws://" + host + " wss://" + host, "frame-ancestors 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("%s: Content-Security-Policy %q lacks %q", what, csp, want)
				}
			}
			if hsts := h.Get("Strict-Transport-Security"); (hsts != "") != c.production {
				t.Errorf("%s: Strict-Transport-Security %q", what, hsts)
			}
			if h.Get("X-Request-Id") == "" {
				t.Errorf("%s: no X-Request-Id", what)
			}
		}
	}
}

// The GraphiQL page's own references must fit the policy it is served
// with: same-origin scripts only, no inline script.
func TestHTTPGraphiQLFitsCSP(t *testing.T) {
	a := newAPI(t, "sqlite")
	resp, body := httpDo(t, httpGet(t, a.srv.URL+"/"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /: %d", resp.StatusCode)
	}
	page := string(body)
	if n := strings.Count(page, "<script"); n == 0 || n != strings.Count(page, `<script src="/graphiql/assets/`) {
		t.Errorf("the page has scripts that are not same-origin files:\n%s", page)
	}
	for _, bad := range []string{"onload=", "onclick=", "javascript:", "http://", "https://"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page contains %q, which the policy blocks:\n%s", bad, page)
		}
	}
	for _, asset := range []string{"/graphiql/assets/init.js", "/graphiql/assets/graphiql.min.css"} {
		if resp, _ := httpDo(t, httpGet(t, a.srv.URL+asset)); resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d", asset, resp.StatusCode)
		}
	}
}

func httpGet(t *testing.T, u string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestHTTPMetrics(t *testing.T) {
	a := newAPI(t, "sqlite")
	a.balance(a.fx.PoolA)
	a.gql("", `{ __typename }`, nil)
	resp, body := httpDo(t, httpGet(t, a.srv.URL+"/metrics"))
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	text := string(body)
	want := []string{
		`go_sql_max_open_connections{db_name="creditgate"}`, // the pool
		`go_sql_open_connections{db_name="creditgate"}`,
		`go_sql_in_use_connections{db_name="creditgate"}`,
		`go_sql_wait_count_total{db_name="creditgate"}`,
		"go_goroutines ", "go_memstats_heap_alloc_bytes ", // the runtime
		`creditgate_http_requests_total{code="200",method="POST",route="/graphql"}`,
		`creditgate_http_request_duration_seconds_bucket{method="POST",route="/graphql",le="0.005"}`,
		"creditgate_http_requests_in_flight ",
	}
	if runtime.GOOS == "linux" {
		want = append(want, "process_cpu_seconds_total ", "process_open_fds ")
	}
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("/metrics lacks %s", w)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", text)
	}
}

// httpLogBuf collects log output, safe for the server's goroutines.
type httpLogBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *httpLogBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *httpLogBuf) lines(t *testing.T) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s.b.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q is not JSON", l)
		}
		out = append(out, m)
	}
	return out
}

func TestHTTPAccessLog(t *testing.T) {
	a := newAPI(t, "sqlite")
	var buf httpLogBuf
	cfg := Config{Production: true, Introspect: true, JWTSecret: string(testSecret)}
	srv := httpServer(t, a, cfg, newLogger(cfg, &buf))

	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", bytes.NewReader(httpGQLBody(httpAllocate, map[string]any{"to": a.fx.A1, "amt": "1"})))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+a.agencyAdmin())
	resp, _ := httpDo(t, req)
	id := resp.Header.Get("X-Request-Id")
	httpDo(t, httpGet(t, srv.URL+"/healthz")) // at Debug: not logged at Info

	var found bool
	for _, l := range buf.lines(t) {
		if l["path"] == "/healthz" {
			t.Errorf("health check logged at Info: %v", l)
		}
		if l["msg"] != "http request" || l["path"] != "/graphql" {
			continue
		}
		found = true
		if l["request_id"] != id || l["method"] != "POST" || l["status"] != float64(200) || l["level"] != "INFO" || l["duration_ms"] == nil {
			t.Errorf("access log line %v, want request_id %s, POST, 200", l, id)
		}
	}
	if !found {
		t.Fatalf("no access log line for POST /graphql")
	}
}

// httpEnv is a getenv over m.
func httpEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadConfigProblems(t *testing.T) {
	strong := "Zq8v1Lr0Xk3Jm9Pw2Ns7Tb4Hc6Yd5Fg1e" // 33 bytes, mixed
	for _, c := range []struct {
		name string
		env  map[string]string
		want []string // each a whole line of the error
	}{
		{"production without a secret", map[string]string{"APP_ENV": "production"},
			[]string{"JWT_SECRET or JWT_JWKS_URL is required in production"}},
		{"production with a short secret", map[string]string{"APP_ENV": "production", "JWT_SECRET": "short"},
			[]string{"JWT_SECRET is too weak for production: use at least 32 random bytes"}},
		{"production with the development secret", map[string]string{"APP_ENV": "production", "JWT_SECRET": devSecret},
			[]string{"JWT_SECRET is too weak for production: use at least 32 random bytes"}},
		{"production with a long repetitive secret", map[string]string{"APP_ENV": "production", "JWT_SECRET": strings.Repeat("changeme", 5)},
			[]string{"JWT_SECRET is too weak for production: use at least 32 random bytes"}},
		{"production with JWKS over http", map[string]string{"APP_ENV": "production", "JWT_JWKS_URL": "http://idp.example/jwks.json"},
			[]string{"JWT_JWKS_URL must be an https:// URL in production"}},
		{"both keys", map[string]string{"JWT_SECRET": strong, "JWT_JWKS_URL": "https://idp.example/jwks.json"},
			[]string{"JWT_SECRET and JWT_JWKS_URL are both set: choose one"}},
		{"unknown APP_ENV", map[string]string{"APP_ENV": "prod"},
			[]string{`APP_ENV="prod": use development or production`}},
		{"MAX_BODY_BYTES not a number", map[string]string{"MAX_BODY_BYTES": "1MB"},
			[]string{`MAX_BODY_BYTES="1MB": want a number of bytes from 1024 to 67108864`}},
		{"MAX_BODY_BYTES too small", map[string]string{"MAX_BODY_BYTES": "10"},
			[]string{`MAX_BODY_BYTES="10": want a number of bytes from 1024 to 67108864`}},
		{"MAX_BODY_BYTES too large", map[string]string{"MAX_BODY_BYTES": "1073741824"},
			[]string{`MAX_BODY_BYTES="1073741824": want a number of bytes from 1024 to 67108864`}},
		{"CORS_ORIGINS without a scheme", map[string]string{"CORS_ORIGINS": "https://ok.example,portal.example.com"},
			[]string{`CORS_ORIGINS entry "portal.example.com": want an origin such as https://app.example.com (one * wildcard allowed), or *`}},
		{"CORS_ORIGINS with a path", map[string]string{"CORS_ORIGINS": "https://ok.example/app"},
			[]string{`CORS_ORIGINS entry "https://ok.example/app": want an origin such as https://app.example.com (one * wildcard allowed), or *`}},
		{"LOG_LEVEL", map[string]string{"LOG_LEVEL": "verbose"},
			[]string{`LOG_LEVEL="verbose": use debug, info, warn or error`}},
		{"bad booleans and counts", map[string]string{"DEMO": "yes", "GRAPHQL_INTROSPECTION": "maybe", "DB_MAX_CONNS": "0", "WS_MAX_CONNS_PER_TOKEN": "-1"},
			[]string{`DEMO="yes": want true or false`, `GRAPHQL_INTROSPECTION="maybe": want true or false`,
				`DB_MAX_CONNS="0": want a positive integer`, `WS_MAX_CONNS_PER_TOKEN="-1": want a positive integer`}},
		{"limits", map[string]string{"GRAPHQL_MAX_DEPTH": "deep", "GRAPHQL_TIMEOUT": "10", "RATE_LIMIT_IP": "-5"},
			[]string{`GRAPHQL_MAX_DEPTH="deep": want a positive integer or off`, `GRAPHQL_TIMEOUT="10": want a duration such as 10s`,
				`RATE_LIMIT_IP="-5": want mutations per second (burst twice that) or off`}},
		{"everything wrong at once", map[string]string{
			"APP_ENV": "production", "DEMO": "true", "MAX_BODY_BYTES": "x", "CORS_ORIGINS": "ftp://x", "DATABASE_URL": "mysql://db",
		}, []string{
			"JWT_SECRET or JWT_JWKS_URL is required in production", "DEMO=1 is refused in production",
			`MAX_BODY_BYTES="x": want a number of bytes from 1024 to 67108864`,
			`CORS_ORIGINS entry "ftp://x": want an origin such as https://app.example.com (one * wildcard allowed), or *`,
			"DATABASE_URL: want a postgres:// URL (unset it to use the embedded SQLite file)",
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := loadConfig(httpEnv(c.env))
			if err == nil {
				t.Fatalf("accepted %v", c.env)
			}
			lines := strings.Split(err.Error(), "\n")
			for _, w := range c.want {
				found := false
				for _, l := range lines {
					found = found || l == w
				}
				if !found {
					t.Errorf("no line %q in:\n%v", w, err)
				}
			}
			if len(lines) != len(c.want) {
				t.Errorf("%d lines, want %d:\n%v", len(lines), len(c.want), err)
			}
			// run() prints every line and exits 2 before touching anything.
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), nil, httpEnv(c.env), &stdout, &stderr); code != 2 {
				t.Errorf("run() = %d, want 2", code)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr.String(), "\n"+w+"\n") {
					t.Errorf("stderr lacks the line %q:\n%s", w, stderr.String())
				}
			}
		})
	}
}

func TestLoadConfigGood(t *testing.T) {
	strong := "Zq8v1Lr0Xk3Jm9Pw2Ns7Tb4Hc6Yd5Fg1e"
	cfg, err := loadConfig(httpEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MaxBodyBytes != 1<<20 || cfg.LogLevel != slog.LevelInfo || cfg.Production || !cfg.DevSecretSet || len(cfg.CORSOrigins) != 0 {
		t.Errorf("defaults: %+v", cfg)
	}
	cfg, err = loadConfig(httpEnv(map[string]string{
		"APP_ENV": "production", "JWT_SECRET": strong, "MAX_BODY_BYTES": "65536", "LOG_LEVEL": "debug",
		"CORS_ORIGINS": " https://portal.example.com/ ,http://localhost:3000,https://*.agency.example",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Production || cfg.Introspect || cfg.MaxBodyBytes != 65536 || cfg.LogLevel != slog.LevelDebug {
		t.Errorf("production: %+v", cfg)
	}
	if got := strings.Join(cfg.CORSOrigins, " "); got != "https://portal.example.com http://localhost:3000 https://*.agency.example" {
		t.Errorf("CORSOrigins %q", got)
	}
	if got := strings.Join(cfg.Origins, " "); got != "portal.example.com localhost:3000 *.agency.example" {
		t.Errorf("Origins (WebSocket host patterns) %q", got)
	}
	if _, err := loadConfig(httpEnv(map[string]string{"APP_ENV": "production", "JWT_JWKS_URL": "https://idp.example/jwks.json"})); err != nil {
		t.Errorf("production with JWKS: %v", err)
	}
}

func TestProductionMode(t *testing.T) {
	// Without a key the gateway does not start.
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), nil, httpEnv(map[string]string{"APP_ENV": "production"}), &stdout, &stderr); code != 2 ||
		!strings.Contains(stderr.String(), "\nJWT_SECRET or JWT_JWKS_URL is required in production\n") {
		t.Fatalf("run() = %d, stderr %q", code, stderr.String())
	}

	a := newAPI(t, "sqlite")
	cfg, err := loadConfig(httpEnv(map[string]string{"APP_ENV": "production", "JWT_SECRET": string(testSecret)}))
	if err != nil {
		t.Fatal(err)
	}
	srv := httpServer(t, a, cfg, nil)
	for _, p := range []string{"/", "/graphiql/assets/init.js", "/graphiql/assets/graphiql.min.js"} {
		if resp, _ := httpDo(t, httpGet(t, srv.URL+p)); resp.StatusCode != http.StatusNotFound {
			t.Errorf("production GET %s: %d, want 404", p, resp.StatusCode)
		}
	}
	gql := func(token, query string) gqlResponse {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", bytes.NewReader(httpGQLBody(query, nil)))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return a.send(req)
	}
	// Refused with FORBIDDEN and no schema.
	for _, q := range []string{
		`{ __schema { types { name } } }`,
		`{ __type(name: "Query") { fields { name } } }`,
		`query { a: __schema { queryType { name } } }`,
	} {
		for _, tok := range []string{"", a.sysAdmin()} {
			r := gql(tok, q)
			if len(r.Errors) == 0 || r.code() != "FORBIDDEN" || strings.Contains(string(r.Data), "fields") || strings.Contains(string(r.Data), "types") {
				t.Errorf("production introspection %s (token %v): %d %s %+v", q, tok != "", r.Status, r.Data, r.Errors)
			}
		}
	}
	// The API itself works.
	var out struct{ Balance struct{ Available string } }
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", bytes.NewReader(httpGQLBody(`query($a: ID!){ balance(accountId: $a) { available } }`, map[string]any{"a": a.fx.PoolA})))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+a.sysAdmin())
	a.send(req).decode(t, &out)
	if out.Balance.Available != a.balance(a.fx.PoolA) {
		t.Errorf("production balance %q", out.Balance.Available)
	}
}

// The server's ReadTimeout bounds slow clients, not subscriptions: an SSE
// stream and a WebSocket opened through the whole middleware chain still
// deliver events long after it has passed.
func TestHTTPStreamsOutliveReadTimeout(t *testing.T) {
	a := newAPI(t, "sqlite")
	verifier, err := auth.NewVerifier(context.Background(), auth.Config{Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	sockets := graph.NewSockets()
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = newHTTPServer(routes(Config{MaxConnsPerToken: 3, MaxSubsPerConn: 4}, a.db, a.svc, verifier, sockets, slog.New(slog.NewTextHandler(io.Discard, nil))))
	const readTimeout = 300 * time.Millisecond
	srv.Config.ReadTimeout, srv.Config.ReadHeaderTimeout = readTimeout, readTimeout
	srv.Start()
	t.Cleanup(func() { sockets.CloseAll(); srv.Close() })

	// Server-Sent Events: a JSON POST that accepts text/event-stream.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/graphql", bytes.NewReader(httpGQLBody(balanceSub, nil)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+a.owner())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") ||
		resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("SSE answer %d %v", resp.StatusCode, resp.Header)
	}
	sse := make(chan string, 16)
	go func() {
		defer close(sse)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if d, ok := strings.CutPrefix(sc.Text(), "data:"); ok {
				sse <- strings.TrimSpace(d)
			}
		}
	}()

	// WebSocket.
	ws, err := dialWS(t, srv.URL, protoTransportWS, a.owner())
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	ws.subscribe("1", balanceSub, nil)
	waitSubscribed(t, a, 2)

	time.Sleep(3 * readTimeout)
	var out struct {
		BuyCredits struct{ Balance struct{ Available string } }
	}
	a.gql(a.owner(), `mutation { buyCredits(input:{amount: "5", method: CARD}) { balance { available } } }`, nil).decode(t, &out)
	want := out.BuyCredits.Balance.Available

	select {
	case d, ok := <-sse:
		if !ok {
			t.Fatalf("the SSE stream ended after the read timeout")
		}
		var ev struct{ Data balanceEvent }
		if err := json.Unmarshal([]byte(d), &ev); err != nil || ev.Data.BalanceUpdated.Available != want {
			t.Fatalf("SSE event %s, want balance %s", d, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("no SSE event")
	}
	ev, err := ws.receive("1", 5*time.Second)
	if err != nil {
		t.Fatalf("WebSocket after the read timeout: %v", err)
	}
	var got balanceEvent
	if err := json.Unmarshal(ev.Data, &got); err != nil || got.BalanceUpdated.Available != want {
		t.Fatalf("WebSocket event %s, want balance %s", ev.Data, want)
	}
}
