package httpx

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
)

// DefaultMaxBodyBytes is the request body limit when none is configured.
const DefaultMaxBodyBytes = 1 << 20

// BodyLimit refuses request bodies over max bytes (DefaultMaxBodyBytes when
// max <= 0) with 413 and a GraphQL-shaped error, before any handler parses
// them. A body within the limit is read in full here (the GraphQL
// transports read it in full anyway) and handed on from memory, so a
// handler never sees a body cut short.
func BodyLimit(max int64) func(http.Handler) http.Handler {
	if max <= 0 {
		max = DefaultMaxBodyBytes
	}
	tooLarge := "request body too large: the limit is " + strconv.FormatInt(max, 10) + " bytes"
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Body == nil || r.Body == http.NoBody {
				next.ServeHTTP(w, r)
				return
			}
			if r.ContentLength > max {
				// Say so at once; net/http closes the connection rather
				// than drain a large unread body.
				WriteError(w, r, http.StatusRequestEntityTooLarge, CodeBadUserInput, tooLarge)
				return
			}
			// A client that sends its body slowly is cut by the server's
			// ReadTimeout.
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
			if err != nil {
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					WriteError(w, r, http.StatusRequestEntityTooLarge, CodeBadUserInput, tooLarge)
					return
				}
				WriteError(w, r, http.StatusBadRequest, CodeBadUserInput, "could not read the request body")
				return
			}
			r2 := r.WithContext(r.Context()) // a shallow copy
			r2.Body = io.NopCloser(bytes.NewReader(body))
			r2.ContentLength = int64(len(body))
			next.ServeHTTP(w, r2)
		})
	}
}
