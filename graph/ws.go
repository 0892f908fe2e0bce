package graph

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"creditgate/auth"
	"creditgate/httpx"
)

// wsTransport serves GraphQL subscriptions over WebSocket, in both
// subprotocols: graphql-transport-ws (the graphql-ws library) and graphql-ws
// (the legacy subscriptions-transport-ws, also chosen when the client names
// none, as gqlgen did). This file is the core both share (the socket's
// life, its reading goroutine, the write path, the operations, the pool
// and the sweeper); what differs between the two is a wsProtocol:
// ws_transport.go (graphql-transport-ws) and ws_legacy.go (graphql-ws).
//
// It is built to keep an idle subscriber cheap, since a gateway holds many:
//
//   - one goroutine per socket, the one reading it, started afresh (the
//     handler returns, and net/http's buffers and request with it);
//   - no goroutine per subscription: a subscription whose resolver says when
//     a value is buffered (liveWake and relay) is served by a shared pool of
//     delivery workers (wsPool), which call gqlgen's response function only
//     when it will not block, and then write;
//   - no timer or goroutine per socket for keep-alives, the init timeout or
//     token expiry: one sweeper per transport visits every socket once a
//     second;
//   - small read buffers, and write buffers taken from a shared pool only
//     while a message is written.
//
// Operations go through gqlgen's executor (CreateOperationContext,
// DispatchOperation), so the limits, persisted queries, metrics and error
// presenter apply to subscriptions exactly as to other operations.
type wsTransport struct {
	opt          LiveOptions
	up           websocket.Upgrader
	initTimeout  time.Duration
	pingInterval time.Duration // graphql-transport-ws: ping, and close when nothing came back for twice this
	kaInterval   time.Duration // graphql-ws: "ka" messages
	writeTimeout time.Duration // one message to one socket
	sweepEvery   time.Duration
	pool         wsPool

	mu       sync.Mutex
	conns    map[*wsConn]struct{}
	sweeping bool
}

const (
	protoTransportWS = "graphql-transport-ws"
	protoGraphQLWS   = "graphql-ws"

	// Close codes, one name each: graphql-transport-ws's (its PROTOCOL.md)
	// and the WebSocket ones (RFC 6455). A client should not retry 4401,
	// 4403 or 4429 in a loop (graphql-ws retries 4403 unless its shouldRetry
	// says otherwise; docs/api.md).
	closeBadRequest      = 4400
	closeUnauthorized    = 4401
	closeForbidden       = 4403 // a bad, expired or revoked credential
	closeInitTimeout     = 4408
	closeDuplicateID     = 4409
	closeTooManyRequests = 4429                         // too many open sockets for a token, or a second connection_init
	closeNormal          = websocket.CloseNormalClosure // 1000
	closeGoingAway       = websocket.CloseGoingAway     // 1001
	closeProtocolError   = websocket.CloseProtocolError // 1002

	wsReadLimit         = 1 << 20 // gqlgen's default
	wsCloseGrace        = 2 * time.Second
	wsMaxDeliverWorkers = 64
)

// wsProtocol is what one subprotocol does differently: the core calls it
// to answer the client's messages and for the few messages and close codes
// the two do not share (error and complete messages, and the closing
// handshake, are the same in both). There is one per subprotocol,
// transportWS (ws_transport.go) and legacyWS (ws_legacy.go), and a socket
// holds a pointer to its own: a word, as small as a flag would be.
type wsProtocol struct {
	// handle answers one message from the client; messages are handled one
	// at a time, in order, off the reading goroutine.
	handle func(c *wsConn, m wsMessage, start time.Time)
	// ack tells the client its connection_init was accepted.
	ack func(c *wsConn)
	// refuse closes the socket with code, first telling the client why if
	// the subprotocol has a message for it.
	refuse func(c *wsConn, code int, reason string)
	// reuse is called when a client subscribes under the id of an open
	// operation, old (c.mu not held): it reports whether the new operation
	// goes ahead.
	reuse func(c *wsConn, old *wsOp) bool
	// resultType is the type of the message that carries a result.
	resultType string
	// initTimeout closes a socket that sent no connection_init in time.
	initTimeout func(c *wsConn)
	// keepAlive is the sweeper's visit of an acknowledged socket, to keep
	// it alive or close it when its client stopped answering.
	keepAlive func(c *wsConn, now time.Time)
}

