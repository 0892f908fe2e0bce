package money

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in       string
		currency string
		want     int64
		wantErr  error
		errHas   string
	}{
		{"12", "USD", 12_000000, nil, ""},
		{"12.5", "USD", 12_500000, nil, ""},
		{"0.0075", "USD", 7500, nil, ""},
		{"12.4925", "USD", 12_492500, nil, ""},
		{"0.000001", "USD", 1, nil, ""},
		{"0.5", "JPY", 500000, nil, ""},
		{"1.000000", "USD", 1_000000, nil, ""},
		{"9223372036854.775807", "USD", math.MaxInt64, nil, ""},

		{"0.0000001", "USD", 0, ErrInvalidAmount, "at most 6 fraction digits"},
		{"9223372036854.775808", "USD", 0, ErrInvalidAmount, "too large for USD"},
		{"0", "USD", 0, ErrInvalidAmount, "greater than zero"},
		{"-1", "USD", 0, ErrInvalidAmount, "plain decimal"},
		{"12", "XYZ", 0, ErrInvalidCurrency, "unknown currency"},
	}
	for _, tt := range tests {
		got, err := Parse(Decimal(tt.in), tt.currency)
		if tt.wantErr == nil {
			if err != nil || got != tt.want {
				t.Errorf("Parse(%q, %s) = %d, %v; want %d", tt.in, tt.currency, got, err, tt.want)
			}
			continue
		}
		if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.errHas) {
			t.Errorf("Parse(%q, %s) error = %v; want %v containing %q", tt.in, tt.currency, err, tt.wantErr, tt.errHas)
		}
	}
}

func TestParsePrice(t *testing.T) {
	tests := []struct {
		in       string
		currency string
		want     int64 // micro-units
		wantErr  error
		errHas   string
	}{
		{"12", "USD", 12_000000, nil, ""},
		{"12.5", "USD", 12_500000, nil, ""},
		{"12.50", "USD", 12_500000, nil, ""},
		{"0.01", "USD", 10000, nil, ""},
		{"007.5", "USD", 7_500000, nil, ""},
		{"1200", "JPY", 1200_000000, nil, ""},
		{"1.234", "BHD", 1_234000, nil, ""},
		{"0.005", "BHD", 5000, nil, ""},
		{"1.2345", "CLF", 1_234500, nil, ""},
		{"9223372036854.77", "USD", 9223372036854_770000, nil, ""},
		{"9223372036854", "JPY", 9223372036854_000000, nil, ""},

		{"9223372036855", "JPY", 0, ErrInvalidAmount, "too large"},
		{"99999999999999999999999", "USD", 0, ErrInvalidAmount, "too large"},
		{"-1", "USD", 0, ErrInvalidAmount, "plain decimal"},
		{"+1", "USD", 0, ErrInvalidAmount, "plain decimal"},
		{"0", "USD", 0, ErrInvalidAmount, "greater than zero"},
		{"0.00", "USD", 0, ErrInvalidAmount, "greater than zero"},
		{"1e3", "USD", 0, ErrInvalidAmount, `invalid amount "1e3": use a plain decimal such as "12.50"`},
		{"1.005", "USD", 0, ErrInvalidAmount, "USD allows at most 2 fraction digits"},
		{"10.001", "USD", 0, ErrInvalidAmount, "USD allows at most 2 fraction digits"},
		{"1.000", "USD", 0, ErrInvalidAmount, "at most 2"},
		{"12.5", "JPY", 0, ErrInvalidAmount, "JPY has no fraction digits"},
		{"1.2345", "BHD", 0, ErrInvalidAmount, "BHD allows at most 3"},
		{"NaN", "USD", 0, ErrInvalidAmount, "plain decimal"},
		{"", "USD", 0, ErrInvalidAmount, "plain decimal"},
		{"12", "XYZ", 0, ErrInvalidCurrency, "unknown currency"},
		{"12", "usd", 0, ErrInvalidCurrency, "unknown currency"},
	}
	for _, tt := range tests {
		got, err := ParsePrice(Decimal(tt.in), tt.currency)
		if tt.wantErr == nil {
			if err != nil || got != tt.want {
				t.Errorf("ParsePrice(%q, %s) = %d, %v; want %d", tt.in, tt.currency, got, err, tt.want)
			}
			continue
		}
		if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.errHas) {
			t.Errorf("ParsePrice(%q, %s) error = %v; want %v containing %q", tt.in, tt.currency, err, tt.wantErr, tt.errHas)
		}
	}
}

