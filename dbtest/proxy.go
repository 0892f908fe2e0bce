package dbtest

import (
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
)

// Proxy is a TCP proxy in front of the test PostgreSQL server that fails
// the way networks do without telling anyone: it can stop forwarding on
// the connections it has (holding their sockets open, no RST, its kernel
// still acknowledging) while forwarding new ones, stall new ones too, and
// reset every connection.
type Proxy struct {
	t      testing.TB
	ln     net.Listener
	target string

	mu       sync.Mutex
	links    map[*link]struct{}
	stallNew bool
	wg       sync.WaitGroup
}

type link struct {
	client, server net.Conn
	mu             sync.Mutex
	cond           *sync.Cond
	stalled        bool
	dropped        bool
}

// NewProxy listens on 127.0.0.1 and forwards to the host and port of the
// PostgreSQL URL dsn; it closes when the test ends.
func NewProxy(t testing.TB, dsn string) *Proxy {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("dbtest: proxy target: %v", err)
	}
	target := u.Host
	if u.Port() == "" {
		target = net.JoinHostPort(u.Hostname(), "5432")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("dbtest: proxy: %v", err)
	}
	p := &Proxy{t: t, ln: ln, target: target, links: map[*link]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// URL is dsn with its host and port replaced by the proxy's.
func (p *Proxy) URL(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		p.t.Fatalf("dbtest: proxy URL: %v", err)
	}
	u.Host = p.ln.Addr().String()
	return u.String()
}

// StallExisting stops forwarding, both ways, on every connection open now;
// new connections still work.
func (p *Proxy) StallExisting() { p.stall(false) }

// StallAll stalls the open connections and every new one (accepted, never
// forwarded): the server seems gone, yet nothing is refused or reset.
func (p *Proxy) StallAll() { p.stall(true) }

func (p *Proxy) stall(newToo bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stallNew = p.stallNew || newToo
	for l := range p.links {
		l.set(true, false)
	}
}

// Heal forwards new connections again; stalled ones stay stalled.
func (p *Proxy) Heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stallNew = false
}

// Resume heals and lets the stalled connections flow again (what they held
// is delivered late).
func (p *Proxy) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stallNew = false
	for l := range p.links {
		l.set(false, false)
	}
}

// Drop resets every open connection.
func (p *Proxy) Drop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for l := range p.links {
		l.drop()
		delete(p.links, l)
	}
}

// Conns is the number of connections the proxy holds.
func (p *Proxy) Conns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.links)
}

func (p *Proxy) close() {
	_ = p.ln.Close()
	p.Drop()
	p.wg.Wait()
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		l := &link{client: c, server: s}
		l.cond = sync.NewCond(&l.mu)
		p.mu.Lock()
		l.stalled = p.stallNew
		p.links[l] = struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(l, s, c)
		go p.pipe(l, c, s)
	}
}

// pipe copies src to dst, holding what it read while the link is stalled.
func (p *Proxy) pipe(l *link, dst, src net.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !l.wait() {
				return
			}
			if _, err := dst.Write(buf[:n]); err != nil {
				break
			}
		}
		if err != nil {
			if err != io.EOF || !l.wait() {
				break
			}
			// A clean close is forwarded as one (unless stalled).
			if tc, ok := dst.(*net.TCPConn); ok {
				_ = tc.CloseWrite()
			}
			return
		}
	}
	p.mu.Lock()
	delete(p.links, l)
	l.drop()
	p.mu.Unlock()
}

// wait blocks while the link is stalled; false once it is dropped.
func (l *link) wait() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for l.stalled && !l.dropped {
		l.cond.Wait()
	}
	return !l.dropped
}

func (l *link) set(stalled, dropped bool) {
	l.mu.Lock()
	l.stalled, l.dropped = stalled, l.dropped || dropped
	l.cond.Broadcast()
	l.mu.Unlock()
}

// drop resets both sides.
func (l *link) drop() {
	l.set(false, true)
	for _, c := range []net.Conn{l.client, l.server} {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		_ = c.Close()
	}
}