// wsProtocolOf is the protocol of a socket that negotiated subprotocol sub:
// graphql-ws unless the client asked for graphql-transport-ws.
func wsProtocolOf(sub string) *wsProtocol {
	if sub == protoTransportWS {
		return transportWS
	}
	return legacyWS
}

// wsHeaders stand in for the upgrade request's headers in every operation
// context: the document guard asks whether the transport streams, and the
// request's own headers are not kept for the socket's life.
var wsHeaders = http.Header{"Upgrade": []string{"websocket"}}

// wsWriteBuffers are shared by every socket: a buffer is held only while
// a message is being written.
var wsWriteBuffers sync.Pool

func newWSTransport(opt LiveOptions) *wsTransport {
	if opt.MaxConnsPerToken <= 0 {
		opt.MaxConnsPerToken = 10
	}
	if opt.MaxSubsPerConn <= 0 {
		opt.MaxSubsPerConn = 20
	}
	if opt.Sockets == nil {
		opt.Sockets = NewSockets()
	}
	t := &wsTransport{
		opt:          opt,
		initTimeout:  10 * time.Second,
		pingInterval: 20 * time.Second,
		kaInterval:   15 * time.Second,
		writeTimeout: 10 * time.Second,
		sweepEvery:   time.Second,
		conns:        map[*wsConn]struct{}{},
	}
	t.pool.max = wsMaxDeliverWorkers
	t.up = websocket.Upgrader{
		// Client messages are small and rare; a frame larger than the
		// buffer is read in pieces. 125 bytes (a control frame) is the least.
		ReadBufferSize:  128,
		WriteBufferSize: 4096,
		WriteBufferPool: &wsWriteBuffers,
		Subprotocols:    []string{protoGraphQLWS, protoTransportWS},
		CheckOrigin:     func(r *http.Request) bool { return originAllowed(r, opt.OriginPatterns) == nil },
	}
	return t
}

// originAllowed accepts requests without an Origin (not from a browser),
// same-origin requests, and origins matching one of patterns (host
// patterns such as "*.example.com", or "scheme://host" patterns), as
// coder/websocket's OriginPatterns did.
func originAllowed(r *http.Request, patterns []string) error {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil {
		return fmt.Errorf("bad Origin %q: %w", origin, err)
	}
	if strings.EqualFold(r.Host, u.Host) {
		return nil
	}
	for _, p := range patterns {
		target := u.Host
		if strings.Contains(p, "://") {
			target = u.Scheme + "://" + u.Host
		}
		if ok, _ := path.Match(strings.ToLower(p), strings.ToLower(target)); ok {
			return nil
		}
	}
	return fmt.Errorf("origin %q is not allowed for host %q", u.Host, r.Host)
}

var _ graphql.Transport = (*wsTransport)(nil)

func (t *wsTransport) Supports(r *http.Request) bool { return r.Header.Get("Upgrade") != "" }

// Do upgrades the request and starts the socket's reading goroutine; the
// socket outlives the call.
func (t *wsTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ws, err := t.up.Upgrade(hijacker{w}, r, nil)
	if err != nil {
		return // Upgrade has answered
	}
	// The server's read and write deadlines were for the HTTP request.
	_ = ws.NetConn().SetDeadline(time.Time{})
	ws.SetReadLimit(wsReadLimit)
	c := &wsConn{
		t:      t,
		ws:     ws,
		proto:  wsProtocolOf(ws.Subprotocol()),
		exec:   exec,
		opened: time.Now(),
	}
	// The socket outlives the handler: the handler's goroutine (whose stack
	// is deep with middleware) returns, and with it net/http's buffers and
	// the request; a fresh goroutine reads. The request's values stay, not
	// its cancellation (it ends when the handler returns). Operations are
	// cancelled one by one when the socket closes (release), so that the
	// socket's context needs no cancellation of its own (nor its list of
	// children).
	c.ctx = context.WithoutCancel(r.Context())
	c.ended = httpx.Detach(w)
	t.track(c)
	go c.read()
}

