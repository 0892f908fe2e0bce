package mail

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"net/smtp"
	"regexp"
	"strings"
	"testing"
	"time"
)

// No server needed: the wire format of a message.
func TestBuildPlain(t *testing.T) {
	from, _ := ParseAddress("creditgate <no-reply@creditgate.test>")
	to, err := validate(Message{
		To:      []string{"Zoë Client <owner@acme.test>", "ops@acme.test"},
		Subject: "Solde bas — 5,00 €",
		Text:    "Your balance is 5.00 EUR.\n.a line starting with a dot\nx=y " + strings.Repeat("long ", 30) + "\n",
	})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)
	raw, err := build(from, to, Message{
		Subject: "Solde bas — 5,00 €",
		Text:    "Your balance is 5.00 EUR.\n.a line starting with a dot\nx=y " + strings.Repeat("long ", 30) + "\n",
	}, now)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(bytes.ReplaceAll(raw, []byte("\r\n"), nil), []byte("\n")) || bytes.Contains(bytes.ReplaceAll(raw, []byte("\r\n"), nil), []byte("\r")) {
		t.Fatalf("bare CR or LF in:\n%q", raw)
	}
	for _, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 78 {
			t.Errorf("line of %d characters: %q", len(line), line)
		}
	}
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	h := msg.Header
	var dec mime.WordDecoder
	subj, err := dec.DecodeHeader(h.Get("Subject"))
	if err != nil || subj != "Solde bas — 5,00 €" {
		t.Errorf("Subject %q decodes to %q, %v", h.Get("Subject"), subj, err)
	}
	if !strings.HasPrefix(h.Get("Subject"), "=?UTF-8?q?") {
		t.Errorf("Subject not RFC 2047-encoded: %q", h.Get("Subject"))
	}
	if got := h.Get("From"); got != `"creditgate" <no-reply@creditgate.test>` {
		t.Errorf("From %q", got)
	}
	tos, err := h.AddressList("To")
	if err != nil || len(tos) != 2 || tos[0].Name != "Zoë Client" || tos[0].Address != "owner@acme.test" || tos[1].Address != "ops@acme.test" {
		t.Errorf("To %q: %v %v", h["To"], tos, err)
	}
	if d, err := h.Date(); err != nil || !d.Equal(now) {
		t.Errorf("Date %q: %v", h.Get("Date"), err)
	}
	if !regexp.MustCompile(`^<[0-9a-f]{32}@creditgate\.test>$`).MatchString(h.Get("Message-ID")) {
		t.Errorf("Message-ID %q", h.Get("Message-ID"))
	}
	for k, want := range map[string]string{
		"MIME-Version":              "1.0",
		"Content-Type":              "text/plain; charset=UTF-8",
		"Content-Transfer-Encoding": "quoted-printable",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	want := "Your balance is 5.00 EUR.\r\n.a line starting with a dot\r\nx=y " + strings.Repeat("long ", 30) + "\r\n"
	if string(body) != want {
		t.Errorf("body\n%q\nwant\n%q", body, want)
	}
}

