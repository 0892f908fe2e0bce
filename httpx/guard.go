package httpx

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"creditgate/anyjson"
)

// guardTokenLimit bounds the parse GraphQLGuard makes of a GET query. A
// longer document is passed on untouched: the GraphQL handler parses (and
// limits) it and its GET transport refuses mutations on its own.
const guardTokenLimit = 15000

// GraphQLGuard makes the GraphQL endpoint CSRF-safe by construction. A
// browser can send a cross-site request without a CORS preflight only as
// GET, HEAD or POST with a "simple" content type (form-encoded, multipart,
// text/plain); so:
//
//   - GET runs queries only: a GET naming a mutation or a subscription is
//     refused with 405 and Allow: POST, as GraphQL over HTTP requires,
//     before it reaches the executor;
//   - POST must be JSON (application/json, or application/graphql-response+json,
//     which is passed on as application/json): anything else, including a
//     missing Content-Type, is 415;
//   - other methods but OPTIONS (CORS preflights, answered earlier) are 405.
//
// A request error the GraphQL handler answers itself (400 or 422: the
// document does not parse or validate) loses its "data": null entry, which
// GraphQL over HTTP says such a response should not have (the request
// never reached execution).
//
// It also refuses, with 400 and BAD_USER_INPUT, what is not a GraphQL
// request at all: a POST body that is not one JSON object whose query and
// operationName are strings and variables and extensions objects (batches
// included), GET variables or extensions that are not JSON objects. The
// GraphQL handler would answer those with uncoded errors.
//
// WebSocket upgrades (GET with Upgrade) pass untouched: their origin is
// checked at the handshake and their token travels in connection_init.
//
// GraphQLGuard reads POST bodies into memory: put it behind BodyLimit.
func GraphQLGuard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			if r.Header.Get("Upgrade") != "" {
				break
			}
			vals, err := url.ParseQuery(r.URL.RawQuery)
			if err != nil {
				WriteError(w, r, http.StatusBadRequest, CodeBadUserInput, "malformed query string")
				return
			}
			if msg := checkGETParams(vals); msg != "" {
				WriteError(w, r, http.StatusBadRequest, CodeBadUserInput, msg)
				return
			}
			if !queryOnly(vals) {
				w.Header().Set("Allow", http.MethodPost)
				WriteError(w, r, http.StatusMethodNotAllowed, CodeBadUserInput,
					"GET runs queries only: send mutations and subscriptions as POST with Content-Type: application/json")
				return
			}
			ew := &requestErrorWriter{ResponseWriter: w}
			defer ew.finish()
			w = ew
		case http.MethodOptions:
		case http.MethodPost:
			if !jsonContentType(r) {
				WriteError(w, r, http.StatusUnsupportedMediaType, CodeBadUserInput,
					"unsupported Content-Type: send the request as application/json")
				return
			}
			// Behind BodyLimit the body is in memory already, unread: it
			// is taken as it is, and still reads in full afterwards.
			body, unread := bodyBytes(r.Body)
			if !unread {
				var err error
				if body, err = io.ReadAll(r.Body); err != nil {
					WriteError(w, r, http.StatusBadRequest, CodeBadUserInput, "could not read the request body")
					return
				}
			}
			req, msg := DecodeGraphQLRequest(body)
			if msg != "" {
				WriteError(w, r, http.StatusBadRequest, CodeBadUserInput, msg)
				return
			}
			// The decoded request travels with the context so that the
			// GraphQL transport does not decode the body again; the body
			// stays readable for a transport that wants it (SSE).
			r = r.WithContext(context.WithValue(r.Context(), graphQLRequestKey{}, req))
			if !unread {
				r.Body = io.NopCloser(bytes.NewReader(body))
			}
			ew := &requestErrorWriter{ResponseWriter: w}
			defer ew.finish()
			w = ew
		default:
			w.Header().Set("Allow", "GET, POST, OPTIONS")
			WriteError(w, r, http.StatusMethodNotAllowed, CodeBadUserInput,
				"method "+r.Method+" is not allowed: use POST (or GET for queries)")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// jsonContentType reports whether r's body is declared JSON in UTF-8, and
// normalises application/graphql-response+json to application/json (the
// only request media type the GraphQL transports take).
func jsonContentType(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	if ct == MediaJSON {
		// What nearly every client sends, and what ParseMediaType would
		// accept with no parameters (it makes a map to say so).
		return true
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return false
	}
	switch mt {
	case MediaJSON:
		return true
	case MediaGraphQLResponse:
		r.Header.Set("Content-Type", mime.FormatMediaType(MediaJSON, params))
		return true
	}
	return false
}

// queryOnly reports whether the GET parameters vals do not select a
// mutation or subscription. Anything it cannot decide (no query, a
// persisted-query hash, a syntax error, an unknown operation name) counts
// as a query: the GraphQL handler then reports the problem itself, and its
// GET transport still refuses anything but queries.
func queryOnly(vals url.Values) bool {
	q := vals.Get("query")
	if q == "" {
		return true
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: q}, guardTokenLimit)
	if err != nil {
		return true
	}
	var op *ast.OperationDefinition
	if name := vals.Get("operationName"); name != "" {
		op = doc.Operations.ForName(name)
	} else if len(doc.Operations) == 1 {
		op = doc.Operations[0]
	}
	return op == nil || op.Operation == ast.Query
}

// checkGETParams returns why the GET parameters are not a GraphQL request,
// or "": variables and extensions, when present, must be JSON objects.
func checkGETParams(vals url.Values) string {
	for _, name := range []string{"variables", "extensions"} {
		v := vals.Get(name)
		if v == "" {
			continue
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(v), &m); err != nil {
			return name + " must be a JSON object"
		}
	}
	return ""
}