// hijacker reaches the connection through middleware that wraps the
// ResponseWriter (gorilla asserts http.Hijacker on it directly).
type hijacker struct{ http.ResponseWriter }

func (h hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(h.ResponseWriter).Hijack()
}

// ---------------------------------------------------------------- sockets

// wsConn is one socket.
type wsConn struct {
	t      *wsTransport
	ws     *websocket.Conn
	proto  *wsProtocol // transportWS or legacyWS
	exec   graphql.GraphExecutor
	opened time.Time
	ended  func() // tells the access log the connection ended

	// Set once, while connection_init is handled (messages are handled one
	// at a time, in order), before acked is.
	ctx     context.Context // the viewer and connState after init; never cancelled
	st      *connState      // under mu
	expires time.Time
	inited  bool // connection_init received (message handling only)
	// keyAuth is the Authorization of a socket opened with an API key, and
	// keyEpoch the verifier's key epoch when it was last checked (only the
	// sweeper reads and writes it after init).
	keyAuth  string
	keyEpoch uint64

	acked    atomic.Bool
	lastRead atomic.Int64 // unix nanoseconds
	closing  atomic.Bool
	// The sweeper's alone: when it last sent ping or ka, and whether that
	// ping is still unanswered.
	lastPing    int64
	pingWaiting bool

	wmu sync.Mutex // one writer at a time

	mu       sync.Mutex
	ops      []*wsOp // open operations (a few: MaxSubsPerConn bounds them)
	released bool
}

// wsMessage is a message of either subprotocol.
type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// read runs the socket's protocol until the socket closes.
func (c *wsConn) read() {
	defer c.closed()
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		start := graphql.Now()
		c.lastRead.Store(start.UnixNano())
		if c.closing.Load() {
			continue // waiting for the peer's close
		}
		// Handled in order, but on a goroutine of its own: decoding and
		// verifying a token need a deeper stack than reading does, and the
		// reading goroutine's stack is kept for the socket's life.
		c.offload(func() {
			var m wsMessage
			if err := json.Unmarshal(data, &m); err != nil || m.Type == "" {
				c.refuse(closeBadRequest, "invalid message")
				return
			}
			c.proto.handle(c, m, start)
		})
	}
}

// offload runs f on a goroutine of its own and waits for it: work that
// needs a deep stack does not grow the reading goroutine's, which stays
// small for the socket's life (a goroutine's stack, once grown, shrinks
// only by halves at garbage collections, and only when mostly unused).
func (c *wsConn) offload(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
}

// init authenticates the socket from connection_init's payload
// ({"Authorization": "Bearer <jwt>"}): a bad token is refused with 4403,
// which graphql-ws clients do not retry in a tight loop; the token
// subject's open sockets are capped (4429). The socket lives as long as its
// token: the sweeper closes it at expiry.
func (c *wsConn) init(raw json.RawMessage) {
	c.inited = true
	var p transport.InitPayload
	if len(raw) > 0 && !bytes.Equal(raw, []byte("null")) {
		if err := json.Unmarshal(raw, &p); err != nil {
			c.refuse(closeBadRequest, "invalid connection_init payload")
			return
		}
	}
	if c.t.opt.Verifier == nil {
		c.refuse(closeForbidden, "authentication is not configured")
		return
	}
	v, err := c.t.opt.Verifier.FromHeaderOnce(p.Authorization())
	if err != nil {
		c.refuse(closeForbidden, err.Error())
		return
	}
	st := &connState{max: int32(c.t.opt.MaxSubsPerConn), viewer: v}
	st.cancel = func() { c.t.pool.run(func() { c.refuse(closeNormal, "server shutting down") }) }
	c.mu.Lock()
	c.st = st
	c.mu.Unlock()
	if !c.opt().Sockets.acquire(st, c.opt().MaxConnsPerToken) {
		c.refuse(closeTooManyRequests, "too many open connections for this token")
		return
	}
	if c.closing.Load() { // closed while acquiring: release may have missed it
		c.opt().Sockets.release(st)
		return
	}
	c.expires = v.ExpiresAt
	if v.Role == auth.RoleService && strings.HasPrefix(v.UserID, "apikey:") {
		// An API key has no expiry: the socket lives until the key is
		// revoked, which the sweeper notices (keyStillValid).
		c.keyAuth, c.keyEpoch = p.Authorization(), c.t.opt.Verifier.KeyEpoch()
	}
	c.ctx = context.WithValue(auth.NewContext(c.ctx, v), connKey{}, st)
	c.acked.Store(true)
	c.proto.ack(c)
}

