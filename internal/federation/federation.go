// Package federation wires the federation engine (pub and its subpackages)
// into the Commonroom server: the instance actor and its keys, WebFinger and
// host-meta, NodeInfo, and the durable delivery pool with its metrics. It
// holds no federation logic of its own: that lives in pub, which knows
// nothing of the server; this package only chooses the server's stores and
// settings and mounts the handlers on the server's router.
//
// What it persists, in the server's database: local actors' key pairs
// (table actor_keys, [KeyStore]) and the delivery queue (pub/bunstore's
// tables). Remote actors' public keys are cached in memory
// (pub.MemoryKeyStore) and fetched again after a restart.
package federation

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/uptrace/bun"

	"github.com/commonroom/commonroom/internal/db"
	"github.com/commonroom/commonroom/internal/server"
	"github.com/commonroom/commonroom/internal/users"
	"github.com/commonroom/commonroom/pub"
	"github.com/commonroom/commonroom/pub/bunstore"
	"github.com/commonroom/commonroom/pub/delivery"
	"github.com/commonroom/commonroom/pub/httpsig"
	"github.com/commonroom/commonroom/pub/nodeinfo"
	"github.com/commonroom/commonroom/pub/transport"
	"github.com/commonroom/commonroom/pub/webfinger"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the migration set that creates the actor_keys table.
func Migrations() db.MigrationSet {
	return db.EmbeddedMigrations("federation", migrationFiles, "migrations")
}

// Config configures the federation layer. Start from DefaultConfig; BaseURL
// and Version must be set.
type Config struct {
	// BaseURL is the server's public origin, such as
	// https://school.example (http only in insecure mode).
	BaseURL string
	// Version is the software version, sent in the User-Agent and served
	// in NodeInfo.
	Version string
	// InsecureHTTP lets the outbound client use plain http and reach
	// loopback and private addresses (transport.InsecurePrefixes): tests
	// and local demos only.
	InsecureHTTP bool
	// AuthorizedFetch makes Protect require signed GETs.
	AuthorizedFetch bool
	// OpenRegistrations, InstanceName and InstanceDescription are served
	// in NodeInfo.
	OpenRegistrations   bool
	InstanceName        string
	InstanceDescription string
	// DeliveryConcurrency and DeliveryPerHost bound the sends in flight,
	// in all and to one host.
	DeliveryConcurrency int
	DeliveryPerHost     int
	// KeyPoolSize is how many RSA keys are generated ahead of need.
	KeyPoolSize int
	// Logger receives the layer's logs; nil discards them.
	Logger *slog.Logger
	// Registry receives the delivery metrics; nil registers none.
	Registry prometheus.Registerer
}

var _ server.Router = (*Federation)(nil)

// DefaultConfig returns the defaults: delivery as pub/delivery's defaults,
// two RSA keys kept ready, everything else off or empty.
func DefaultConfig() Config {
	return Config{
		DeliveryConcurrency: delivery.DefaultConcurrency,
		DeliveryPerHost:     delivery.DefaultMaxPerHost,
		KeyPoolSize:         2,
	}
}

// Federation is the server's federation layer. Build it with New, mount it
// with Routes and run its background work with Run. It is safe for
// concurrent use.
type Federation struct {
	cfg       Config
	logger    *slog.Logger
	db        bun.IDB
	keys      *KeyStore
	keyPool   *pub.KeyPool
	schemes   *httpsig.HostSchemes
	engine    *pub.Engine
	webfinger *webfinger.Handler
	nodeinfo  *nodeinfo.Handler
	pool      *delivery.Pool
}

