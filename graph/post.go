package graph

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"creditgate/httpx"
)

// postTransport is GraphQL over HTTP's POST, as gqlgen's transport.POST
// serves it (the same media types, status codes and answers), with the two
// costs every request paid removed: the body is decoded once, by
// httpx.GraphQLGuard, which hands the decoded request over in the context
// (only without the guard, in tests, is it decoded here); and the answer's
// data, which the executor has already written as compact JSON, is copied
// into the response as it is, where json.Marshal re-validated and
// re-compacted every byte of it.
type postTransport struct{}

var _ graphql.Transport = postTransport{}

func (postTransport) Supports(r *http.Request) bool {
	if r.Method != http.MethodPost || r.Header.Get("Upgrade") != "" {
		return false
	}
	ct := r.Header.Get("Content-Type")
	if ct == httpx.MediaJSON {
		return true // the usual case, without ParseMediaType's map
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == httpx.MediaJSON
}

// The Content-Type values, shared by all answers (Header.Set would make a
// slice per answer).
var (
	contentTypeJSON            = httpx.SharedValue(httpx.MediaJSON)
	contentTypeGraphQLResponse = httpx.SharedValue(httpx.MediaGraphQLResponse)
)

func (postTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	graphQLResponse := acceptsGraphQLResponse(r.Header.Get("Accept"))
	if graphQLResponse {
		w.Header()["Content-Type"] = contentTypeGraphQLResponse
	} else {
		w.Header()["Content-Type"] = contentTypeJSON
	}
	start := graphql.Now()
	req, ok := httpx.GraphQLRequestFrom(ctx)
	if !ok {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			writeResponse(w, exec.DispatchError(ctx, gqlerror.List{gqlerror.Errorf("could not read the request body")}))
			return
		}
		var msg string
		if req, msg = httpx.DecodeGraphQLRequest(body); req == nil {
			w.WriteHeader(http.StatusBadRequest)
			writeResponse(w, exec.DispatchError(ctx, gqlerror.List{gqlerror.Errorf("%s", msg)}))
			return
		}
	}
	params := &graphql.RawParams{
		Query:         req.Query,
		OperationName: req.OperationName,
		Variables:     req.Variables,
		Extensions:    req.Extensions,
		Headers:       r.Header,
		ReadTime:      graphql.TraceTiming{Start: start, End: graphql.Now()},
	}
	rc, opErr := exec.CreateOperationContext(ctx, params)
	if opErr != nil {
		// A request error (the document does not parse or validate):
		// nothing ran. GraphQL over HTTP's status for it depends on the
		// media type the client accepts.
		status := http.StatusOK
		if errcode.GetErrorKind(opErr) == errcode.KindProtocol {
			status = http.StatusUnprocessableEntity
			if graphQLResponse {
				status = http.StatusBadRequest
			}
		}
		w.WriteHeader(status)
		writeResponse(w, exec.DispatchError(graphql.WithOperationContext(ctx, rc), opErr))
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, rc)
	writeResponse(w, responses(ctx))
}

// acceptsGraphQLResponse reports whether the client's Accept header asks
// for application/graphql-response+json: the first media type it lists
// that we serve decides; application/json, */* and application/* mean
// application/json, and no Accept at all does too (the old clients'
// default). A header naming neither gets the new media type, as
// GraphQL over HTTP says.
func acceptsGraphQLResponse(accept string) bool {
	if accept == "" {
		return false
	}
	for part := range strings.SplitSeq(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "*/*", "application/*", httpx.MediaJSON:
			return false
		case httpx.MediaGraphQLResponse:
			return true
		}
	}
	return true
}

var responseBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// writeResponse writes resp as gqlgen's json.Marshal of it would, members
// in the same order, with resp.Data copied as it is: the executor wrote it,
// compact and valid. Incremental-delivery members (label, path, hasNext)
// are not served over this transport; should one be set, the whole
// response goes through json.Marshal.
func writeResponse(w io.Writer, resp *graphql.Response) {
	if resp.Label != "" || resp.Path != nil || resp.HasNext != nil {
		if b, err := json.Marshal(resp); err == nil {
			_, _ = w.Write(b)
		}
		return
	}
	bp := responseBuffers.Get().(*[]byte)
	buf := append((*bp)[:0], '{')
	if len(resp.Errors) > 0 {
		b, err := json.Marshal(resp.Errors)
		if err != nil {
			b = []byte(`[{"message":"the errors could not be encoded","extensions":{"code":"INTERNAL"}}]`)
		}
		buf = append(buf, `"errors":`...)
		buf = append(buf, b...)
		buf = append(buf, ',')
	}
	buf = append(buf, `"data":`...)
	if len(resp.Data) == 0 {
		buf = append(buf, "null"...)
	} else {
		buf = append(buf, resp.Data...)
	}
	if len(resp.Extensions) > 0 {
		if b, err := json.Marshal(resp.Extensions); err == nil {
			buf = append(buf, `,"extensions":`...)
			buf = append(buf, b...)
		}
	}
	buf = append(buf, '}')
	_, _ = w.Write(buf)
	if cap(buf) <= 64<<10 { // a huge answer's buffer is not kept
		*bp = buf
		responseBuffers.Put(bp)
	}
}