func TestMinorConversions(t *testing.T) {
	for _, tt := range []struct {
		micro    int64
		currency string
		minor    int64
		exact    bool
		ceil     int64
	}{
		{12_500000, "USD", 1250, true, 12_500000},
		{12_492500, "USD", 1249, false, 12_500000},
		{7500, "USD", 0, false, 10000},
		{1200_000000, "JPY", 1200, true, 1200_000000},
		{500000, "JPY", 0, false, 1_000000},
		{1_234000, "BHD", 1234, true, 1_234000},
	} {
		minor, ok := ToMinor(tt.micro, tt.currency)
		if minor != tt.minor || ok != tt.exact {
			t.Errorf("ToMinor(%d, %s) = %d, %t; want %d, %t", tt.micro, tt.currency, minor, ok, tt.minor, tt.exact)
		}
		if c, err := CeilMinor(tt.micro, tt.currency); err != nil || c != tt.ceil {
			t.Errorf("CeilMinor(%d, %s) = %d, %v; want %d", tt.micro, tt.currency, c, err, tt.ceil)
		}
		if tt.exact {
			if back, err := FromMinor(tt.minor, tt.currency); err != nil || back != tt.micro {
				t.Errorf("FromMinor(%d, %s) = %d, %v; want %d", tt.minor, tt.currency, back, err, tt.micro)
			}
		}
	}
	if _, err := FromMinor(math.MaxInt64/100, "USD"); !errors.Is(err, ErrInvalidAmount) {
		t.Errorf("FromMinor overflow: %v; want ErrInvalidAmount", err)
	}
	if _, err := CeilMinor(math.MaxInt64, "USD"); !errors.Is(err, ErrInvalidAmount) {
		t.Errorf("CeilMinor overflow: %v; want ErrInvalidAmount", err)
	}
}

func TestUnmarshalGQL(t *testing.T) {
	valid := []string{"12", "12.50", "0", "007.5", "0.001"}
	for _, s := range valid {
		var d Decimal
		if err := d.UnmarshalGQL(s); err != nil || d != Decimal(s) {
			t.Errorf("UnmarshalGQL(%q) = %q, %v; want ok", s, d, err)
		}
	}
	invalid := []any{
		"", " 1", "1 ", "+1", "-1", "1.", ".5", ".", "1e3", "1E3", "NaN", "Inf",
		"0x10", "1_000", "1,5", "1..2", "1.2.3", "١٢", "１２",
		float64(12), json.Number("12"), int(12), int64(12), nil, true, []byte("12"),
	}
	for _, v := range invalid {
		d := Decimal("untouched")
		err := d.UnmarshalGQL(v)
		if !errors.Is(err, ErrInvalidAmount) {
			t.Errorf("UnmarshalGQL(%#v) error = %v; want ErrInvalidAmount", v, err)
		}
		if d != "untouched" {
			t.Errorf("UnmarshalGQL(%#v) modified the value to %q", v, d)
		}
	}
}

func TestMarshalGQL(t *testing.T) {
	var buf bytes.Buffer
	Decimal("12.50").MarshalGQL(&buf)
	if got := buf.String(); got != `"12.50"` {
		t.Errorf("MarshalGQL = %s; want \"12.50\"", got)
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		micro    int64
		currency string
		want     Decimal
	}{
		{12_500000, "USD", "12.50"},
		{12_492500, "USD", "12.4925"},
		{7500, "USD", "0.0075"},
		{0, "USD", "0.00"},
		{10000, "USD", "0.01"},
		{1, "USD", "0.000001"},
		{-10000, "USD", "-0.01"},
		{-12_500000, "USD", "-12.50"},
		{1200_000000, "JPY", "1200"},
		{500000, "JPY", "0.5"},
		{0, "JPY", "0"},
		{-1200_000000, "JPY", "-1200"},
		{5000, "BHD", "0.005"},
		{1_234500, "CLF", "1.2345"},
		{math.MaxInt64, "USD", "9223372036854.775807"},
		{math.MinInt64, "USD", "-9223372036854.775808"},
		{12_500000, "XYZ", "12.50"}, // unknown currency: 2 digits
	}
	for _, tt := range tests {
		if got := Format(tt.micro, tt.currency); got != tt.want {
			t.Errorf("Format(%d, %s) = %q; want %q", tt.micro, tt.currency, got, tt.want)
		}
	}
}