// GraphQLRequest is a POST body GraphQLGuard has decoded and checked:
// one JSON object whose query and operationName are strings and whose
// variables and extensions are objects. Numbers are json.Number, as the
// GraphQL executor expects them.
type GraphQLRequest struct {
	Query         string
	OperationName string
	Variables     map[string]any
	Extensions    map[string]any
}

type graphQLRequestKey struct{}

// GraphQLRequestFrom returns the request GraphQLGuard decoded, if it did.
func GraphQLRequestFrom(ctx context.Context) (*GraphQLRequest, bool) {
	req, ok := ctx.Value(graphQLRequestKey{}).(*GraphQLRequest)
	return req, ok
}

// DecodeGraphQLRequest decodes a GraphQL POST body, or says why body is
// not a GraphQL request (nil and the reason). A body the GraphQL handler
// cannot decode would otherwise come back as an uncoded, INTERNAL-looking
// error (gqlgen's message even quotes the whole body); GraphQL over HTTP
// wants 400 for all of these.
func DecodeGraphQLRequest(body []byte) (*GraphQLRequest, string) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	switch {
	case len(trimmed) == 0:
		return nil, "the request body is empty: send a JSON object with a query"
	case trimmed[0] == '[':
		return nil, "batched requests are not supported: send one JSON object per request"
	case trimmed[0] != '{':
		return nil, "the request body must be a JSON object with a query"
	}
	p, ok := decodeMembers(trimmed)
	if !ok {
		return nil, "the request body is not valid JSON"
	}
	req := &GraphQLRequest{}
	if req.Query, ok = stringOrNull(p.Query); !ok {
		return nil, "query must be a string"
	}
	if req.OperationName, ok = stringOrNull(p.OperationName); !ok {
		return nil, "operationName must be a string"
	}
	if req.Variables, ok = objectOrNull(p.Variables); !ok {
		return nil, "variables must be an object"
	}
	if req.Extensions, ok = objectOrNull(p.Extensions); !ok {
		return nil, "extensions must be an object"
	}
	if req.Query == "" {
		// Without a document only a persisted query's hash names one.
		if _, ok := req.Extensions["persistedQuery"]; !ok {
			return nil, "query is missing"
		}
	}
	return req, ""
}

// requestMembers are a GraphQL POST body's members as decoded, before
// their JSON types are checked (so that a wrong type gets its own
// message).
type requestMembers struct {
	Query         any `json:"query"`
	OperationName any `json:"operationName"`
	Variables     any `json:"variables"`
	Extensions    any `json:"extensions"`
}

// decodeMembers decodes body, one JSON object, in one pass. Members are
// matched as encoding/json matches a struct's fields (case-insensitively,
// the last of a repeated one wins), which this replaced on the hot path;
// FuzzDecodeMembers holds the two to the same answers.
func decodeMembers(body []byte) (requestMembers, bool) {
	var p requestMembers
	err := anyjson.Object(body, func(k string, v any) {
		switch {
		case strings.EqualFold(k, "query"):
			p.Query = v
		case strings.EqualFold(k, "operationName"):
			p.OperationName = v
		case strings.EqualFold(k, "variables"):
			p.Variables = v
		case strings.EqualFold(k, "extensions"):
			p.Extensions = v
		}
	})
	if err != nil {
		return requestMembers{}, false
	}
	return p, true
}

func stringOrNull(v any) (string, bool) {
	if v == nil {
		return "", true
	}
	s, ok := v.(string)
	return s, ok
}

func objectOrNull(v any) (map[string]any, bool) {
	if v == nil {
		return nil, true
	}
	m, ok := v.(map[string]any)
	return m, ok
}

// maxHeldError bounds the request-error body requestErrorWriter holds to
// rewrite; a larger one (thousands of validation errors) passes unchanged.
const maxHeldError = 64 << 10

// requestErrorWriter holds a 400 or 422 answer (a request error: nothing
// was executed) until the handler returns, then drops its "data": null
// entry. Every other answer passes straight through.
type requestErrorWriter struct {
	http.ResponseWriter
	status int
	held   *bytes.Buffer // non-nil while holding a request error
}

func (w *requestErrorWriter) WriteHeader(code int) {
	if w.status != 0 || code < 200 {
		if w.held == nil {
			w.ResponseWriter.WriteHeader(code)
		}
		return
	}
	w.status = code
	if code == http.StatusBadRequest || code == http.StatusUnprocessableEntity {
		w.held = new(bytes.Buffer)
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *requestErrorWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.held != nil {
		if w.held.Len()+len(b) <= maxHeldError {
			return w.held.Write(b)
		}
		w.release(w.held.Bytes())
	}
	return w.ResponseWriter.Write(b)
}

// Flush gives up holding (nothing streams a request error) and flushes.
func (w *requestErrorWriter) Flush() {
	if w.held != nil {
		w.release(w.held.Bytes())
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *requestErrorWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *requestErrorWriter) release(body []byte) {
	w.held = nil
	w.ResponseWriter.WriteHeader(w.status)
	_, _ = w.ResponseWriter.Write(body)
}

func (w *requestErrorWriter) finish() {
	if w.held == nil {
		return
	}
	body := w.held.Bytes()
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) == nil && string(m["data"]) == "null" && len(m["errors"]) > 0 {
		delete(m, "data")
		if b, err := json.Marshal(m); err == nil {
			body = b
		}
	}
	w.release(body)
}
