package mail_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"creditgate/mail"
	"creditgate/mail/mailtest"
)

func send(t *testing.T, smtpURL string, m mail.Message) error {
	t.Helper()
	s, err := mail.FromURL(smtpURL, "creditgate <no-reply@creditgate.test>", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.Send(ctx, m)
}

func TestSendThroughMailpit(t *testing.T) {
	srv := mailtest.Start(t)
	text := "Bonjour,\n\nVotre solde est de 5,00 € (seuil : 10,00 €).\n.\n.. a line of dots\n" +
		"a=b " + strings.Repeat("très long ", 20) + "\nFin."
	err := send(t, srv.URL(), mail.Message{
		To:      []string{"Zoë Client <owner@acme.test>", "ops@acme.test"},
		Subject: "Solde bas — 5,00 €",
		Text:    text,
	})
	if err != nil {
		t.Fatal(err)
	}
	msgs := srv.WaitFor(t, 1, 5*time.Second)
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	m := msgs[0]
	if m.From != (mailtest.Address{Name: "creditgate", Address: "no-reply@creditgate.test"}) {
		t.Errorf("From %+v", m.From)
	}
	if len(m.To) != 2 || m.To[0] != (mailtest.Address{Name: "Zoë Client", Address: "owner@acme.test"}) || m.To[1].Address != "ops@acme.test" {
		t.Errorf("To %+v", m.To)
	}
	if m.Subject != "Solde bas — 5,00 €" {
		t.Errorf("Subject %q", m.Subject)
	}
	// mailpit hands the decoded body back with the CRLFs it received.
	if got := strings.ReplaceAll(m.Text, "\r\n", "\n"); strings.TrimRight(got, "\n") != text {
		t.Errorf("Text\n%q\nwant\n%q", got, text)
	}
	if m.HTML != "" || m.Username != "" {
		t.Errorf("HTML %q, Username %q", m.HTML, m.Username)
	}
	if time.Since(m.Date) > time.Minute || time.Until(m.Date) > time.Minute {
		t.Errorf("Date %v", m.Date)
	}
	if !strings.HasSuffix(m.MessageID, "@creditgate.test") {
		t.Errorf("Message-ID %q", m.MessageID)
	}
	for k, want := range map[string]string{
		"Mime-Version":              "1.0",
		"Content-Type":              "text/plain; charset=UTF-8",
		"Content-Transfer-Encoding": "quoted-printable",
	} {
		if got := m.Headers[k]; len(got) != 1 || got[0] != want {
			t.Errorf("header %s: %q, want %q", k, got, want)
		}
	}
	raw := srv.Raw(t, m.ID)
	if bytes.Contains(bytes.ReplaceAll(raw, []byte("\r\n"), nil), []byte("\n")) {
		t.Errorf("bare LF in the received message:\n%q", raw)
	}
	if !bytes.Contains(raw, []byte("\r\nSubject: =?UTF-8?q?Solde_bas_")) {
		t.Errorf("Subject not RFC 2047-encoded on the wire:\n%s", raw)
	}

	srv.Reset(t)
	if n := len(srv.Messages(t)); n != 0 {
		t.Errorf("%d messages after Reset", n)
	}
}

func TestSendHTMLAlternative(t *testing.T) {
	srv := mailtest.Start(t)
	err := send(t, srv.URL(), mail.Message{
		To:      []string{"owner@acme.test"},
		Subject: "Low balance",
		Text:    "Your balance is 5.00 USD.",
		HTML:    "<p>Your balance is <b>5.00&nbsp;USD</b>.</p>",
	})
	if err != nil {
		t.Fatal(err)
	}
	m := srv.WaitFor(t, 1, 5*time.Second)[0]
	if strings.TrimSpace(m.Text) != "Your balance is 5.00 USD." || !strings.Contains(m.HTML, "<b>5.00&nbsp;USD</b>") {
		t.Errorf("Text %q HTML %q", m.Text, m.HTML)
	}
	if ct := m.Headers["Content-Type"]; len(ct) != 1 || !strings.HasPrefix(ct[0], "multipart/alternative; boundary=") {
		t.Errorf("Content-Type %q", ct)
	}
}

func TestSendWithAuth(t *testing.T) {
	srv := mailtest.StartWith(t, mailtest.Options{Auth: "alerts:s3cr3t"})
	if !strings.HasPrefix(srv.URL(), "smtp://alerts:s3cr3t@127.0.0.1:") {
		t.Fatalf("URL %q", srv.URL())
	}
	m := mail.Message{To: []string{"owner@acme.test"}, Subject: "Low balance", Text: "5.00 left"}
	if err := send(t, srv.URL(), m); err != nil {
		t.Fatal(err)
	}
	if err := send(t, strings.Replace(srv.URL(), "s3cr3t", "wrong", 1), m); err == nil {
		t.Error("wrong password: no error")
	}
	if err := send(t, "smtp://"+srv.SMTPAddr(), m); err == nil {
		t.Error("no credentials: no error")
	}
	msgs := srv.WaitFor(t, 1, 5*time.Second)
	time.Sleep(100 * time.Millisecond)
	if msgs = srv.Messages(t); len(msgs) != 1 || msgs[0].Username != "alerts" {
		t.Fatalf("messages %+v", msgs)
	}
}

// Credentials go in clear only to 127.0.0.1/localhost; to any other host
// (127.0.0.2 stands in for a remote server) only after STARTTLS.
func TestAuthNeedsTLSOffLocalhost(t *testing.T) {
	if l, err := net.Listen("tcp", "127.0.0.2:0"); err != nil {
		t.Skipf("127.0.0.2 is not usable here: %v", err)
	} else {
		l.Close()
	}
	m := mail.Message{To: []string{"owner@acme.test"}, Subject: "Low balance", Text: "5.00 left"}

	plain := mailtest.StartWith(t, mailtest.Options{Auth: "alerts:s3cr3t", Host: "127.0.0.2"})
	err := send(t, plain.URL(), m)
	if err == nil || !strings.Contains(err.Error(), "unencrypted") {
		t.Errorf("AUTH without TLS to a non-local host: %v, want a refusal", err)
	}

	tls := mailtest.StartWith(t, mailtest.Options{Auth: "alerts:s3cr3t", Host: "127.0.0.2", STARTTLS: true})
	if !strings.HasSuffix(tls.URL(), "?insecure_skip_verify=1") {
		t.Fatalf("URL %q", tls.URL())
	}
	if err := send(t, strings.TrimSuffix(tls.URL(), "?insecure_skip_verify=1"), m); err == nil ||
		!strings.Contains(err.Error(), "certificate") {
		t.Errorf("self-signed certificate without insecure_skip_verify: %v, want a certificate error", err)
	}
	if err := send(t, tls.URL(), m); err != nil {
		t.Fatal(err)
	}
	if msgs := tls.WaitFor(t, 1, 5*time.Second); msgs[0].Username != "alerts" {
		t.Errorf("Username %q", msgs[0].Username)
	}
	if n := len(plain.Messages(t)); n != 0 {
		t.Errorf("%d messages reached the plaintext server", n)
	}
}

func TestSendRefusesInjection(t *testing.T) {
	srv := mailtest.Start(t)
	for _, m := range []mail.Message{
		{To: []string{"owner@acme.test\r\nBcc: victim@evil.test"}, Subject: "Low balance", Text: "x"},
		{To: []string{"owner@acme.test"}, Subject: "Low balance\r\nBcc: victim@evil.test", Text: "x"},
		{To: []string{"not an address"}, Subject: "Low balance", Text: "x"},
	} {
		if err := send(t, srv.URL(), m); err == nil {
			t.Errorf("%+v: no error", m)
		}
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(srv.Messages(t)); n != 0 {
		t.Errorf("%d messages arrived", n)
	}
}
