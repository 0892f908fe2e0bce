package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// The example of the Standard Webhooks specification's test vectors.
func TestSignSpecVector(t *testing.T) {
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	body := []byte(`{"test": 2432232314}`)
	got, err := Sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), body)
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Fatalf("signature %s, want %s", got, want)
	}
}

func TestSecretsAndVerify(t *testing.T) {
	s, prefix, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
	if err != nil || len(key) != 32 || !strings.HasPrefix(s, prefix) || len(prefix) != 12 {
		t.Fatalf("secret %q prefix %q: key %d bytes, %v", s, prefix, len(key), err)
	}
	now := time.Unix(1_700_000_000, 0)
	sig, _ := Sign(s, "msg_1", now, []byte("{}"))
	if err := Verify(s, "msg_1", "1700000000", "v1,bogus "+sig, []byte("{}"), now, 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"other body": Verify(s, "msg_1", "1700000000", sig, []byte("{ }"), now, time.Minute),
		"other id":   Verify(s, "msg_2", "1700000000", sig, []byte("{}"), now, time.Minute),
		"too old":    Verify(s, "msg_1", "1700000000", sig, []byte("{}"), now.Add(time.Hour), time.Minute),
	} {
		if err == nil {
			t.Errorf("%s: verified", name)
		}
	}
}

// FuzzSign: whatever the id and body, a signature verifies with an
// independent HMAC over id.timestamp.body and with nothing else.
func FuzzSign(f *testing.F) {
	f.Add("msg_1", int64(1614265330), []byte(`{"a":1}`))
	f.Add("", int64(0), []byte{})
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	f.Fuzz(func(t *testing.T, id string, ts int64, body []byte) {
		sig, err := Sign(secret, id, time.Unix(ts, 0), body)
		if err != nil {
			t.Fatal(err)
		}
		h := hmac.New(sha256.New, []byte("0123456789abcdef0123456789abcdef"))
		fmt.Fprintf(h, "%s.%d.%s", id, ts, body)
		if want := "v1," + base64.StdEncoding.EncodeToString(h.Sum(nil)); sig != want {
			t.Fatalf("%s != %s", sig, want)
		}
	})
}

func TestPublic(t *testing.T) {
	for addr, want := range map[string]bool{
		"8.8.8.8": true, "2606:4700::1111": true, "100.63.255.255": true,
		"127.0.0.1": false, "::1": false, "10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false,
		"169.254.169.254": false, "fe80::1": false, "fd00::1": false, "0.0.0.0": false, "::": false,
		"224.0.0.1": false, "ff02::1": false, "100.64.0.1": false, "::ffff:127.0.0.1": false,
		"::ffff:169.254.169.254": false, "255.255.255.255": false,
	} {
		if got := Public(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Public(%s) = %v, want %v", addr, got, want)
		}
	}
}

type fakeResolver map[string][]netip.Addr

func (r fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := r[host]; ok {
		return a, nil
	}
	return nil, errors.New("no such host")
}

func TestCheckURL(t *testing.T) {
	g := Guard{RequireHTTPS: true, Resolver: fakeResolver{
		"hooks.example.com": {netip.MustParseAddr("93.184.216.34")},
		"internal.example":  {netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("10.0.0.5")},
	}}
	ctx := context.Background()
	if err := g.CheckURL(ctx, "https://hooks.example.com/in", true); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{
		"http://hooks.example.com/in", "https://u:p@hooks.example.com/", "ftp://hooks.example.com",
		"https://127.0.0.1/", "https://169.254.169.254/latest/meta-data", "https://[::1]/",
		"https://internal.example/", "https://nowhere.example/", "https:///x", "https://hooks.example.com/" + strings.Repeat("a", 2000),
	} {
		if err := g.CheckURL(ctx, u, true); err == nil {
			t.Errorf("%s accepted", u)
		}
	}
}

// A sender refuses a loopback receiver unless private addresses are
// allowed, sends the headers, and neither follows a redirect nor reads
// an endless answer.
func TestSenderGuardAndRedirects(t *testing.T) {
	var hits int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
			return
		}
		b, _ := io.ReadAll(r.Body)
		if err := Verify(r.Header.Get("webhook-secret-for-test"), r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"),
			r.Header.Get("webhook-signature"), b, time.Now(), time.Minute); err == nil {
			t.Error("verified with no secret")
		}
		w.WriteHeader(204)
	}))
	defer srv.Close()
	secret, _, _ := NewSecret()
	m := Message{URL: srv.URL + "/in", ID: "msg_1", Secret: secret, Timestamp: time.Now(), Body: []byte("{}")}
	if r := NewSender(Guard{}).Send(context.Background(), m); !errors.Is(r.Err, ErrRefusedAddress) || hits != 0 {
		t.Fatalf("loopback not refused: %+v, %d hits", r, hits)
	}
	open := NewSender(Guard{AllowPrivate: true})
	if r := open.Send(context.Background(), m); r.Err != nil || r.Code != 204 {
		t.Fatalf("allowed send: %+v", r)
	}
	m.URL = srv.URL + "/redirect"
	if r := open.Send(context.Background(), m); r.Err == nil || r.Code != http.StatusFound || hits != 2 {
		t.Fatalf("redirect: %+v, %d hits", r, hits)
	}
}