func TestFormatMinor(t *testing.T) {
	tests := []struct {
		minor    int64
		currency string
		want     Decimal
	}{
		{1250, "USD", "12.50"},
		{0, "USD", "0.00"},
		{-1, "USD", "-0.01"},
		{1200, "JPY", "1200"},
		{5, "BHD", "0.005"},
		{math.MinInt64, "JPY", "-9223372036854775808"},
	}
	for _, tt := range tests {
		if got := FormatMinor(tt.minor, tt.currency); got != tt.want {
			t.Errorf("FormatMinor(%d, %s) = %q; want %q", tt.minor, tt.currency, got, tt.want)
		}
	}
}

func TestMinorUnits(t *testing.T) {
	tests := []struct {
		code   string
		want   int
		wantOK bool
	}{
		{"USD", 2, true}, {"EUR", 2, true}, {"JPY", 0, true}, {"KRW", 0, true},
		{"BHD", 3, true}, {"KWD", 3, true}, {"CLF", 4, true}, {"UYW", 4, true},
		{"UYI", 0, true}, {"VES", 2, true}, {"VED", 2, true}, {"ZWG", 2, true},
		{"SLE", 2, true}, {"STN", 2, true}, {"MRU", 2, true},
		{"XAU", 0, false}, {"XDR", 0, false}, {"XXX", 0, false}, {"XTS", 0, false},
		{"HRK", 0, false}, {"usd", 0, false}, {"", 0, false},
	}
	for _, tt := range tests {
		got, ok := MinorUnits(tt.code)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("MinorUnits(%q) = %d, %v; want %d, %v", tt.code, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestNormalizeCurrency(t *testing.T) {
	ok := map[string]string{"usd": "USD", "USD": "USD", "Jpy": "JPY", "bhd": "BHD"}
	for in, want := range ok {
		if got, err := NormalizeCurrency(in); err != nil || got != want {
			t.Errorf("NormalizeCurrency(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "US", "USDD", "XYZ", "12A", " USD", "USD ", "XAU", "ÜSD"} {
		_, err := NormalizeCurrency(in)
		if !errors.Is(err, ErrInvalidCurrency) {
			t.Errorf("NormalizeCurrency(%q) error = %v; want ErrInvalidCurrency", in, err)
		}
	}
	_, err := NormalizeCurrency("XYZ")
	if want := `unknown currency "XYZ": use an ISO 4217 code such as USD`; err == nil || err.Error() != want {
		t.Errorf("NormalizeCurrency(XYZ) error = %v; want %q", err, want)
	}
}

func TestMulQuantity(t *testing.T) {
	tests := []struct {
		price, qty, want int64
		overflow         bool
	}{
		{1250, 3, 3750, false},
		{0, math.MaxInt64, 0, false},
		{math.MaxInt64, 1, math.MaxInt64, false},
		{-5, 3, -15, false},
		{math.MaxInt64, 2, 0, true},
		{math.MaxInt64/2 + 1, 2, 0, true},
		{1 << 32, 1 << 31, 0, true},
		{math.MinInt64, -1, 0, true},
		{-1, math.MinInt64, 0, true},
	}
	for _, tt := range tests {
		got, err := MulQuantity(tt.price, tt.qty)
		if tt.overflow {
			if !errors.Is(err, ErrInvalidAmount) || err.Error() != "amount too large" {
				t.Errorf("MulQuantity(%d, %d) error = %v; want amount too large", tt.price, tt.qty, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("MulQuantity(%d, %d) = %d, %v; want %d", tt.price, tt.qty, got, err, tt.want)
		}
	}
}

func TestAdd(t *testing.T) {
	tests := []struct {
		a, b, want int64
		overflow   bool
	}{
		{1, 2, 3, false},
		{math.MaxInt64, 0, math.MaxInt64, false},
		{math.MaxInt64, -1, math.MaxInt64 - 1, false},
		{math.MinInt64, 1, math.MinInt64 + 1, false},
		{math.MaxInt64, 1, 0, true},
		{math.MinInt64, -1, 0, true},
	}
	for _, tt := range tests {
		got, err := Add(tt.a, tt.b)
		if tt.overflow {
			if !errors.Is(err, ErrInvalidAmount) {
				t.Errorf("Add(%d, %d) error = %v; want ErrInvalidAmount", tt.a, tt.b, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Add(%d, %d) = %d, %v; want %d", tt.a, tt.b, got, err, tt.want)
		}
	}
}
