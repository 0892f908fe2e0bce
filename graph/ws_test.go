package graph

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/coder/websocket"

	"creditgate/auth"
)

// The protocol tests of the WebSocket transport that need no database:
// handshake, refusals, keep-alives. Subscriptions themselves are tested
// through the whole gateway (server/ws_test.go, server/live_test.go).

var wsTestSecret = []byte("ws-test-secret-0123456789-0123456789-abcdef")

// wsTestServer serves the transport alone, with short timers.
func wsTestServer(t *testing.T, origins ...string) (*httptest.Server, *wsTransport) {
	t.Helper()
	v, err := auth.NewVerifier(context.Background(), auth.Config{Secret: wsTestSecret})
	if err != nil {
		t.Fatal(err)
	}
	tr := newWSTransport(LiveOptions{Verifier: v, OriginPatterns: origins, MaxConnsPerToken: 2})
	tr.initTimeout = 300 * time.Millisecond
	tr.pingInterval = 200 * time.Millisecond
	tr.kaInterval = 200 * time.Millisecond
	tr.sweepEvery = 20 * time.Millisecond
	srv := handler.New(NewExecutableSchema(Config{Resolvers: &Resolver{}}))
	srv.AddTransport(tr)
	ts := httptest.NewServer(srv)
	t.Cleanup(func() { tr.opt.Sockets.CloseAll(); ts.Close() })
	return ts, tr
}

func wsTestToken(t *testing.T, subject string, ttl time.Duration) string {
	t.Helper()
	tok, err := auth.NewToken(wsTestSecret, auth.RoleClientOwner, subject, "agency", "account", ttl)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type rawWS struct {
	t    *testing.T
	conn *websocket.Conn
}

func dialRaw(t *testing.T, ts *httptest.Server, proto, origin string) (*rawWS, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	opts := &websocket.DialOptions{HTTPHeader: http.Header{}}
	if proto != "" {
		opts.Subprotocols = []string{proto}
	}
	if origin != "" {
		opts.HTTPHeader.Set("Origin", origin)
	}
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(ts.URL, "http"), opts)
	if err != nil {
		return nil, resp, err
	}
	t.Cleanup(func() { conn.CloseNow() })
	return &rawWS{t, conn}, resp, nil
}

func (c *rawWS) send(s string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
		c.t.Fatalf("send %s: %v", s, err)
	}
}

// next reads one message, or the error that ended the socket.
func (c *rawWS) next(timeout time.Duration) (wsMessage, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	_, data, err := c.conn.Read(ctx)
	if err != nil {
		return wsMessage{}, err
	}
	var m wsMessage
	if err := json.Unmarshal(data, &m); err != nil {
		c.t.Fatalf("message %s: %v", data, err)
	}
	return m, nil
}

// expect reads until a message of type typ; other types fail the test
// unless skipped.
func (c *rawWS) expect(typ string, skip ...string) wsMessage {
	c.t.Helper()
	for {
		m, err := c.next(5 * time.Second)
		if err != nil {
			c.t.Fatalf("waiting for %s: %v", typ, err)
		}
		if m.Type == typ {
			return m
		}
		if !strings.Contains(strings.Join(skip, " "), m.Type) {
			c.t.Fatalf("got %+v, want %s", m, typ)
		}
	}
}

// closedWith reads until the socket closes and returns its close code.
func (c *rawWS) closedWith(timeout time.Duration) websocket.StatusCode {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if _, err := c.next(time.Until(deadline)); err != nil {
			return websocket.CloseStatus(err)
		}
	}
	c.t.Fatalf("socket still open after %s", timeout)
	return 0
}

func (c *rawWS) init(tok string) {
	c.t.Helper()
	c.send(`{"type":"connection_init","payload":{"Authorization":"Bearer ` + tok + `"}}`)
}

func TestWSHandshakeAndRefusals(t *testing.T) {
	ts, _ := wsTestServer(t)
	good := wsTestToken(t, "u1", time.Hour)
	for _, tc := range []struct {
		name  string
		msgs  []string
		acked bool
		code  websocket.StatusCode
	}{
		{name: "subscribe before init", msgs: []string{`{"id":"1","type":"subscribe","payload":{"query":"subscription { balanceUpdated { available } }"}}`}, code: 4401},
		{name: "not json", msgs: []string{`{"type":`}, code: 4400},
		{name: "no type", msgs: []string{`{"id":"1"}`}, code: 4400},
		{name: "unknown type", msgs: []string{`{"type":"start","id":"1"}`}, code: 4400},
		{name: "bad token", msgs: []string{`{"type":"connection_init","payload":{"Authorization":"Bearer not-a-jwt"}}`}, code: 4403},
		{name: "no token", msgs: []string{`{"type":"connection_init"}`}, code: 4403},
		{name: "init payload not an object", msgs: []string{`{"type":"connection_init","payload":"x"}`}, code: 4400},
		{name: "second init", msgs: []string{`{"type":"connection_init","payload":{"Authorization":"Bearer ` + good + `"}}`, `{"type":"connection_init"}`}, acked: true, code: 4429},
		{name: "subscribe without id", msgs: []string{`{"type":"connection_init","payload":{"Authorization":"Bearer ` + good + `"}}`, `{"type":"subscribe","payload":{"query":"{ __typename }"}}`}, acked: true, code: 4400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _, err := dialRaw(t, ts, protoTransportWS, "")
			if err != nil {
				t.Fatal(err)
			}
			for i, m := range tc.msgs {
				c.send(m)
				if i == 0 && tc.acked {
					c.expect("connection_ack")
				}
			}
			if code := c.closedWith(5 * time.Second); code != tc.code {
				t.Fatalf("close code %d, want %d", code, tc.code)
			}
		})
	}
}

