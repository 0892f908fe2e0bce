package graph

import (
	"fmt"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// The buckets stay bounded: at most max keys, and idle ones (refilled, so
// equal to a new bucket) are dropped as others arrive.
func TestLimiterSetBounded(t *testing.T) {
	s := newLimiterSet(rate.Limit(10), 2, 100) // refills in 200ms
	t0 := time.Unix(1000, 0)
	for i := range 1000 {
		if r := s.reserve(fmt.Sprint(i), 1, t0); !r.OK() || r.DelayFrom(t0) != 0 {
			t.Fatalf("key %d refused", i)
		}
	}
	if n := s.len(); n != 100 {
		t.Fatalf("%d buckets kept, want the cap of 100", n)
	}
	// The bucket of a busy key is kept and stays empty.
	for range 2 {
		s.reserve("busy", 1, t0)
	}
	if r := s.reserve("busy", 1, t0); r.DelayFrom(t0) == 0 {
		t.Fatal("an empty bucket allowed a third token")
	} else {
		r.CancelAt(t0)
	}
	// Later, the idle buckets go; the one just used stays.
	t1 := t0.Add(300 * time.Millisecond)
	s.reserve("late", 1, t1)
	if n := s.len(); n != 1 {
		t.Fatalf("%d buckets kept after all others idled, want 1", n)
	}
}

func TestClientIP(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	for _, c := range []struct {
		remote, xff string
		trusted     []netip.Prefix
		want        string
	}{
		{"192.0.2.1:5000", "", nil, "192.0.2.1"},
		{"192.0.2.1:5000", "203.0.113.9", nil, "192.0.2.1"},               // not trusted: ignored
		{"192.0.2.1:5000", "203.0.113.9", proxies, "192.0.2.1"},           // peer is no proxy
		{"10.1.1.1:5000", "203.0.113.9", proxies, "203.0.113.9"},          // through the proxy
		{"10.1.1.1:5000", "1.1.1.1, 203.0.113.9", proxies, "203.0.113.9"}, // the left one is the client's claim
		{"10.1.1.1:5000", "203.0.113.9, 10.2.2.2", proxies, "203.0.113.9"},
		{"10.1.1.1:5000", "bogus", proxies, "10.1.1.1"},
		{"[::ffff:192.0.2.7]:5000", "", nil, "192.0.2.7"},
		{"[2001:db8::1]:5000", "", nil, "2001:db8::1"},
	} {
		r := httptest.NewRequest("POST", "/graphql", nil)
		r.RemoteAddr = c.remote
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		got, ok := clientIP(r, c.trusted)
		if !ok || got.String() != c.want {
			t.Errorf("%s with X-Forwarded-For %q: %v %v, want %s", c.remote, c.xff, got, ok, c.want)
		}
	}
	if k := ipKey(netip.MustParseAddr("2001:db8:1:2:3:4:5:6")); k != "2001:db8:1:2::/64" {
		t.Errorf("IPv6 bucket %s, want the /64", k)
	}
}
