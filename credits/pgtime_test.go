package credits

import (
	"fmt"
	"testing"
	"time"

	"github.com/lib/pq"
)

// FuzzParsePGTime: whatever the text, parsePGTime reads the instant lib/pq
// reads, or fails where lib/pq fails; and the form PostgreSQL writes (any
// instant, offset and fraction) takes the fast path.
func FuzzParsePGTime(f *testing.F) {
	for _, s := range []string{
		"2026-12-06 00:17:45.123456+00", "2026-12-06 00:17:45+00", "2026-12-06 00:17:45.1+05:30",
		"1999-01-01 23:59:59.999999-03:00:00", "10000-01-01 00:00:00+00", "0044-03-15 12:00:00+00 BC",
		"infinity", "2026-12-06 00:17:45.1234567891+00", "2026-13-45 25:61:61+99", "2026-12-06T00:17:45Z", "",
	} {
		f.Add(s, int64(0), int16(0), uint8(0))
	}
	f.Add("", int64(1764979065123456789), int16(-210), uint8(6))
	f.Fuzz(func(t *testing.T, s string, ns int64, offMin int16, fracDigits uint8) {
		check := func(s string) (fast bool) {
			want, werr := pq.ParseTimestamp(nil, s)
			got, err := parsePGTime([]byte(s))
			if (err != nil) != (werr != nil) || (err == nil && (!got.Equal(want) || got.Location() != time.UTC)) {
				t.Fatalf("parsePGTime(%q) = %v, %v; lib/pq %v, %v", s, got, err, want, werr)
			}
			_, fast = parsePGTimeFast([]byte(s))
			return fast
		}
		check(s)
		// An instant between years 1 and 9999 as PostgreSQL writes it.
		at := time.Unix(0, ns).UTC().Truncate(time.Microsecond)
		off := time.Duration(offMin%(15*60)) * time.Minute
		local := at.In(time.FixedZone("", int(off.Seconds())))
		text := local.Format("2006-01-02 15:04:05")
		if d := int(fracDigits % 7); d > 0 && local.Nanosecond() != 0 {
			text += fmt.Sprintf(".%06d", local.Nanosecond()/1000)[:d+1]
			at = time.Date(at.Year(), at.Month(), at.Day(), at.Hour(), at.Minute(), at.Second(),
				parseFrac(text[20:]), time.UTC)
		} else {
			at = at.Truncate(time.Second)
		}
		sign, o := "+", int(off.Minutes())
		if o < 0 {
			sign, o = "-", -o
		}
		text += fmt.Sprintf("%s%02d", sign, o/60)
		if o%60 != 0 {
			text += fmt.Sprintf(":%02d", o%60)
		}
		if !check(text) {
			t.Fatalf("%q (%v) took lib/pq's path", text, at)
		}
		if got, _ := parsePGTime([]byte(text)); !got.Equal(at) {
			t.Fatalf("parsePGTime(%q) = %v; want %v", text, got, at)
		}
	})
}

// parseFrac is a fraction's digits as nanoseconds.
func parseFrac(digits string) int {
	n := 0
	for i := range 9 {
		n *= 10
		if i < len(digits) {
			n += int(digits[i] - '0')
		}
	}
	return n
}

func TestParsePGTimeAllocations(t *testing.T) {
	s := []byte("2026-12-06 00:17:45.123456+00")
	if n := testing.AllocsPerRun(100, func() { _, _ = parsePGTime(s) }); n != 0 {
		t.Errorf("parsePGTime allocated %v times; want 0", n)
	}
}
