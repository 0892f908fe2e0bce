package metrics

import "sync"

// Children keeps the children of a metric vector by their labels.
// WithLabelValues hashes its labels and looks them up under the vector's
// lock on every call (and callers format labels such as a status code
// anew each time); on a path served tens of thousands of times a second,
// looking the child up once per label set is cheaper. K must range over a
// bounded set, as the vector's own labels must.
type Children[K comparable, C any] struct {
	mu       sync.RWMutex
	m        map[K]C
	newChild func(K) C // the vector's child for k (WithLabelValues)
}

// NewChildren keeps the children that newChild returns.
func NewChildren[K comparable, C any](newChild func(K) C) *Children[K, C] {
	return &Children[K, C]{m: map[K]C{}, newChild: newChild}
}

// Of is the child of k.
func (c *Children[K, C]) Of(k K) C {
	c.mu.RLock()
	ch, ok := c.m[k]
	c.mu.RUnlock()
	if ok {
		return ch
	}
	// Two goroutines may both make it: WithLabelValues gives both the
	// same child.
	ch = c.newChild(k)
	c.mu.Lock()
	c.m[k] = ch
	c.mu.Unlock()
	return ch
}
