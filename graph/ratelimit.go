package graph

import (
	"container/list"
	"context"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"golang.org/x/time/rate"

	"creditgate/auth"
	"creditgate/credits"
	"creditgate/reqid"
)

// RateLimit bounds mutations (each root field of a mutation operation
// counts one) per token subject and per client address, with token
// buckets: Rate per second on average, Burst at once. A zero field takes its
// default; a negative rate turns that bucket off.
//
// SERVICE viewers (API keys, service tokens) are back-ends, not people:
// they have buckets of their own, per key (or token subject), sized for
// machines, and the per-person buckets (subject, address) do not apply to
// them (many services may share one address).
type RateLimit struct {
	SubjectRate  float64 // per token subject (`sub`); 0: 20/s
	SubjectBurst int     // 0: 40
	IPRate       float64 // per client address (IPv6: per /64); 0: 50/s
	IPBurst      int     // 0: 100
	ServiceRate  float64 // per API key or service token; 0: 200/s
	ServiceBurst int     // 0: 400
	// MaxKeys bounds the buckets kept per kind; 0: 10000. Buckets idle long
	// enough to have refilled are dropped first (they equal a new one), then
	// the least recently used.
	MaxKeys int
}

func (r RateLimit) withDefaults() RateLimit {
	if r.SubjectRate == 0 {
		r.SubjectRate = 20
	}
	if r.SubjectBurst <= 0 {
		r.SubjectBurst = 40
	}
	if r.IPRate == 0 {
		r.IPRate = 50
	}
	if r.IPBurst <= 0 {
		r.IPBurst = 100
	}
	if r.ServiceRate == 0 {
		r.ServiceRate = 200
	}
	if r.ServiceBurst <= 0 {
		r.ServiceBurst = 400
	}
	if r.MaxKeys <= 0 {
		r.MaxKeys = 10000
	}
	return r
}

// rateLimiter refuses a mutation operation that would exceed a bucket,
// before anything runs: RATE_LIMITED with extensions.retryAfter (whole
// seconds, at least 1), and a Retry-After header over HTTP.
type rateLimiter struct {
	subjects, ips *limiterSet // nil: off
	services      *limiterSet // SERVICE viewers, by user id; nil: off
}

func newRateLimiter(r RateLimit) *rateLimiter {
	rl := &rateLimiter{}
	if r.SubjectRate > 0 {
		rl.subjects = newLimiterSet(rate.Limit(r.SubjectRate), r.SubjectBurst, r.MaxKeys)
	}
	if r.IPRate > 0 {
		rl.ips = newLimiterSet(rate.Limit(r.IPRate), r.IPBurst, r.MaxKeys)
	}
	if r.ServiceRate > 0 {
		rl.services = newLimiterSet(rate.Limit(r.ServiceRate), r.ServiceBurst, r.MaxKeys)
	}
	if rl.subjects == nil && rl.ips == nil && rl.services == nil {
		return nil
	}
	return rl
}

func (*rateLimiter) ExtensionName() string                   { return "RateLimit" }
func (*rateLimiter) Validate(graphql.ExecutableSchema) error { return nil }

func (l *rateLimiter) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	if opCtx.Operation == nil || opCtx.Operation.Operation != ast.Mutation {
		return nil
	}
	// Without a verified token nothing will run (UNAUTHENTICATED says
	// why, and a client whose token expired should hear that); the buckets
	// meter work.
	v, ok := auth.FromContext(ctx)
	if !ok {
		return nil
	}
	n := rootFields(opCtx.Operation.SelectionSet, map[string]int{})
	if n == 0 {
		return nil
	}
	now := time.Now()
	var held []*rate.Reservation
	release := func() {
		for _, r := range held {
			r.CancelAt(now)
		}
	}
	var wait time.Duration
	take := func(set *limiterSet, key string) *gqlerror.Error {
		r := set.reserve(key, n, now)
		if !r.OK() {
			release()
			return badInput("an operation may run at most %d mutations", set.burst)
		}
		held = append(held, r)
		wait = max(wait, r.DelayFrom(now))
		return nil
	}
	if v.Role == auth.RoleService {
		if l.services != nil {
			if err := take(l.services, v.UserID); err != nil {
				return err
			}
		}
	} else if l.subjects != nil {
		if err := take(l.subjects, v.UserID); err != nil {
			return err
		}
	}
	if ip, ok := ClientIP(ctx); ok && l.ips != nil && v.Role != auth.RoleService {
		if err := take(l.ips, ipKey(ip)); err != nil {
			return err
		}
	}
	if wait <= 0 {
		return nil
	}
	release()
	secs := max(1, int(math.Ceil(wait.Seconds())))
	if h, ok := ctx.Value(headerKey{}).(http.Header); ok {
		h.Set("Retry-After", strconv.Itoa(secs))
	}
	err := gqlerror.Errorf("too many mutations: retry in %d s", secs)
	errcode.Set(err, string(credits.CodeRateLimited))
	err.Extensions["retryAfter"] = secs
	return err
}

