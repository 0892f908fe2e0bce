package graph

import (
	"fmt"
	"time"
)

// transportWS is graphql-transport-ws (the graphql-ws library, its
// PROTOCOL.md): connection_init and connection_ack; subscribe, answered by
// next, error and complete; complete from the client; ping and pong, both
// ways. A refusal is the close code alone: the subprotocol has no message
// saying why.
var transportWS = &wsProtocol{
	handle:      transportHandle,
	ack:         transportAck,
	refuse:      (*wsConn).close,
	reuse:       transportReuse,
	resultType:  "next",
	initTimeout: transportInitTimeout,
	keepAlive:   transportKeepAlive,
}

func transportHandle(c *wsConn, m wsMessage, start time.Time) {
	switch m.Type {
	case "ping":
		c.send(wsMessage{Type: "pong", Payload: m.Payload})
		return
	case "pong":
		return
	case "connection_init":
		if c.inited {
			c.close(closeTooManyRequests, "Too many initialisation requests")
			return
		}
		c.init(m.Payload)
		return
	case "subscribe":
		if !c.acked.Load() {
			c.close(closeUnauthorized, "Unauthorized")
			return
		}
		if m.ID == "" || len(m.Payload) == 0 {
			c.close(closeBadRequest, "Invalid message received: subscribe needs an id and a payload")
			return
		}
		c.subscribe(m, start)
		return
	case "complete":
		c.stop(m.ID)
		return
	}
	c.close(closeBadRequest, fmt.Sprintf("Invalid message received: unexpected type %.40q", m.Type))
}

func transportAck(c *wsConn) { c.send(wsMessage{Type: "connection_ack"}) }

// transportReuse refuses a subscribe under an id still open: 4409.
func transportReuse(c *wsConn, old *wsOp) bool {
	c.close(closeDuplicateID, "Subscriber for "+truncate(old.id, 80)+" already exists")
	return false
}

func transportInitTimeout(c *wsConn) {
	c.close(closeInitTimeout, "Connection initialisation timeout")
}

// transportKeepAlive pings every pingInterval, and closes the socket when
// nothing came back for twice that.
func transportKeepAlive(c *wsConn, now time.Time) {
	t := c.t
	since := now.Sub(time.Unix(0, c.lastPing))
	if c.pingWaiting && c.lastRead.Load() >= c.lastPing {
		c.pingWaiting = false // anything read since counts as the answer
	}
	switch {
	case c.pingWaiting && since >= 2*t.pingInterval:
		t.pool.run(func() { c.close(closeGoingAway, "no pong") })
	case !c.pingWaiting && since >= t.pingInterval:
		c.lastPing, c.pingWaiting = now.UnixNano(), true
		t.pool.run(func() { c.send(wsMessage{Type: "ping"}) })
	}
}
