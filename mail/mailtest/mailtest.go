// Package mailtest runs a real SMTP server for tests: mailpit
// (github.com/axllent/mailpit, a `tool` dependency in go.mod), started as a
// child process on free loopback ports and read back through its HTTP API.
//
//	srv := mailtest.Start(t)
//	sender, _ := mail.FromURL(srv.URL(), "", nil)
//	... code under test sends ...
//	msgs := srv.WaitFor(t, 1, 5*time.Second)
//
// The mailpit binary is the one `go tool -n mailpit` builds (cached by the go
// command; the first build takes a minute or so), or $MAILPIT_BIN when set.
// When mailpit cannot be started the test is skipped, unless CI=true, when it
// fails.
package mailtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options configure the server; the zero value is a plain SMTP server that
// accepts any mail without authentication.
type Options struct {
	// Auth, as "user:password", makes the server require these credentials
	// (AUTH PLAIN/LOGIN); URL includes them. Without STARTTLS the server
	// allows them in clear, which clients only do towards 127.0.0.1.
	Auth string
	// STARTTLS makes the server offer STARTTLS with a self-signed certificate;
	// URL then carries insecure_skip_verify=1.
	STARTTLS bool
	// Host is the loopback address to listen on, 127.0.0.1 by default.
	Host string
}

// Server is a running mailpit.
type Server struct {
	opts     Options
	smtpAddr string
	api      string // http://host:port
	client   *http.Client
	out      *syncBuffer
}

// Address is a parsed email address as mailpit reports it.
type Address struct {
	Name    string
	Address string
}

// Message is one received email, as decoded by mailpit.
type Message struct {
	ID        string // mailpit's id
	MessageID string // the Message-ID header without angle brackets
	From      Address
	To        []Address
	Subject   string // decoded (RFC 2047)
	Date      time.Time
	Username  string // the SMTP AUTH user, "" without authentication
	Text      string // decoded text/plain body
	HTML      string // decoded text/html body, "" when there is none
	Headers   map[string][]string
}

// Start starts a plain SMTP server; see StartWith.
func Start(t testing.TB) *Server { return StartWith(t, Options{}) }

// StartWith starts mailpit for the test and stops it at the test's cleanup.
func StartWith(t testing.TB, o Options) *Server {
	t.Helper()
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	bin, err := binary()
	if err != nil {
		unavailable(t, "%v", err)
		return nil
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		s, err := start(t, bin, o)
		if err == nil {
			return s
		}
		lastErr = err // most likely a port taken between probing and binding: try others
	}
	unavailable(t, "%v", lastErr)
	return nil
}

// unavailable skips the test, or fails it when CI=true.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := "mailtest: mailpit could not be started: " + fmt.Sprintf(format, args...)
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
		t.Fatal(msg)
	}
	t.Skip(msg + " (skipped; with CI=true this fails)")
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// binary returns the path of the mailpit executable, building it once per
// test process through the go command's tool cache.
func binary() (string, error) {
	binOnce.Do(func() {
		if p := os.Getenv("MAILPIT_BIN"); p != "" {
			binPath = p
			return
		}
		goCmd, err := exec.LookPath("go")
		if err != nil {
			binErr = fmt.Errorf("no go command to build mailpit: %v", err)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
		defer cancel()
		var stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, goCmd, "tool", "-n", "mailpit")
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			binErr = fmt.Errorf("go tool -n mailpit: %v: %s", err, strings.TrimSpace(stderr.String()))
			return
		}
		binPath = strings.TrimSpace(string(out))
		if _, err := os.Stat(binPath); err != nil {
			binErr = fmt.Errorf("go tool -n mailpit gave %q: %v", binPath, err)
		}
	})
	return binPath, binErr
}

func freePort(host string) (string, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func start(t testing.TB, bin string, o Options) (*Server, error) {
	t.Helper()
	smtpAddr, err := freePort(o.Host)
	if err != nil {
		return nil, err
	}
	httpAddr, err := freePort(o.Host)
	if err != nil {
		return nil, err
	}
	dir := t.TempDir() // removed after the process is stopped (cleanups run last-in first-out)
	args := []string{
		"--smtp", smtpAddr,
		"--listen", httpAddr,
		"--database", filepath.Join(dir, "mailpit.db"),
		"--disable-version-check",
		"--smtp-disable-rdns",
	}
	if o.Auth != "" {
		if !strings.Contains(o.Auth, ":") {
			t.Fatalf("mailtest: Options.Auth must be user:password")
		}
		f := filepath.Join(dir, "smtp-auth")
		if err := os.WriteFile(f, []byte(o.Auth+"\n"), 0o600); err != nil {
			return nil, err
		}
		args = append(args, "--smtp-auth-file", f)
		if !o.STARTTLS {
			args = append(args, "--smtp-auth-allow-insecure")
		}
	}
	if o.STARTTLS {
		sans := "sans:localhost," + o.Host
		args = append(args, "--smtp-tls-cert", sans, "--smtp-tls-key", sans)
	}

	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	// The test's environment minus mailpit's own MP_* settings.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MP_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	s := &Server{
		opts:     o,
		smtpAddr: smtpAddr,
		api:      "http://" + httpAddr,
		client:   &http.Client{Timeout: 10 * time.Second},
		out:      &syncBuffer{},
	}
	cmd.Stdout, cmd.Stderr = s.out, s.out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	stop := func() {
		select {
		case <-exited:
			return
		default:
		}
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}

	deadline := time.Now().Add(30 * time.Second)
	for {
		if s.ready() {
			break
		}
		select {
		case <-exited:
			return nil, fmt.Errorf("mailpit exited (%v): %s", waitErr, s.out.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("mailpit not ready after 30s: %s", s.out.String())
		}
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("mailpit output:\n%s", s.out.String())
		}
	})
	return s, nil
}

