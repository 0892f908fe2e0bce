package graph

import (
	"bytes"
	"context"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// The generated Exec starts every operation by building an "unmarshaler
// map": 38 method values of the request's execution context, one per input
// type, put into a map keyed by reflect.Type (graphql.BuildUnmarshalerMap)
// and into the context, for graphql.UnmarshalInputFromContext. Nothing in
// this program calls that (the generated argument code calls each
// unmarshalInput method directly; ent's only caller, fieldArgs in
// ent/gql_collection.go, is never called; TestNoInputMapReader holds both
// to that), yet on a cached balance read it was 48 of 278 allocations,
// 6 of 23 KB, and about 6 of the 57 µs of CPU net/http's serve spent on
// it (server's BenchmarkBalanceHTTP).
//
// leanSchema runs queries and mutations as the generated Exec does, less
// that map; subscriptions and anything else take the generated Exec.
// TestLeanExecMatchesGenerated compares the two texts, so a gqlgen upgrade
// that changes the generated Exec fails until this copy follows it.
type leanSchema struct {
	*executableSchema
}

// withoutInputMaps installs leanSchema under s: the generated schema, or
// the planned schema's fallback (plan.go).
func withoutInputMaps(s graphql.ExecutableSchema) graphql.ExecutableSchema {
	switch s := s.(type) {
	case *executableSchema:
		return leanSchema{s}
	case *plannedSchema:
		if gen, ok := s.ExecutableSchema.(*executableSchema); ok {
			s.ExecutableSchema = leanSchema{gen}
		}
	}
	return s
}

func (s leanSchema) Exec(ctx context.Context) graphql.ResponseHandler {
	opCtx := graphql.GetOperationContext(ctx)
	switch opCtx.Operation.Operation {
	case ast.Query, ast.Mutation:
		return s.exec(opCtx)
	}
	return s.executableSchema.Exec(ctx)
}

// exec is the generated Exec's query and mutation cases, as generated, less
// the statement that puts the map into the context.
func (s leanSchema) exec(opCtx *graphql.OperationContext) graphql.ResponseHandler {
	ec := newExecutionContext(opCtx, s.executableSchema, make(chan graphql.DeferredResult))
	first := true

	switch opCtx.Operation.Operation {
	case ast.Query:
		return func(ctx context.Context) *graphql.Response {
			var response graphql.Response
			var data graphql.Marshaler
			if first {
				first = false
				data = ec._Query(ctx, opCtx.Operation.SelectionSet)
			} else {
				if atomic.LoadInt32(&ec.PendingDeferred) > 0 {
					result := <-ec.DeferredResults
					atomic.AddInt32(&ec.PendingDeferred, -1)
					data = result.Result
					response.Path = result.Path
					response.Label = result.Label
					response.Errors = result.Errors
				} else {
					return nil
				}
			}
			var buf bytes.Buffer
			data.MarshalGQL(&buf)
			response.Data = buf.Bytes()
			if atomic.LoadInt32(&ec.Deferred) > 0 {
				hasNext := atomic.LoadInt32(&ec.PendingDeferred) > 0
				response.HasNext = &hasNext
			}

			return &response
		}
	case ast.Mutation:
		return func(ctx context.Context) *graphql.Response {
			if !first {
				return nil
			}
			first = false
			data := ec._Mutation(ctx, opCtx.Operation.SelectionSet)
			var buf bytes.Buffer
			data.MarshalGQL(&buf)

			return &graphql.Response{
				Data: buf.Bytes(),
			}
		}
	}
	panic("leanSchema.exec: " + string(opCtx.Operation.Operation))
}
