package oauth

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/commonroom/commonroom/internal/errkind"
)

// inviteRow is an invite code for registration mode "invite".
type inviteRow struct {
	bun.BaseModel `bun:"table:oauth_invites,alias:i"`

	ID        int64     `bun:"id,pk"`
	CodeHash  string    `bun:"code_hash,notnull"`
	MaxUses   int       `bun:"max_uses,notnull"`
	Uses      int       `bun:"uses,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
	ExpiresAt time.Time `bun:"expires_at,nullzero"`
}

// CreateInvite returns a new invite code good for maxUses sign-ups within
// ttl (zero: no expiry). Only its hash is stored.
func (s *Service) CreateInvite(ctx context.Context, maxUses int, ttl time.Duration) (string, error) {
	if maxUses <= 0 || ttl < 0 {
		return "", errkind.New(errkind.Invalid, "an invite needs at least one use and a lifetime that is not negative")
	}
	code, err := s.newSecret()
	if err != nil {
		return "", err
	}
	id, err := s.ids.Next()
	if err != nil {
		return "", fmt.Errorf("oauth: create invite: %w", err)
	}
	now := s.now().UTC()
	row := &inviteRow{ID: id, CodeHash: hashSecret(code), MaxUses: maxUses, CreatedAt: now}
	if ttl > 0 {
		row.ExpiresAt = now.Add(ttl)
	}
	if _, err := s.db.NewInsert().Model(row).Exec(ctx); err != nil {
		return "", fmt.Errorf("oauth: create invite: %w", err)
	}
	return code, nil
}

// inviteUse is one use taken from an invite, which release gives back.
type inviteUse struct {
	s  *Service
	id int64
}

// useInvite takes one use of the invite atomically: of concurrent sign-ups
// with the last use, one wins. An unknown, used-up or expired code is
// Forbidden.
func (s *Service) useInvite(ctx context.Context, code string) (*inviteUse, error) {
	if code == "" {
		return nil, errkind.New(errkind.Forbidden, "An invite code is required to sign up here.")
	}
	var ids []int64
	err := s.db.NewUpdate().Model((*inviteRow)(nil)).
		Set("uses = uses + 1").
		Where("code_hash = ?", hashSecret(code)).
		Where("uses < max_uses").
		Where("expires_at IS NULL OR expires_at > ?", s.now().UTC()).
		Returning("id").
		Scan(ctx, &ids)
	if err != nil {
		return nil, fmt.Errorf("oauth: use invite: %w", err)
	}
	if len(ids) != 1 {
		return nil, errkind.New(errkind.Forbidden, "This invite code is not valid, has expired or has been used up.")
	}
	return &inviteUse{s: s, id: ids[0]}, nil
}

func (u *inviteUse) release(ctx context.Context) error {
	_, err := u.s.db.NewUpdate().Model((*inviteRow)(nil)).Set("uses = uses - 1").Where("id = ?", u.id).Where("uses > 0").Exec(ctx)
	if err != nil {
		return fmt.Errorf("oauth: release invite use: %w", err)
	}
	return nil
}
