//go:build tools

// Package tools pins the code generators in go.mod so that a fresh clone
// generates the same bytes.
package tools

import (
	_ "entgo.io/contrib/entgql"
	_ "entgo.io/ent/cmd/ent"
	_ "github.com/99designs/gqlgen"
)
