package money

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// fuzzCurrencies is sorted so a currency index maps to the same code on
// every run and saved corpus entries stay meaningful.
var fuzzCurrencies = func() []string {
	codes := make([]string, 0, len(minorUnits))
	for c := range minorUnits {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	return codes
}()

func fuzzCurrency(i uint8) string { return fuzzCurrencies[int(i)%len(fuzzCurrencies)] }

// canonical rewrites an accepted amount the way Format would print it, as an
// independent oracle for the value Parse computed: no leading zeros, and the
// fraction without trailing zeros but at least the currency's digits.
func canonical(s string, digits int) string {
	intPart, frac, _ := strings.Cut(s, ".")
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" {
		intPart = "0"
	}
	frac = strings.TrimRight(frac, "0")
	if len(frac) < digits {
		frac += strings.Repeat("0", digits-len(frac))
	}
	if frac == "" {
		return intPart
	}
	return intPart + "." + frac
}

func FuzzParseFormat(f *testing.F) {
	usd := uint8(slices.Index(fuzzCurrencies, "USD"))
	for _, s := range []string{
		"12", "12.5", "12.50", "0", "0.00", "-1", "1e3", "1.005", "NaN", "", " 1",
		"007.5", "1.", ".5", "9223372036854.775807", "9223372036854.775808",
		"9223372036854775807", "1200", "0.005", "1.2345", "0.0075", "0.0000001", "12.500000",
	} {
		f.Add(s, usd)
		f.Add(s, uint8(7))
	}
	f.Fuzz(func(t *testing.T, s string, ci uint8) {
		cur := fuzzCurrency(ci)
		digits, _ := MinorUnits(cur)
		minor, err := Parse(Decimal(s), cur)
		if err != nil {
			return
		}
		if minor <= 0 {
			t.Fatalf("Parse(%q, %s) = %d; accepted a non-positive amount", s, cur, minor)
		}
		out := Format(minor, cur)
		if want := canonical(s, digits); string(out) != want {
			t.Fatalf("Parse(%q, %s) = %d, formats as %q; want %q", s, cur, minor, out, want)
		}
		_, frac, hasDot := strings.Cut(string(out), ".")
		if len(frac) < digits || len(frac) > Scale || hasDot != (len(frac) > 0) {
			t.Fatalf("Format(%d, %s) = %q; want %d to %d fraction digits", minor, cur, out, digits, Scale)
		}
		// Provider money is the same value when it is accepted at all.
		if price, err := ParsePrice(Decimal(s), cur); err == nil && price != minor {
			t.Fatalf("ParsePrice(%q, %s) = %d, Parse = %d", s, cur, price, minor)
		}
		back, err := Parse(out, cur)
		if err != nil || back != minor {
			t.Fatalf("Parse(Format(%d, %s) = %q) = %d, %v", minor, cur, out, back, err)
		}
	})
}

func FuzzFormatParse(f *testing.F) {
	for _, m := range []int64{1, 5, 1250, 1200, math.MaxInt64, 0, -1, math.MinInt64} {
		f.Add(m, uint8(0))
		f.Add(m, uint8(100))
	}
	f.Fuzz(func(t *testing.T, minor int64, ci uint8) {
		cur := fuzzCurrency(ci)
		out := Format(minor, cur)
		got, err := Parse(out, cur)
		if minor <= 0 {
			if err == nil {
				t.Fatalf("Parse(Format(%d, %s) = %q) accepted a non-positive amount", minor, cur, out)
			}
			return
		}
		if err != nil || got != minor {
			t.Fatalf("Parse(Format(%d, %s) = %q) = %d, %v", minor, cur, out, got, err)
		}
	})
}

// formatByStrings is Format as it was written before AppendFormat: the
// oracle AppendFormat is fuzzed against.
func formatByStrings(micro int64, currency string) Decimal {
	digits, ok := MinorUnits(currency)
	if !ok {
		digits = 2
	}
	mag, sign := magnitude(micro)
	s := strconv.FormatUint(mag, 10)
	if len(s) <= Scale {
		s = strings.Repeat("0", Scale-len(s)+1) + s
	}
	cut := len(s) - Scale
	whole, frac := s[:cut], strings.TrimRight(s[cut:], "0")
	if len(frac) < digits {
		frac += strings.Repeat("0", digits-len(frac))
	}
	if frac == "" {
		return Decimal(sign + whole)
	}
	return Decimal(sign + whole + "." + frac)
}

// FuzzAppendFormat checks that AppendFormat writes what the string-built
// Format wrote, for every amount and currency (an index past the table is
// an unknown code), and keeps what dst held.
func FuzzAppendFormat(f *testing.F) {
	for _, m := range []int64{0, 1, -1, 5, 10, 1250, 1200, 12_500000, 100_000000, 999999, 1_000000,
		-10000, math.MaxInt64, math.MinInt64, math.MinInt64 + 1} {
		for _, ci := range []uint8{0, 7, 100, 200, 255} {
			f.Add(m, ci, "")
			f.Add(m, ci, `{"amount":"`)
		}
	}
	f.Fuzz(func(t *testing.T, micro int64, ci uint8, prefix string) {
		cur := "ZZZ" // not a currency: formatted with 2 digits
		if int(ci) < len(fuzzCurrencies) {
			cur = fuzzCurrencies[ci]
		}
		want := string(formatByStrings(micro, cur))
		got := AppendFormat([]byte(prefix), micro, cur)
		if string(got) != prefix+want {
			t.Fatalf("AppendFormat(%q, %d, %s) = %q; want %q", prefix, micro, cur, got, prefix+want)
		}
		if f := Format(micro, cur); string(f) != want {
			t.Fatalf("Format(%d, %s) = %q; want %q", micro, cur, f, want)
		}
		// The magnitude is the text without its sign, for every amount.
		unsigned := strings.TrimPrefix(want, "-")
		if got := AppendFormatMagnitude([]byte(prefix), micro, cur); string(got) != prefix+unsigned {
			t.Fatalf("AppendFormatMagnitude(%q, %d, %s) = %q; want %q", prefix, micro, cur, got, prefix+unsigned)
		}
		if f := FormatMagnitude(micro, cur); string(f) != unsigned {
			t.Fatalf("FormatMagnitude(%d, %s) = %q; want %q", micro, cur, f, unsigned)
		}
	})
}

func TestFormatAllocations(t *testing.T) {
	buf := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() { buf = AppendFormat(buf[:0], -12_492500, "USD") }); n != 0 {
		t.Errorf("AppendFormat allocated %v times; want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { _ = Format(12_492500, "USD") }); n > 1 {
		t.Errorf("Format allocated %v times; want at most 1", n)
	}
}
