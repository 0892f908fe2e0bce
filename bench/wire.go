package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// The load generator's HTTP/1.1 client: one keep-alive TCP connection per
// simulated client, requests written from bytes built without reflection,
// answers read into a reused buffer and decoded only when they carry
// errors or the caller wants their data. net/http's client cost this
// process about half of what the gateway spent on a balance read (two
// goroutines per connection, header maps, json.Marshal of maps); on two
// shared cores that was taken from the gateway and PostgreSQL.

// document is a GraphQL document and the constant starts of the bodies
// that send it, each up to its "variables" value. The bytes are those
// json.Marshal writes for the equivalent map (keys sorted), so the gateway
// sees the same requests as from a net/http client.
type document struct {
	query  string
	hashed []byte // APQ: the hash alone
	full   []byte // APQ: the hash and the query text
	plain  []byte // the query text alone (-apq=false)
}

func newDocument(query string) *document {
	sum := sha256.Sum256([]byte(query))
	ext := `{"extensions":{"persistedQuery":{"sha256Hash":"` + hex.EncodeToString(sum[:]) + `","version":1}},`
	q, err := json.Marshal(query)
	if err != nil {
		panic(err)
	}
	return &document{
		query:  query,
		hashed: []byte(ext + `"variables":`),
		full:   []byte(ext + `"query":` + string(q) + `,"variables":`),
		plain:  []byte(`{"query":` + string(q) + `,"variables":`),
	}
}

// first is the start of the body a request is sent with first: the hash
// alone with persisted queries, else the query text.
func (d *document) first(apq bool) []byte {
	if apq {
		return d.hashed
	}
	return d.plain
}

// appendRequest appends a POST /graphql of the body start, then vars (a
// JSON object; nil is null) and the closing brace.
func appendRequest(dst []byte, host, token string, start, vars []byte) []byte {
	if vars == nil {
		vars = []byte("null")
	}
	dst = append(dst, "POST /graphql HTTP/1.1\r\nHost: "...)
	dst = append(dst, host...)
	dst = append(dst, "\r\nContent-Type: application/json\r\nAuthorization: Bearer "...)
	dst = append(dst, token...)
	dst = append(dst, "\r\nContent-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(start)+len(vars)+1), 10)
	dst = append(dst, "\r\n\r\n"...)
	dst = append(dst, start...)
	dst = append(dst, vars...)
	return append(dst, '}')
}

// appendString appends s as a JSON string, as json.Marshal writes it.
// The bench's ids, keys and amounts are plain ASCII: copied as they are.
func appendString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, err := json.Marshal(s)
			if err != nil {
				panic(err)
			}
			return append(dst, q...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// wireConn is one simulated client's connection to the gateway.
type wireConn struct {
	ctx  context.Context
	host string // host:port, dialled and sent as Host
	conn net.Conn
	br   *bufio.Reader
	stop func() bool // unregisters the connection's cancellation
	// used: the connection has answered a request, so a failure before
	// any byte of the next answer is most likely the server having
	// closed it while idle, and the request is sent again on a new one.
	used bool

	status int    // the last answer's HTTP status
	body   []byte // the last answer's body, reused
	req    []byte // the request being built, reused
}

func newWireConn(ctx context.Context, baseURL string) (*wireConn, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("the load generator speaks plain HTTP only, not %q", baseURL)
	}
	return &wireConn{ctx: ctx, host: u.Host}, nil
}

func (w *wireConn) dial() error {
	var d net.Dialer
	conn, err := d.DialContext(w.ctx, "tcp", w.host)
	if err != nil {
		return err
	}
	w.conn, w.used = conn, false
	if w.br == nil {
		w.br = bufio.NewReaderSize(conn, 16<<10)
	} else {
		w.br.Reset(conn)
	}
	// Interrupting the bench ends a request waiting for its answer, as
	// net/http's did with the request's context.
	w.stop = context.AfterFunc(w.ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	return nil
}

// Close closes the connection, if one is open.
func (w *wireConn) Close() {
	if w.conn != nil {
		w.stop()
		_ = w.conn.Close()
		w.conn = nil
	}
}

// roundTrip sends req (a whole HTTP request) and reads the answer into
// w.status and w.body.
func (w *wireConn) roundTrip(req []byte) error {
	for retried := false; ; retried = true {
		if w.conn == nil {
			if err := w.dial(); err != nil {
				return err
			}
		}
		reused := w.used
		answered, err := w.exchange(req)
		if err == nil {
			w.used = true
			return nil
		}
		w.Close()
		if retried || !reused || answered || w.ctx.Err() != nil {
			return err
		}
	}
}

// exchange writes req and reads its answer; answered says whether any of
// the answer had arrived when it failed.
func (w *wireConn) exchange(req []byte) (answered bool, err error) {
	if _, err := w.conn.Write(req); err != nil {
		return false, err
	}
	line, err := w.br.ReadSlice('\n')
	if err != nil {
		return len(line) > 0, err
	}
	// "HTTP/1.1 200 OK\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return true, fmt.Errorf("malformed status line %q", line)
	}
	w.status = 0
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return true, fmt.Errorf("malformed status line %q", line)
		}
		w.status = w.status*10 + int(c-'0')
	}
	length, chunked, closing := -1, false, false
	for {
		line, err := w.br.ReadSlice('\n')
		if err != nil {
			return true, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			return true, fmt.Errorf("malformed header %q", line)
		}
		name, value := line[:colon], bytes.TrimSpace(line[colon+1:])
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = parseLength(value, 10); err != nil {
				return true, fmt.Errorf("Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
			if !chunked {
				return true, fmt.Errorf("unsupported Transfer-Encoding %q", value)
			}
		case bytes.EqualFold(name, []byte("Connection")):
			closing = bytes.EqualFold(value, []byte("close"))
		}
	}
	w.body = w.body[:0]
	switch {
	case chunked:
		err = w.readChunked()
	case length >= 0:
		err = w.readN(length)
	case w.status == 204 || w.status == 304:
	default: // the body ends with the connection
		w.body, err = appendAll(w.body, w.br)
		closing = true
	}
	if err != nil {
		return true, err
	}
	if closing {
		w.Close()
	}
	return true, nil
}

