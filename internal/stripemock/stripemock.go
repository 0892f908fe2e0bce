// Package stripemock runs Stripe's official API mock (stripe-mock, a tool
// dependency pinned in go.mod) for tests.
//
// Start uses STRIPE_MOCK_URL when it is set (a stripe-mock already running),
// and otherwise builds and starts `go tool stripe-mock` on free ports for the
// test. When that is impossible the test is skipped, except in CI (CI=true),
// where it fails: CI must never pass without having talked to stripe-mock.
package stripemock

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Start returns the base URL of a running stripe-mock (http://127.0.0.1:N).
func Start(t testing.TB) string {
	t.Helper()
	if u := os.Getenv("STRIPE_MOCK_URL"); u != "" {
		return strings.TrimSuffix(u, "/")
	}
	url, err := start(t)
	if err != nil {
		if os.Getenv("CI") != "" && os.Getenv("CI") != "false" {
			t.Fatalf("stripe-mock cannot run in CI: %v", err)
		}
		t.Skipf("stripe-mock cannot run here (%v); CI fails instead of skipping", err)
	}
	return url
}

func start(t testing.TB) (string, error) {
	bin, err := binary()
	if err != nil {
		return "", err
	}
	// Both listeners on free loopback ports: parallel test packages each
	// run their own mock.
	cmd := exec.Command(bin, "-http-addr", "127.0.0.1:", "-https-addr", "127.0.0.1:")
	cmd.SysProcAttr = sysProcAttr()
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("starting %s: %w", bin, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			if addr, ok := strings.CutPrefix(line, "Listening for HTTP at address: "); ok && !sent {
				found <- "http://" + strings.TrimSpace(addr)
				sent = true
			}
		}
		if !sent {
			close(found)
		}
	}()
	select {
	case url, ok := <-found:
		if !ok {
			return "", fmt.Errorf("stripe-mock exited before listening")
		}
		return url, ready(url)
	case <-time.After(60 * time.Second):
		return "", fmt.Errorf("stripe-mock did not listen within a minute")
	}
}

// ready waits until the mock answers.
func ready(url string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, url+"/v1/customers/cus_x", nil)
		req.Header.Set("Authorization", "Bearer sk_test_123")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("stripe-mock at %s does not answer: %w", url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// binary builds stripe-mock at the version go.mod pins (`go tool -n` builds
// it into the build cache and prints its path) and returns the path.
func binary() (string, error) {
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		if goBin, err = exec.LookPath("go"); err != nil {
			return "", fmt.Errorf("no go command to build stripe-mock with: %w", err)
		}
	}
	cmd := exec.Command(goBin, "tool", "-n", "stripe-mock")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go tool -n stripe-mock: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}