// New builds the layer over d, whose migrations (Migrations and
// bunstore.Migrations, and the users table) must have run. On the first
// start it makes the instance actor's keys and stores them; later starts,
// and other processes on the same database, use the stored ones.
func New(ctx context.Context, d *bun.DB, cfg Config) (*Federation, error) {
	if cfg.Version == "" {
		return nil, errors.New("federation: Version is required")
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	f := &Federation{
		cfg:     cfg,
		logger:  logger,
		db:      d,
		keys:    NewKeyStore(d),
		keyPool: pub.NewKeyPool(pub.GeneratingKeySource{}, cfg.KeyPoolSize),
		schemes: httpsig.NewHostSchemes(nil, 0),
	}

	tc := transport.DefaultConfig()
	tc.UserAgent = transport.UserAgent(cfg.Version, cfg.BaseURL+"/")
	if cfg.InsecureHTTP {
		tc.AllowHTTP = true
		tc.AllowPrefixes = transport.InsecurePrefixes()
	}

	ec := pub.DefaultConfig()
	ec.BaseURL = cfg.BaseURL
	ec.LocalKeys = f.keys
	ec.RemoteKeys = pub.NewMemoryKeyStore()
	ec.KeySource = f.keyPool
	ec.Logger = logger
	ec.Transport = tc
	ec.AuthorizedFetch = cfg.AuthorizedFetch
	ec.Schemes = f.schemes
	// Make the instance actor's keys through the store's insert-if-absent,
	// so that processes starting together on one database agree on them;
	// NewEngine then finds them stored.
	instanceID, err := pub.InstanceActorID(cfg.BaseURL, ec.InstanceActorPath)
	if err != nil {
		return nil, fmt.Errorf("federation: %w", err)
	}
	if _, err := f.keys.EnsureLocalKeys(ctx, f.keyPool, instanceID, ec.Clock.Now()); err != nil {
		return nil, fmt.Errorf("federation: instance actor keys: %w", err)
	}
	if f.engine, err = pub.NewEngine(ctx, ec); err != nil {
		return nil, fmt.Errorf("federation: %w", err)
	}

	origin, err := transport.ParseOrigin(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("federation: base URL: %w", err)
	}
	f.webfinger, err = webfinger.NewHandler(webfinger.Config{
		BaseURL:  cfg.BaseURL,
		Resolver: webfinger.ResolverFunc(noPeopleYet),
		// Mastodon's convention: the instance actor is acct:host@host.
		InstanceActor: &webfinger.Account{
			Username: origin.Host,
			Kind:     webfinger.KindApplication,
			ActorIRI: f.engine.InstanceActor().ID(),
		},
		Logger: logger,
	})
	if err != nil {
		return nil, fmt.Errorf("federation: %w", err)
	}

	nc := nodeinfo.DefaultConfig(cfg.BaseURL, cfg.Version)
	nc.OpenRegistrations = cfg.OpenRegistrations
	nc.NodeName = cfg.InstanceName
	nc.NodeDescription = cfg.InstanceDescription
	nc.Usage = nodeinfo.UsageFunc(f.usage)
	nc.Logger = logger
	if f.nodeinfo, err = nodeinfo.NewHandler(nc); err != nil {
		return nil, fmt.Errorf("federation: %w", err)
	}

	if err := f.newDelivery(d, tc); err != nil {
		return nil, err
	}
	logger.Info("federation ready",
		"instance_actor", f.engine.InstanceActor().ID(),
		"key_id", f.engine.InstanceActor().KeyID(),
		"authorized_fetch", cfg.AuthorizedFetch,
		"delivery_concurrency", f.pool.Config().Concurrency,
		"delivery_per_host", f.pool.Config().MaxPerHost)
	return f, nil
}

// newDelivery builds the delivery pool over pub/bunstore's queue, sending
// through its own transport client whose signer is the job's actor
// (delivery.ContextSigner: nothing goes out unsigned).
func (f *Federation) newDelivery(d *bun.DB, tc transport.Config) error {
	tc.Signer = delivery.ContextSigner{}
	tc.LocalOrigins = []string{f.cfg.BaseURL}
	client, err := transport.New(tc)
	if err != nil {
		return fmt.Errorf("federation: delivery client: %w", err)
	}
	dc := delivery.DefaultConfig()
	dc.Concurrency = f.cfg.DeliveryConcurrency
	dc.MaxPerHost = f.cfg.DeliveryPerHost
	dc.Logger = f.logger
	var metrics *deliveryMetrics
	if f.cfg.Registry != nil {
		metrics = newDeliveryMetrics()
		dc.Observer = metrics
	}
	signers := newSignerCache(f.engine.Keys(), f.schemes, dc.Now)
	f.pool, err = delivery.New(dc, bunstore.New(d), delivery.TransportSender{Client: client}, signers)
	if err != nil {
		return fmt.Errorf("federation: %w", err)
	}
	if metrics != nil {
		if err := metrics.register(f.cfg.Registry, f.pool, f.logger); err != nil {
			return fmt.Errorf("federation: %w", err)
		}
	}
	return nil
}

// Routes mounts what the layer serves, each through its package's own
// route table:
//
//	/actor                          the instance actor (pub.Engine.Routes; GET and HEAD)
//	/.well-known/webfinger          WebFinger (pub/webfinger)
//	/.well-known/host-meta[.json]   host-meta (pub/webfinger)
//	/.well-known/nodeinfo           NodeInfo discovery (pub/nodeinfo)
//	/nodeinfo/2.0, /nodeinfo/2.1    NodeInfo documents (pub/nodeinfo)
func (f *Federation) Routes(r chi.Router) {
	// pub.Engine registers on an http.ServeMux (its patterns carry methods);
	// chi hands it every request for the paths it serves.
	engine := http.NewServeMux()
	f.engine.Routes(engine)
	r.Handle(f.engine.InstanceActor().Path(), engine)
	f.webfinger.Routes(r)
	f.nodeinfo.Routes(r)
}

// Run runs the background work until ctx is cancelled: the delivery pool,
// and the key pool that keeps RSA keys ready for new actors. On
// cancellation the delivery pool stops claiming jobs and lets the sends in
// flight finish and record their outcome; unclaimed jobs stay queued for the
// next start. Run returns nil after such a stop.
func (f *Federation) Run(ctx context.Context) error {
	keysDone := make(chan struct{})
	go func() {
		defer close(keysDone)
		if err := f.keyPool.Run(ctx); err != nil && ctx.Err() == nil {
			f.logger.Error("key pool stopped; new actors' keys are generated when needed", "err", err)
		}
	}()
	err := f.pool.Run(ctx)
	<-keysDone
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("federation: delivery: %w", err)
	}
	return nil
}

