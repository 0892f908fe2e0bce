package web

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, path string, header http.Header) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPagesAndAssets(t *testing.T) {
	h := Handler(Options{})
	for _, page := range []string{"/portal/", "/dashboard/"} {
		r := get(t, h, page, nil)
		b := body(t, r)
		if r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("%s: %d %s", page, r.StatusCode, r.Header.Get("Content-Type"))
		}
		if !strings.Contains(b, `data-demo="false"`) || strings.Contains(b, "demo-form") {
			t.Errorf("%s offers the demo sign-in without demo users", page)
		}
		// Every asset the page names is served, and nothing from elsewhere.
		for _, m := range regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(b, -1) {
			u := m[1]
			if strings.HasPrefix(u, "#") || strings.HasPrefix(u, "data:") || u == "/dashboard/" || u == "/portal/" {
				continue
			}
			if !strings.HasPrefix(u, AssetsPrefix) {
				t.Errorf("%s loads %s from outside the embedded assets", page, u)
				continue
			}
			if r := get(t, h, u, nil); r.StatusCode != 200 {
				t.Errorf("%s: asset %s: %d", page, u, r.StatusCode)
			}
		}
	}
	if r := get(t, h, "/portal", nil); r.StatusCode != http.StatusMovedPermanently || r.Header.Get("Location") != "/portal/" {
		t.Errorf("/portal: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	for _, p := range []string{"/portal/x", "/web/assets/page.html.tmpl", "/web/assets/portal.tmpl", "/web/assets/", "/web/assets/js/", "/web/assets/../web.go", DemoUsersPath} {
		if r := get(t, h, p, nil); r.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, r.StatusCode)
		}
	}
	// Modules and the vendored client, with a type browsers accept for
	// <script type=module>, revalidated by ETag.
	for _, p := range []string{"/web/assets/js/portal.js", "/web/assets/vendor/graphql-ws.js"} {
		r := get(t, h, p, nil)
		if r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/javascript") {
			t.Fatalf("%s: %d %s", p, r.StatusCode, r.Header.Get("Content-Type"))
		}
		tag := r.Header.Get("ETag")
		if r := get(t, h, p, http.Header{"If-None-Match": {tag}}); r.StatusCode != http.StatusNotModified {
			t.Errorf("%s with its ETag: %d, want 304", p, r.StatusCode)
		}
	}
	req := httptest.NewRequest(http.MethodPost, "/portal/", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /portal/: %d", rec.Code)
	}
}

func TestDemoUsers(t *testing.T) {
	users := []DemoUser{{Who: "client owner (Acme)", Role: "client_owner", Token: "tok"}}
	h := Handler(Options{DemoUsers: users})
	r := get(t, h, DemoUsersPath, nil)
	if r.StatusCode != 200 || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("%s: %d, Cache-Control %q", DemoUsersPath, r.StatusCode, r.Header.Get("Cache-Control"))
	}
	var got []DemoUser
	if err := json.Unmarshal([]byte(body(t, r)), &got); err != nil || len(got) != 1 || got[0] != users[0] {
		t.Fatalf("demo users: %v %+v", err, got)
	}
	if b := body(t, get(t, h, "/portal/", nil)); !strings.Contains(b, `data-demo="true"`) || !strings.Contains(b, "demo-form") {
		t.Error("the portal does not offer the demo users")
	}
}

func TestEmbedOrigins(t *testing.T) {
	// Not embeddable by default: the gateway's headers (X-Frame-Options
	// DENY, frame-ancestors 'none') stay as they are.
	pre := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Frame-Options", "DENY")
			w.Header().Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
			h.ServeHTTP(w, r)
		})
	}
	r := get(t, pre(Handler(Options{})), "/portal/", nil)
	if r.Header.Get("X-Frame-Options") != "DENY" || !strings.Contains(r.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("default headers changed: %v", r.Header)
	}
	h := pre(Handler(Options{EmbedOrigins: []string{"https://app.example.com", "bad; script-src *"}}))
	r = get(t, h, "/portal/", nil)
	csp := r.Header.Get("Content-Security-Policy")
	if r.Header.Get("X-Frame-Options") != "" || csp != "default-src 'none'; frame-ancestors https://app.example.com" {
		t.Errorf("embeddable page: X-Frame-Options %q, CSP %q", r.Header.Get("X-Frame-Options"), csp)
	}
	if b := body(t, r); !strings.Contains(b, `data-embed-origins="https://app.example.com"`) {
		t.Error("the page does not know the embedding origin")
	}
	// Assets keep the gateway's headers.
	if r := get(t, h, "/web/assets/css/app.css", nil); r.Header.Get("X-Frame-Options") != "DENY" {
		t.Error("an asset lost X-Frame-Options")
	}
}
