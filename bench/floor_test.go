package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestMain lets the test binary be the floor server, as the bench binary
// is: startFloor re-executes the running binary.
func TestMain(m *testing.M) {
	if answer := os.Getenv(floorEnv); answer != "" {
		if err := serveFloor(answer); err != nil {
			fmt.Fprintln(os.Stderr, "floor server:", err)
			os.Exit(1)
		}
		return
	}
	os.Exit(m.Run())
}

func TestFloorServerAnswersTheCapturedBytes(t *testing.T) {
	ctx := context.Background()
	answer := []byte(`{"data":{"balance":{"available":"10.00"}}}`)
	f, err := startFloor(ctx, t.TempDir(), answer)
	if err != nil {
		t.Fatal(err)
	}
	defer f.close()
	if f.pid() == os.Getpid() {
		t.Fatal("the floor server runs in the test's own process")
	}

	// The load generator's balance reads, on one kept-alive connection.
	e := &env{apq: true, spread: []*client{{account: "acc_1", token: "tok-1"}}}
	w, err := newWireConn(ctx, f.url)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	pre := e.prebuild(scenarios["read-balance"], w.host)
	var conn any
	for i := range 3 {
		c, err := e.request(scenarios["read-balance"], pre, nil)
		if err != nil {
			t.Fatal(err)
		}
		if code, err := e.send(w, c, nil); code != "" || err != nil {
			t.Fatalf("read %d: %q, %v", i, code, err)
		}
		if w.status != http.StatusOK || !bytes.Equal(w.body, answer) {
			t.Fatalf("read %d: HTTP %d %q, want 200 %q", i, w.status, w.body, answer)
		}
		if i > 0 && w.conn != conn {
			t.Fatalf("read %d came on a new connection", i)
		}
		conn = w.conn
	}

	// Its headers, as net/http's client sees them.
	resp, err := http.Post(f.url+"/graphql", "application/json", strings.NewReader(`{"query":"{ balance { available } }"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, answer) ||
		resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("Content-Length") != strconv.Itoa(len(answer)) {
		t.Fatalf("POST /graphql: %s %v %q", resp.Status, resp.Header, body)
	}
	for _, r := range []struct{ method, path string }{{http.MethodGet, "/graphql"}, {http.MethodPost, "/other"}} {
		req, err := http.NewRequest(r.method, f.url+r.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Errorf("%s %s answered 200", r.method, r.path)
		}
	}
	http.DefaultClient.CloseIdleConnections()

	// Closing its standard input ends it by itself, not killed.
	f.close()
	if st := f.cmd.ProcessState; st == nil || st.ExitCode() != 0 {
		t.Fatalf("the floor server ended with %v, want exit 0", st)
	}
}
