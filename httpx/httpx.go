// Package httpx holds the gateway's HTTP middleware: what every request goes
// through before (and after) GraphQL sees it.
//
//   - GraphQLGuard: the CSRF wall around /graphql. Mutations only arrive as
//     POST with a JSON content type (which a cross-site <form> cannot send
//     and fetch cannot send without a CORS preflight); GET runs queries only;
//     a body that is not a GraphQL request is 400.
//   - BodyLimit: request bodies over a size limit are refused with 413
//     before anything parses them.
//   - CORS: the allow-list of browser origins (github.com/rs/cors).
//   - SecurityHeaders: nosniff, no-referrer, no framing, a Content-Security-
//     Policy that fits the embedded GraphiQL page, HSTS in production.
//   - AccessLog: one log line and Prometheus samples per request.
//   - RequestIDHandler: a slog.Handler that stamps request_id on every record
//     logged with a request's context.
//
// Refusals are GraphQL-shaped, so a GraphQL client shows them like any
// other error: {"errors":[{"message":…,"extensions":{"code":"BAD_USER_INPUT"}}]}.
package httpx

import (
	"encoding/json"
	"net/http"
	"strings"
)

// CodeBadUserInput is the extensions.code of every refusal made here: the
// request itself is malformed (too large, wrong media type, wrong method).
const CodeBadUserInput = "BAD_USER_INPUT"

// Media types of GraphQL over HTTP.
const (
	MediaJSON            = "application/json"
	MediaGraphQLResponse = "application/graphql-response+json"
)

type errorBody struct {
	Errors []errorEntry `json:"errors"`
}

type errorEntry struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions"`
}

// WriteError answers with status and a GraphQL-shaped error body carrying
// code in extensions.code. The media type follows the request's Accept
// header: application/graphql-response+json when the client asks for it
// and not for application/json, else application/json.
func WriteError(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	b, _ := json.Marshal(errorBody{Errors: []errorEntry{{
		Message:    message,
		Extensions: map[string]any{"code": code},
	}}})
	h := w.Header()
	h.Set("Content-Type", responseMediaType(r)+"; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Del("Content-Length")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func responseMediaType(r *http.Request) string {
	accept := r.Header.Get("Accept")
	if strings.Contains(accept, MediaGraphQLResponse) && !strings.Contains(accept, MediaJSON) {
		return MediaGraphQLResponse
	}
	return MediaJSON
}

// Chain applies middleware so that the first one listed is the outermost:
// Chain(h, a, b) is a(b(h)).
func Chain(h http.Handler, mw ...func(http.Handler) http.Handler) http.Handler {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}
