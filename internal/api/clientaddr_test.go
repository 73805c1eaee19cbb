package api

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestAddressBucket(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":               "192.0.2.7",
		"2001:db8:1:2:aaaa::1":    "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff:1:2:3": "2001:db8:1:2::/64",
		"::ffff:192.0.2.7":        "::ffff:192.0.2.7",
		"":                        "",
		"not an address":          "not an address",
	} {
		if got := addressBucket(in); got != want {
			t.Errorf("addressBucket(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClientAddress(t *testing.T) {
	t.Parallel()
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ffff::/48")}
	for _, c := range []struct {
		name, peer string
		xff        []string
		trusted    []netip.Prefix
		want       string
	}{
		{"no proxies: header ignored", "192.0.2.1:5000", []string{"198.51.100.1"}, nil, "192.0.2.1"},
		{"peer not a proxy: header ignored", "192.0.2.1:5000", []string{"198.51.100.1"}, proxies, "192.0.2.1"},
		{"one proxy", "10.0.0.2:5000", []string{"198.51.100.1"}, proxies, "198.51.100.1"},
		{"right-most untrusted hop, not the client's claim", "10.0.0.2:5000", []string{"6.6.6.6, 198.51.100.1, 10.1.1.1"}, proxies, "198.51.100.1"},
		{"several header lines", "10.0.0.2:5000", []string{"6.6.6.6", "198.51.100.1,10.1.1.1"}, proxies, "198.51.100.1"},
		{"only proxies: the left-most", "10.0.0.2:5000", []string{"10.9.9.9, 10.1.1.1"}, proxies, "10.9.9.9"},
		{"no header: the proxy", "10.0.0.2:5000", nil, proxies, "10.0.0.2"},
		{"garbage: the last proxy that vouched", "10.0.0.2:5000", []string{"198.51.100.1, bogus, 10.1.1.1"}, proxies, "10.1.1.1"},
		{"IPv6 proxy and client", "[2001:db8:ffff::1]:443", []string{"2001:db8:1::7"}, proxies, "2001:db8:1::7"},
		{"address with port", "10.0.0.2:5000", []string{"198.51.100.1:4711"}, proxies, "198.51.100.1"},
		{"IPv4-mapped peer", "[::ffff:10.0.0.2]:5000", []string{"198.51.100.1"}, proxies, "198.51.100.1"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.peer
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := clientAddress(r, c.trusted); got != c.want {
			t.Errorf("%s: clientAddress = %q, want %q", c.name, got, c.want)
		}
	}
}