func (s *Server) ready() bool {
	resp, err := s.client.Get(s.api + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false
	}
	c, err := net.DialTimeout("tcp", s.smtpAddr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// URL is the SMTP_URL for this server: smtp://[user:password@]host:port,
// with insecure_skip_verify=1 when it serves STARTTLS.
func (s *Server) URL() string {
	u := url.URL{Scheme: "smtp", Host: s.smtpAddr}
	if user, pass, ok := strings.Cut(s.opts.Auth, ":"); ok {
		u.User = url.UserPassword(user, pass)
	}
	if s.opts.STARTTLS {
		u.RawQuery = "insecure_skip_verify=1"
	}
	return u.String()
}

// SMTPAddr is the SMTP host:port.
func (s *Server) SMTPAddr() string { return s.smtpAddr }

// APIURL is the base URL of mailpit's web UI and API (http://host:port).
func (s *Server) APIURL() string { return s.api }

func (s *Server) getJSON(t testing.TB, path string, v any) {
	t.Helper()
	b := s.get(t, path)
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("mailtest: GET %s: %v: %s", path, err, b)
	}
}

func (s *Server) get(t testing.TB, path string) []byte {
	t.Helper()
	resp, err := s.client.Get(s.api + path)
	if err != nil {
		t.Fatalf("mailtest: GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("mailtest: GET %s: %v", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("mailtest: GET %s: %s: %s", path, resp.Status, b)
	}
	return b
}

type apiAddress struct{ Name, Address string }

func (a *apiAddress) conv() Address {
	if a == nil {
		return Address{}
	}
	return Address{Name: a.Name, Address: a.Address}
}

// Messages returns every message received so far, oldest first.
func (s *Server) Messages(t testing.TB) []Message {
	t.Helper()
	var list struct {
		Total    int `json:"total"`
		Messages []struct{ ID string }
	}
	s.getJSON(t, "/api/v1/messages?limit=1000", &list)
	msgs := make([]Message, 0, len(list.Messages))
	for _, sum := range slices.Backward(list.Messages) { // the API lists newest first
		var m struct {
			ID, MessageID, Subject, Username, Text, HTML string
			From                                         *apiAddress
			To                                           []*apiAddress
			Date                                         time.Time
		}
		s.getJSON(t, "/api/v1/message/"+url.PathEscape(sum.ID), &m)
		msg := Message{
			ID: m.ID, MessageID: m.MessageID, From: m.From.conv(), Subject: m.Subject,
			Date: m.Date, Username: m.Username, Text: m.Text, HTML: m.HTML,
		}
		for _, a := range m.To {
			msg.To = append(msg.To, a.conv())
		}
		s.getJSON(t, "/api/v1/message/"+url.PathEscape(sum.ID)+"/headers", &msg.Headers)
		msgs = append(msgs, msg)
	}
	return msgs
}

// Raw returns a message exactly as the server received it (after the SMTP
// dot-unstuffing), for assertions on the wire format.
func (s *Server) Raw(t testing.TB, id string) []byte {
	t.Helper()
	return s.get(t, "/api/v1/message/"+url.PathEscape(id)+"/raw")
}

// WaitFor waits until at least n messages have arrived and returns all of
// them, oldest first; it fails the test after timeout. To check that no more
// than n arrive, call Messages again after the code under test has settled.
func (s *Server) WaitFor(t testing.TB, n int, timeout time.Duration) []Message {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var list struct {
			Total int `json:"total"`
		}
		s.getJSON(t, "/api/v1/messages?limit=1", &list)
		if list.Total >= n {
			return s.Messages(t)
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailtest: %d message(s) after %v, want %d", list.Total, timeout, n)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// Reset deletes every message.
func (s *Server) Reset(t testing.TB) {
	t.Helper()
	req, err := http.NewRequest(http.MethodDelete, s.api+"/api/v1/messages", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("mailtest: DELETE /api/v1/messages: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("mailtest: DELETE /api/v1/messages: %s: %s", resp.Status, b)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
