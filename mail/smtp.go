package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/smtp"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// FromURL returns the Sender for the SMTP_URL and MAIL_FROM settings.
//
// smtpURL is one of
//
//	""                              the log sender: each email goes to log at INFO, nothing is sent
//	smtp://host[:port]              port 587 by default; STARTTLS whenever the server offers it
//	smtps://host[:port]             port 465 by default; implicit TLS
//	smtp://user:password@host:587   AUTH PLAIN (or LOGIN if that is all the server offers)
//
// Credentials are only ever sent over TLS, or in clear to localhost,
// 127.0.0.1 or ::1 (the rule of net/smtp's PlainAuth): a remote server that
// offers no STARTTLS makes Send fail rather than leak the password. Special
// characters in the user or password are percent-encoded in the URL.
//
// The query parameter insecure_skip_verify=1 turns off verification of the
// server's TLS certificate; it exists for local test servers with
// self-signed certificates and must not be used in production.
//
// from is the From address ("Name <addr>" or "addr"); empty means DefaultFrom.
// A nil log means slog.Default().
func FromURL(smtpURL, from string, log *slog.Logger) (Sender, error) {
	if log == nil {
		log = slog.Default()
	}
	if from == "" {
		from = DefaultFrom
	}
	fromAddr, err := ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("MAIL_FROM: %w", err)
	}
	if strings.TrimSpace(smtpURL) == "" {
		return &logSender{from: fromAddr, log: log}, nil
	}

	u, err := url.Parse(smtpURL)
	if err != nil {
		// url.Error repeats the URL, password included: keep only the reason.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("SMTP_URL is not a valid URL: %v", err)
	}
	s := &smtpSender{from: fromAddr, log: log}
	switch u.Scheme {
	case "smtp":
		s.port = "587"
	case "smtps":
		s.port, s.implicitTLS = "465", true
	default:
		return nil, fmt.Errorf("SMTP_URL %s: scheme must be smtp or smtps", u.Redacted())
	}
	s.host = u.Hostname()
	if s.host == "" {
		return nil, fmt.Errorf("SMTP_URL %s: no host", u.Redacted())
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("SMTP_URL %s: bad port %q", u.Redacted(), p)
		}
		s.port = p
	}
	if u.Path != "" && u.Path != "/" || u.Opaque != "" || u.Fragment != "" {
		return nil, fmt.Errorf("SMTP_URL %s: unexpected path or fragment", u.Redacted())
	}
	if u.User != nil && u.User.Username() != "" {
		s.user = u.User.Username()
		s.pass, _ = u.User.Password()
	}
	s.tls = &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}
	for k, v := range u.Query() {
		switch k {
		case "insecure_skip_verify":
			b, err := strconv.ParseBool(v[len(v)-1])
			if err != nil {
				return nil, fmt.Errorf("SMTP_URL %s: insecure_skip_verify must be 1 or 0", u.Redacted())
			}
			s.tls.InsecureSkipVerify = b
		default:
			return nil, fmt.Errorf("SMTP_URL %s: unknown parameter %q (known: insecure_skip_verify)", u.Redacted(), k)
		}
	}
	s.helo = "localhost"
	if h, err := os.Hostname(); err == nil && h != "" && !strings.ContainsAny(h, " \r\n\t") {
		s.helo = h
	}
	return s, nil
}

type smtpSender struct {
	host, port  string
	implicitTLS bool
	user, pass  string // user == "": no AUTH
	tls         *tls.Config
	helo        string
	from        *mail.Address
	log         *slog.Logger
}

func (s *smtpSender) addr() string { return net.JoinHostPort(s.host, s.port) }

// Send delivers m in one SMTP session. The context bounds the whole session
// (DefaultTimeout when it has no deadline); cancelling it aborts the session.
func (s *smtpSender) Send(ctx context.Context, m Message) (err error) {
	to, err := validate(m)
	if err != nil {
		return err
	}
	msg, err := build(s.from, to, m, time.Now())
	if err != nil {
		return err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	defer func() {
		if err != nil {
			if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
				err = fmt.Errorf("%w (%v)", err, cerr)
			}
			err = fmt.Errorf("mail: send through %s: %w", s.addr(), err)
		}
	}()

	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.addr())
	if err != nil {
		return err
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	if err := conn.SetDeadline(deadline); err != nil {
		return err
	}
	// Cancelling ctx before its deadline unblocks any read or write at once.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	if s.implicitTLS {
		tc := tls.Client(conn, s.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			return err
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello(s.helo); err != nil {
		return err
	}
	if !s.implicitTLS {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(s.tls); err != nil {
				return fmt.Errorf("STARTTLS: %w", err)
			}
		}
	}
	if s.user != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return errors.New("credentials given in SMTP_URL but the server offers no AUTH")
		}
		if err := c.Auth(&clientAuth{user: s.user, pass: s.pass, host: s.host}); err != nil {
			return fmt.Errorf("AUTH: %w", err)
		}
	}
	if err := c.Mail(s.from.Address); err != nil {
		return err
	}
	for _, a := range to {
		if err := c.Rcpt(a.Address); err != nil {
			return fmt.Errorf("RCPT TO %s: %w", a.Address, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	if err := c.Quit(); err != nil {
		// The message was accepted at the end of DATA; a failed QUIT loses nothing.
		s.log.DebugContext(ctx, "smtp QUIT failed after the message was accepted", "err", err)
	}
	s.log.DebugContext(ctx, "email sent", "to", m.To, "subject", m.Subject, "smtp", s.addr())
	return nil
}

// clientAuth uses PLAIN (net/smtp's PlainAuth, with its refusal to send
// credentials in clear to anything but localhost) when the server offers it,
// LOGIN under the same rule otherwise.
type clientAuth struct {
	user, pass, host string
	plain            smtp.Auth
	step             int
}

func isLocalhost(name string) bool {
	return name == "localhost" || name == "127.0.0.1" || name == "::1"
}

func (a *clientAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS && !isLocalhost(server.Name) {
		return "", nil, errors.New("refusing to send credentials over an unencrypted connection " +
			"(the server offers no STARTTLS; use a server that does, or smtps://)")
	}
	switch {
	case slices.Contains(server.Auth, "PLAIN"):
		a.plain = smtp.PlainAuth("", a.user, a.pass, a.host)
		return a.plain.Start(server)
	case slices.Contains(server.Auth, "LOGIN"):
		return "LOGIN", nil, nil
	default:
		return "", nil, fmt.Errorf("the server offers neither PLAIN nor LOGIN (offers %s)", strings.Join(server.Auth, " "))
	}
}

func (a *clientAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	if a.plain != nil {
		return a.plain.Next(fromServer, more)
	}
	if !more {
		return nil, nil
	}
	a.step++
	prompt := strings.ToLower(string(fromServer))
	switch {
	case strings.Contains(prompt, "username"), strings.Contains(prompt, "user name"):
		return []byte(a.user), nil
	case strings.Contains(prompt, "password"):
		return []byte(a.pass), nil
	case a.step == 1:
		return []byte(a.user), nil
	case a.step == 2:
		return []byte(a.pass), nil
	default:
		return nil, fmt.Errorf("unexpected LOGIN challenge %q", fromServer)
	}
}
