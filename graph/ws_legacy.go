package graph

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/vektah/gqlparser/v2/gqlerror"
)

// legacyWS is graphql-ws (the legacy subscriptions-transport-ws):
// connection_init, answered by connection_ack and a first ka; start,
// answered by data, error and complete; stop; connection_terminate; ka
// from the server every kaInterval. A refusal is told in a
// connection_error message before the close.
var legacyWS = &wsProtocol{
	handle:      legacyHandle,
	ack:         legacyAck,
	refuse:      legacyRefuse,
	reuse:       legacyReuse,
	resultType:  "data",
	initTimeout: legacyInitTimeout,
	keepAlive:   legacyKeepAlive,
}

func legacyHandle(c *wsConn, m wsMessage, start time.Time) {
	switch {
	case m.Type == "connection_init" && !c.inited:
		c.init(m.Payload)
		return
	case m.Type == "connection_terminate":
		c.close(closeNormal, "terminated")
		return
	case m.Type == "start" && c.acked.Load() && m.ID != "":
		c.subscribe(m, start)
		return
	case m.Type == "stop" && c.acked.Load():
		c.stop(m.ID)
		return
	}
	c.refuse(closeProtocolError, fmt.Sprintf("unexpected message %.40q", m.Type))
}

func legacyAck(c *wsConn) {
	c.send(wsMessage{Type: "connection_ack"})
	c.send(wsMessage{Type: "ka"})
}

// legacyRefuse tells the client why in a connection_error message, then
// closes.
func legacyRefuse(c *wsConn, code int, reason string) {
	c.send(wsMessage{Type: "connection_error", Payload: errorJSON(reason)})
	c.close(code, reason)
}

func errorJSON(msg string) json.RawMessage {
	b, _ := json.Marshal(&gqlerror.Error{Message: msg})
	return b
}

// legacyReuse: subscriptions-transport-ws restarts an operation under a
// reused id.
func legacyReuse(_ *wsConn, old *wsOp) bool {
	old.end()
	return true
}

func legacyInitTimeout(c *wsConn) {
	c.refuse(closeProtocolError, "connection initialisation timeout")
}

// legacyKeepAlive sends ka every kaInterval; the client answers nothing.
func legacyKeepAlive(c *wsConn, now time.Time) {
	if now.Sub(time.Unix(0, c.lastPing)) >= c.t.kaInterval {
		c.lastPing = now.UnixNano()
		c.t.pool.run(func() { c.send(wsMessage{Type: "ka"}) })
	}
}
