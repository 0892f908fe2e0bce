package credits

import (
	"time"

	"github.com/lib/pq"
)

// parsePGTime reads a timestamptz as PostgreSQL writes it in text under
// lib/pq's DateStyle (ISO): "2026-12-06 00:17:45.123456+00", the offset
// possibly with minutes and seconds ("+05:30", "-03:00:00"). A history page
// reads created_at as text and parses it here: lib/pq's parser (a
// mutex-guarded zone cache, math.Pow and a boxed time per row) was 8% of
// the gateway's CPU for a 50-row page. Anything else (years beyond 9999,
// BC dates, infinity, more than 9 fraction digits) is left to lib/pq's own
// parser, so the instant is always the one lib/pq would have read; it is
// returned in UTC, as the page serves it.
func parsePGTime(s []byte) (time.Time, error) {
	if t, ok := parsePGTimeFast(s); ok {
		return t, nil
	}
	t, err := pq.ParseTimestamp(nil, string(s))
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

// parsePGTimeFast is parsePGTime for the usual form; ok is false for any
// other.
func parsePGTimeFast(s []byte) (t time.Time, ok bool) {
	// "YYYY-MM-DD HH:MM:SS" is 19 bytes; the offset's sign and hours 3 more.
	if len(s) < 22 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range s[i : i+n] {
			if c < '0' || c > '9' {
				ok = false
				return 0
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	ok = true
	year, month, day := num(0, 4), num(5, 2), num(8, 2)
	hour, minute, sec := num(11, 2), num(14, 2), num(17, 2)
	i, nanos := 19, 0
	if s[i] == '.' {
		i++
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if n := i - start; n == 0 || n > 9 {
			return time.Time{}, false
		}
		nanos = num(start, i-start)
		for range 9 - (i - start) {
			nanos *= 10
		}
	}
	// The offset: +HH, +HH:MM or +HH:MM:SS.
	if len(s)-i < 3 || (s[i] != '+' && s[i] != '-') {
		return time.Time{}, false
	}
	sign := 1
	if s[i] == '-' {
		sign = -1
	}
	off := num(i+1, 2) * 3600
	i += 3
	for _, unit := range [...]int{60, 1} {
		if i == len(s) {
			break
		}
		if len(s)-i < 3 || s[i] != ':' {
			return time.Time{}, false
		}
		off += num(i+1, 2) * unit
		i += 3
	}
	if i != len(s) || !ok {
		return time.Time{}, false
	}
	// time.Date normalizes out-of-range fields as lib/pq's call of it does.
	t = time.Date(year, time.Month(month), day, hour, minute, sec, nanos, time.UTC)
	return t.Add(-time.Duration(sign*off) * time.Second), true
}
