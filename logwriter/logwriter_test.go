package logwriter

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer that counts the writes it gets.
type lockedBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes++
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestLinesArriveWholeInOrderAndBatched(t *testing.T) {
	var out lockedBuffer
	w := New(&out, time.Hour) // only size and Close flush here
	var want strings.Builder
	for i := range 1000 {
		line := fmt.Sprintf("line %04d\n", i)
		want.WriteString(line)
		if _, err := w.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != want.String() {
		t.Fatalf("the output differs from the lines written:\n%.200s", got)
	}
	if out.writes > 2 { // 10,000 bytes: one write, at Close
		t.Fatalf("%d writes for 1000 lines of 10 bytes, want them batched", out.writes)
	}
}

func TestTheIntervalFlushes(t *testing.T) {
	var out lockedBuffer
	w := New(&out, 10*time.Millisecond)
	defer w.Close()
	_, _ = w.Write([]byte("hello\n"))
	deadline := time.Now().Add(5 * time.Second)
	for out.String() != "hello\n" {
		if time.Now().After(deadline) {
			t.Fatalf("nothing written after the interval: %q", out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestConcurrentWritersKeepEachRecordWhole(t *testing.T) {
	var out lockedBuffer
	w := New(&out, time.Millisecond)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				_, _ = fmt.Fprintf(w, "g%d-%03d %s\n", g, i, strings.Repeat("x", 100))
			}
		}()
	}
	wg.Wait()
	_ = w.Close()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 8*500 {
		t.Fatalf("%d lines, want %d", len(lines), 8*500)
	}
	for _, l := range lines {
		if len(l) != len("g0-000 ")+100 {
			t.Fatalf("a torn or merged record: %q", l)
		}
	}
	// After Close, writes go straight through.
	_, _ = w.Write([]byte("late\n"))
	if !strings.HasSuffix(out.String(), "late\n") {
		t.Fatal("a write after Close was not written")
	}
}