// Engine returns the federation engine: keys, the instance actor, the
// signing fetcher and the request authenticator.
func (f *Federation) Engine() *pub.Engine { return f.engine }

// Delivery returns the delivery pool; outboxes enqueue jobs on it.
func (f *Federation) Delivery() *delivery.Pool { return f.pool }

// KeyStore returns the durable store of local actors' keys.
func (f *Federation) KeyStore() *KeyStore { return f.keys }

// Protect wraps a handler serving actor or object documents: with
// AuthorizedFetch on, unsigned or badly signed GETs get 401 (the instance
// actor stays exempt); otherwise it returns h.
func (f *Federation) Protect(h http.Handler) http.Handler { return f.engine.Protect(h) }

// noPeopleYet is the WebFinger resolver until people have actor documents:
// only the instance actor resolves, and every name is unknown.
func noPeopleYet(_ context.Context, username string) (*webfinger.Account, error) {
	return nil, fmt.Errorf("%w: %q (people have no actor documents yet)", webfinger.ErrNotFound, username)
}

// usage counts what NodeInfo reports: the local users. There are no
// statuses yet, so posts, comments and activity are zero.
func (f *Federation) usage(ctx context.Context) (nodeinfo.Usage, error) {
	n, err := f.db.NewSelect().Model((*users.User)(nil)).Count(ctx)
	if err != nil {
		return nodeinfo.Usage{}, fmt.Errorf("federation: count users: %w", err)
	}
	return nodeinfo.Usage{Users: nodeinfo.Users{Total: int64(n)}}, nil
}