func TestValidateRefuses(t *testing.T) {
	ok := Message{To: []string{"ops@acme.test"}, Subject: "Low balance", Text: "5.00 left"}
	for name, m := range map[string]func(m *Message){
		"no recipient":         func(m *Message) { m.To = nil },
		"not an address":       func(m *Message) { m.To = []string{"not-an-address"} },
		"CRLF in address":      func(m *Message) { m.To = []string{"ops@acme.test\r\nBcc: victim@evil.test"} },
		"LF in address name":   func(m *Message) { m.To = []string{"\"Ops\nBcc: x@evil.test\" <ops@acme.test>"} },
		"CRLF in subject":      func(m *Message) { m.Subject = "Low balance\r\nBcc: victim@evil.test" },
		"LF in subject":        func(m *Message) { m.Subject = "Low\nbalance" },
		"CR in subject":        func(m *Message) { m.Subject = "Low\rbalance" },
		"control in subject":   func(m *Message) { m.Subject = "Low\x00balance" },
		"empty subject":        func(m *Message) { m.Subject = "" },
		"long subject":         func(m *Message) { m.Subject = strings.Repeat("€", 100) },
		"empty body":           func(m *Message) { m.Text = " \n" },
		"invalid UTF-8 body":   func(m *Message) { m.Text = "\xff" },
		"too many recipients":  func(m *Message) { m.To = make([]string, MaxRecipients+1) },
		"one bad among good":   func(m *Message) { m.To = []string{"ops@acme.test", "x@"} },
		"address with newline": func(m *Message) { m.To = []string{"ops@acme.test\n"} },
	} {
		t.Run(name, func(t *testing.T) {
			msg := ok
			m(&msg)
			if _, err := validate(msg); !errors.Is(err, ErrInvalid) {
				t.Fatalf("validate: %v, want ErrInvalid", err)
			}
		})
	}
	if _, err := validate(ok); err != nil {
		t.Fatal(err)
	}
}

// Validation happens before any connection: nothing listens on the URL's port.
func TestSendRefusesBeforeDialing(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	for _, u := range []string{"", "smtp://" + addr} {
		s, err := FromURL(u, "", slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		err = s.Send(context.Background(), Message{To: []string{"ops@acme.test"}, Subject: "a\r\nBcc: x@evil.test", Text: "x"})
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%q: %v, want ErrInvalid", u, err)
		}
	}
}

func TestFromURL(t *testing.T) {
	for _, bad := range []string{
		"http://mail.example.com",
		"smtp://",
		"smtp://mail.example.com:0",
		"smtp://mail.example.com:99999",
		"smtp://mail.example.com/path",
		"smtp://mail.example.com?insecure_skip_verify=maybe",
		"smtp://user:hunter2@mail.example.com?tls=on",
		"smtp://user:hunter2@mail.example.com:bad",
		"mail.example.com:587",
	} {
		_, err := FromURL(bad, "", nil)
		if err == nil {
			t.Errorf("FromURL(%q): no error", bad)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("FromURL(%q): error shows the password: %v", bad, err)
		}
	}
	for _, from := range []string{"nobody", "a@b.test\r\nBcc: x@evil.test"} {
		if _, err := FromURL("", from, nil); !errors.Is(err, ErrInvalid) {
			t.Errorf("from %q: %v, want ErrInvalid", from, err)
		}
	}
	for in, want := range map[string]smtpSender{
		"smtp://mail.example.com":                          {host: "mail.example.com", port: "587"},
		"smtps://mail.example.com":                         {host: "mail.example.com", port: "465", implicitTLS: true},
		"smtp://u%40x:p%3Aw@mail.example.com:2525/":        {host: "mail.example.com", port: "2525", user: "u@x", pass: "p:w"},
		"smtp://[::1]:1025?insecure_skip_verify=1":         {host: "::1", port: "1025"},
		"smtps://apikey:secret@smtp.example.net:465":       {host: "smtp.example.net", port: "465", implicitTLS: true, user: "apikey", pass: "secret"},
		"smtp://127.0.0.1:1025?insecure_skip_verify=false": {host: "127.0.0.1", port: "1025"},
	} {
		s, err := FromURL(in, "", nil)
		if err != nil {
			t.Errorf("FromURL(%q): %v", in, err)
			continue
		}
		got := s.(*smtpSender)
		if got.host != want.host || got.port != want.port || got.implicitTLS != want.implicitTLS || got.user != want.user || got.pass != want.pass {
			t.Errorf("FromURL(%q) = %+v", in, got)
		}
		if got.tls.InsecureSkipVerify != strings.Contains(in, "insecure_skip_verify=1") {
			t.Errorf("FromURL(%q): InsecureSkipVerify %v", in, got.tls.InsecureSkipVerify)
		}
		if got.from.String() != `"creditgate" <no-reply@localhost>` {
			t.Errorf("default From %q", got.from)
		}
	}
}

