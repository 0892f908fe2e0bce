// Package web serves the reference front end: the client portal at
// /portal/ and the agency dashboard at /dashboard/.
//
// Both are plain HTML, CSS and JavaScript modules embedded in the binary
// (assets/), with no framework and one third-party file, the graphql-ws
// client, bundled into assets/vendor/ by `make web` (npm ci from the
// committed package-lock.json, then esbuild) and committed, so `go build`
// needs no Node. The pages use only the public GraphQL API, exactly as a
// third-party single-page app would: POST /graphql with a bearer token, and
// subscriptions over WebSocket with the token in connection_init.
//
// Sign-in: with demo users (development, `make run`) the page offers them
// from GET /web/demo-users.json, which exists only then. Otherwise the page
// takes its token from the embedding application: a URL fragment
// (/portal/#token=<jwt>) or a postMessage {type: "creditgate:token", token}
// from an origin listed in Options.EmbedOrigins. The page keeps the token in
// sessionStorage (this tab only) and never sends it anywhere but /graphql.
//
// Mount the handler on its three prefixes:
//
//	h := web.Handler(web.Options{...})
//	mux.Handle("/portal/", h)
//	mux.Handle("/dashboard/", h)
//	mux.Handle("/web/", h)
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"strings"
)

// Routes are the path prefixes the handler serves.
var Routes = []string{"/portal/", "/dashboard/", "/web/"}

// AssetsPrefix is where the embedded files are served.
const AssetsPrefix = "/web/assets/"

// DemoUsersPath lists the demo users and their tokens, in demo mode only.
const DemoUsersPath = "/web/demo-users.json"

// DemoUser is one demo user the sign-in picker offers.
type DemoUser struct {
	Who   string `json:"who"`  // e.g. "client owner (Acme Coffee)"
	Role  string `json:"role"` // client, client_owner, agency_admin, system_admin
	Token string `json:"token"`
}

// Options configure the pages.
type Options struct {
	// GraphQLPath is the API endpoint the pages call; default "/graphql".
	GraphQLPath string
	// DemoUsers, when not nil, are offered by the sign-in picker and served
	// at DemoUsersPath. Set them only in development with demo data.
	DemoUsers []DemoUser
	// EmbedOrigins are the origins (https://app.example.com) of
	// applications allowed to frame the pages and to hand them a token by
	// postMessage. Empty: the pages cannot be framed, and take a token only
	// from the URL fragment or the demo picker.
	EmbedOrigins []string
	// StripePublishableKey (pk_…), when set, makes the portal add cards
	// with Stripe.js (the card number is typed into Stripe's frame and
	// confirmed against a SetupIntent); the pages' policy then allows
	// js.stripe.com. Empty: the sandbox's test cards are offered.
	StripePublishableKey string
}

//go:embed assets
var embedded embed.FS

var assetsFS = func() fs.FS {
	sub, err := fs.Sub(embedded, "assets")
	if err != nil {
		panic(err)
	}
	return sub
}()

// etags maps every embedded file (slash-separated path under assets/) to a
// short hash of its content: the whitelist of servable names and the ETag.
var etags = func() map[string]string {
	m := map[string]string{}
	err := fs.WalkDir(assetsFS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(assetsFS, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		m[p] = `"` + hex.EncodeToString(sum[:8]) + `"`
		return nil
	})
	if err != nil {
		panic(err)
	}
	return m
}()

// The pages are templates (assets/*.tmpl) rendered once, at start-up.
var pageTemplate = template.Must(template.ParseFS(embedded, "assets/*.tmpl"))

// page is one HTML page: the portal or the dashboard.
type page struct {
	Name, Title  string
	GraphQL      string
	Demo         bool
	EmbedOrigins string // space-separated
	StripeKey    string // publishable key, or ""
}

type handler struct {
	pages     map[string][]byte // "/portal/" -> rendered HTML
	demoUsers []byte            // nil: no demo endpoint
	files     http.Handler
	frame     string // CSP frame-ancestors value
	stripe    bool   // Stripe.js is loaded by the portal
}

