package graph

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// documentGuard refuses, before gqlgen validates anything, what must not
// reach validation: documents with more field nodes than the field limit
// (validation is quadratic in fields: 7,000 __typename cost seconds of CPU
// before any later limit could refuse them), and subscriptions sent as a
// plain request, which would hold the request open until the first event
// and bypass the WebSocket limits. The parse is linear and bounded by the
// token limit; a document over it is refused here with BAD_USER_INPUT, as
// every other limit is.
type documentGuard struct {
	maxFields int
	maxTokens int
	// noIntrospection refuses __schema and __type (production) with
	// FORBIDDEN; gqlgen's own refusal carries no code.
	noIntrospection bool
	// parsed is gqlgen's cache of parsed and validated documents (nil:
	// none). A document found there passed this guard before, with the
	// same limits, so only the per-request check is left to make.
	parsed graphql.Cache[*ast.QueryDocument]
}

func (documentGuard) ExtensionName() string                   { return "DocumentGuard" }
func (documentGuard) Validate(graphql.ExecutableSchema) error { return nil }

func (g documentGuard) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if p.Query == "" {
		return nil // a persisted-query hash gqlgen will resolve or refuse
	}
	if g.parsed != nil {
		if doc, ok := g.parsed.Get(ctx, p.Query); ok {
			return g.checkStreaming(doc, p)
		}
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: p.Query}, max(g.maxTokens, 0))
	if err != nil {
		if gerr, ok := errors.AsType[*gqlerror.Error](err); ok && g.maxTokens > 0 && strings.HasPrefix(gerr.Message, "exceeded token limit") {
			// A limit, answered as the other limits are (gqlgen would say
			// GRAPHQL_PARSE_FAILED, with 422).
			return badInput("the document has more than %d tokens, the limit", g.maxTokens)
		}
		return nil // gqlgen reports the syntax error in its own words
	}
	if g.maxFields > 0 {
		n := 0
		for _, op := range doc.Operations {
			n += countFields(op.SelectionSet)
		}
		for _, f := range doc.Fragments {
			n += countFields(f.SelectionSet)
		}
		if n > g.maxFields {
			return badInput("the document selects %d fields, more than the limit of %d", n, g.maxFields)
		}
	}
	if g.noIntrospection && introspects(doc) {
		return &gqlerror.Error{
			Message:    "introspection is disabled on this server",
			Extensions: map[string]any{"code": "FORBIDDEN"},
		}
	}
	return g.checkStreaming(doc, p)
}

// checkStreaming refuses a subscription sent as a plain request.
func (documentGuard) checkStreaming(doc *ast.QueryDocument, p *graphql.RawParams) *gqlerror.Error {
	if op := pickOperation(doc, p.OperationName); op != nil && op.Operation == ast.Subscription && !streaming(p.Headers) {
		return badInput("subscriptions need a WebSocket or Server-Sent Events (Accept: text/event-stream)")
	}
	return nil
}

func countFields(set ast.SelectionSet) int {
	n := 0
	for _, sel := range set {
		switch x := sel.(type) {
		case *ast.Field:
			n += 1 + countFields(x.SelectionSet)
		case *ast.InlineFragment:
			n += countFields(x.SelectionSet)
		}
	}
	return n
}

func introspects(doc *ast.QueryDocument) bool {
	var walk func(ast.SelectionSet) bool
	walk = func(set ast.SelectionSet) bool {
		for _, sel := range set {
			switch x := sel.(type) {
			case *ast.Field:
				if x.Name == "__schema" || x.Name == "__type" || walk(x.SelectionSet) {
					return true
				}
			case *ast.InlineFragment:
				if walk(x.SelectionSet) {
					return true
				}
			}
		}
		return false
	}
	for _, op := range doc.Operations {
		if walk(op.SelectionSet) {
			return true
		}
	}
	for _, f := range doc.Fragments {
		if walk(f.SelectionSet) {
			return true
		}
	}
	return false
}

func pickOperation(doc *ast.QueryDocument, name string) *ast.OperationDefinition {
	if name == "" && len(doc.Operations) == 1 {
		return doc.Operations[0]
	}
	return doc.Operations.ForName(name)
}

// streaming says whether the request came over a transport that can carry
// a stream: a WebSocket upgrade or an SSE request.
func streaming(h http.Header) bool {
	if h == nil {
		return true // transports that do not pass headers stream by design
	}
	return strings.EqualFold(h.Get("Upgrade"), "websocket") || strings.Contains(h.Get("Accept"), "text/event-stream")
}
