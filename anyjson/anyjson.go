// Package anyjson decodes JSON into the values encoding/json gives an any
// when its decoder uses json.Number: map[string]any, []any, string,
// json.Number, bool and nil. It accepts and refuses the same documents,
// and decodes them to the same values (invalid UTF-8 and lone surrogates
// become U+FFFD, a repeated key's last value wins, nesting deeper than
// 10,000 is refused), which FuzzValue holds it to.
//
// Why a second decoder: every GraphQL request's body is decoded, and
// encoding/json's reflection-driven path, with a scanner called per byte,
// was about 6% of a cached balance read's CPU. This one makes one pass
// over the bytes and allocates only the values.
package anyjson

import (
	"encoding/json"
	"errors"
	"unicode/utf16"
	"unicode/utf8"
)

// ErrSyntax is every refusal: the caller's answer is the same for all.
var ErrSyntax = errors.New("anyjson: invalid JSON")

// maxDepth is encoding/json's nesting limit.
const maxDepth = 10000

// Value decodes b, one JSON value with only whitespace around it.
func Value(b []byte) (any, error) {
	d := decoder{b: b}
	d.space()
	v, ok := d.value(0)
	if !ok {
		return nil, ErrSyntax
	}
	d.space()
	if d.i != len(d.b) {
		return nil, ErrSyntax
	}
	return v, nil
}

// Object decodes b, one JSON object with only whitespace around it, and
// calls member with each of its members in order, repeated keys
// included, as encoding/json does when it decodes into a struct. Members
// before a syntax error may have been passed to member.
func Object(b []byte, member func(key string, v any)) error {
	d := decoder{b: b}
	d.space()
	if !d.members(1, member) {
		return ErrSyntax
	}
	d.space()
	if d.i != len(d.b) {
		return ErrSyntax
	}
	return nil
}

type decoder struct {
	b []byte
	i int
}

// space skips JSON's four whitespace bytes.
func (d *decoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\r', '\n':
			d.i++
		default:
			return
		}
	}
}

// value decodes the value at d.i, whose containers are depth deep.
func (d *decoder) value(depth int) (any, bool) {
	if d.i >= len(d.b) {
		return nil, false
	}
	switch c := d.b[d.i]; {
	case c == '{':
		m := make(map[string]any)
		ok := d.members(depth+1, func(k string, v any) { m[k] = v })
		return m, ok
	case c == '[':
		return d.array(depth + 1)
	case c == '"':
		return d.string()
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	}
	return nil, false
}

func (d *decoder) literal(lit string) bool {
	if len(d.b)-d.i < len(lit) || string(d.b[d.i:d.i+len(lit)]) != lit {
		return false
	}
	d.i += len(lit)
	return true
}

// members decodes the object at d.i, which is at depth.
func (d *decoder) members(depth int, member func(string, any)) bool {
	if depth > maxDepth || d.i >= len(d.b) || d.b[d.i] != '{' {
		return false
	}
	d.i++
	d.space()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return true
	}
	for {
		if d.i >= len(d.b) || d.b[d.i] != '"' {
			return false
		}
		k, ok := d.string()
		if !ok {
			return false
		}
		d.space()
		if d.i >= len(d.b) || d.b[d.i] != ':' {
			return false
		}
		d.i++
		d.space()
		v, ok := d.value(depth)
		if !ok {
			return false
		}
		member(k, v)
		d.space()
		if d.i >= len(d.b) {
			return false
		}
		switch d.b[d.i] {
		case ',':
			d.i++
			d.space()
		case '}':
			d.i++
			return true
		default:
			return false
		}
	}
}

// array decodes the array at d.i, which is at depth.
func (d *decoder) array(depth int) (any, bool) {
	if depth > maxDepth {
		return nil, false
	}
	d.i++ // [
	a := make([]any, 0)
	d.space()
	if d.i < len(d.b) && d.b[d.i] == ']' {
		d.i++
		return a, true
	}
	for {
		v, ok := d.value(depth)
		if !ok {
			return nil, false
		}
		a = append(a, v)
		d.space()
		if d.i >= len(d.b) {
			return nil, false
		}
		switch d.b[d.i] {
		case ',':
			d.i++
			d.space()
		case ']':
			d.i++
			return a, true
		default:
			return nil, false
		}
	}
}

// number takes the number at d.i verbatim, as json.Number.
func (d *decoder) number() (any, bool) {
	start := d.i
	if d.b[d.i] == '-' {
		d.i++
	}
	switch {
	case d.i >= len(d.b):
		return nil, false
	case d.b[d.i] == '0':
		d.i++
	case d.b[d.i] >= '1' && d.b[d.i] <= '9':
		d.digits()
	default:
		return nil, false
	}
	if d.i < len(d.b) && d.b[d.i] == '.' {
		d.i++
		if !d.digits() {
			return nil, false
		}
	}
	if d.i < len(d.b) && (d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		d.i++
		if d.i < len(d.b) && (d.b[d.i] == '+' || d.b[d.i] == '-') {
			d.i++
		}
		if !d.digits() {
			return nil, false
		}
	}
	return json.Number(d.b[start:d.i]), true
}

// digits skips one or more digits; false when there is none.
func (d *decoder) digits() bool {
	start := d.i
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		d.i++
	}
	return d.i > start
}

// string decodes the string at d.i (its opening quote).
func (d *decoder) string() (string, bool) {
	d.i++
	start := d.i
	// Most strings (keys, hashes, names) have no escape and are ASCII:
	// one conversion.
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			s := string(d.b[start:d.i])
			d.i++
			return s, true
		case c == '\\' || c >= utf8.RuneSelf:
			return d.slowString(start)
		case c < 0x20:
			return "", false
		}
		d.i++
	}
	return "", false
}

// slowString decodes the rest of a string that began at start and has an
// escape or a non-ASCII byte at d.i, as encoding/json's unquote does.
func (d *decoder) slowString(start int) (string, bool) {
	out := make([]byte, d.i-start, d.i-start+16)
	copy(out, d.b[start:d.i])
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			return string(out), true
		case c < 0x20:
			return "", false
		case c == '\\':
			d.i++
			if d.i >= len(d.b) {
				return "", false
			}
			switch e := d.b[d.i]; e {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				out = append(out, unescaped[e])
				d.i++
			case 'u':
				r := hex4(d.b[d.i+1:])
				if r < 0 {
					return "", false
				}
				d.i += 5
				if utf16.IsSurrogate(r) {
					// A valid pair is one rune; anything else is U+FFFD
					// for this half, and what follows is read on its own.
					r2 := rune(-1)
					if len(d.b)-d.i >= 6 && d.b[d.i] == '\\' && d.b[d.i+1] == 'u' {
						r2 = hex4(d.b[d.i+2:])
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						d.i += 6
						out = utf8.AppendRune(out, dec)
						continue
					}
					r = utf8.RuneError
				}
				out = utf8.AppendRune(out, r)
			default:
				return "", false
			}
		case c < utf8.RuneSelf:
			out = append(out, c)
			d.i++
		default:
			r, size := utf8.DecodeRune(d.b[d.i:])
			if r == utf8.RuneError && size == 1 {
				out = utf8.AppendRune(out, utf8.RuneError)
			} else {
				out = append(out, d.b[d.i:d.i+size]...)
			}
			d.i += size
		}
	}
	return "", false
}

// unescaped is what a one-letter escape stands for.
var unescaped = [256]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// hex4 is the value of four hex digits at the start of b, or -1.
func hex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}