// graphql-ws (legacy) refuses with a connection_error before closing, and
// keeps the connection alive with "ka".
func TestWSLegacyProtocol(t *testing.T) {
	ts, _ := wsTestServer(t)
	c, _, err := dialRaw(t, ts, protoGraphQLWS, "")
	if err != nil {
		t.Fatal(err)
	}
	c.init(wsTestToken(t, "u1", time.Hour))
	c.expect("connection_ack")
	c.expect("ka")
	c.expect("ka") // the sweeper's, after kaInterval

	bad, _, err := dialRaw(t, ts, "", "") // no subprotocol: graphql-ws, as gqlgen did
	if err != nil {
		t.Fatal(err)
	}
	bad.init("forged")
	if m := bad.expect("connection_error"); !strings.Contains(string(m.Payload), "message") {
		t.Fatalf("connection_error payload %s", m.Payload)
	}
	if code := bad.closedWith(5 * time.Second); code != 4403 {
		t.Fatalf("close code %d, want 4403", code)
	}
}

func TestWSInitTimeout(t *testing.T) {
	ts, _ := wsTestServer(t)
	for proto, want := range map[string]websocket.StatusCode{protoTransportWS: 4408, protoGraphQLWS: websocket.StatusProtocolError} {
		c, _, err := dialRaw(t, ts, proto, "")
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if code := c.closedWith(5 * time.Second); code != want {
			t.Fatalf("%s: close code %d, want %d", proto, code, want)
		}
		if d := time.Since(start); d < 250*time.Millisecond {
			t.Fatalf("%s: closed after %s, before the init timeout", proto, d)
		}
	}
}

// The client may ping at any time and gets its payload back; the server
// pings every pingInterval and closes a socket whose client stopped
// answering.
func TestWSPingPong(t *testing.T) {
	ts, _ := wsTestServer(t)
	c, _, err := dialRaw(t, ts, protoTransportWS, "")
	if err != nil {
		t.Fatal(err)
	}
	c.send(`{"type":"ping","payload":{"n":1}}`)
	if m := c.expect("pong"); string(m.Payload) != `{"n":1}` {
		t.Fatalf("pong payload %s", m.Payload)
	}
	c.init(wsTestToken(t, "u1", time.Hour))
	c.expect("connection_ack")
	// Answered pings keep the socket open well past twice the interval.
	for range 4 {
		c.expect("ping")
		c.send(`{"type":"pong"}`)
	}
	// Unanswered, the socket is closed.
	c.expect("ping")
	if code := c.closedWith(5 * time.Second); code != websocket.StatusGoingAway {
		t.Fatalf("close code %d, want %d (no pong)", code, websocket.StatusGoingAway)
	}
}

// Open sockets per token subject are capped (4429); closing one frees its
// slot, and CloseAll closes the rest.
func TestWSSocketCapAndCloseAll(t *testing.T) {
	ts, tr := wsTestServer(t) // MaxConnsPerToken 2
	tok := wsTestToken(t, "capped", time.Hour)
	var open []*rawWS
	for range 2 {
		c, _, err := dialRaw(t, ts, protoTransportWS, "")
		if err != nil {
			t.Fatal(err)
		}
		c.init(tok)
		c.expect("connection_ack")
		open = append(open, c)
	}
	third, _, err := dialRaw(t, ts, protoTransportWS, "")
	if err != nil {
		t.Fatal(err)
	}
	third.init(tok)
	if code := third.closedWith(5 * time.Second); code != 4429 {
		t.Fatalf("third socket: close code %d, want 4429", code)
	}
	open[0].conn.Close(websocket.StatusNormalClosure, "")
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, _, err := dialRaw(t, ts, protoTransportWS, "")
		if err != nil {
			t.Fatal(err)
		}
		c.init(tok)
		m, err := c.next(5 * time.Second)
		if err == nil && m.Type == "connection_ack" {
			open[0] = c
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the closed socket's slot was never freed: %+v %v", m, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	tr.opt.Sockets.CloseAll()
	for i, c := range open {
		if code := c.closedWith(5 * time.Second); code != websocket.StatusNormalClosure {
			t.Fatalf("socket %d after CloseAll: close code %d", i, code)
		}
	}
}

// Cross-origin upgrades are refused unless a pattern allows the origin;
// same-origin ones and those without Origin are allowed.
func TestWSOrigin(t *testing.T) {
	ts, _ := wsTestServer(t, "*.allowed.example")
	for origin, ok := range map[string]bool{
		"":                              true,
		ts.URL:                          true,
		"https://app.allowed.example":   true,
		"https://evil.example":          false,
		"https://allowed.example.evil":  false,
		"https://x.app.allowed.example": true,
	} {
		_, resp, err := dialRaw(t, ts, protoTransportWS, origin)
		if ok && err != nil {
			t.Errorf("origin %q refused: %v", origin, err)
		}
		if !ok && (err == nil || resp == nil || resp.StatusCode != http.StatusForbidden) {
			t.Errorf("origin %q: %v, want 403", origin, err)
		}
	}
}
