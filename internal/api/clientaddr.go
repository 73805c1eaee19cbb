package api

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientIP is the address of the client, as withLogging resolved it (see clientAddress); outside
// that middleware, the peer address.
func clientIP(r *http.Request) string {
	if f, ok := r.Context().Value(logFieldsKey{}).(*logFields); ok && f.clientIP != "" {
		return f.clientIP
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return ""
	}
	return host
}

// clientAddress is the peer address, unless the peer is one of the trusted proxies: then
// X-Forwarded-For is read from the right (each proxy appends the address it received from) and
// the first address that is not a trusted proxy is the client. Everything left of it was written
// by the client and proves nothing. Without trusted proxies the header is ignored.
func clientAddress(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return ""
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !isTrusted(peer.Unmap(), trusted) {
		return host
	}
	client := peer.Unmap()
	values := r.Header.Values("X-Forwarded-For")
	for i := len(values) - 1; i >= 0; i-- {
		hops := strings.Split(values[i], ",")
		for j := len(hops) - 1; j >= 0; j-- {
			hop, ok := parseHop(hops[j])
			if !ok {
				// Garbage in the chain: the last address a trusted proxy vouched for is all we know.
				return client.String()
			}
			client = hop
			if !isTrusted(hop, trusted) {
				return hop.String()
			}
		}
	}
	return client.String()
}

// parseHop reads one X-Forwarded-For element: an address, possibly with a port or in brackets.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// addressBucket is the per-address bucket of a client (sign-in attempts, failed token checks, public routes): its
// IPv4 address, or the /64 of an IPv6 one, since a single client usually holds a whole /64 and
// could rotate through it.
func addressBucket(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil || addr.Is4() || addr.Is4In6() {
		return ip
	}
	p, err := addr.Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}
