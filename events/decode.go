package events

import (
	"strconv"

	"creditgate/gid"
)

// decodeBalance reads the payload of a balance change as PostgreSQL's
// json_build_object writes it (BalanceSQL: `{"b" : {"a" : "acc_…", …}}`)
// without reflection. Every balance moved is announced, so a usage call of
// 100 events is 100 payloads for every instance to decode: through
// encoding/json each took ~3.5 µs and 12 allocations, a fifth of the
// listener's share of such a call. It accepts only what it reads exactly
// as encoding/json would: keys spelled as Balance's tags, strings without
// escapes or control bytes, integers without fraction or exponent, the
// timestamp through time.Time's own UnmarshalJSON. On anything else it
// says false and Decode falls back to encoding/json, which is the
// definition (TestDecodeBalanceAsJSON).
//
// The strings it returns share the payload's memory (a ~200-byte string
// of its own per notification), instead of an allocation each.
func decodeBalance(s string) (*Balance, bool) {
	p := scanner{s: s}
	if !p.lit('{') || !p.key("b") || !p.lit('{') {
		return nil, false
	}
	b := &Balance{}
	for first := true; ; first = false {
		if p.lit('}') {
			if first {
				return nil, false // {"b": {}}: rare enough for encoding/json
			}
			break
		}
		if !first && !p.lit(',') {
			return nil, false
		}
		k, ok := p.str()
		if !ok || !p.lit(':') {
			return nil, false
		}
		switch k {
		case "a", "g", "c":
			v, ok := p.str()
			if !ok {
				return nil, false
			}
			switch k {
			case "a":
				b.AccountID = gid.ID(v)
			case "g":
				b.AgencyID = gid.ID(v)
			default:
				b.Currency = v
			}
		case "v", "h", "o", "s", "n":
			v, ok := p.int()
			if !ok {
				return nil, false
			}
			switch k {
			case "v":
				b.Available = v
			case "h":
				b.Held = v
			case "o":
				b.Owed = v
			case "s":
				b.Seq = v
			default:
				b.Version = v
			}
		case "t":
			p.space()
			start := p.i
			if _, ok := p.str(); !ok {
				return nil, false
			}
			// time.Time's own decoding, quotes included: the same strict
			// RFC 3339 as encoding/json applies.
			if err := b.UpdatedAt.UnmarshalJSON([]byte(p.s[start:p.i])); err != nil {
				return nil, false
			}
		default:
			return nil, false // another key (or a case-folded one): encoding/json's rules
		}
	}
	if !p.lit('}') {
		return nil, false
	}
	p.space()
	return b, p.i == len(p.s)
}

// scanner reads s from i, skipping JSON white space before each token.
type scanner struct {
	s string
	i int
}

func (p *scanner) space() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// lit consumes the byte c if it comes next.
func (p *scanner) lit(c byte) bool {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// key consumes the member name k and its colon.
func (p *scanner) key(k string) bool {
	v, ok := p.str()
	return ok && v == k && p.lit(':')
}

// str consumes a string of printable ASCII without escapes and returns its
// content; anything else (escapes, control or non-ASCII bytes, whose
// decoding has rules of its own) is not read here.
func (p *scanner) str() (string, bool) {
	if !p.lit('"') {
		return "", false
	}
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return p.s[start : p.i-1], true
		case c == '\\' || c < 0x20 || c > 0x7e:
			return "", false
		}
		p.i++
	}
	return "", false
}

// int consumes a JSON integer (-?(0|[1-9][0-9]*)) that fits an int64.
func (p *scanner) int() (int64, bool) {
	p.space()
	start := p.i
	if p.i < len(p.s) && p.s[p.i] == '-' {
		p.i++
	}
	digits := p.i
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	switch {
	case p.i == digits, p.s[digits] == '0' && p.i > digits+1:
		return 0, false // no digits, or a leading zero
	case p.i < len(p.s) && (p.s[p.i] == '.' || p.s[p.i] == 'e' || p.s[p.i] == 'E'):
		return 0, false // a fraction or an exponent: encoding/json's error
	}
	v, err := strconv.ParseInt(p.s[start:p.i], 10, 64)
	return v, err == nil
}
