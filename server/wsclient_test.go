package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// The two WebSocket subprotocols the contract requires.
const (
	protoTransportWS = "graphql-transport-ws" // the graphql-ws library
	protoLegacyWS    = "graphql-ws"           // subscriptions-transport-ws
)

// wsClient speaks either subprotocol, enough for tests: init, subscribe,
// receive payloads, answer pings.
type wsClient struct {
	t     testing.TB
	conn  *websocket.Conn
	proto string
	msgs  chan wsMsg
	done  chan struct{}
	err   error              // why the read loop ended
	held  map[string][]wsMsg // messages of other operations, kept for their receive
}

type wsMsg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// dialWS opens a socket to url (http://… is turned into ws://…) and sends
// connection_init with token in its payload ("" sends no Authorization).
// It returns the client and the connection's first answer type
// (connection_ack, or the error the server closed with).
func dialWS(t testing.TB, url, proto, token string) (*wsClient, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, strings.Replace(url, "http", "ws", 1)+"/graphql", &websocket.DialOptions{
		Subprotocols: []string{proto},
		HTTPHeader:   http.Header{"Origin": []string{url}},
	})
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(1 << 20)
	c := &wsClient{t: t, conn: conn, proto: proto, msgs: make(chan wsMsg, 1024), done: make(chan struct{}), held: map[string][]wsMsg{}}
	t.Cleanup(func() { conn.Close(websocket.StatusNormalClosure, "") })
	go c.readLoop()
	payload := map[string]any{}
	if token != "" {
		payload["Authorization"] = "Bearer " + token
	}
	c.send(wsMsg{Type: "connection_init", Payload: mustJSON(payload)})
	for {
		m, err := c.next(5 * time.Second)
		if err != nil {
			return nil, err
		}
		switch m.Type {
		case "connection_ack":
			return c, nil
		case "ka", "ping", "pong":
			continue
		default:
			// connection_error (legacy) before the close; wait for the close.
			if _, err := c.next(5 * time.Second); err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("unexpected %s", m.Type)
		}
	}
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

func (c *wsClient) readLoop() {
	defer close(c.done)
	for {
		_, data, err := c.conn.Read(context.Background())
		if err != nil {
			c.err = err
			return
		}
		var m wsMsg
		if err := json.Unmarshal(data, &m); err != nil {
			c.err = err
			return
		}
		if m.Type == "ping" { // graphql-transport-ws keep-alive
			c.send(wsMsg{Type: "pong"})
			continue
		}
		c.msgs <- m
	}
}

func (c *wsClient) send(m wsMsg) {
	b, _ := json.Marshal(m)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.conn.Write(ctx, websocket.MessageText, b)
}

// next returns the next message, or the close error once the socket ends.
func (c *wsClient) next(timeout time.Duration) (wsMsg, error) {
	select {
	case m := <-c.msgs:
		return m, nil
	case <-c.done:
		select {
		case m := <-c.msgs:
			return m, nil
		default:
		}
		return wsMsg{}, c.err
	case <-time.After(timeout):
		return wsMsg{}, errTimeout
	}
}

var (
	errTimeout   = errors.New("timed out waiting for a message")
	errCompleted = errors.New("subscription completed")
)

// subscribe starts operation id.
func (c *wsClient) subscribe(id, query string, vars map[string]any) {
	typ := "subscribe"
	if c.proto == protoLegacyWS {
		typ = "start"
	}
	c.send(wsMsg{ID: id, Type: typ, Payload: mustJSON(map[string]any{"query": query, "variables": vars})})
}

// result is one delivered payload of a subscription: data or errors.
type result struct {
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
}

// receive waits for the next payload of operation id (data or errors).
func (c *wsClient) receive(id string, timeout time.Duration) (result, error) {
	deadline := time.Now().Add(timeout)
	for {
		var m wsMsg
		if q := c.held[id]; len(q) > 0 {
			m, c.held[id] = q[0], q[1:]
		} else {
			var err error
			if m, err = c.next(time.Until(deadline)); err != nil {
				return result{}, err
			}
			if m.ID != id {
				if m.ID != "" {
					c.held[m.ID] = append(c.held[m.ID], m)
				}
				continue
			}
		}
		switch m.Type {
		case "next", "data":
			var r result
			err := json.Unmarshal(m.Payload, &r)
			return r, err
		case "error":
			var r result
			if err := json.Unmarshal(m.Payload, &r.Errors); err != nil { // graphql-transport-ws: a list
				var one gqlError
				if err := json.Unmarshal(m.Payload, &one); err != nil {
					return r, err
				}
				r.Errors = []gqlError{one}
			}
			return r, nil
		case "complete":
			return result{}, errCompleted
		}
	}
}

// closeStatus is the close code a socket ended with, or -1.
func closeStatus(err error) websocket.StatusCode { return websocket.CloseStatus(err) }
