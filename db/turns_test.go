package db

import (
	"context"
	"sync"
	"testing"
	"time"
)

// waitFor polls cond (a goroutine's progress) for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func (q *turns) state() (free, queued int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.free, len(q.waiting)
}

// Turns are handed out in the order they were asked for once the free
// ones are taken; a waiter whose context ends leaves the queue without
// taking anyone's place, and a turn given back twice is handed on once.
func TestTurnsAreFirstComeFirstServed(t *testing.T) {
	q := newTurns(3)
	ctx := context.Background()
	var held []*turn
	for range 3 {
		_, tn, err := q.take(ctx)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, tn)
	}
	const n = 20
	got := make(chan int, n)
	cancels := map[int]context.CancelFunc{}
	var done sync.WaitGroup // every waiter has given its turn back
	for i := range n {
		wctx, cancel := context.WithCancel(ctx)
		cancels[i] = cancel
		done.Add(1)
		go func() {
			defer done.Done()
			_, tn, err := q.take(wctx)
			if err != nil {
				got <- -1 - i // left the queue
				return
			}
			got <- i
			tn.give()
			tn.give() // again: nothing more is handed on
		}()
		waitFor(t, "the waiter to queue", func() bool { _, w := q.state(); return w == i+1 })
	}
	// Waiters 3 and 11 give up while queued.
	cancels[3]()
	cancels[11]()
	for range 2 {
		if v := <-got; v != -1-3 && v != -1-11 {
			t.Fatalf("a cancelled waiter answered %d", v)
		}
	}
	held[0].give() // one turn goes round the queue, in order
	for want := range n {
		if want == 3 || want == 11 {
			continue
		}
		if v := <-got; v != want {
			t.Fatalf("turn went to %d, want %d", v, want)
		}
	}
	held[1].give()
	held[2].give()
	for _, c := range cancels {
		c()
	}
	// A waiter reports its turn before giving it back: the last may not
	// have given it back yet.
	done.Wait()
	if free, queued := q.state(); free != 3 || queued != 0 {
		t.Fatalf("after every turn: %d free, %d queued; want 3, 0", free, queued)
	}
}

// A waiter whose context ends just as the turn is handed to it passes the
// turn on instead of dropping it.
func TestTurnHandedAsContextEndsIsPassedOn(t *testing.T) {
	q := newTurns(1)
	_, first, _ := q.take(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	w := &turn{q: q, ready: make(chan struct{})}
	// w is queued and then both handed the turn and cancelled: take's
	// select may see either; both must leave the turn with the next one.
	q.waiting = append(q.waiting, w)
	first.give()
	cancel()
	select {
	case <-w.ready:
	default:
		t.Fatal("the turn was not handed to the waiter")
	}
	w.give()                    // what take does when it finds it was handed the turn after ctx ended
	_, next, err := q.take(ctx) // ctx is done, but a turn is free: taken at once
	if err != nil {
		t.Fatalf("a free turn was not taken: %v", err)
	}
	next.give()
	if free, _ := q.state(); free != 1 {
		t.Fatalf("%d turns free, want 1", free)
	}
}