// readN appends the next n bytes of the connection to w.body.
func (w *wireConn) readN(n int) error {
	have := len(w.body)
	w.body = slices.Grow(w.body, n)[:have+n]
	_, err := io.ReadFull(w.br, w.body[have:])
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// readChunked appends a chunked body to w.body (the gateway chunks an
// answer that outgrows its write buffer, e.g. a history page).
func (w *wireConn) readChunked() error {
	for {
		line, err := w.br.ReadSlice('\n')
		if err != nil {
			return err
		}
		line = bytes.TrimRight(line, "\r\n")
		if i := bytes.IndexByte(line, ';'); i >= 0 { // chunk extensions
			line = line[:i]
		}
		size, err := parseLength(bytes.TrimSpace(line), 16)
		if err != nil {
			return fmt.Errorf("malformed chunk size %q", line)
		}
		if size == 0 {
			for { // trailers, up to the empty line
				line, err := w.br.ReadSlice('\n')
				if err != nil {
					return err
				}
				if len(bytes.TrimRight(line, "\r\n")) == 0 {
					return nil
				}
			}
		}
		if err := w.readN(size); err != nil {
			return err
		}
		crlf, err := w.br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if string(crlf) != "\r\n" {
			return fmt.Errorf("chunk not followed by CRLF")
		}
	}
}

// parseLength parses a non-negative length in base 10 or 16.
func parseLength(b []byte, base int) (int, error) {
	if len(b) == 0 || len(b) > 15 {
		return 0, errors.New("bad length")
	}
	n := 0
	for _, c := range b {
		var d int
		switch {
		case c >= '0' && c <= '9':
			d = int(c - '0')
		case base == 16 && c >= 'a' && c <= 'f':
			d = int(c-'a') + 10
		case base == 16 && c >= 'A' && c <= 'F':
			d = int(c-'A') + 10
		default:
			return 0, errors.New("bad length")
		}
		n = n*base + d
	}
	return n, nil
}

func appendAll(dst []byte, r io.Reader) ([]byte, error) {
	var buf bytes.Buffer
	buf.Write(dst)
	_, err := buf.ReadFrom(r)
	return buf.Bytes(), err
}

// errorsKey marks an answer that may carry GraphQL errors: only those are
// decoded (every answer was, with net/http).
var errorsKey = []byte(`"errors"`)

// result returns the first GraphQL error's code in the last answer ("" if
// none; "unknown" for an error without one; "HTTP <status>" for an answer
// that is not GraphQL's JSON). Without an error, the answer's data goes
// into data unless it is nil.
func (w *wireConn) result(data any) (string, error) {
	body := w.body
	if w.status != 200 || bytes.Contains(body, errorsKey) {
		var out struct {
			Errors []struct {
				Extensions struct{ Code string } `json:"extensions"`
			} `json:"errors"`
		}
		if err := json.Unmarshal(body, &out); err != nil {
			return fmt.Sprintf("HTTP %d", w.status), nil
		}
		if len(out.Errors) > 0 {
			if c := out.Errors[0].Extensions.Code; c != "" {
				return c, nil
			}
			return "unknown", nil
		}
	}
	// An answer is not otherwise parsed: its framing (length or chunks)
	// was checked, and a JSON object is at least braces.
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) < 2 || trimmed[0] != '{' || trimmed[len(trimmed)-1] != '}' {
		return fmt.Sprintf("HTTP %d", w.status), nil
	}
	if data != nil {
		var out struct {
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(body, &out); err != nil {
			return fmt.Sprintf("HTTP %d", w.status), nil
		}
		if err := json.Unmarshal(out.Data, data); err != nil {
			return "", fmt.Errorf("decoding the answer: %w", err)
		}
	}
	return "", nil
}
