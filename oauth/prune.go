package oauth

import (
	"context"
	"fmt"
)

// Prune deletes what can no longer be used: expired codes, sessions,
// invites and tokens (a token whose access and refresh tokens have both
// expired). It returns how many rows it removed. Call it now and then (an
// hourly job); nothing depends on it for security, since every lookup
// checks expiry itself.
func (s *Service) Prune(ctx context.Context) (int64, error) {
	now := s.now().UTC()
	var total int64
	for _, q := range []struct {
		model any
		where string
	}{
		{(*codeRow)(nil), "expires_at <= ?"},
		{(*sessionRow)(nil), "expires_at <= ?"},
		{(*inviteRow)(nil), "expires_at IS NOT NULL AND expires_at <= ?"},
		{(*tokenRow)(nil), "expires_at IS NOT NULL AND expires_at <= ? AND (refresh_hash IS NULL OR (refresh_expires_at IS NOT NULL AND refresh_expires_at <= ?))"},
	} {
		args := []any{now}
		if q.model == (*tokenRow)(nil) {
			args = append(args, now)
		}
		res, err := s.db.NewDelete().Model(q.model).Where(q.where, args...).Exec(ctx)
		if err != nil {
			return total, fmt.Errorf("oauth: prune: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
	}
	return total, nil
}
