// Package money keeps amounts exact: int64 micro-units inside the service and
// plain decimal strings at the API edge, never floats, so no amount is ever
// rounded, wrapped or reinterpreted on its way in or out.
package money

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

var (
	// ErrInvalidAmount is wrapped by every amount error so callers can map
	// them to one client-facing error code with errors.Is.
	ErrInvalidAmount = errors.New("invalid amount")
	// ErrInvalidCurrency is wrapped by every currency error.
	ErrInvalidCurrency = errors.New("invalid currency")
)

// moneyError carries a complete user-facing message while still matching a
// sentinel with errors.Is; fmt.Errorf("%w: ...") would prefix the sentinel
// text and read awkwardly ("invalid amount: amount too large").
type moneyError struct {
	msg  string
	kind error
}

func (e *moneyError) Error() string { return e.msg }
func (e *moneyError) Unwrap() error { return e.kind }

func amountErr(format string, args ...any) error {
	return &moneyError{msg: fmt.Sprintf(format, args...), kind: ErrInvalidAmount}
}

func currencyErr(code string) error {
	return &moneyError{
		msg:  fmt.Sprintf("unknown currency %q: use an ISO 4217 code such as USD", code),
		kind: ErrInvalidCurrency,
	}
}

var errTooLarge = &moneyError{msg: "amount too large", kind: ErrInvalidAmount}

// Decimal is the GraphQL Decimal scalar. It travels as a JSON string so that
// no JSON parser along the way turns it into a lossy float.
type Decimal string

// MarshalGQL implements graphql.Marshaler.
func (d Decimal) MarshalGQL(w io.Writer) {
	_, _ = io.WriteString(w, strconv.Quote(string(d)))
}

// UnmarshalGQL implements graphql.Unmarshaler. JSON numbers are refused even
// when they look exact: accepting them would let clients depend on float
// parsing somewhere in their own stack. Only the syntax is checked here;
// Parse applies the currency rules once the currency is known.
func (d *Decimal) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok {
		return amountErr(`invalid amount: send the amount as a JSON string such as "12.50", not %T`, v)
	}
	if _, _, ok := split(s); !ok {
		return syntaxErr(s)
	}
	*d = Decimal(s)
	return nil
}

func syntaxErr(s string) error {
	return amountErr(`invalid amount %q: use a plain decimal such as "12.50"`, s)
}

