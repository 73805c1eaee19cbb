package api

import "testing"

func TestSignInAddress(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":               "192.0.2.7",
		"2001:db8:1:2:aaaa::1":    "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff:1:2:3": "2001:db8:1:2::/64",
		"::ffff:192.0.2.7":        "::ffff:192.0.2.7",
		"":                        "",
		"not an address":          "not an address",
	} {
		if got := signInAddress(in); got != want {
			t.Errorf("signInAddress(%q) = %q, want %q", in, got, want)
		}
	}
}