func TestLogSender(t *testing.T) {
	var buf bytes.Buffer
	s, err := FromURL("", "Alerts <alerts@creditgate.test>", slog.New(slog.NewJSONHandler(&buf, nil)))
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), Message{
		To:      []string{"owner@acme.test"},
		Subject: "Solde bas — 5,00 €",
		Text:    "Your balance is 5.00 EUR.\nTop up at https://example.test/credits",
	})
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Level, Msg, From, Subject, Body string
		To                              []string
	}
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("%v: %s", err, buf.Bytes())
	}
	if rec.Level != "INFO" || rec.From != `"Alerts" <alerts@creditgate.test>` || len(rec.To) != 1 || rec.To[0] != "<owner@acme.test>" ||
		rec.Subject != "Solde bas — 5,00 €" || rec.Body != "Your balance is 5.00 EUR.\nTop up at https://example.test/credits" {
		t.Errorf("log record %s", buf.Bytes())
	}
	buf.Reset()
	if err := s.Send(context.Background(), Message{To: []string{"x"}, Subject: "s", Text: "t"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad address: %v", err)
	}
	if buf.Len() != 0 {
		t.Errorf("refused message logged: %s", buf.Bytes())
	}
}

// The context bounds the whole SMTP session: a server that accepts the
// connection and never greets does not hang Send.
func TestSendTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	s, err := FromURL("smtp://"+l.Addr().String(), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = s.Send(ctx, Message{To: []string{"ops@acme.test"}, Subject: "s", Text: "t"})
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("Send: %v after %v", err, time.Since(start))
	}
	if !strings.Contains(err.Error(), "deadline exceeded") && !strings.Contains(err.Error(), "timeout") {
		t.Errorf("error does not say it timed out: %v", err)
	}
}

// mailpit offers PLAIN, so the LOGIN fallback is checked here against the
// exchange a LOGIN-only server makes (net/smtp hands Next the decoded prompts).
func TestLoginAuth(t *testing.T) {
	a := &clientAuth{user: "alerts", pass: "s3cr3t", host: "mail.example.com"}
	if _, _, err := a.Start(&smtp.ServerInfo{Name: "mail.example.com", Auth: []string{"LOGIN"}}); err == nil {
		t.Fatal("credentials offered without TLS to a remote host")
	}
	mech, resp, err := a.Start(&smtp.ServerInfo{Name: "mail.example.com", TLS: true, Auth: []string{"LOGIN"}})
	if err != nil || mech != "LOGIN" || resp != nil {
		t.Fatalf("Start: %q %q %v", mech, resp, err)
	}
	for _, step := range []struct{ prompt, want string }{{"Username:", "alerts"}, {"Password:", "s3cr3t"}} {
		got, err := a.Next([]byte(step.prompt), true)
		if err != nil || string(got) != step.want {
			t.Fatalf("Next(%q) = %q, %v", step.prompt, got, err)
		}
	}
	if got, err := a.Next(nil, false); got != nil || err != nil {
		t.Fatalf("final Next: %q %v", got, err)
	}
	b := &clientAuth{user: "alerts", pass: "s3cr3t", host: "mail.example.com"}
	if mech, _, err := b.Start(&smtp.ServerInfo{Name: "mail.example.com", TLS: true, Auth: []string{"LOGIN", "PLAIN"}}); err != nil || mech != "PLAIN" {
		t.Fatalf("PLAIN preferred: %q %v", mech, err)
	}
	if _, _, err := b.Start(&smtp.ServerInfo{Name: "mail.example.com", TLS: true, Auth: []string{"CRAM-MD5"}}); err == nil {
		t.Fatal("no usable mechanism: no error")
	}
}
