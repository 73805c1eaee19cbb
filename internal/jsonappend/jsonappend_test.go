package jsonappend

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"
)

// The appenders must write what encoding/json writes, byte for byte: clients and the OpenAPI checks
// see one encoding whichever path wrote an answer.

func TestStringMatchesEncodingJSON(t *testing.T) {
	cases := []string{"", "plain", `quote " and \ backslash`, "<b>Tom & Jerry</b>", "line\nfeed\r\ttab\b\f",
		"\x00\x01\x1f\x7f", "é ü 漢字 🎭", "\u2028\u2029", "bad \xff\xfe utf-8", "\xed\xa0\x80 surrogate", "end\xe2\x82"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		n := rng.IntN(24)
		b := make([]byte, n)
		for i := range b {
			switch rng.IntN(4) {
			case 0:
				b[i] = byte(rng.IntN(0x20))
			case 1:
				b[i] = "\"\\<>&\u2028"[rng.IntN(8)]
			case 2:
				b[i] = byte(0x80 + rng.IntN(0x80))
			default:
				b[i] = byte(0x20 + rng.IntN(0x60))
			}
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := String(nil, s); string(got) != string(want) {
			t.Fatalf("String(%q) = %s, encoding/json writes %s", s, got, want)
		}
	}
}

func TestTimeMatchesEncodingJSON(t *testing.T) {
	berlin := time.FixedZone("CET", 3600)
	cases := []time.Time{
		{},
		time.Date(2026, 3, 4, 18, 30, 0, 0, time.UTC),
		time.Date(2026, 3, 4, 18, 30, 0, 123456789, berlin),
		time.Date(2026, 3, 4, 18, 30, 0, 120000000, time.FixedZone("", -9*3600-1800)),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Now(),
	}
	for _, tm := range cases {
		want, err := json.Marshal(tm)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Time(nil, tm)
		if err != nil || string(got) != string(want) {
			t.Fatalf("Time(%v) = %s, %v; encoding/json writes %s", tm, got, err, want)
		}
	}
	for _, tm := range []time.Time{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)} {
		if _, err := json.Marshal(tm); err == nil {
			t.Fatalf("encoding/json accepts %v", tm)
		}
		if _, err := Time(nil, tm); err == nil {
			t.Fatalf("Time(%v) accepted a year encoding/json refuses", tm)
		}
	}
}

func TestBool(t *testing.T) {
	if string(Bool(nil, true)) != "true" || string(Bool(nil, false)) != "false" {
		t.Fatal("Bool")
	}
}
