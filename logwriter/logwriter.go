// Package logwriter batches log records into few writes. A gateway under
// load logs a line per request; written one by one, each line is a write
// system call (a pipe's reader woken each time), which cost more than
// formatting the line. Records are kept in memory for at most the flush
// interval, or until 32 KiB are waiting, and then written together.
//
// The price is that a crash loses what the last interval logged; a
// panic's own report goes to stderr directly and is not delayed.
package logwriter

import (
	"io"
	"sync"
	"time"
)

// flushAt is how many bytes make a write happen at once, without waiting
// for the interval.
const flushAt = 32 << 10

// Writer is an io.Writer that batches what it is given. It is safe for
// concurrent use: each Write is kept whole, in the order of the calls.
type Writer struct {
	out  io.Writer
	mu   sync.Mutex
	buf  []byte
	done chan struct{} // closed by Close
	wg   sync.WaitGroup
}

// New returns a Writer writing to out at least every interval. Close it
// to write what is left.
func New(out io.Writer, interval time.Duration) *Writer {
	w := &Writer{out: out, buf: make([]byte, 0, flushAt), done: make(chan struct{})}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				_ = w.Flush()
			case <-w.done:
				return
			}
		}
	}()
	return w
}

// Write keeps p for the next flush; it writes at once when enough has
// been kept, or when the Writer is closed.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	select {
	case <-w.done:
		return w.out.Write(p)
	default:
	}
	w.buf = append(w.buf, p...)
	if len(w.buf) >= flushAt {
		return len(p), w.flushLocked()
	}
	return len(p), nil
}

// Flush writes what is kept.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.flushLocked()
}

func (w *Writer) flushLocked() error {
	if len(w.buf) == 0 {
		return nil
	}
	_, err := w.out.Write(w.buf)
	if cap(w.buf) > 4*flushAt { // a burst's buffer is not kept
		w.buf = make([]byte, 0, flushAt)
	} else {
		w.buf = w.buf[:0]
	}
	return err
}

// Close writes what is kept and stops the interval's flushes; later
// writes go straight through. When it returns, nothing of the Writer
// writes to out any more but those later writes.
func (w *Writer) Close() error {
	w.mu.Lock()
	select {
	case <-w.done:
		w.mu.Unlock()
		return nil
	default:
	}
	close(w.done)
	err := w.flushLocked()
	w.mu.Unlock()
	w.wg.Wait()
	return err
}