// limiterSet is a bounded map of token buckets, least recently used last.
type limiterSet struct {
	limit rate.Limit
	burst int
	max   int
	idle  time.Duration // a bucket untouched this long is full again

	mu    sync.Mutex
	byKey map[string]*list.Element
	lru   list.List // of *limiterEntry, most recent first
}

type limiterEntry struct {
	key  string
	lim  *rate.Limiter
	last time.Time
}

func newLimiterSet(limit rate.Limit, burst, maxKeys int) *limiterSet {
	return &limiterSet{
		limit: limit, burst: burst, max: maxKeys,
		idle:  time.Duration(float64(burst) / float64(limit) * float64(time.Second)),
		byKey: map[string]*list.Element{},
	}
}

// reserve takes n tokens from key's bucket at now (the reservation may
// say to wait; the caller cancels it then).
func (s *limiterSet) reserve(key string, n int, now time.Time) *rate.Reservation {
	s.mu.Lock()
	defer s.mu.Unlock()
	for el := s.lru.Back(); el != nil && now.Sub(el.Value.(*limiterEntry).last) >= s.idle; el = s.lru.Back() {
		s.remove(el)
	}
	el, ok := s.byKey[key]
	if ok {
		s.lru.MoveToFront(el)
	} else {
		if s.lru.Len() >= s.max {
			s.remove(s.lru.Back())
		}
		el = s.lru.PushFront(&limiterEntry{key: key, lim: rate.NewLimiter(s.limit, s.burst)})
		s.byKey[key] = el
	}
	e := el.Value.(*limiterEntry)
	e.last = now
	return e.lim.ReserveN(now, n)
}

func (s *limiterSet) remove(el *list.Element) {
	delete(s.byKey, el.Value.(*limiterEntry).key)
	s.lru.Remove(el)
}

func (s *limiterSet) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lru.Len()
}

// ipKey is the bucket of an address: IPv4 alone, IPv6 by its /64 (one
// subscriber usually holds a whole /64).
func ipKey(ip netip.Addr) string {
	if ip.Is6() && !ip.Is4In6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.Unmap().String()
}

// ---------------------------------------------------------------- client address

type headerKey struct{}

// ClientIP is the client's address as WithClientIP found it (kept by
// reqid, which the audit records read it from).
func ClientIP(ctx context.Context) (netip.Addr, bool) {
	return reqid.ClientIP(ctx)
}

// WithClientIP puts the client's address in the request's context for the
// per-address rate limit: the connection's peer (RemoteAddr). When the
// peer is one of trustedProxies (TRUSTED_PROXIES), the address comes from
// X-Forwarded-For instead, or from Forwarded (RFC 7239) when no
// X-Forwarded-For came: walking the hops from the right, the first that is
// not itself a trusted proxy is the client. A hop that does not parse
// (garbled, "unknown", an obfuscated name) ends the walk at the last
// trusted hop, so a client cannot pick its own bucket. With no trusted
// proxies, both headers are ignored (anyone can send them).
func WithClientIP(next http.Handler, trustedProxies ...netip.Prefix) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if ip, ok := clientIP(r, trustedProxies); ok {
			ctx = reqid.WithClientIP(ctx, ip)
		}
		if r.Header.Get("Upgrade") == "" {
			// Lets a refusal set Retry-After before the transport writes
			// the header; not for WebSockets, whose headers are long sent.
			ctx = context.WithValue(ctx, headerKey{}, w.Header())
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func clientIP(r *http.Request, trusted []netip.Prefix) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	ip = ip.Unmap().WithZone("")
	if !isTrusted(ip, trusted) {
		return ip, true
	}
	hops := forwardedHops(r.Header)
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(hops[i])
		if err != nil {
			return ip, true // garbled: trust no further
		}
		hop = hop.Unmap().WithZone("")
		if !isTrusted(hop, trusted) {
			return hop, true
		}
		ip = hop
	}
	return ip, true
}

// forwardedHops lists the addresses a request passed through, client
// first: X-Forwarded-For's entries, or else Forwarded's for= parameters
// (quotes, brackets and ports removed; a hop without for= is "").
func forwardedHops(h http.Header) []string {
	var hops []string
	if xff := h.Values("X-Forwarded-For"); len(xff) > 0 {
		for _, v := range xff {
			for _, part := range strings.Split(v, ",") {
				hops = append(hops, strings.TrimSpace(part))
			}
		}
		return hops
	}
	for _, v := range h.Values("Forwarded") {
		for _, elem := range strings.Split(v, ",") {
			hop := ""
			for _, pair := range strings.Split(elem, ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(pair), "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), "for") {
					hop = forwardedNode(strings.TrimSpace(val))
				}
			}
			hops = append(hops, hop)
		}
	}
	return hops
}

// forwardedNode is the address of a Forwarded node: 192.0.2.60,
// "192.0.2.60:4711", "[2001:db8::17]:4711"; anything else is returned as
// is, and will not parse.
func forwardedNode(v string) string {
	v = strings.Trim(v, `"`)
	if strings.HasPrefix(v, "[") {
		if end := strings.IndexByte(v, ']'); end > 0 {
			return v[1:end]
		}
		return v
	}
	if host, _, err := net.SplitHostPort(v); err == nil {
		return host
	}
	return v
}

func isTrusted(ip netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
