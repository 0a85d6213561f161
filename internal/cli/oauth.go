package cli

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/uptrace/bun"

	"github.com/commonroom/commonroom/internal/config"
	"github.com/commonroom/commonroom/internal/federation"
	"github.com/commonroom/commonroom/internal/users"
	"github.com/commonroom/commonroom/oauth"
)

// pruneInterval is how often serve deletes expired OAuth rows.
const pruneInterval = time.Hour

// newOAuth builds the OAuth provider over d (migrated) with the server's
// settings: issuer cfg.BaseURL(), the registration mode, the password
// grant, and cookies without Secure in insecure mode. Its accounts are the
// local users, each also a person of fed (federation.Accounts). serve and
// the admin commands build it the same way.
func newOAuth(d *bun.DB, cfg config.Config, logger *slog.Logger, fed *federation.Federation) (*oauth.Service, *federation.Accounts, error) {
	local, err := oauth.NewLocalAccounts(d, users.Options{})
	if err != nil {
		return nil, nil, err
	}
	accounts := federation.NewAccounts(local, fed)
	oc := oauth.DefaultConfig(cfg.BaseURL())
	oc.InsecureHTTP = cfg.InsecureHTTP
	oc.Registration = oauth.RegistrationMode(cfg.Registration)
	oc.PasswordGrant = cfg.OAuthPasswordGrant
	svc, err := oauth.NewService(d, accounts, oc, oauth.Options{Logger: logger})
	if err != nil {
		return nil, nil, fmt.Errorf("oauth: %w", err)
	}
	return svc, accounts, nil
}

// pruneOAuth deletes expired OAuth codes, sessions, invites and tokens now
// and then every interval, until ctx is cancelled. A failed round is logged
// and the next one tries again: nothing depends on pruning for security.
func pruneOAuth(ctx context.Context, svc *oauth.Service, logger *slog.Logger, interval time.Duration) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		n, err := svc.Prune(ctx)
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil:
			logger.Error("oauth: prune failed; trying again later", "err", err, "next_in", interval)
		case n > 0:
			logger.Info("oauth: pruned expired rows", "rows", n)
		default:
			logger.Debug("oauth: nothing to prune")
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}
