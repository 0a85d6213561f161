package actors

import (
	"context"
	"fmt"
	"strings"

	"github.com/commonroom/commonroom/internal/errkind"
	"github.com/commonroom/commonroom/pub/webfinger"
)

// ResolveAccount finds the account of a handle: "name" or "name@ourhost"
// for local accounts, "name@host" (an optional leading "@" or "acct:" is
// accepted) for remote ones, from the stored accounts or else through
// WebFinger and the actor's own document. Suspended accounts and handles
// that do not resolve are NotFound; malformed handles are Invalid.
func (s *Service) ResolveAccount(ctx context.Context, handle string) (*Account, error) {
	h := strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(handle), "acct:"), "@")
	name, domain, _ := strings.Cut(h, "@")
	if name == "" {
		return nil, fmt.Errorf("actors: resolve %q: %w", handle, errkind.New(errkind.Invalid, "not a handle like name@host"))
	}
	if domain != "" {
		if _, err := webfinger.ParseHandle(h); err != nil {
			return nil, fmt.Errorf("actors: resolve %q: %w", handle, errkind.Wrap(errkind.Invalid, "not a handle like name@host", err))
		}
	}
	a, err := s.resolveMention(ctx, name, strings.ToLower(domain))
	if err == nil && a == nil {
		err = errkind.New(errkind.NotFound, "no such account")
	}
	if err != nil {
		return nil, fmt.Errorf("actors: resolve %q: %w", handle, err)
	}
	return a, nil
}

// Blocks lists the accounts id blocks, newest block first; Page bounds
// apply to block ids.
func (s *Service) Blocks(ctx context.Context, id int64, p Page) ([]Account, error) {
	var out []Account
	q := s.db.NewSelect().Model(&out).
		Join("JOIN blocks AS b ON b.target_id = account.id").
		Where("b.actor_id = ?", id)
	if err := p.apply(q, "b.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("actors: blocks of %d: %w", id, err)
	}
	return out, nil
}

// Mutes lists the accounts id mutes, most recently muted first, at most
// p.Limit of them (mutes have no ids to page by).
func (s *Service) Mutes(ctx context.Context, id int64, p Page) ([]Account, error) {
	var out []Account
	q := s.db.NewSelect().Model(&out).
		Join("JOIN mutes AS m ON m.target_id = account.id").
		Where("m.actor_id = ?", id).
		OrderExpr("m.created_at DESC, account.id DESC").Limit(int64(p.limit()))
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("actors: mutes of %d: %w", id, err)
	}
	return out, nil
}

// UserDomainBlocks lists the domains id blocks, alphabetically.
func (s *Service) UserDomainBlocks(ctx context.Context, id int64) ([]string, error) {
	var out []string
	err := s.db.NewSelect().Model((*actorDomainBlock)(nil)).Column("domain").
		Where("actor_id = ?", id).Order("domain").Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("actors: domain blocks of %d: %w", id, err)
	}
	return out, nil
}

// Favourites lists the statuses id favourited that id may still see,
// newest favourite first; Page bounds apply to favourite ids.
func (s *Service) Favourites(ctx context.Context, id int64, p Page) ([]Status, error) {
	var out []Status
	q := s.db.NewSelect().Model(&out).
		Join("JOIN favourites AS fav ON fav.status_id = status.id").
		Join("JOIN actors AS author ON author.id = status.actor_id").
		Where("fav.actor_id = ?", id)
	q = hideFrom(q, id)
	if err := p.apply(q, "fav.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("actors: favourites of %d: %w", id, err)
	}
	return out, nil
}
