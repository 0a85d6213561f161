// Package server is Commonroom's HTTP base: one chi router with request IDs,
// access logs, Prometheus metrics, panic recovery and the client API's rate
// limit, the /healthz and
// /metrics endpoints, and a graceful Serve. Packages mount their own routes
// on it through the Router interface.
package server

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Router is implemented by every package that serves HTTP: Routes lists the
// package's paths on r, in one readable table.
type Router interface {
	Routes(r chi.Router)
}

// RouterFunc adapts a function to a Router.
type RouterFunc func(r chi.Router)

// Routes calls f(r).
func (f RouterFunc) Routes(r chi.Router) { f(r) }

var _ Router = RouterFunc(nil)

// Options configure a Server. Only DB is needed for a useful /healthz; the
// rest have working zero values.
type Options struct {
	// Logger receives access logs, recovered panics and server errors.
	// Nil discards them.
	Logger *slog.Logger
	// DB is pinged by /healthz and its pool statistics are exported as
	// metrics. Nil makes /healthz always answer 200.
	DB *sql.DB
	// Registry collects this server's metrics and is served at /metrics.
	// Nil means a fresh registry; never the global default, so that two
	// servers can run in one process.
	Registry *prometheus.Registry
	// Routers mount the packages' routes, in order.
	Routers []Router
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed when working out the client's address (see
	// TrustedProxies.ClientIP). Nil trusts none.
	TrustedProxies TrustedProxies
	// APIRateLimit is how many requests to /api/* and /oauth/token one
	// bearer token, or one client IP (IPv6 /64), may make per
	// APIRateWindow (see APIRateLimit). Zero means no limit.
	APIRateLimit  int
	APIRateWindow time.Duration
	// ShutdownTimeout bounds how long Serve waits for in-flight requests once
	// its context is cancelled. Zero means 15 seconds.
	ShutdownTimeout time.Duration
}

// Server is the HTTP front of one Commonroom instance.
type Server struct {
	logger          *slog.Logger
	db              *sql.DB
	registry        *prometheus.Registry
	handler         http.Handler
	shutdownTimeout time.Duration

	stopOnce sync.Once
	stopping chan struct{}
}

// New builds the router: middleware, /healthz, /metrics, then opts.Routers.
// It panics if a router registers a path twice (a programming error chi
// reports that way).
func New(opts Options) (*Server, error) {
	s := &Server{
		logger:          opts.Logger,
		db:              opts.DB,
		registry:        opts.Registry,
		shutdownTimeout: opts.ShutdownTimeout,
		stopping:        make(chan struct{}),
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.registry == nil {
		s.registry = prometheus.NewRegistry()
	}
	if s.shutdownTimeout <= 0 {
		s.shutdownTimeout = 15 * time.Second
	}
	metrics, err := newHTTPMetrics(s.registry)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	extra := []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	}
	if s.db != nil {
		extra = append(extra, collectors.NewDBStatsCollector(s.db, "commonroom"))
	}
	for _, c := range extra {
		if err := s.registry.Register(c); err != nil {
			return nil, fmt.Errorf("server: register metrics: %w", err)
		}
	}

	r := chi.NewRouter()
	clientIP := opts.TrustedProxies.ClientIP
	r.Use(RequestID, AccessLog(s.logger, clientIP), metrics.middleware, Recover(s.logger),
		APIRateLimit(opts.APIRateLimit, opts.APIRateWindow, clientIP))
	r.Get("/healthz", s.healthz)
	r.Head("/healthz", s.healthz)
	r.Method(http.MethodGet, "/metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelError),
		Registry:          s.registry,
		EnableOpenMetrics: false,
	}))
	for _, rt := range opts.Routers {
		rt.Routes(r)
	}
	s.handler = r
	return s, nil
}

// Handler returns the server's root handler, for httptest or for embedding.
func (s *Server) Handler() http.Handler { return s.handler }

// Registry returns the registry served at /metrics, for packages that add
// their own metrics.
func (s *Server) Registry() *prometheus.Registry { return s.registry }

// Stopping returns a channel closed when Serve starts shutting down.
// Long-lived handlers (streaming, WebSocket) select on it to end their
// connections, since a graceful shutdown waits for every open request.
func (s *Server) Stopping() <-chan struct{} { return s.stopping }

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if s.db != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.db.PingContext(ctx); err != nil {
			s.logger.ErrorContext(r.Context(), "healthz: database ping failed", "err", err, "request_id", RequestIDFrom(r.Context()))
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("database unavailable\n"))
			return
		}
	}
	_, _ = w.Write([]byte("ok\n"))
}

// Serve answers requests on ln until ctx is cancelled, then shuts down
// gracefully: it stops accepting connections, closes idle ones, and waits up
// to the shutdown timeout for in-flight requests to finish before closing the
// rest. It returns nil after a clean shutdown. Serve closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()

	select {
	case err := <-errc:
		return fmt.Errorf("server: %w", err)
	case <-ctx.Done():
	}

	s.stopOnce.Do(func() { close(s.stopping) })
	s.logger.Info("shutting down: waiting for in-flight requests", "timeout", s.shutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.shutdownTimeout)
	defer cancel()
	err := hs.Shutdown(shutdownCtx)
	if err != nil {
		_ = hs.Close()
		err = fmt.Errorf("server: in-flight requests did not finish within %s: %w", s.shutdownTimeout, err)
	}
	if serveErr := <-errc; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, fmt.Errorf("server: %w", serveErr))
	}
	return err
}
