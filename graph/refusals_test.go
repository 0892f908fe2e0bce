package graph

import (
	"encoding/json"
	"testing"
)

// NUL is found at any depth of a variable, and named by its path.
func TestNULInVariables(t *testing.T) {
	for _, c := range []struct {
		vars map[string]any
		want string
	}{
		{map[string]any{"a": "ok", "n": 12, "b": true, "z": nil}, ""},
		{map[string]any{"a": "x\x00"}, "$a"},
		{map[string]any{"in": map[string]any{"ok": "fine", "refs": []any{"a", "b\x00c"}}}, "$in.refs[1]"},
		{map[string]any{"l": []any{[]any{map[string]any{"k": "\x00"}}}}, "$l[0][0].k"},
		{map[string]any{"b": "\x00", "a": []any{"\x00"}}, "$a[0]"}, // the first in name order
	} {
		if got := nulInVariables(c.vars); got != c.want {
			t.Errorf("%v: %q, want %q", c.vars, got, c.want)
		}
	}
}

// BenchmarkNULInVariables: a usage batch's variables (100 events), none
// holding a NUL, as nearly every request's are.
func BenchmarkNULInVariables(b *testing.B) {
	evs := make([]any, 100)
	for i := range evs {
		evs[i] = map[string]any{"accountId": "acc_0123456789abcdef", "serviceId": "svc_0123456789abcdef",
			"variant": "US", "quantity": json.Number("1"), "idempotencyKey": "key-0123456789", "reference": "msg-42"}
	}
	vars := map[string]any{"ev": evs}
	b.ReportAllocs()
	for b.Loop() {
		if nulInVariables(vars) != "" {
			b.Fatal("found a NUL")
		}
	}
}
