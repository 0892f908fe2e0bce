package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"syscall"
	"time"
)

// MaxURLLen bounds an endpoint's URL.
const MaxURLLen = 2000

// Resolver finds a host's addresses (net.DefaultResolver; tests install
// their own to make a name resolve to a private address).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Guard is the policy on where webhooks may go.
type Guard struct {
	// RequireHTTPS refuses http:// URLs (production).
	RequireHTTPS bool
	// AllowPrivate lets webhooks reach loopback, private, link-local and
	// other non-public addresses (development and tests).
	AllowPrivate bool
	// Resolver looks hosts up; nil: net.DefaultResolver.
	Resolver Resolver
}

// ErrRefusedAddress is a host that resolves to an address webhooks may not
// reach.
var ErrRefusedAddress = errors.New("refused address")

// cgnat is the carrier-grade NAT range (RFC 6598), not covered by
// netip.Addr.IsPrivate.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// Public says whether webhooks may reach a: not loopback, private (RFC
// 1918, ULA), link-local (169.254.0.0/16 with the cloud metadata address,
// fe80::/10), unspecified, multicast or CGNAT.
func Public(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsValid() && !a.IsLoopback() && !a.IsPrivate() && !a.IsLinkLocalUnicast() &&
		!a.IsLinkLocalMulticast() && !a.IsInterfaceLocalMulticast() && !a.IsMulticast() &&
		!a.IsUnspecified() && !cgnat.Contains(a) && a != netip.IPv4Unspecified() &&
		!(a.Is4() && a.As4()[0] == 0) && a != netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

func (g Guard) allowed(a netip.Addr) bool { return g.AllowPrivate || Public(a) }

func (g Guard) resolver() Resolver {
	if g.Resolver != nil {
		return g.Resolver
	}
	return net.DefaultResolver
}

// CheckURL validates an endpoint's URL: its form (https in production, no
// user info, at most MaxURLLen) and, when resolve is set, that its host
// resolves to addresses webhooks may reach. The answer is said to the user.
func (g Guard) CheckURL(ctx context.Context, raw string, resolve bool) error {
	if len(raw) > MaxURLLen {
		return fmt.Errorf("longer than %d characters", MaxURLLen)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a URL")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && !g.RequireHTTPS:
	case u.Scheme == "http":
		return errors.New("must be https")
	default:
		return errors.New("must be an https (or, in development, http) URL")
	}
	if u.User != nil {
		return errors.New("must not hold a user name or password")
	}
	if u.Hostname() == "" || u.Opaque != "" {
		return errors.New("has no host")
	}
	if !resolve {
		return nil
	}
	_, err = g.resolve(ctx, u.Hostname())
	return err
}

// resolve answers the host's addresses, refusing the host when any of them
// may not be reached (a name with one private address among public ones is
// a rebinding attempt, not a mistake).
func (g Guard) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		if !g.allowed(a) {
			return nil, fmt.Errorf("%w: %s is not a public address", ErrRefusedAddress, a)
		}
		return []netip.Addr{a}, nil
	}
	addrs, err := g.resolver().LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %w", host, err)
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("resolving %s: no address", host)
	}
	for _, a := range addrs {
		if !g.allowed(a) {
			return nil, fmt.Errorf("%w: %s resolves to %s, not a public address", ErrRefusedAddress, host, a.Unmap())
		}
	}
	return addrs, nil
}

// dial connects to a host resolved here and now (so a name is judged at
// delivery, not only when the endpoint was saved), and the dialer's
// Control re-checks the address actually connected to: whatever resolved
// it, nothing reaches a refused address.
func (g Guard) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	addrs, err := g.resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	d := net.Dialer{Control: func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("%w: %s", ErrRefusedAddress, address)
		}
		if !g.allowed(ap.Addr()) {
			return fmt.Errorf("%w: %s is not a public address", ErrRefusedAddress, ap.Addr().Unmap())
		}
		return nil
	}}
	var errs []error
	for _, a := range addrs {
		c, err := d.DialContext(ctx, network, net.JoinHostPort(a.Unmap().String(), port))
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// Sender POSTs signed messages.
type Sender struct {
	guard  Guard
	client *http.Client
}

// Timeout bounds one attempt, from dialling to the last byte read.
const Timeout = 10 * time.Second

// maxResponse is how much of an answer is read: receivers answer with a
// status; the rest is ignored.
const maxResponse = 64 << 10

// NewSender sends under g's policy.
func NewSender(g Guard) *Sender {
	t := &http.Transport{
		// No proxy from the environment: it would dial in our stead and
		// bypass the guard.
		Proxy:                 nil,
		DialContext:           g.dial,
		TLSHandshakeTimeout:   Timeout,
		ResponseHeaderTimeout: Timeout,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &Sender{guard: g, client: &http.Client{
		Transport: t,
		Timeout:   Timeout,
		// A redirect is not followed (it could point anywhere): the 3xx is
		// the answer, and a failure.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Guard is the sender's policy.
func (s *Sender) Guard() Guard { return s.guard }

// Message is one attempt to send.
type Message struct {
	URL, ID, Secret string
	Timestamp       time.Time
	Body            []byte
}

// Result is what an attempt came to: Code is 0 when nothing answered.
type Result struct {
	Code    int
	Latency time.Duration
	Err     error // nil: a 2xx
}

// Send makes one attempt.
func (s *Sender) Send(ctx context.Context, m Message) Result {
	sig, err := Sign(m.Secret, m.ID, m.Timestamp, m.Body)
	if err != nil {
		return Result{Err: err}
	}
	if err := s.guard.CheckURL(ctx, m.URL, false); err != nil {
		return Result{Err: fmt.Errorf("URL %w", err)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.URL, bytes.NewReader(m.Body))
	if err != nil {
		return Result{Err: err}
	}
	req.Header.Set("content-type", "application/json")
	req.Header.Set("user-agent", "creditgate-webhooks/1")
	req.Header.Set("webhook-id", m.ID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(m.Timestamp.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	start := time.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		return Result{Latency: time.Since(start), Err: err}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponse))
	resp.Body.Close()
	r := Result{Code: resp.StatusCode, Latency: time.Since(start)}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		r.Err = fmt.Errorf("answered %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	return r
}
