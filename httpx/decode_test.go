package httpx

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"testing"
)

// membersWithEncodingJSON is how DecodeGraphQLRequest decoded a body with
// encoding/json before anyjson: the oracle decodeMembers is held to.
func membersWithEncodingJSON(body []byte) (requestMembers, bool) {
	var p requestMembers
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		return requestMembers{}, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return requestMembers{}, false // something after the object
	}
	return p, true
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

func TestDecodeMembersMatchesEncodingJSON(t *testing.T) {
	for _, s := range requestSeeds {
		checkMembers(t, []byte(s))
	}
}

func FuzzDecodeMembers(f *testing.F) {
	for _, s := range requestSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(checkMembers)
}

func checkMembers(t *testing.T, body []byte) {
	if b := bytes.TrimLeft(body, " \t\r\n"); len(b) == 0 || b[0] != '{' {
		return // DecodeGraphQLRequest refuses it before decoding
	}
	got, gotOK := decodeMembers(body)
	want, wantOK := membersWithEncodingJSON(body)
	if gotOK != wantOK || !reflect.DeepEqual(got, want) {
		t.Fatalf("decodeMembers(%.200q) = %#v, %v; with encoding/json %#v, %v", body, got, gotOK, want, wantOK)
	}
}

func BenchmarkDecodeGraphQLRequest(b *testing.B) {
	body := []byte(`{"extensions":{"persistedQuery":{"sha256Hash":"9f3c1d2b0e8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d","version":1}},"variables":null}`)
	b.Run("anyjson", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			decodeMembers(body)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			membersWithEncodingJSON(body)
		}
	})
}
