package webhook

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Resolver resolves a host name to its addresses (*net.Resolver does).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Guard decides which endpoints Herald may call: only public addresses,
// over HTTPS; loopback (127.0.0.0/8) and plain HTTP to it only when
// AllowLoopbackHTTP is set, which the local cloud does and Lambda never.
type Guard struct {
	// Resolver resolves host names; nil is net.DefaultResolver.
	Resolver Resolver
	// AllowLoopbackHTTP accepts 127.0.0.0/8, with http:// or https://.
	AllowLoopbackHTTP bool
}

// ErrRefusedAddress is a connection refused by the guard: the endpoint's
// host resolved to an address Herald never calls.
var ErrRefusedAddress = errors.New("webhook: the endpoint resolves to an address that is not public")

// blocked are the ranges no webhook may reach: private, shared (CGNAT),
// loopback, link-local (the EC2 metadata service among them), unspecified,
// multicast, reserved and documentation ranges, and IPv6 forms that embed
// an IPv4 address or reach the metadata service.
var blocked = func() []netip.Prefix {
	var ps []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
		"192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
		"203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
		"::/128", "::1/128", "::/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001::/32", "2001:db8::/32",
		"2002::/16", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8", "fd00:ec2::254/128",
	} {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return ps
}()

var loopback4 = netip.MustParsePrefix("127.0.0.0/8")

// Allowed reports whether an endpoint may be reached at ip. IPv4-mapped
// IPv6 addresses are judged as the IPv4 address they carry.
func (g *Guard) Allowed(ip netip.Addr) bool {
	ip = ip.Unmap().WithZone("")
	if !ip.IsValid() {
		return false
	}
	if g.AllowLoopbackHTTP && loopback4.Contains(ip) {
		return true
	}
	for _, p := range blocked {
		if p.Contains(ip) {
			return false
		}
	}
	return !ip.IsLoopback() && !ip.IsPrivate() && !ip.IsLinkLocalUnicast() && !ip.IsMulticast() && !ip.IsUnspecified()
}

func (g *Guard) resolver() Resolver {
	if g.Resolver != nil {
		return g.Resolver
	}
	return net.DefaultResolver
}

// resolve returns host's addresses (the address itself for a literal).
func (g *Guard) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return []netip.Addr{ip}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return g.resolver().LookupNetIP(ctx, "ip", host)
}

// CheckURL checks an endpoint URL when a webhook is stored and returns
// what is wrong with it ("" when nothing): an absolute https:// URL (http://
// only to loopback where allowed) without user info, whose host resolves
// to public addresses only.
func (g *Guard) CheckURL(ctx context.Context, raw string) string {
	if raw == "" {
		return "is required"
	}
	if len(raw) > maxURL {
		return "must be at most 2048 characters"
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return "must be an absolute https:// URL"
	}
	if u.User != nil {
		return "must not hold a user name or password"
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return "must be an https:// URL"
	}
	host := u.Hostname()
	if host == "" {
		return "must name a host"
	}
	ips, err := g.resolve(ctx, host)
	if err != nil || len(ips) == 0 {
		return "must name a host that resolves"
	}
	loop := true
	for _, ip := range ips {
		if !g.Allowed(ip) {
			return "must resolve to public addresses only (not private, loopback, link-local or metadata ones)"
		}
		loop = loop && loopback4.Contains(ip.Unmap())
	}
	if u.Scheme == "http" && !(g.AllowLoopbackHTTP && loop) {
		return "must be an https:// URL"
	}
	return ""
}

// DialContext connects to addr ("host:port") at one of the host's
// addresses the guard allows, checking the very address it connects to:
// a DNS answer that changed since the URL was checked (rebinding) cannot
// reach a private address. It is the delivery client's Transport dialer.
func (g *Guard) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	ips, err := g.resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	d := net.Dialer{Timeout: 5 * time.Second, Control: g.control}
	var firstErr error
	for _, ip := range ips {
		if !g.Allowed(ip) {
			firstErr = cmpErr(firstErr, ErrRefusedAddress)
			continue
		}
		c, err := d.DialContext(ctx, network, net.JoinHostPort(ip.Unmap().String(), port))
		if err == nil {
			return c, nil
		}
		firstErr = cmpErr(firstErr, err)
	}
	if firstErr == nil {
		firstErr = ErrRefusedAddress
	}
	return nil, firstErr
}

// control checks the address a socket is about to connect to, the last
// line of defence whatever the dialer resolved.
func (g *Guard) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !g.Allowed(ap.Addr()) {
		return ErrRefusedAddress
	}
	return nil
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}
