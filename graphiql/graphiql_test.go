package graphiql

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// newServer mounts the handler the way the gateway does.
func newServer(t *testing.T, title, endpoint string) *httptest.Server {
	t.Helper()
	h := Handler(title, endpoint)
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", h)
	mux.Handle(AssetsPrefix, h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

var (
	scriptSrc = regexp.MustCompile(`<script[^>]*\ssrc="([^"]*)"`)
	linkHref  = regexp.MustCompile(`<link[^>]*\shref="([^"]*)"`)
	anyURLRef = regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?\s*(https?:)?//`)
)

func TestIndex(t *testing.T) {
	srv := newServer(t, "creditgate", "/query")
	resp, body := get(t, srv.URL+"/", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET / = %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type = %q", ct)
	}
	if !strings.Contains(body, `data-endpoint="/query"`) {
		t.Errorf("endpoint missing from page:\n%s", body)
	}
	if !strings.Contains(body, "<title>creditgate</title>") {
		t.Errorf("title missing from page:\n%s", body)
	}
	if m := anyURLRef.FindString(body); m != "" {
		t.Errorf("page references an external URL (%q):\n%s", m, body)
	}
	scripts := scriptSrc.FindAllStringSubmatch(body, -1)
	for _, want := range pageScripts {
		found := false
		for _, s := range scripts {
			found = found || strings.HasPrefix(s[1], AssetsPrefix+want+"?")
		}
		if !found {
			t.Errorf("no <script src> for %s in:\n%s", want, body)
		}
	}
	if strings.Contains(body, "<script>") {
		t.Error("page has an inline script")
	}
}

func TestReferencedAssets(t *testing.T) {
	srv := newServer(t, "creditgate", "/query")
	_, body := get(t, srv.URL+"/", nil)
	var refs []string
	for _, m := range scriptSrc.FindAllStringSubmatch(body, -1) {
		refs = append(refs, m[1])
	}
	for _, m := range linkHref.FindAllStringSubmatch(body, -1) {
		if !strings.HasPrefix(m[1], "data:") {
			refs = append(refs, m[1])
		}
	}
	if len(refs) != len(pageScripts)+len(pageStyles) {
		t.Fatalf("page references %v", refs)
	}
	for _, ref := range refs {
		if !strings.HasPrefix(ref, AssetsPrefix) {
			t.Errorf("%s is not under %s", ref, AssetsPrefix)
			continue
		}
		resp, content := get(t, srv.URL+ref, nil)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d", ref, resp.StatusCode)
			continue
		}
		want := "text/javascript"
		if strings.Contains(ref, ".css") {
			want = "text/css"
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, want) {
			t.Errorf("GET %s: Content-Type = %q, want %s", ref, ct, want)
		}
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("GET %s: Cache-Control = %q, want immutable for a versioned URL", ref, cc)
		}
		if len(content) < 100 {
			t.Errorf("GET %s: only %d bytes", ref, len(content))
		}
		// Revalidation by ETag.
		etag := resp.Header.Get("ETag")
		if etag == "" {
			t.Errorf("GET %s: no ETag", ref)
			continue
		}
		resp, _ = get(t, srv.URL+ref, map[string]string{"If-None-Match": etag})
		if resp.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with If-None-Match = %d, want 304", ref, resp.StatusCode)
		}
	}

	// Without the version query the file is still served, cached briefly.
	resp, _ := get(t, srv.URL+AssetsPrefix+"graphiql.min.js", nil)
	if resp.StatusCode != http.StatusOK || strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("unversioned asset: %d %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
}

func TestNotFoundAndMethods(t *testing.T) {
	h := Handler("", "/query")
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{"GET", AssetsPrefix, http.StatusNotFound}, // no directory listing
		{"GET", AssetsPrefix + "nope.js", http.StatusNotFound},
		{"GET", AssetsPrefix + "../graphiql.go", http.StatusNotFound},
		{"GET", "/other", http.StatusNotFound},
		{"POST", "/", http.StatusMethodNotAllowed},
		{"POST", AssetsPrefix + "init.js", http.StatusMethodNotAllowed},
		{"HEAD", "/", http.StatusOK},
		{"GET", AssetsPrefix + "VERSIONS.txt", http.StatusOK},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		if rec.Code != tc.want {
			t.Errorf("%s %s = %d, want %d", tc.method, tc.path, rec.Code, tc.want)
		}
	}
}

func TestTemplateEscapes(t *testing.T) {
	rec := httptest.NewRecorder()
	Handler(`<b>"x"</b>`, `/q?a=1&b="2"`).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	body := rec.Body.String()
	if strings.Contains(body, `<b>"x"`) || strings.Contains(body, `b="2"`) {
		t.Errorf("title/endpoint not escaped:\n%s", body)
	}
	if !strings.Contains(body, "<title>&lt;b&gt;&#34;x&#34;&lt;/b&gt;</title>") {
		t.Errorf("title not rendered:\n%s", body)
	}
}

// TestVersionsFile checks that the committed third-party files are the ones
// VERSIONS.txt (written by fetch-assets.sh) lists.
func TestVersionsFile(t *testing.T) {
	f, err := assetsFS.Open("VERSIONS.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	line := regexp.MustCompile(`^([0-9a-f]{64})  (\S+)$`)
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		n++
		b, err := fs.ReadFile(assetsFS, m[2])
		if err != nil {
			t.Errorf("VERSIONS.txt lists %s: %v", m[2], err)
			continue
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != m[1] {
			t.Errorf("%s: sha256 %s, VERSIONS.txt says %s (rerun fetch-assets.sh)", m[2], got, m[1])
		}
	}
	if n < 4 {
		t.Errorf("VERSIONS.txt lists %d files", n)
	}
}
