package anyjson

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"strings"
	"testing"
)

// std is the oracle: encoding/json's decoder with UseNumber, one value
// and nothing after it but whitespace.
func std(b []byte) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return v, true
}

var seeds = []string{
	`{"query":"{ balance { available } }","variables":null}`,
	`{"extensions":{"persistedQuery":{"sha256Hash":"ab12","version":1}},"variables":null}`,
	`{"variables":{"a":[1,-0.5,2e10,1E-3,true,false,null,{}],"b":"x\"y\\z\/\b\f\n\r\t"}}`,
	`"\u00e9\ud83d\ude00\ud800\udc00\ud800x\udc00\ud800\u0041"`,
	"\"caf\xc3\xa9 \xff \xed\xa0\x80\"",
	` [ 1 , [ ] , { } ] `,
	`{"a":1,"a":2}`,
	`-`, `01`, `1.`, `1e`, `.5`, `+1`, `"\x"`, `"\u12"`, "\"\x01\"", `{"a" 1}`, `{,}`, `[1,]`, `{"a":1,}`,
	`tru`, `nul`, `{"a":1} x`, `{} {}`, `"`, `{`, `[`, "\ufeff{}",
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
	strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000),
	strings.Repeat(`{"a":`, 10001) + "1" + strings.Repeat("}", 10001),
}

func TestValueMatchesEncodingJSON(t *testing.T) {
	for _, s := range seeds {
		checkValue(t, []byte(s))
	}
}

func FuzzValue(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(checkValue)
}

func checkValue(t *testing.T, b []byte) {
	want, wantOK := std(b)
	got, err := Value(b)
	if (err == nil) != wantOK {
		t.Fatalf("Value(%.200q): err %v, encoding/json ok %v", b, err, wantOK)
	}
	if wantOK && !reflect.DeepEqual(got, want) {
		t.Fatalf("Value(%.200q) = %#v, encoding/json %#v", b, got, want)
	}
	// Object agrees with Value on objects: its members, in order, make
	// the same map.
	if len(bytes.TrimLeft(b, " \t\r\n")) > 0 && bytes.TrimLeft(b, " \t\r\n")[0] == '{' {
		m := map[string]any{}
		err := Object(b, func(k string, v any) { m[k] = v })
		if (err == nil) != wantOK {
			t.Fatalf("Object(%.200q): err %v, encoding/json ok %v", b, err, wantOK)
		}
		if wantOK && !reflect.DeepEqual(any(m), want) {
			t.Fatalf("Object(%.200q) = %#v, encoding/json %#v", b, m, want)
		}
	} else if Object(b, func(string, any) {}) == nil {
		t.Fatalf("Object(%.200q) accepted a value that is not an object", b)
	}
}

func TestObjectKeepsOrderAndRepeats(t *testing.T) {
	var keys []string
	var vals []any
	err := Object([]byte(`{"b":1,"a":"x","b":null}`), func(k string, v any) {
		keys = append(keys, k)
		vals = append(vals, v)
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"b", "a", "b"}; !reflect.DeepEqual(keys, want) {
		t.Fatalf("keys %q, want %q", keys, want)
	}
	if want := []any{json.Number("1"), "x", nil}; !reflect.DeepEqual(vals, want) {
		t.Fatalf("values %#v, want %#v", vals, want)
	}
}
