// Package graphiql serves a self-contained GraphiQL page for the gateway.
//
// Every file the page loads (GraphiQL's UMD build and CSS, React and
// ReactDOM) is embedded in the binary, so the page works without internet
// access. The third-party files under assets/ are committed copies of npm
// packages; fetch-assets.sh (make -C graphiql assets) refreshes them and
// assets/VERSIONS.txt names the versions.
//
// Mount the same handler on both routes:
//
//	h := graphiql.Handler("creditgate", "/query")
//	mux.Handle("GET /{$}", h)
//	mux.Handle(graphiql.AssetsPrefix, h)
package graphiql

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
)

// AssetsPrefix is the URL path under which the embedded files are served.
// The page references its assets by absolute paths under it.
const AssetsPrefix = "/graphiql/assets/"

//go:embed assets
var embedded embed.FS

// assetsFS is the assets directory as the root of a file system.
var assetsFS = func() fs.FS {
	sub, err := fs.Sub(embedded, "assets")
	if err != nil {
		panic(err)
	}
	return sub
}()

// versions maps each embedded file name to a short hash of its content. It is
// the whitelist of servable names, the ETag, and the ?v= cache buster.
var versions = func() map[string]string {
	m := map[string]string{}
	entries, err := fs.ReadDir(assetsFS, ".")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := fs.ReadFile(assetsFS, e.Name())
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(b)
		m[e.Name()] = hex.EncodeToString(sum[:8])
	}
	return m
}()

// Files the page loads, in order.
var (
	pageStyles  = []string{"graphiql.min.css"}
	pageScripts = []string{
		"react.production.min.js",
		"react-dom.production.min.js",
		"graphiql.min.js",
		"init.js",
	}
)

var indexTemplate = template.Must(template.New("index.html").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<link rel="icon" href="data:,">
{{range .Styles}}<link rel="stylesheet" href="{{.}}">
{{end}}<style>html,body{height:100%;margin:0;overflow:hidden}#graphiql{height:100vh}</style>
</head>
<body>
<div id="graphiql" data-endpoint="{{.Endpoint}}" data-title="{{.Title}}"><noscript>GraphiQL needs JavaScript.</noscript></div>
{{range .Scripts}}<script src="{{.}}"></script>
{{end}}</body>
</html>
`))

// assetURL is the absolute, versioned URL of an embedded file.
func assetURL(name string) string {
	v, ok := versions[name]
	if !ok {
		panic("graphiql: asset not embedded: " + name)
	}
	return AssetsPrefix + name + "?v=" + v
}

func renderIndex(title, endpoint string) []byte {
	data := struct {
		Title, Endpoint string
		Styles, Scripts []string
	}{Title: title, Endpoint: endpoint}
	for _, n := range pageStyles {
		data.Styles = append(data.Styles, assetURL(n))
	}
	for _, n := range pageScripts {
		data.Scripts = append(data.Scripts, assetURL(n))
	}
	var buf bytes.Buffer
	if err := indexTemplate.Execute(&buf, data); err != nil {
		panic("graphiql: render index: " + err.Error())
	}
	return buf.Bytes()
}

type handler struct {
	index []byte
	files http.Handler
}

// Handler returns the GraphiQL handler. It serves the page at "/" and the
// embedded files under AssetsPrefix, and 404s anything else. title is the
// page title; endpoint is the GraphQL URL (usually a path such as "/query")
// used for queries over HTTP and, on the same host with ws:// or wss://, for
// subscriptions.
func Handler(title, endpoint string) http.Handler {
	if endpoint == "" {
		panic("graphiql: empty endpoint")
	}
	if title == "" {
		title = "GraphiQL"
	}
	return &handler{
		index: renderIndex(title, endpoint),
		files: http.StripPrefix(AssetsPrefix, http.FileServerFS(assetsFS)),
	}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if p != "/" && !strings.HasPrefix(p, AssetsPrefix) {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	if p == "/" {
		h.serveIndex(w, r)
		return
	}
	h.serveAsset(w, r, strings.TrimPrefix(p, AssetsPrefix))
}

func (h *handler) serveIndex(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	// Small, and it carries the asset versions: always revalidate.
	hd.Set("Cache-Control", "no-cache")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(h.index)
}

func (h *handler) serveAsset(w http.ResponseWriter, r *http.Request, name string) {
	// Only the flat list of embedded files: no directory listings.
	v, ok := versions[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	hd := w.Header()
	if r.URL.Query().Get("v") == v {
		// The page asks for the exact content: a new build changes the URL.
		hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		hd.Set("Cache-Control", "public, max-age=3600")
	}
	// embed.FS has no modification times; the ETag lets clients revalidate.
	hd.Set("ETag", `"`+v+`"`)
	hd.Set("X-Content-Type-Options", "nosniff")
	h.files.ServeHTTP(w, r)
}
