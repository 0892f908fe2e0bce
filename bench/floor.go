package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// The floor: what the bare HTTP layer costs on this machine. A plain
// net/http server, no middleware, answers every POST /graphql with the
// bytes the gateway answered to a balance read, so the same load generator
// (same clients, requests and duration) measures net/http and the loopback
// syscalls alone; the gateway's distance from it is its own work (auth,
// GraphQL, cache). It runs in its own process so that its CPU is read from
// /proc apart from the load generator's, as the gateway's is.
//
// The floor server is this binary re-executed with BENCH_SERVE_FLOOR set
// to a file holding the answer's bytes (an environment variable rather
// than a flag, to stay out of the bench's own flags). It listens on a free
// loopback port, writes its URL as the first line of its standard output,
// and exits when its standard input closes: when the bench closes it, or
// dies without doing so.
const floorEnv = "BENCH_SERVE_FLOOR"

// jsonType is the floor's Content-Type value, shared by every answer
// (net/http only reads it) so setting it allocates nothing.
var jsonType = []string{"application/json"}

// floorHandler answers POST /graphql with answer after reading the whole
// request body, as the gateway reads it; anything else is refused.
func floorHandler(answer []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/graphql" {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		// io.Discard reads through a pooled buffer: nothing allocated.
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			http.Error(w, "reading the request: "+err.Error(), http.StatusBadRequest)
			return
		}
		w.Header()["Content-Type"] = jsonType
		_, _ = w.Write(answer)
	})
}

// newFloorServer has the gateway's keep-alive and timeouts (server/main.go's
// newHTTPServer), so connections live and end the same way.
func newFloorServer(answer []byte) *http.Server {
	return &http.Server{
		Handler:           floorHandler(answer),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

// serveFloor is the floor process's whole life (see floorEnv).
func serveFloor(answerFile string) error {
	answer, err := os.ReadFile(answerFile)
	if err != nil {
		return fmt.Errorf("reading the answer: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listening: %w", err)
	}
	if _, err := fmt.Printf("http://%s\n", ln.Addr()); err != nil {
		return fmt.Errorf("announcing the address: %w", err)
	}
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	return newFloorServer(answer).Serve(ln)
}

// floorServer is a running floor process.
type floorServer struct {
	cmd   *exec.Cmd
	stdin io.Closer
	url   string
	done  chan struct{} // closed when the process has been waited for
}

// startFloor writes answer into dir and starts a floor process answering it.
func startFloor(ctx context.Context, dir string, answer []byte) (*floorServer, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding the bench binary: %w", err)
	}
	file := filepath.Join(dir, "floor-answer.json")
	if err := os.WriteFile(file, answer, 0o644); err != nil {
		return nil, fmt.Errorf("writing the floor's answer: %w", err)
	}
	cmd := exec.CommandContext(ctx, self)
	cmd.Env = append(os.Environ(), floorEnv+"="+file)
	cmd.Stderr = os.Stderr // it writes only if it fails
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the floor server: %w", err)
	}
	f := &floorServer{cmd: cmd, stdin: stdin, done: make(chan struct{})}
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		lines <- line
		// Wait closes stdout: only after its first line has been read.
		_ = cmd.Wait()
		close(f.done)
	}()
	select {
	case line := <-lines:
		f.url = strings.TrimSpace(line)
	case <-time.After(10 * time.Second):
	}
	if !strings.HasPrefix(f.url, "http://") {
		f.close()
		return nil, fmt.Errorf("the floor server did not announce its address (got %q)", f.url)
	}
	return f, nil
}

func (f *floorServer) pid() int { return f.cmd.Process.Pid }

// close ends the floor process by closing its standard input, and kills
// it if it has not exited within a few seconds.
func (f *floorServer) close() {
	_ = f.stdin.Close()
	select {
	case <-f.done:
	case <-time.After(5 * time.Second):
		_ = f.cmd.Process.Kill()
		<-f.done
	}
}

// captureBalanceAnswer asks the gateway for a spread client's balance, as
// the read-balance load does, and returns the answer's body: what the
// floor answers.
func (e *env) captureBalanceAnswer(ctx context.Context) ([]byte, error) {
	w, err := newWireConn(ctx, e.url)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	code, err := e.send(w, call{token: e.spread[0].token, doc: balanceDoc}, nil)
	switch {
	case err != nil:
		return nil, fmt.Errorf("capturing a balance answer: %w", err)
	case code != "":
		return nil, fmt.Errorf("capturing a balance answer: %s: %s", code, w.body)
	case w.status != http.StatusOK:
		return nil, fmt.Errorf("capturing a balance answer: HTTP %d", w.status)
	}
	return bytes.Clone(w.body), nil
}

// floorFor starts the floor server on the gateway's balance answer, once.
func (e *env) floorFor(ctx context.Context) (*floorServer, error) {
	if e.floor != nil {
		return e.floor, nil
	}
	answer, err := e.captureBalanceAnswer(ctx)
	if err != nil {
		return nil, err
	}
	if e.floor, err = startFloor(ctx, e.tmp, answer); err != nil {
		return nil, err
	}
	return e.floor, nil
}

// loadFloor runs the scenario's load against the floor server.
func (e *env) loadFloor(ctx context.Context, f *floorServer, sc scenario, clients int, d time.Duration) (runResult, error) {
	r, err := e.load(ctx, f.url, f.pid(), sc, clients, d)
	if err != nil {
		return r, fmt.Errorf("floor: %w", err)
	}
	return r, nil
}