// split checks s against ^[0-9]+(\.[0-9]+)?$ byte by byte (so no sign,
// exponent, spaces, hex, underscores or non-ASCII digits get through) and
// returns the integer and fraction digits.
func split(s string) (intPart, frac string, ok bool) {
	intPart, frac, hasDot := strings.Cut(s, ".")
	if !allDigits(intPart) || (hasDot && !allDigits(frac)) {
		return "", "", false
	}
	return intPart, frac, true
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Scale is the number of fraction digits every credit amount has inside the
// service, in every currency: amounts are int64 micro-units, so an SMS can
// cost 0.0075 USD and a balance can read 12.4925. Money that crosses a
// payment provider is limited to the currency's own digits (ParsePrice,
// ToMinor).
const Scale = 6

// Parse converts a client's credit amount to micro-units of currency (a
// canonical code, see NormalizeCurrency): a plain decimal with at most Scale
// fraction digits, greater than zero, within int64. It refuses anything it
// would have to round.
func Parse(d Decimal, currency string) (int64, error) {
	if _, ok := MinorUnits(currency); !ok {
		return 0, currencyErr(currency)
	}
	return parse(d, currency, Scale)
}

// ParsePrice converts money paid through a payment provider (a purchase's
// amount, a package's price, an invoice) to micro-units: it has no more
// fraction digits than the currency (ISO 4217: USD 2, JPY 0, BHD 3),
// including trailing zeros ("1.000" USD is refused), so the contract's "no
// more fraction digits than the currency has" holds literally.
func ParsePrice(d Decimal, currency string) (int64, error) {
	digits, ok := MinorUnits(currency)
	if !ok {
		return 0, currencyErr(currency)
	}
	return parse(d, currency, digits)
}

// parse reads d as micro-units, refusing more than maxFrac fraction digits.
func parse(d Decimal, currency string, maxFrac int) (int64, error) {
	s := string(d)
	intPart, frac, ok := split(s)
	if !ok {
		return 0, syntaxErr(s)
	}
	if len(frac) > maxFrac {
		switch {
		case maxFrac == 0:
			return 0, amountErr("invalid amount %q: %s has no fraction digits, use a whole number", s, currency)
		case maxFrac < Scale:
			return 0, amountErr("invalid amount %q: %s allows at most %d fraction digits", s, currency, maxFrac)
		default:
			return 0, amountErr("invalid amount %q: credit amounts have at most %d fraction digits", s, Scale)
		}
	}
	var v int64
	push := func(digit int64) bool {
		if v > (math.MaxInt64-digit)/10 {
			return false
		}
		v = v*10 + digit
		return true
	}
	for _, r := range intPart + frac {
		if !push(int64(r - '0')) {
			return 0, amountErr("invalid amount %q: too large for %s", s, currency)
		}
	}
	for range Scale - len(frac) {
		if !push(0) {
			return 0, amountErr("invalid amount %q: too large for %s", s, currency)
		}
	}
	if v == 0 {
		return 0, amountErr("invalid amount %q: must be greater than zero", s)
	}
	return v, nil
}

// Format renders micro-units with the currency's fraction digits, and more
// only when the amount has them: "12.50", "12.4925", "1200", "0.5" in JPY.
// An unknown currency is formatted with 2 digits rather than failing:
// callers validate currencies at the edge, and output paths should not have
// an error branch.
func Format(micro int64, currency string) Decimal {
	var buf [24]byte // "-9223372036854.775808" is 21: the text is built on the stack
	return Decimal(AppendFormat(buf[:0], micro, currency))
}

// AppendFormat appends Format(micro, currency)'s text to dst, allocating
// nothing when dst has room: a history page writes two amounts per row
// straight into its answer (Format built each from five to seven strings).
func AppendFormat(dst []byte, micro int64, currency string) []byte {
	mag, sign := magnitude(micro)
	return appendMagnitude(append(dst, sign...), mag, currency)
}

// FormatMagnitude is Format of |micro|: what an amount shown without its
// sign (a transaction's, whose type says the direction) reads, exact for
// every int64 (math.MinInt64 has no int64 opposite: -micro would stay
// negative).
func FormatMagnitude(micro int64, currency string) Decimal {
	var buf [24]byte
	return Decimal(AppendFormatMagnitude(buf[:0], micro, currency))
}

// AppendFormatMagnitude appends FormatMagnitude(micro, currency)'s text
// to dst, as AppendFormat does.
func AppendFormatMagnitude(dst []byte, micro int64, currency string) []byte {
	mag, _ := magnitude(micro)
	return appendMagnitude(dst, mag, currency)
}

// appendMagnitude appends mag micro-units' text, unsigned.
func appendMagnitude(dst []byte, mag uint64, currency string) []byte {
	digits, ok := MinorUnits(currency)
	if !ok {
		digits = 2
	}
	dst = strconv.AppendUint(dst, mag/1_000_000, 10) // 10^Scale
	// The Scale fraction digits, without trailing zeros, then padded with
	// zeros to the currency's digits.
	var frac [Scale]byte
	f := mag % 1_000_000
	for i := Scale - 1; i >= 0; i-- {
		frac[i] = '0' + byte(f%10)
		f /= 10
	}
	n := Scale
	for n > 0 && frac[n-1] == '0' {
		n--
	}
	if n == 0 && digits == 0 {
		return dst
	}
	dst = append(dst, '.')
	dst = append(dst, frac[:n]...)
	for ; n < digits; n++ {
		dst = append(dst, '0')
	}
	return dst
}

// FormatMinor renders a provider's minor units with exactly the currency's
// fraction digits ("12.50" USD, "1200" JPY), as providers' APIs want them.
func FormatMinor(minor int64, currency string) Decimal {
	digits, ok := MinorUnits(currency)
	if !ok {
		digits = 2
	}
	mag, sign := magnitude(minor)
	s := strconv.FormatUint(mag, 10)
	if digits == 0 {
		return Decimal(sign + s)
	}
	if len(s) <= digits {
		s = strings.Repeat("0", digits-len(s)+1) + s
	}
	cut := len(s) - digits
	return Decimal(sign + s[:cut] + "." + s[cut:])
}

// magnitude is |n| as uint64 (exact for math.MinInt64) and its sign.
func magnitude(n int64) (uint64, string) {
	if n < 0 {
		return -uint64(n), "-"
	}
	return uint64(n), ""
}

// minorFactor is how many micro-units make one minor unit of currency.
func MinorFactor(currency string) int64 {
	digits, ok := MinorUnits(currency)
	if !ok {
		digits = 2
	}
	f := int64(1)
	for range Scale - digits {
		f *= 10
	}
	return f
}

// ToMinor converts micro-units to the currency's minor units, for a payment
// provider; ok is false when the amount has finer digits than the currency.
func ToMinor(micro int64, currency string) (minor int64, ok bool) {
	f := MinorFactor(currency)
	return micro / f, micro%f == 0
}

// FromMinor converts a provider's minor units to micro-units.
func FromMinor(minor int64, currency string) (int64, error) {
	return MulQuantity(MinorFactor(currency), minor)
}

// CeilMinor rounds micro-units up to a whole minor unit of the currency:
// what a provider can be asked to charge for an amount with finer digits.
func CeilMinor(micro int64, currency string) (int64, error) {
	f := MinorFactor(currency)
	if r := micro % f; r > 0 {
		return Add(micro, f-r)
	}
	return micro, nil
}

// MinorUnits reports the ISO 4217 fraction digits of a canonical
// (upper-case) code; ok is false for unknown codes.
func MinorUnits(currency string) (int, bool) {
	n, ok := minorUnits[currency]
	return n, ok
}

// NormalizeCurrency accepts a code in any letter case and returns the
// canonical upper-case form. It trims nothing: stray whitespace is a client
// bug worth reporting, not silently fixing.
func NormalizeCurrency(code string) (string, error) {
	if len(code) != 3 {
		return "", currencyErr(code)
	}
	var b [3]byte
	for i := 0; i < 3; i++ {
		c := code[i]
		switch {
		case c >= 'A' && c <= 'Z':
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		default:
			return "", currencyErr(code)
		}
		b[i] = c
	}
	upper := string(b[:])
	if _, ok := minorUnits[upper]; !ok {
		return "", currencyErr(code)
	}
	return upper, nil
}

// MulQuantity returns price*qty, refusing results that would wrap around.
func MulQuantity(price, qty int64) (int64, error) {
	if price == 0 || qty == 0 {
		return 0, nil
	}
	p := price * qty
	if p/qty != price || (price == -1 && qty == math.MinInt64) || (qty == -1 && price == math.MinInt64) {
		return 0, errTooLarge
	}
	return p, nil
}

// Add returns a+b, refusing results that would wrap around.
func Add(a, b int64) (int64, error) {
	if (b > 0 && a > math.MaxInt64-b) || (b < 0 && a < math.MinInt64-b) {
		return 0, errTooLarge
	}
	return a + b, nil
}
