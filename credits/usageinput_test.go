package credits

import (
	"encoding/json"
	"testing"

	"creditgate/gid"
)

// A usage event's fingerprint is the hash of json.Marshal's bytes, stored
// under its key and compared on every replay: AppendJSON must write the
// same bytes, or decline, for any input.
func TestUsageInputJSONIsMarshals(t *testing.T) {
	acc, svc, hld := gid.New(gid.Account), gid.New(gid.Service), gid.New(gid.Hold)
	for i, in := range []usageInput{
		{Account: acc, Service: svc, Quantity: 1, Ref: "SMS x1"},
		{Account: acc, Service: svc, Variant: "premium", Quantity: 1000000, Ref: "SMS premium x1000000", Hold: hld},
		{Account: acc, Service: svc, Quantity: -3},
		{},
		{Account: acc, Service: svc, Quantity: 2, Ref: `say "hi" \ bye`},
		{Account: acc, Service: svc, Quantity: 2, Ref: "<b>&amp;</b>"},
		{Account: acc, Service: svc, Quantity: 2, Ref: "tab\there, newline\n"},
		{Account: acc, Service: svc, Quantity: 2, Ref: "héllo 日本 \u2028 \u2029"},
		{Account: acc, Service: svc, Quantity: 2, Ref: "bad \xff utf-8"},
		{Account: acc, Service: svc, Quantity: 2, Ref: "del \x7f"},
		{Account: "acc_<x>", Service: `svc_"`, Variant: "v&", Quantity: 1, Hold: "h\\"},
	} {
		want, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := in.AppendJSON([]byte("op\x00"))
		if plain := i < 4; plain && !ok { // nothing in them to escape
			t.Errorf("%+v: declined, json.Marshal would write it as it is", in)
		}
		if !ok {
			if string(got) != "op\x00" {
				t.Errorf("%+v: declined but wrote %q", in, got)
			}
			continue
		}
		if string(got) != "op\x00"+string(want) {
			t.Errorf("%+v:\n got %s\nwant op\\x00%s", in, got, want)
		}
	}
}

func FuzzUsageInputJSON(f *testing.F) {
	f.Add("acc_1", "svc_2", "v", 3, "SMS x3", "")
	f.Add("a", "s", "", -1, "<&>\"\\\u2028", "h")
	f.Fuzz(func(t *testing.T, acc, svc, variant string, qty int, ref, hold string) {
		in := usageInput{Account: gid.ID(acc), Service: gid.ID(svc), Variant: variant, Quantity: qty, Ref: ref, Hold: gid.ID(hold)}
		want, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := in.AppendJSON(nil); ok && string(got) != string(want) {
			t.Errorf("got %s, want %s", got, want)
		}
	})
}

// BenchmarkUsageInputJSON: a usage event's fingerprint input, as
// json.Marshal writes it and as AppendJSON does.
func BenchmarkUsageInputJSON(b *testing.B) {
	in := usageInput{Account: gid.New(gid.Account), Service: gid.New(gid.Service), Quantity: 1, Ref: "SMS x1"}
	b.Run("marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 256)
		for b.Loop() {
			if _, ok := in.AppendJSON(buf[:0]); !ok {
				b.Fatal("declined")
			}
		}
	})
}
