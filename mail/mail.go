// Package mail sends the gateway's notification emails (low-balance alerts).
//
// FromURL turns the SMTP_URL and MAIL_FROM settings into a Sender: an SMTP
// client (smtp:// with STARTTLS when the server offers it, smtps:// with
// implicit TLS), or, with an empty URL, a sender that only writes each email
// to the structured log (the development default).
//
// Every Sender validates a Message the same way before doing anything: the
// addresses must parse (net/mail), and a CR or LF in an address or the subject
// (header injection) is refused with an error wrapping ErrInvalid.
package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
	"unicode/utf8"
)

// DefaultFrom is the sender address used when MAIL_FROM is unset.
const DefaultFrom = "creditgate <no-reply@localhost>"

// DefaultTimeout bounds one Send (dial, TLS, SMTP dialogue) when the context
// has no deadline of its own.
const DefaultTimeout = 30 * time.Second

// Limits on a Message; past them Send refuses it with ErrInvalid.
const (
	MaxRecipients   = 50
	MaxSubjectBytes = 250 // keeps the encoded Subject header well under SMTP's 998-octet line limit
)

// ErrInvalid is wrapped by every error about a Message or an address that
// could not be sent as given: nothing was sent.
var ErrInvalid = errors.New("mail: invalid message")

// Message is one email. Text is required; HTML, when set, is sent as an
// alternative part next to it (multipart/alternative).
type Message struct {
	To      []string // RFC 5322 addresses: "ops@example.com" or "Zoë <zoe@example.com>"
	Subject string
	Text    string
	HTML    string
}

// Sender sends emails.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// ParseAddress parses one address ("a@b.example" or "Name <a@b.example>"),
// refusing CR and LF outright.
func ParseAddress(s string) (*mail.Address, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, invalid("address %q contains a line break", s)
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, invalid("address %q: %v", s, err)
	}
	if strings.ContainsAny(a.Name, "\r\n") || strings.ContainsAny(a.Address, "\r\n") {
		return nil, invalid("address %q contains a line break", s)
	}
	return a, nil
}

// validate checks m and returns its parsed recipients.
func validate(m Message) ([]*mail.Address, error) {
	if len(m.To) == 0 {
		return nil, invalid("no recipient")
	}
	if len(m.To) > MaxRecipients {
		return nil, invalid("%d recipients, at most %d", len(m.To), MaxRecipients)
	}
	to := make([]*mail.Address, 0, len(m.To))
	for _, s := range m.To {
		a, err := ParseAddress(s)
		if err != nil {
			return nil, err
		}
		to = append(to, a)
	}
	switch {
	case m.Subject == "":
		return nil, invalid("empty subject")
	case len(m.Subject) > MaxSubjectBytes:
		return nil, invalid("subject of %d bytes, at most %d", len(m.Subject), MaxSubjectBytes)
	case !utf8.ValidString(m.Subject):
		return nil, invalid("subject is not valid UTF-8")
	}
	for _, r := range m.Subject {
		if r == '\r' || r == '\n' {
			return nil, invalid("subject contains a line break")
		}
		if r < 0x20 && r != '\t' || r == 0x7f {
			return nil, invalid("subject contains control character %U", r)
		}
	}
	if strings.TrimSpace(m.Text) == "" {
		return nil, invalid("empty text body")
	}
	if !utf8.ValidString(m.Text) || !utf8.ValidString(m.HTML) {
		return nil, invalid("body is not valid UTF-8")
	}
	return to, nil
}

// build renders m as an RFC 5322 message with CRLF line endings; the SMTP
// data writer does the dot-stuffing.
func build(from *mail.Address, to []*mail.Address, m Message, now time.Time) ([]byte, error) {
	var b bytes.Buffer
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }

	header("From", from.String())
	tos := make([]string, len(to))
	for i, a := range to {
		tos[i] = a.String()
	}
	header("To", strings.Join(tos, ",\r\n "))
	header("Subject", encodeSubject(m.Subject))
	header("Date", now.Format(time.RFC1123Z))
	id, err := messageID(from.Address)
	if err != nil {
		return nil, err
	}
	header("Message-ID", id)
	header("MIME-Version", "1.0")

	if m.HTML == "" {
		header("Content-Type", "text/plain; charset=UTF-8")
		header("Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		if err := writeQP(&b, m.Text); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	}

	mw := multipart.NewWriter(&b) // writes CRLF line endings
	header("Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()}))
	b.WriteString("\r\n")
	for _, part := range []struct{ typ, body string }{
		{"text/plain; charset=UTF-8", m.Text},
		{"text/html; charset=UTF-8", m.HTML},
	} {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.typ},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		if err := writeQP(w, part.body); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// encodeSubject RFC 2047-encodes a non-ASCII subject, folding between
// encoded words so that no header line grows past 78 characters or so.
func encodeSubject(s string) string {
	enc := mime.QEncoding.Encode("UTF-8", s)
	if enc == s {
		return s
	}
	// Inside Q-encoded words '?' and '=' are themselves encoded, so "?= =?"
	// only occurs between two words; whitespace there is ignored when decoding.
	return strings.ReplaceAll(enc, "?= =?", "?=\r\n =?")
}

// writeQP writes body quoted-printable; the writer turns every line break
// (LF, CR or CRLF) into CRLF and keeps lines within 76 characters.
func writeQP(w interface{ Write([]byte) (int, error) }, body string) error {
	qp := quotedprintable.NewWriter(w)
	if _, err := qp.Write([]byte(body)); err != nil {
		return err
	}
	if err := qp.Close(); err != nil {
		return err
	}
	if !strings.HasSuffix(body, "\n") {
		_, err := w.Write([]byte("\r\n"))
		return err
	}
	return nil
}

func messageID(fromAddr string) (string, error) {
	var r [16]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", err
	}
	domain := "localhost"
	if i := strings.LastIndexByte(fromAddr, '@'); i >= 0 && i+1 < len(fromAddr) {
		domain = fromAddr[i+1:]
	}
	return "<" + hex.EncodeToString(r[:]) + "@" + domain + ">", nil
}

// logSender writes each email to the log instead of sending it.
type logSender struct {
	from *mail.Address
	log  *slog.Logger
}

func (s *logSender) Send(ctx context.Context, m Message) error {
	to, err := validate(m)
	if err != nil {
		return err
	}
	addrs := make([]string, len(to))
	for i, a := range to {
		addrs[i] = a.String()
	}
	attrs := []slog.Attr{
		slog.String("from", s.from.String()),
		slog.Any("to", addrs),
		slog.String("subject", m.Subject),
		slog.String("body", m.Text),
	}
	if m.HTML != "" {
		attrs = append(attrs, slog.Int("html_bytes", len(m.HTML)))
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "email (not sent: SMTP_URL is unset)", attrs...)
	return nil
}