func (c *wsConn) opt() *LiveOptions { return &c.t.opt }

// refuse closes the socket with code, first telling a graphql-ws client why
// in a connection_error message (graphql-transport-ws has none).
func (c *wsConn) refuse(code int, reason string) { c.proto.refuse(c, code, reason) }

// send writes m, bounded by the write timeout; a socket that cannot take it
// is closed.
func (c *wsConn) send(m wsMessage) {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	c.wmu.Lock()
	if c.closing.Load() {
		c.wmu.Unlock()
		return
	}
	_ = c.ws.SetWriteDeadline(time.Now().Add(c.t.writeTimeout))
	err = c.ws.WriteMessage(websocket.TextMessage, b)
	_ = c.ws.SetWriteDeadline(time.Time{}) // no timer left armed between messages
	c.wmu.Unlock()
	if err != nil {
		c.close(closeGoingAway, "write failed")
	}
}

// close starts the closing handshake: it sends the close frame, ends every
// operation and frees the socket's slot at once, and leaves the reading
// goroutine to wait a little for the peer's close frame.
func (c *wsConn) close(code int, reason string) {
	if !c.closing.CompareAndSwap(false, true) {
		return
	}
	reason = truncate(reason, 120) // a close frame's reason: at most 123 bytes of UTF-8
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
	_ = c.ws.SetReadDeadline(time.Now().Add(wsCloseGrace))
	c.release()
}

// closed runs when the reading goroutine ends, whatever ended it.
func (c *wsConn) closed() {
	c.closing.Store(true)
	_ = c.ws.Close()
	c.release()
	c.t.forget(c)
	c.ended()
}

// release ends the socket's operations and frees its slot (once).
func (c *wsConn) release() {
	c.mu.Lock()
	done, st, ops := c.released, c.st, c.ops
	c.ops, c.released = nil, true
	c.mu.Unlock()
	if done {
		return
	}
	for _, op := range ops {
		op.cancel()
	}
	if st != nil {
		c.opt().Sockets.release(st)
	}
}

// ---------------------------------------------------------------- operations

// wsOp is one subscription on a socket.
type wsOp struct {
	c      *wsConn
	id     string
	ctx    context.Context
	cancel context.CancelFunc

	// Set by the resolver (liveWake, relay) while gqlgen dispatches the
	// operation, then by start; read by whoever holds running.
	woken     bool
	ready     func() bool
	responses graphql.ResponseHandler
	rctx      context.Context
	rc        *graphql.OperationContext

	running atomic.Bool // a goroutine is delivering (start's own, then the pool's)
	ended   atomic.Bool
}

type wsOpKey struct{}

// subscribe opens operation m.ID and starts it on a goroutine of its own;
// an id still open is the protocol's to decide (reuse).
func (c *wsConn) subscribe(m wsMessage, start time.Time) {
	c.mu.Lock()
	if c.released { // closing
		c.mu.Unlock()
		return
	}
	if old := c.op(m.ID); old != nil {
		c.mu.Unlock()
		if !c.proto.reuse(c, old) {
			return
		}
		c.mu.Lock()
		if c.released {
			c.mu.Unlock()
			return
		}
	}
	op := &wsOp{c: c, id: m.ID}
	op.ctx, op.cancel = context.WithCancel(c.ctx)
	op.ctx = context.WithValue(op.ctx, wsOpKey{}, op)
	op.running.Store(true)
	c.ops = append(c.ops, op)
	c.mu.Unlock()
	// Parsing, validation and the resolver (a database read) run off the
	// reading goroutine, whose stack stays small.
	go op.start(m.Payload, start)
}

