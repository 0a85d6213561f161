package actors

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/commonroom/commonroom/internal/db"
	"github.com/commonroom/commonroom/internal/errkind"
	"github.com/commonroom/commonroom/pub"
	"github.com/commonroom/commonroom/pub/transport"
)

// Severity is what an instance domain block does.
type Severity string

// The severities, as Mastodon names them.
const (
	// SeverityNoop blocks nothing by itself (a reject_media-only block).
	SeverityNoop Severity = "noop"
	// SeveritySilence keeps the domain's accounts out of public timelines
	// and notifications from people who do not follow them.
	SeveritySilence Severity = "silence"
	// SeveritySuspend refuses everything from the domain, before any key
	// fetch, and severs follows with it.
	SeveritySuspend Severity = "suspend"
)

// DomainBlock is an instance-wide block on a domain and its subdomains.
type DomainBlock struct {
	bun.BaseModel `bun:"table:domain_blocks"`

	Domain      string    `bun:"domain,pk"`
	Severity    Severity  `bun:"severity,notnull"`
	RejectMedia bool      `bun:"reject_media,notnull"`
	Comment     string    `bun:"comment,notnull"`
	CreatedAt   time.Time `bun:"created_at,notnull"`
}

var _ pub.DomainBlocker = (*Service)(nil)

// hostOnly strips a port from a stored domain ("a.example:8443").
func hostOnly(domain string) string {
	if h, _, err := net.SplitHostPort(domain); err == nil {
		return h
	}
	return domain
}

// BlockDomain records (or replaces) an instance domain block. The domain
// is normalized (IDNA, lowercase, no trailing dot) and must be a plain host
// name: "mastodon.so/cial" is Invalid, never a block on something else.
// A suspension removes every follow between local accounts and accounts
// of the domain.
func (s *Service) BlockDomain(ctx context.Context, b DomainBlock) (*DomainBlock, error) {
	host, err := transport.NormalizeHost(strings.TrimSpace(b.Domain))
	if err != nil {
		return nil, fmt.Errorf("actors: block domain %q: %w", b.Domain, errkind.Wrap(errkind.Invalid, "not a domain name", err))
	}
	switch b.Severity {
	case SeverityNoop, SeveritySilence, SeveritySuspend:
	case "":
		b.Severity = SeveritySuspend
	default:
		return nil, fmt.Errorf("actors: block domain %q: %w", b.Domain, errkind.New(errkind.Invalid, "severity must be noop, silence or suspend"))
	}
	b.Domain = host
	b.CreatedAt = s.timestamp()
	err = s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewInsert().Model(&b).
			On("CONFLICT (domain) DO UPDATE").
			Set("severity = EXCLUDED.severity").
			Set("reject_media = EXCLUDED.reject_media").
			Set("comment = EXCLUDED.comment").
			Exec(ctx)
		if err != nil {
			return db.MapError(err, "domain block could not be stored")
		}
		if b.Severity != SeveritySuspend {
			return nil
		}
		remote := tx.NewSelect().Table("actors").Column("id").
			Where("domain = ? OR domain LIKE ? OR domain LIKE ? OR domain LIKE ?",
				host, host+":%", "%."+host, "%."+host+":%")
		_, err = tx.NewDelete().Table("follows").
			Where("follower_id IN (?) OR target_id IN (?)", remote, remote).Exec(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("actors: block domain %q: %w", host, err)
	}
	return &b, nil
}

// UnblockDomain removes an instance domain block, or reports NotFound.
func (s *Service) UnblockDomain(ctx context.Context, domain string) error {
	host, err := transport.NormalizeHost(strings.TrimSpace(domain))
	if err != nil {
		return fmt.Errorf("actors: unblock domain %q: %w", domain, errkind.Wrap(errkind.Invalid, "not a domain name", err))
	}
	res, err := s.db.NewDelete().Model((*DomainBlock)(nil)).Where("domain = ?", host).Exec(ctx)
	if err != nil {
		return fmt.Errorf("actors: unblock domain %q: %w", host, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("actors: unblock domain %q: %w", host, errkind.New(errkind.NotFound, "the domain is not blocked"))
	}
	return nil
}

// DomainBlocks lists the instance domain blocks, by domain.
func (s *Service) DomainBlocks(ctx context.Context) ([]DomainBlock, error) {
	var out []DomainBlock
	if err := s.db.NewSelect().Model(&out).Order("domain").Scan(ctx); err != nil {
		return nil, fmt.Errorf("actors: domain blocks: %w", err)
	}
	return out, nil
}

// DomainBlockFor returns the most specific block covering host (the host
// itself or a parent domain), or nil when none does. host may carry a
// port, which is ignored.
func (s *Service) DomainBlockFor(ctx context.Context, host string) (*DomainBlock, error) {
	h, err := transport.NormalizeHost(hostOnly(host))
	if err != nil {
		return nil, fmt.Errorf("actors: domain block of %q: %w", host, errkind.Wrap(errkind.Invalid, "not a domain name", err))
	}
	candidates := []string{h}
	if _, err := netip.ParseAddr(h); err != nil {
		for rest := h; ; {
			i := strings.IndexByte(rest, '.')
			if i < 0 {
				break
			}
			rest = rest[i+1:]
			candidates = append(candidates, rest)
		}
	}
	var blocks []DomainBlock
	if err := s.db.NewSelect().Model(&blocks).Where("domain IN (?)", bun.In(candidates)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("actors: domain block of %q: %w", host, err)
	}
	var best *DomainBlock
	for i := range blocks {
		if best == nil || len(blocks[i].Domain) > len(best.Domain) {
			best = &blocks[i]
		}
	}
	return best, nil
}

// DomainBlocked implements pub.DomainBlocker: it reports whether host is
// suspended, so that the engine refuses its requests before any key fetch.
func (s *Service) DomainBlocked(ctx context.Context, host string) (bool, error) {
	b, err := s.DomainBlockFor(ctx, host)
	if err != nil {
		return false, err
	}
	return b != nil && b.Severity == SeveritySuspend, nil
}

// checkDomainAllowed refuses IRIs on suspended domains with Forbidden.
func (s *Service) checkDomainAllowed(ctx context.Context, iri string) error {
	o, err := transport.ParseOrigin(iri)
	if err != nil {
		return errkind.Wrap(errkind.Invalid, "not an http(s) URL", err)
	}
	blocked, err := s.DomainBlocked(ctx, o.Host)
	if err != nil {
		return err
	}
	if blocked {
		return errkind.New(errkind.Forbidden, "the domain is blocked")
	}
	return nil
}

// isIP reports whether a host is an IP literal.
func isIP(h string) bool {
	_, err := netip.ParseAddr(h)
	return err == nil
}
