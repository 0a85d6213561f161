package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"time"
)

// Resolver looks up the addresses of a host name. *net.Resolver satisfies
// it; tests supply their own to map names such as good.example onto loopback.
// network is "ip", "ip4" or "ip6". It must be safe for concurrent use.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Dialer opens a connection to an address that has already passed the
// address policy: the client calls it with an IP literal and port only.
// *net.Dialer satisfies it. It must be safe for concurrent use.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// AddressAllowed reports whether the client may connect to addr: true when
// addr is inside one of the allow prefixes, otherwise true only for a public
// unicast address. Refused without an allow-list entry:
//
//   - IPv4: 0.0.0.0/8 (this network), 10/8, 100.64/10 (CGNAT), 127/8,
//     169.254/16 (link-local, cloud metadata), 172.16/12, 192.0.0/24,
//     192.0.2/24, 192.88.99/24 (6to4 relay), 192.168/16, 198.18/15
//     (benchmarking), 198.51.100/24, 203.0.113/24, 224/4 (multicast) and
//     240/4 (reserved, broadcast);
//   - IPv6: everything outside 2000::/3 (so ::, ::1, the IPv4-compatible
//     ::/96, 100::/64, 5f00::/16, fc00::/7, fe80::/10, fec0::/10 and ff00::/8),
//     and inside it 2001::/23 (protocol assignments, Teredo), 2001:db8::/32,
//     2002::/16 (6to4) and 3fff::/20 (documentation);
//   - IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::/96) addresses are
//     judged by the IPv4 address they carry; 64:ff9b:1::/48 is refused.
//
// Allow prefixes match the address as given and its unmapped IPv4 form, so
// 127.0.0.0/8 also admits ::ffff:127.0.0.1. A zone is ignored.
func AddressAllowed(addr netip.Addr, allow []netip.Prefix) bool {
	if !addr.IsValid() {
		return false
	}
	addr = addr.WithZone("")
	unmapped := addr.Unmap()
	for _, p := range allow {
		if p.Contains(addr) || p.Contains(unmapped) {
			return true
		}
	}
	return public(unmapped)
}

// InsecurePrefixes returns the allow-list for --insecure-http demos and
// federation tests (Config.AllowPrefixes): loopback (127.0.0.0/8, ::1),
// private (10/8, 172.16/12, 192.168/16, fc00::/7) and CGNAT (100.64/10)
// ranges, where test and demo peers live. Link-local (and with it the cloud
// metadata address 169.254.169.254), unspecified, multicast and reserved
// ranges stay refused even then. Each call returns a new slice.
func InsecurePrefixes() []netip.Prefix {
	return []netip.Prefix{
		prefix4(127, 0, 0, 0, 8),
		prefix4(10, 0, 0, 0, 8),
		prefix4(172, 16, 0, 0, 12),
		prefix4(192, 168, 0, 0, 16),
		prefix4(100, 64, 0, 0, 10),
		netip.PrefixFrom(netip.IPv6Loopback(), 128),
		prefix6(0xfc00, 0, 7),
	}
}

func prefix4(a, b, c, d byte, bits int) netip.Prefix {
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{a, b, c, d}), bits)
}

func prefix6(hi uint16, second uint16, bits int) netip.Prefix {
	var b [16]byte
	b[0], b[1] = byte(hi>>8), byte(hi)
	b[2], b[3] = byte(second>>8), byte(second)
	return netip.PrefixFrom(netip.AddrFrom16(b), bits)
}