// truncate cuts s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) > n {
		return strings.ToValidUTF8(s[:n], "")
	}
	return s
}

// op is the open operation id, if any; c.mu is held.
func (c *wsConn) op(id string) *wsOp {
	for _, op := range c.ops {
		if op.id == id {
			return op
		}
	}
	return nil
}

// stop ends operation id at the client's request; nothing is sent back.
func (c *wsConn) stop(id string) {
	c.mu.Lock()
	op := c.op(id)
	c.mu.Unlock()
	if op != nil {
		op.end()
	}
}

// end forgets the operation and cancels its context, which releases what its
// resolver holds. It reports whether this call ended it.
func (op *wsOp) end() bool {
	if !op.ended.CompareAndSwap(false, true) {
		return false
	}
	c := op.c
	c.mu.Lock()
	if i := slices.Index(c.ops, op); i >= 0 {
		c.ops = slices.Delete(c.ops, i, i+1)
	}
	c.mu.Unlock()
	op.cancel()
	return true
}

// start creates and dispatches the operation (gqlgen's executor, so every
// extension runs), then either hands it to the pool (its resolver wakes
// it) or, for a stream that cannot say when it has a value, stays with it.
func (op *wsOp) start(payload json.RawMessage, readStart time.Time) {
	c := op.c
	defer op.recover()
	ctx := graphql.StartOperationTrace(op.ctx)
	params := &graphql.RawParams{}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(params); err != nil {
		op.fail(&gqlerror.Error{Message: "invalid json"})
		return
	}
	params.ReadTime = graphql.TraceTiming{Start: readStart, End: graphql.Now()}
	params.Headers = wsHeaders
	rc, errs := c.exec.CreateOperationContext(ctx, params)
	if errs != nil {
		resp := c.exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs)
		if errcode.GetErrorKind(errs) == errcode.KindProtocol {
			op.fail(resp.Errors...)
			return
		}
		op.next(&graphql.Response{Errors: errs})
		op.complete()
		return
	}
	ctx = graphql.WithOperationContext(ctx, rc)
	op.rc = rc
	responses, ctx := c.exec.DispatchOperation(ctx, rc)
	if !op.woken || op.ready == nil {
		// Not wakeable (or refused: gqlgen answers errors at once): this
		// goroutine waits on the stream.
		for {
			resp := responses(ctx)
			if resp == nil {
				break
			}
			op.next(resp)
		}
		op.complete()
		return
	}
	op.responses, op.rctx = responses, ctx
	op.deliver()
}

// recover ends the operation with an error if delivering it panicked,
// through the server's recover function (which logs) when there is one.
func (op *wsOp) recover() {
	r := recover()
	if r == nil {
		return
	}
	gerr := &gqlerror.Error{Message: "internal error"}
	if op.rc != nil {
		if err := op.rc.Recover(op.ctx, r); err != nil {
			gerr.Message = err.Error()
		}
	}
	op.fail(gerr)
}

// wake is called by the resolver's stream after it buffers a value (and
// when it ends); it never blocks.
func (op *wsOp) wake() {
	if op.running.CompareAndSwap(false, true) {
		op.c.t.pool.run(op.deliver)
	}
}

// deliver sends what the stream has buffered, calling gqlgen's response
// function only while a value is waiting (so it never blocks); the caller
// holds running, which deliver gives up when it is done.
func (op *wsOp) deliver() {
	defer op.recover()
	for {
		for op.ctx.Err() == nil && op.ready() {
			resp := op.responses(op.rctx)
			if resp == nil {
				op.complete() // the stream ended
				return
			}
			op.next(resp)
		}
		if op.ctx.Err() != nil {
			op.end()
			return
		}
		op.running.Store(false)
		if !op.ready() || !op.running.CompareAndSwap(false, true) {
			return
		}
	}
}

