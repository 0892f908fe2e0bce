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
			body, err := readAll(http.MaxBytesReader(w, r.Body, max), r.ContentLength)
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
			r2.Body = newMemBody(body)
			r2.ContentLength = int64(len(body))
			next.ServeHTTP(w, r2)
		})
	}
}

// readAll is io.ReadAll with the buffer sized by the declared length n
// (-1: unknown) instead of grown from 512 bytes: a GraphQL request is a
// few hundred bytes, read in one buffer of its size. The size taken on
// trust is bounded; a longer body grows the buffer as io.ReadAll does.
func readAll(r io.Reader, n int64) ([]byte, error) {
	size := int64(512)
	if n >= 0 {
		size = min(n+1, 64<<10) // +1: the read that meets EOF needs room
	}
	b := make([]byte, 0, size)
	for {
		m, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+m]
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // grow, as io.ReadAll does
		}
	}
}

// memBody is a request body BodyLimit has read into memory. A handler
// after it that wants the whole body (GraphQLGuard) takes the bytes from
// bodyBytes instead of reading them into a copy.
type memBody struct {
	bytes.Reader
	b []byte
}

func newMemBody(b []byte) *memBody {
	m := &memBody{b: b}
	m.Reset(b)
	return m
}

func (*memBody) Close() error { return nil }

// bodyBytes returns all of body when it is a memBody not yet read from,
// and nothing else: the caller then reads it.
func bodyBytes(body io.Reader) ([]byte, bool) {
	if m, ok := body.(*memBody); ok && m.Len() == len(m.b) {
		return m.b, true
	}
	return nil, false
}