// Handler returns the handler for Routes.
func Handler(opt Options) http.Handler {
	if opt.GraphQLPath == "" {
		opt.GraphQLPath = "/graphql"
	}
	h := &handler{
		pages: map[string][]byte{},
		files: http.StripPrefix(AssetsPrefix, http.FileServerFS(assetsFS)),
		frame: "'none'",
	}
	opt.EmbedOrigins = validOrigins(opt.EmbedOrigins)
	if len(opt.EmbedOrigins) > 0 {
		h.frame = strings.Join(opt.EmbedOrigins, " ")
	}
	for _, p := range []page{
		{Name: "portal", Title: "Credits – client portal"},
		{Name: "dashboard", Title: "Credits – agency dashboard"},
	} {
		p.GraphQL, p.Demo, p.EmbedOrigins = opt.GraphQLPath, opt.DemoUsers != nil, strings.Join(opt.EmbedOrigins, " ")
		if stripeKeyRE.MatchString(opt.StripePublishableKey) {
			p.StripeKey = opt.StripePublishableKey
			h.stripe = true
		}
		var buf bytes.Buffer
		if err := pageTemplate.ExecuteTemplate(&buf, "page.html.tmpl", p); err != nil {
			panic("web: rendering " + p.Name + ": " + err.Error())
		}
		h.pages["/"+p.Name+"/"] = buf.Bytes()
	}
	if opt.DemoUsers != nil {
		b, err := json.Marshal(opt.DemoUsers)
		if err != nil {
			panic(err)
		}
		h.demoUsers = b
	}
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	hd := w.Header()
	hd.Set("X-Content-Type-Options", "nosniff")
	switch {
	case p == "/portal" || p == "/dashboard":
		http.Redirect(w, r, p+"/", http.StatusMovedPermanently)
	case h.pages[p] != nil:
		h.servePage(w, r, h.pages[p])
	case p == DemoUsersPath && h.demoUsers != nil:
		hd.Set("Content-Type", "application/json")
		hd.Set("Cache-Control", "no-store")
		_, _ = w.Write(h.demoUsers)
	case strings.HasPrefix(p, AssetsPrefix):
		name := strings.TrimPrefix(p, AssetsPrefix)
		tag, ok := etags[name]
		if !ok || name != path.Clean(name) || strings.HasSuffix(name, ".tmpl") {
			http.NotFound(w, r)
			return
		}
		// Modules import each other by unversioned URLs: revalidate every
		// time (a 304 while unchanged), so a new build is never mixed
		// with a cached old file.
		hd.Set("Cache-Control", "no-cache")
		hd.Set("ETag", tag)
		h.files.ServeHTTP(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (h *handler) servePage(w http.ResponseWriter, r *http.Request, body []byte) {
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-cache")
	// The gateway's policy (httpx.SecurityHeaders) already fits: scripts
	// and styles from this origin, connections to this host. Only framing
	// changes, and only for the configured embedding applications.
	if h.frame != "'none'" {
		hd.Del("X-Frame-Options")
		if csp := hd.Get("Content-Security-Policy"); csp != "" {
			hd.Set("Content-Security-Policy", strings.Replace(csp, "frame-ancestors 'none'", "frame-ancestors "+h.frame, 1))
		} else {
			hd.Set("Content-Security-Policy", "frame-ancestors "+h.frame)
		}
	}
	if h.stripe {
		// Stripe.js: its script, its frames (card field, 3-D Secure) and
		// its API.
		if csp := hd.Get("Content-Security-Policy"); csp != "" {
			csp = strings.Replace(csp, "script-src 'self'", "script-src 'self' https://js.stripe.com", 1)
			csp = strings.Replace(csp, "connect-src 'self'", "connect-src 'self' https://api.stripe.com", 1)
			hd.Set("Content-Security-Policy", csp+"; frame-src https://js.stripe.com https://hooks.stripe.com")
		}
	}
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(body)
}

// originRE is an exact origin: scheme, host, optional port, nothing else
// (these go into a CSP header and are compared with MessageEvent.origin).
var originRE = regexp.MustCompile(`^https?://([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?$`)

// stripeKeyRE is a Stripe publishable key (it goes into a data attribute).
var stripeKeyRE = regexp.MustCompile(`^pk_(test|live)_[A-Za-z0-9]+$`)

// validOrigins keeps the exact origins of origins; the configuration has
// refused anything else already, this is a second line.
func validOrigins(origins []string) []string {
	var out []string
	for _, o := range origins {
		if originRE.MatchString(o) {
			out = append(out, o)
		}
	}
	return out
}
