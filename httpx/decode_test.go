package httpx

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"testing"
)

// decodeWithEncodingJSON is DecodeGraphQLRequest as it was written with
// encoding/json, before anyjson: the oracle the fuzz target holds the
// faster one to.
func decodeWithEncodingJSON(body []byte) (*GraphQLRequest, string) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	switch {
	case len(trimmed) == 0:
		return nil, "the request body is empty: send a JSON object with a query"
	case trimmed[0] == '[':
		return nil, "batched requests are not supported: send one JSON object per request"
	case trimmed[0] != '{':
		return nil, "the request body must be a JSON object with a query"
	}
	var p struct {
		Query         any `json:"query"`
		OperationName any `json:"operationName"`
		Variables     any `json:"variables"`
		Extensions    any `json:"extensions"`
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		return nil, "the request body is not valid JSON"
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, "the request body is not valid JSON"
	}
	req := &GraphQLRequest{}
	var ok bool
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
		if _, ok := req.Extensions["persistedQuery"]; !ok {
			return nil, "query is missing"
		}
	}
	return req, ""
}

var requestSeeds = []string{
	`{"query":"{ balance { available } }","variables":null}`,
	`{"extensions":{"persistedQuery":{"sha256Hash":"ab12","version":1}},"variables":null}`,
	`{"query":"query Q($n: Int) { history(first: $n) { totalCount } }","operationName":"Q","variables":{"n":50}}`,
	`{"QUERY":"{ a }","Query":"{ b }","OperationName":"x","operationname":null}`,
	"{\"\u017fuery\":1}", "{\"extension\u017f\":{}}",
	`{"query":1}`, `{"query":"x","variables":[]}`, `{"extensions":"x","query":"y"}`, `{"operationName":true,"query":"x"}`,
	`{}`, `[]`, `  `, `"x"`, `{"query":"x"} {}`, `{"query":"x"}` + "\n", `{"query":"\ud800"}`,
}

func TestDecodeGraphQLRequestMatchesEncodingJSON(t *testing.T) {
	for _, s := range requestSeeds {
		checkDecode(t, []byte(s))
	}
}

func FuzzDecodeGraphQLRequest(f *testing.F) {
	for _, s := range requestSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(checkDecode)
}

func checkDecode(t *testing.T, body []byte) {
	got, gotMsg := DecodeGraphQLRequest(body)
	want, wantMsg := decodeWithEncodingJSON(body)
	if gotMsg != wantMsg || !reflect.DeepEqual(got, want) {
		t.Fatalf("DecodeGraphQLRequest(%.200q) = %#v, %q; with encoding/json %#v, %q", body, got, gotMsg, want, wantMsg)
	}
}

func BenchmarkDecodeGraphQLRequest(b *testing.B) {
	body := []byte(`{"extensions":{"persistedQuery":{"sha256Hash":"9f3c1d2b0e8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d","version":1}},"variables":null}`)
	b.Run("anyjson", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			DecodeGraphQLRequest(body)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			decodeWithEncodingJSON(body)
		}
	})
}
