package graph

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"creditgate/auth"
	"creditgate/credits"
)

// Refusals of a whole operation, made before anything runs: the answer is
// the error and "data": null, never a null in a non-null field beside it.

// ---------------------------------------------------------------- authentication

// requireViewer refuses an operation without a verified token, unless all
// it asks for is introspection (__typename, __schema, __type): UNAUTHENTICATED
// with the reason the token was refused. It runs before the limits (the
// cheapest refusal, and the one a client whose token expired needs to
// hear), on every transport: POST, GET, Server-Sent Events, and WebSocket
// operations (whose viewer comes from connection_init).
type requireViewer struct{}

func (requireViewer) ExtensionName() string                   { return "RequireViewer" }
func (requireViewer) Validate(graphql.ExecutableSchema) error { return nil }

func (requireViewer) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	if opCtx.Operation == nil {
		return nil
	}
	if _, ok := auth.FromContext(ctx); ok {
		return nil
	}
	if !needsViewer(opCtx.Operation.SelectionSet, map[string]bool{}) {
		return nil
	}
	msg := "missing bearer token"
	if err := auth.ErrorFromContext(ctx); err != nil {
		msg = err.Error()
	}
	return &gqlerror.Error{
		Message:    msg,
		Extensions: map[string]any{"code": string(credits.CodeUnauthenticated)},
	}
}

// needsViewer reports whether set has a root field other than
// introspection's; seen guards against visiting a fragment twice.
func needsViewer(set ast.SelectionSet, seen map[string]bool) bool {
	for _, sel := range set {
		switch x := sel.(type) {
		case *ast.Field:
			if !strings.HasPrefix(x.Name, "__") {
				return true
			}
		case *ast.InlineFragment:
			if needsViewer(x.SelectionSet, seen) {
				return true
			}
		case *ast.FragmentSpread:
			if x.Definition == nil || seen[x.Name] {
				continue
			}
			seen[x.Name] = true
			if needsViewer(x.Definition.SelectionSet, seen) {
				return true
			}
		}
	}
	return false
}

// ---------------------------------------------------------------- NUL characters

// nulInputs refuses an operation any of whose string inputs holds a NUL
// character (U+0000): in a variable, at any depth of an input object or
// list, or written in the document (arguments, directives, variable
// defaults). PostgreSQL refuses NUL in text (it would otherwise surface as
// INTERNAL) and SQLite would store it; here both answer BAD_USER_INPUT, once
// for every field, before anything runs.
type nulInputs struct{}

func (nulInputs) ExtensionName() string                   { return "NULInputs" }
func (nulInputs) Validate(graphql.ExecutableSchema) error { return nil }

func (nulInputs) MutateOperationContext(_ context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	if where := nulInVariables(opCtx.Variables); where != "" {
		return nulRefusal(where)
	}
	// A literal holds a NUL only if the text has one, raw or escaped (\u):
	// most documents have neither, and are not walked.
	if opCtx.Doc == nil || (opCtx.RawQuery != "" && strings.IndexByte(opCtx.RawQuery, 0) < 0 && !strings.Contains(opCtx.RawQuery, `\u`)) {
		return nil
	}
	var w nulWalker
	for _, op := range opCtx.Doc.Operations {
		for _, v := range op.VariableDefinitions {
			if w.value(v.DefaultValue) {
				return nulRefusal("the default of $" + v.Variable)
			}
		}
		if w.directives(op.Directives) || w.selectionSet(op.SelectionSet) {
			return nulRefusal(w.where)
		}
	}
	for _, f := range opCtx.Doc.Fragments {
		if w.directives(f.Directives) || w.selectionSet(f.SelectionSet) {
			return nulRefusal(w.where)
		}
	}
	return nil
}

func nulRefusal(where string) *gqlerror.Error {
	err := gqlerror.Errorf("%s contains a NUL character (U+0000), which no text input may hold", where)
	errcode.Set(err, string(credits.CodeBadInput))
	return err
}

// nulInVariables is the path of the first variable (in name order, so the
// answer is stable) holding a NUL, or "".
func nulInVariables(vars map[string]any) string {
	if !hasNul(vars) {
		return "" // the common case, without the sorting and paths below
	}
	names := make([]string, 0, len(vars))
	for n := range vars {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if p := nulIn(vars[n], "$"+n); p != "" {
			return p
		}
	}
	return ""
}

// hasNul reports whether any string in v holds a NUL.
func hasNul(v any) bool {
	switch x := v.(type) {
	case string:
		return strings.IndexByte(x, 0) >= 0
	case []any:
		for _, e := range x {
			if hasNul(e) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if hasNul(e) {
				return true
			}
		}
	}
	return false
}

func nulIn(v any, path string) string {
	switch x := v.(type) {
	case string:
		if strings.IndexByte(x, 0) >= 0 {
			return path
		}
	case []any:
		for i, e := range x {
			if p := nulIn(e, fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if p := nulIn(x[k], path+"."+k); p != "" {
				return p
			}
		}
	}
	return ""
}

// nulWalker looks for NUL in the document's literal values.
type nulWalker struct{ where string }

func (w *nulWalker) selectionSet(set ast.SelectionSet) bool {
	for _, sel := range set {
		switch x := sel.(type) {
		case *ast.Field:
			for _, a := range x.Arguments {
				if w.value(a.Value) {
					w.where = fmt.Sprintf("argument %s of %s", a.Name, x.Name)
					return true
				}
			}
			if w.directives(x.Directives) || w.selectionSet(x.SelectionSet) {
				return true
			}
		case *ast.InlineFragment:
			if w.directives(x.Directives) || w.selectionSet(x.SelectionSet) {
				return true
			}
		case *ast.FragmentSpread:
			if w.directives(x.Directives) {
				return true
			}
			// The fragment's own body is walked with the document's fragments.
		}
	}
	return false
}

func (w *nulWalker) directives(ds ast.DirectiveList) bool {
	for _, d := range ds {
		for _, a := range d.Arguments {
			if w.value(a.Value) {
				w.where = fmt.Sprintf("argument %s of @%s", a.Name, d.Name)
				return true
			}
		}
	}
	return false
}

func (w *nulWalker) value(v *ast.Value) bool {
	if v == nil {
		return false
	}
	switch v.Kind {
	case ast.StringValue, ast.BlockValue:
		return strings.IndexByte(v.Raw, 0) >= 0
	case ast.ListValue, ast.ObjectValue:
		for _, c := range v.Children {
			if w.value(c.Value) {
				return true
			}
		}
	}
	return false
}
