package graph

import "testing"

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