// public reports whether an (unmapped, zone-free) address is public unicast.
func public(a netip.Addr) bool {
	if a.Is4() {
		for _, p := range [...]netip.Prefix{
			prefix4(0, 0, 0, 0, 8),
			prefix4(10, 0, 0, 0, 8),
			prefix4(100, 64, 0, 0, 10),
			prefix4(127, 0, 0, 0, 8),
			prefix4(169, 254, 0, 0, 16),
			prefix4(172, 16, 0, 0, 12),
			prefix4(192, 0, 0, 0, 24),
			prefix4(192, 0, 2, 0, 24),
			prefix4(192, 88, 99, 0, 24),
			prefix4(192, 168, 0, 0, 16),
			prefix4(198, 18, 0, 0, 15),
			prefix4(198, 51, 100, 0, 24),
			prefix4(203, 0, 113, 0, 24),
			prefix4(224, 0, 0, 0, 4),
			prefix4(240, 0, 0, 0, 4),
		} {
			if p.Contains(a) {
				return false
			}
		}
		return true
	}
	if prefix6(0x64, 0xff9b, 96).Contains(a) {
		b := a.As16()
		return public(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
	}
	if !prefix6(0x2000, 0, 3).Contains(a) {
		return false
	}
	for _, p := range [...]netip.Prefix{
		prefix6(0x2001, 0, 23),
		prefix6(0x2001, 0x0db8, 32),
		prefix6(0x2002, 0, 16),
		prefix6(0x3fff, 0, 20),
	} {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// dialer resolves a host itself, checks every address against the policy and
// dials only checked IP literals, so the address connected to is the address
// checked: a resolver answering differently on the next lookup (DNS
// rebinding) gains nothing.
type dialer struct {
	resolver Resolver
	next     Dialer
	allow    []netip.Prefix
	timeout  time.Duration
}

// DialContext is the http.Transport dial function.
func (d *dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, portText, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("transport: dial %q: %w", address, err)
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("transport: dial %q: bad port: %w", address, err)
	}
	dctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()

	addrs, err := d.lookup(dctx, network, host)
	if err != nil {
		return nil, d.timeoutErr(ctx, dctx, fmt.Errorf("transport: resolve %q: %w", host, err))
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("transport: resolve %q: no addresses", host)
	}
	// One refused address refuses the host: a name that mixes public and
	// internal answers is not one we want to talk to.
	for _, a := range addrs {
		if !AddressAllowed(a, d.allow) {
			return nil, &BlockedAddressError{Host: host, Addr: a}
		}
	}
	var errs []error
	for i, a := range addrs {
		target := netip.AddrPortFrom(a.Unmap().WithZone(""), uint16(port)).String()
		conn, err := d.dialOne(dctx, network, target, len(addrs)-i)
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
		if dctx.Err() != nil {
			break
		}
	}
	return nil, d.timeoutErr(ctx, dctx, fmt.Errorf("transport: dial %q: %w", address, errors.Join(errs...)))
}

// dialOne dials one address with an equal share of the time left, so that
// an address that swallows packets leaves time for the others ("left" counts
// this one and those after it).
func (d *dialer) dialOne(ctx context.Context, network, target string, left int) (net.Conn, error) {
	if deadline, ok := ctx.Deadline(); ok && left > 1 {
		share := time.Until(deadline) / time.Duration(left)
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, share)
		defer cancel()
	}
	return d.next.DialContext(ctx, network, target)
}

func (d *dialer) lookup(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip}, nil
	}
	family := "ip"
	switch network {
	case "tcp4":
		family = "ip4"
	case "tcp6":
		family = "ip6"
	}
	return d.resolver.LookupNetIP(ctx, family, host)
}

// timeoutErr marks err as a connect timeout when the dial's own deadline
// (not the caller's context) ran out.
func (d *dialer) timeoutErr(parent, dctx context.Context, err error) error {
	if parent.Err() == nil && errors.Is(dctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w: connect after %v: %w", ErrTimeout, d.timeout, err)
	}
	return err
}

// controlAllowed is a net.Dialer Control function that checks, once more,
// the address the socket is about to connect to.
func controlAllowed(allow []netip.Prefix) func(network, address string, c syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("transport: connect %q: %w", address, err)
		}
		if !AddressAllowed(ap.Addr(), allow) {
			return &BlockedAddressError{Host: address, Addr: ap.Addr()}
		}
		return nil
	}
}