func (op *wsOp) next(resp *graphql.Response) {
	if op.ctx.Err() != nil {
		return
	}
	b, err := json.Marshal(resp)
	if err != nil {
		panic(err)
	}
	op.c.send(wsMessage{ID: op.id, Type: op.c.proto.resultType, Payload: b})
}

// complete ends the operation from the server's side: the stream ended.
func (op *wsOp) complete() {
	if op.end() {
		op.c.send(wsMessage{ID: op.id, Type: "complete"})
	}
}

// fail ends the operation with errors (graphql-transport-ws: an error
// message ends the operation, no complete follows).
func (op *wsOp) fail(errs ...*gqlerror.Error) {
	if !op.end() {
		return
	}
	b, err := json.Marshal(errs)
	if err != nil {
		panic(err)
	}
	op.c.send(wsMessage{ID: op.id, Type: "error", Payload: b})
}

// wsOpFrom is the WebSocket operation a resolver runs for, if any.
func wsOpFrom(ctx context.Context) *wsOp {
	op, _ := ctx.Value(wsOpKey{}).(*wsOp)
	return op
}

// ---------------------------------------------------------------- delivery pool

// wsPool runs deliveries on at most max goroutines, started on demand and
// ended when nothing is queued.
type wsPool struct {
	mu      sync.Mutex
	queue   []func()
	workers int
	max     int
}

func (p *wsPool) run(f func()) {
	p.mu.Lock()
	p.queue = append(p.queue, f)
	start := p.workers < p.max
	if start {
		p.workers++
	}
	p.mu.Unlock()
	if start {
		go p.work()
	}
}

func (p *wsPool) work() {
	for {
		p.mu.Lock()
		if len(p.queue) == 0 {
			p.workers--
			p.queue = nil
			p.mu.Unlock()
			return
		}
		f := p.queue[0]
		p.queue[0] = nil
		p.queue = p.queue[1:]
		p.mu.Unlock()
		f()
	}
}

// ---------------------------------------------------------------- sweeper

func (t *wsTransport) track(c *wsConn) {
	c.lastRead.Store(c.opened.UnixNano())
	c.lastPing = c.opened.UnixNano()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.conns[c] = struct{}{}
	if !t.sweeping {
		t.sweeping = true
		go t.sweep()
	}
}

func (t *wsTransport) forget(c *wsConn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.conns, c)
}

// sweep visits every socket once per sweepEvery, while there are any: it
// closes sockets whose init timed out, whose token expired or whose client
// stopped answering pings, and sends the keep-alives. Writes go through
// the pool, so one stuck client does not hold up the rest.
func (t *wsTransport) sweep() {
	tick := time.NewTicker(t.sweepEvery)
	defer tick.Stop()
	var conns []*wsConn
	for now := range tick.C {
		t.mu.Lock()
		if len(t.conns) == 0 {
			t.sweeping = false
			t.mu.Unlock()
			return
		}
		conns = conns[:0]
		for c := range t.conns {
			conns = append(conns, c)
		}
		t.mu.Unlock()
		for i, c := range conns {
			t.visit(c, now)
			conns[i] = nil
		}
	}
}

func (t *wsTransport) visit(c *wsConn, now time.Time) {
	if c.closing.Load() {
		return // its reading goroutine ends it, within wsCloseGrace
	}
	if !c.acked.Load() {
		if now.Sub(c.opened) >= t.initTimeout {
			t.pool.run(func() { c.proto.initTimeout(c) })
		}
		return
	}
	if !c.expires.IsZero() && now.After(c.expires) {
		t.pool.run(func() { c.refuse(closeNormal, "token expired") })
		return
	}
	if c.keyAuth != "" {
		// A key was revoked somewhere (announced on every instance): check
		// this socket's key again, off the sweeper's goroutine.
		if e := t.opt.Verifier.KeyEpoch(); e != c.keyEpoch {
			c.keyEpoch = e
			t.pool.run(func() {
				if _, err := t.opt.Verifier.FromHeaderOnce(c.keyAuth); err != nil {
					c.refuse(closeForbidden, "API key revoked")
				}
			})
			return
		}
	}
	c.proto.keepAlive(c, now)
}
