package main

import (
	"net/http"
	"strings"
	"testing"

	"creditgate/web"
)

const prodSecret = "k9#Qz!2vL@8xW$4mT%6pR^1sY&3uB*7n"

func TestWebConfig(t *testing.T) {
	cases := []struct {
		env       map[string]string
		webUI     bool
		origins   []string
		wantError string
	}{
		{env: map[string]string{}, webUI: true},
		{env: map[string]string{"WEB_UI": "off"}, webUI: false},
		{env: map[string]string{"APP_ENV": "production", "JWT_SECRET": prodSecret}, webUI: false},
		{env: map[string]string{"APP_ENV": "production", "JWT_SECRET": prodSecret, "WEB_UI": "on"}, webUI: true},
		{env: map[string]string{"WEB_UI": "sometimes"}, wantError: "WEB_UI"},
		{env: map[string]string{"WEB_EMBED_ORIGINS": "https://app.example.com, http://localhost:3000/"}, webUI: true,
			origins: []string{"https://app.example.com", "http://localhost:3000"}},
		{env: map[string]string{"WEB_EMBED_ORIGINS": "https://*.example.com"}, wantError: "WEB_EMBED_ORIGINS"},
		{env: map[string]string{"WEB_EMBED_ORIGINS": "*"}, wantError: "WEB_EMBED_ORIGINS"},
	}
	for _, c := range cases {
		cfg, err := loadConfig(func(k string) string { return c.env[k] })
		if c.wantError != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantError) {
				t.Errorf("%v: error %v, want one naming %s", c.env, err, c.wantError)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", c.env, err)
			continue
		}
		if cfg.WebUI != c.webUI || strings.Join(cfg.WebEmbedOrigins, " ") != strings.Join(c.origins, " ") {
			t.Errorf("%v: WebUI %v, origins %q", c.env, cfg.WebUI, cfg.WebEmbedOrigins)
		}
	}
}

// The pages exist only when WebUI is on; the demo users only when the
// gateway has them (demo mode with the development secret).
func TestWebRoutes(t *testing.T) {
	status := func(a *testAPI, path string) int {
		resp, err := http.Get(a.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	off := newAPIWith(t, "sqlite", Config{Production: true})
	for _, p := range []string{"/portal/", "/dashboard/", "/web/assets/css/app.css", web.DemoUsersPath} {
		if got := status(off, p); got != http.StatusNotFound {
			t.Errorf("production without WEB_UI: %s is %d", p, got)
		}
	}
	on := newAPIWith(t, "sqlite", Config{Production: true, WebUI: true})
	for p, want := range map[string]int{"/portal/": 200, "/dashboard/": 200, "/web/assets/js/api.js": 200, web.DemoUsersPath: 404} {
		if got := status(on, p); got != want {
			t.Errorf("production with WEB_UI=on: %s is %d, want %d", p, got, want)
		}
	}
}
