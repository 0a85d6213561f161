package cli

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/commonroom/commonroom/internal/db"
	"github.com/commonroom/commonroom/internal/server"
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
	routers := append([]server.Router{}, m.Routers...)
	srv, err := server.New(server.Options{
		Logger:          logger,
		DB:              d.DB.DB,
		Registry:        registry,
		Routers:         routers,
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
		"version", Version,
	)
	if m.Ready != nil {
		m.Ready(ln.Addr())
	}
	if err := srv.Serve(ctx, ln); err != nil {
		return err
	}
	logger.Info("server stopped")
	return nil
}
