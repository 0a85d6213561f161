package pub

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"

	"github.com/commonroom/commonroom/pub/transport"
)

// DomainBlocker is the host's domain-block policy. The Authenticator asks it
// about the key id's host before any key is fetched (SECURITY rule 10), so a
// blocked peer costs no outbound request. host is always normalized with
// transport.NormalizeHost (IDNA ASCII, lowercase, no trailing dot), so
// implementations compare plain strings. Implementations must be safe for
// concurrent use.
type DomainBlocker interface {
	DomainBlocked(ctx context.Context, host string) (bool, error)
}

// DomainBlockFunc adapts a function to DomainBlocker.
type DomainBlockFunc func(ctx context.Context, host string) (bool, error)

var _ DomainBlocker = DomainBlockFunc(nil)

// DomainBlocked calls f.
func (f DomainBlockFunc) DomainBlocked(ctx context.Context, host string) (bool, error) {
	return f(ctx, host)
}

// Blocklist is a DomainBlocker over a set of blocked domains. A block on
// "evil.example" also blocks its subdomains ("a.evil.example"), as Mastodon
// does, and never a different name that merely contains it
// ("notevil.example", "evil.example.com"). It is safe for concurrent use; the
// zero value blocks nothing.
type Blocklist struct {
	mu      sync.RWMutex
	domains map[string]struct{}
}

var _ DomainBlocker = (*Blocklist)(nil)

// NewBlocklist returns a Blocklist holding domains, each normalized as in
// Add.
func NewBlocklist(domains ...string) (*Blocklist, error) {
	b := &Blocklist{}
	for _, d := range domains {
		if err := b.Add(d); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// Add blocks domain after normalizing it: "EVIL.example." blocks
// "evil.example". A domain that is not a valid host name (for example
// "mastodon.so/cial") is an error wrapping transport.ErrInvalidURL, never a
// block on something else.
func (b *Blocklist) Add(domain string) error {
	h, err := transport.NormalizeHost(strings.TrimSpace(domain))
	if err != nil {
		return fmt.Errorf("pub: block domain %q: %w", domain, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.domains == nil {
		b.domains = make(map[string]struct{})
	}
	b.domains[h] = struct{}{}
	return nil
}

// DomainBlocked reports whether host or one of its parent domains is
// blocked. host is normalized again, so callers may pass raw host names.
func (b *Blocklist) DomainBlocked(_ context.Context, host string) (bool, error) {
	h, err := transport.NormalizeHost(host)
	if err != nil {
		return false, fmt.Errorf("pub: domain block check: %w", err)
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	for {
		if _, ok := b.domains[h]; ok {
			return true, nil
		}
		i := strings.IndexByte(h, '.')
		if i < 0 || isIPLiteral(h) {
			return false, nil
		}
		h = h[i+1:]
	}
}

// isIPLiteral reports whether a normalized host is an IP address, whose
// dotted parts are not parent domains.
func isIPLiteral(h string) bool {
	_, err := netip.ParseAddr(h)
	return err == nil
}
