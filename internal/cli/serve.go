package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/commonroom/commonroom/internal/config"
	"github.com/commonroom/commonroom/internal/db"
	"github.com/commonroom/commonroom/internal/federation"
	"github.com/commonroom/commonroom/internal/server"
	"github.com/commonroom/commonroom/oauth"
)

// serve runs the server until ctx is cancelled.
func (m *Main) serve(ctx context.Context, args []string) (err error) {
	fs, cf := m.flags("serve")
	cfg, err := m.parse(fs, cf, args)
	if err != nil {
		return err
	}
	logger := m.logger(cfg)
	if cfg.InsecureHTTP {
		logger.Warn("insecure_http is on: federating over plain http and accepting loopback and private peers; use this for tests and local demos only")
	}

	d, err := openDB(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := d.Close(); cerr != nil {
			err = errors.Join(err, cerr)
			return
		}
		logger.Info("database closed")
	}()

	// Wiring: packages are built here over d, register their metrics on
	// registry, and are mounted by appending them to routers (their tables
	// come from Migrations). m.Routers come last.
	registry := prometheus.NewRegistry()
	fed, err := newFederation(ctx, d, cfg, logger, registry)
	if err != nil {
		return err
	}
	if m.Federation != nil {
		m.Federation(fed)
	}
	auth, accounts, err := newOAuth(d.DB, cfg, logger, fed)
	if err != nil {
		return err
	}
	// One answer to "who is the client?" for access logs, the sign-in
	// throttles and the API rate limit: the connection's address, or behind
	// a trusted proxy the address it forwarded.
	proxies := server.TrustedProxies(cfg.TrustedProxies)
	authHandler, err := oauth.NewHandler(auth, oauth.HandlerOptions{ClientIP: proxies.ClientIP})
	if err != nil {
		return err
	}
	if m.OAuth != nil {
		m.OAuth(auth)
	}
	if m.Moderator != nil {
		m.Moderator(federation.NewModerator(fed, auth, accounts))
	}
	logger.Info("oauth ready", "issuer", auth.Config().Issuer,
		"registration", cfg.Registration, "password_grant", cfg.OAuthPasswordGrant)
	routers := append([]server.Router{fed, authHandler}, m.Routers...)
	srv, err := server.New(server.Options{
		Logger:          logger,
		DB:              d.DB.DB,
		Registry:        registry,
		Routers:         routers,
		TrustedProxies:  proxies,
		APIRateLimit:    cfg.RateLimitAPI.Requests,
		APIRateWindow:   cfg.RateLimitAPI.Window,
		ShutdownTimeout: cfg.ShutdownTimeout,
	})
	if err != nil {
		return err
	}

	ln := m.Listener
	if ln == nil {
		var lc net.ListenConfig
		ln, err = lc.Listen(ctx, "tcp", cfg.Addr)
		if err != nil {
			return fmt.Errorf("serve: %w", err)
		}
	}
	logger.Info("serving",
		"addr", ln.Addr().String(),
		"public_url", cfg.BaseURL(),
		"db", db.Redact(cfg.DatabaseDSN()),
		"rate_limit_api", cfg.RateLimitAPI.String(),
		"trusted_proxies", len(cfg.TrustedProxies),
		"version", Version,
	)
	// The federation's inbox workers, delivery and key pools and outbox
	// flushing, and the hourly OAuth pruning, run while the server does;
	// after Serve returns they stop (sends in flight finish) before the
	// database closes.
	bgCtx, stopBackground := context.WithCancel(ctx)
	bgDone := make(chan error, 1)
	go func() { bgDone <- fed.Run(bgCtx) }()
	pruneDone := make(chan struct{})
	go func() {
		defer close(pruneDone)
		pruneOAuth(bgCtx, auth, logger, pruneInterval)
	}()
	if m.Ready != nil {
		m.Ready(ln.Addr())
	}
	serveErr := srv.Serve(ctx, ln)
	stopBackground()
	if err := <-bgDone; err != nil {
		serveErr = errors.Join(serveErr, err)
	}
	<-pruneDone
	if serveErr != nil {
		return serveErr
	}
	logger.Info("server stopped")
	return nil
}

// newFederation builds the federation layer (engine, people, inboxes,
// delivery) over d with the server's settings; serve and the admin
// commands that create or admit people build it the same way. registry
// may be nil (no metrics).
func newFederation(ctx context.Context, d *db.DB, cfg config.Config, logger *slog.Logger, registry prometheus.Registerer) (*federation.Federation, error) {
	fc := federation.DefaultConfig()
	fc.BaseURL = cfg.BaseURL()
	fc.Version = Version
	fc.InsecureHTTP = cfg.InsecureHTTP
	fc.AuthorizedFetch = cfg.AuthorizedFetch
	// NodeInfo's openRegistrations follows the sign-up mode: true only
	// when anyone may sign up without approval or an invite.
	fc.OpenRegistrations = cfg.OpenRegistrations()
	fc.InstanceName = cfg.InstanceName
	fc.InstanceDescription = cfg.InstanceDescription
	fc.DeliveryConcurrency = cfg.DeliveryConcurrency
	fc.DeliveryPerHost = cfg.DeliveryPerHost
	fc.Logger = logger
	fc.Registry = registry
	return federation.New(ctx, d.DB, fc)
}
