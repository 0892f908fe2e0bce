package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"creditgate/auth"
	"creditgate/graph"
	"creditgate/logwriter"
)

// BenchmarkBalanceHTTP reads the client's own balance (served from the
// balance cache) through the whole in-process stack, as bench/'s
// read-balance does: a persisted-query hash over keep-alive HTTP/1.1
// connections, written and read as plain bytes so that the profile and
// allocs/op are nearly all the gateway's. The gateway here is configured
// as the bench's (development, access log at Info through the batching
// log writer, rate limits off). For profiling: -cpuprofile, -benchmem.
func BenchmarkBalanceHTTP(b *testing.B) {
	a := newAPI(b, "postgres")
	a.fund(a.fx.A1, "1") // a balance row, which the cache keeps
	env := map[string]string{
		"JWT_SECRET": string(testSecret), "DATABASE_URL": a.db.DSN, "APP_ENV": "development",
		"RATE_LIMIT_IP": "off", "RATE_LIMIT_SUBJECT": "off", "RATE_LIMIT_SERVICE": "off",
	}
	cfg, err := loadConfig(func(k string) string { return env[k] })
	if err != nil {
		b.Fatal(err)
	}
	logs := logwriter.New(io.Discard, logFlushEvery)
	b.Cleanup(func() { _ = logs.Close() })
	log := newLogger(Config{LogLevel: slog.LevelInfo}, logs)
	verifier, err := auth.NewVerifier(context.Background(), auth.Config{Secret: testSecret})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = newHTTPServer(routes(cfg, a.db, a.svc, verifier, graph.NewSockets(), log))
	srv.Start()
	b.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")

	const query = `{ balance { available } }`
	sum := sha256.Sum256([]byte(query))
	hash := hex.EncodeToString(sum[:])
	request := func(body string) []byte {
		return []byte("POST /graphql HTTP/1.1\r\nHost: " + host +
			"\r\nContent-Type: application/json\r\nAuthorization: Bearer " + a.client() +
			"\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
	}
	ext := `{"extensions":{"persistedQuery":{"sha256Hash":"` + hash + `","version":1}},`
	full := request(ext + `"query":"` + query + `","variables":null}`)
	hashed := request(ext + `"variables":null}`)

	type conn struct {
		c    net.Conn
		br   *bufio.Reader
		body []byte
	}
	dial := func() *conn {
		c, err := net.Dial("tcp", host)
		if err != nil {
			b.Fatal(err)
		}
		return &conn{c: c, br: bufio.NewReaderSize(c, 16<<10)}
	}
	// roundTrip sends req and reads the answer's body into c.body.
	roundTrip := func(c *conn, req []byte) error {
		if _, err := c.c.Write(req); err != nil {
			return err
		}
		length := -1
		for {
			line, err := c.br.ReadSlice('\n')
			if err != nil {
				return err
			}
			line = bytes.TrimRight(line, "\r\n")
			if len(line) == 0 {
				break
			}
			if k, v, ok := bytes.Cut(line, []byte(":")); ok && bytes.EqualFold(k, []byte("Content-Length")) {
				if length, err = strconv.Atoi(string(bytes.TrimSpace(v))); err != nil {
					return err
				}
			}
		}
		if length < 0 {
			return io.ErrUnexpectedEOF
		}
		if cap(c.body) < length {
			c.body = make([]byte, length)
		}
		c.body = c.body[:length]
		_, err := io.ReadFull(c.br, c.body)
		return err
	}
	// The document is registered and the token verified once, as on a
	// running gateway.
	first := dial()
	if err := roundTrip(first, full); err != nil {
		b.Fatal(err)
	}
	if !bytes.HasPrefix(first.body, []byte(`{"data":{"balance":{"available":`)) {
		b.Fatalf("unexpected answer %s", first.body)
	}
	_ = first.c.Close()

	b.ReportAllocs()
	b.ResetTimer()
	// cpu-us/op is this process's CPU (user and system: the gateway, its
	// GC, and the few µs of the raw client) per read: on a shared machine
	// ns/op follows the neighbours' load, CPU per op much less so.
	before := processCPU()
	defer func() {
		b.ReportMetric(float64((processCPU()-before).Microseconds())/float64(b.N), "cpu-us/op")
	}()
	b.RunParallel(func(pb *testing.PB) {
		c := dial()
		defer c.c.Close()
		for pb.Next() {
			if err := roundTrip(c, hashed); err != nil {
				b.Error(err)
				return
			}
			if bytes.Contains(c.body, []byte(`"errors"`)) {
				b.Errorf("answer with errors: %s", c.body)
				return
			}
		}
	})
}

// processCPU is the CPU time this process has used, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
