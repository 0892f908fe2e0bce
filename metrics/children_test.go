package metrics

import (
	"sync"
	"testing"
)

// A label set's child is made on its first lookup and then kept: make is
// not called again for it, and each label set has its own.
func TestChildrenKeepsEachChild(t *testing.T) {
	calls := map[string]int{}
	c := NewChildren(func(k string) *int {
		calls[k]++
		return new(int)
	})
	a := c.Of("a")
	for range 3 {
		if c.Of("a") != a {
			t.Fatal("a's child changed")
		}
	}
	if c.Of("b") == a {
		t.Fatal("two label sets share a child")
	}
	if calls["a"] != 1 || calls["b"] != 1 {
		t.Fatalf("make called %v, want once per label set", calls)
	}
}

// Lookups from many goroutines are safe (run under -race); a child made
// twice by a race is harmless, as WithLabelValues returns the same one.
func TestChildrenConcurrent(t *testing.T) {
	c := NewChildren(func(k int) int { return k * 2 })
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				if got := c.Of((g + i) % 10); got != (g+i)%10*2 {
					t.Errorf("Of(%d) = %d", (g+i)%10, got)
					return
				}
			}
		}()
	}
	wg.Wait()
}
