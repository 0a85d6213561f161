// Package federation wires the federation engine (pub and its subpackages)
// and the people who federate (actors) into the Commonroom server: the
// instance actor and its keys, local people's actor documents, inboxes,
// outboxes and collections (pub.Federation over pub/bunstore), WebFinger and
// host-meta, NodeInfo, the one durable delivery pool with its metrics, and
// inbox metrics. It holds no federation or domain logic of its own: that
// lives in pub, which knows nothing of the server, and in actors; this
// package only chooses the server's stores and settings, connects the two
// (hooks, publisher, domain blocks, WebFinger resolver) and mounts the
// handlers on the server's router.
//
// What it persists, in the server's database: local actors' key pairs
// (table actor_keys, [KeyStore]), the delivery queue and pub's inbound
// activities, objects, follows and collections (pub/bunstore's tables), and
// people, statuses and their graph (actors' tables). Remote actors' public
// keys are cached in memory (pub.MemoryKeyStore) and fetched again after a
// restart.
package federation

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/uptrace/bun"

	"github.com/commonroom/commonroom/actors"
	"github.com/commonroom/commonroom/internal/db"
	"github.com/commonroom/commonroom/internal/server"
	"github.com/commonroom/commonroom/pub"
	"github.com/commonroom/commonroom/pub/bunstore"
	"github.com/commonroom/commonroom/pub/delivery"
	"github.com/commonroom/commonroom/pub/httpsig"
	"github.com/commonroom/commonroom/pub/nodeinfo"
	"github.com/commonroom/commonroom/pub/transport"
	"github.com/commonroom/commonroom/pub/webfinger"
	"github.com/commonroom/commonroom/streams"
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
	// loopback and private addresses (transport.InsecurePrefixes), and
	// WebFinger look people up over http: tests and local demos only.
	InsecureHTTP bool
	// AuthorizedFetch makes GETs of actor and object documents (AS2)
	// require a valid signature; the instance actor stays exempt.
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
	// OutboxInterval is how often Run hands activities that the actors
	// service recorded but could not yet publish to the engine again
	// (actors.Service.FlushOutbox).
	OutboxInterval time.Duration
	// Logger receives the layer's logs; nil discards them.
	Logger *slog.Logger
	// Registry receives the delivery and inbox metrics; nil registers
	// none.
	Registry prometheus.Registerer
}

var _ server.Router = (*Federation)(nil)

// DefaultConfig returns the defaults: delivery as pub/delivery's defaults,
// two RSA keys kept ready, the outbox flushed every 5 seconds, everything
// else off or empty.
func DefaultConfig() Config {
	return Config{
		DeliveryConcurrency: delivery.DefaultConcurrency,
		DeliveryPerHost:     delivery.DefaultMaxPerHost,
		KeyPoolSize:         2,
		OutboxInterval:      5 * time.Second,
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
	engine    *pub.Engine
	fed       *pub.Federation
	actors    *actors.Service
	webfinger *webfinger.Handler
	nodeinfo  *nodeinfo.Handler
	inbox     *inboxMetrics
}

// New builds the layer over d, whose migrations (Migrations,
// bunstore.Migrations, the users and the actors migrations) must have run.
// On the first start it makes the instance actor's keys and stores them;
// later starts, and other processes on the same database, use the stored
// ones.
func New(ctx context.Context, d *bun.DB, cfg Config) (*Federation, error) {
	if cfg.Version == "" {
		return nil, errors.New("federation: Version is required")
	}
	if cfg.OutboxInterval <= 0 {
		cfg.OutboxInterval = DefaultConfig().OutboxInterval
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
	ec.Schemes = httpsig.NewHostSchemes(nil, 0)
	// The instance-wide domain blocks are the actors service's; it is
	// built below, before anything is served or fetched.
	ec.Blocker = pub.DomainBlockFunc(func(ctx context.Context, host string) (bool, error) {
		return f.actors.DomainBlocked(ctx, host)
	})
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

	scheme := "https"
	if cfg.InsecureHTTP {
		scheme = "http"
	}
	handles := &webfinger.Client{HTTP: f.engine.Client(), Scheme: scheme}
	f.actors, err = actors.NewService(d, actors.Options{
		Config:  actors.DefaultConfig(cfg.BaseURL),
		Fetcher: f.engine.Fetcher(),
		Keys:    f.engine.Keys(),
		Handles: handles,
		// The Federation is built next, over this service; activities
		// are published only after New returns.
		Publisher: actors.PublisherFunc(func(ctx context.Context, actor string, act *streams.Object) error {
			return actors.FederationPublisher{Federation: f.fed}.Publish(ctx, actor, act)
		}),
		Logger: logger,
	})
	if err != nil {
		return nil, fmt.Errorf("federation: %w", err)
	}

	dc := delivery.DefaultConfig()
	dc.Concurrency = cfg.DeliveryConcurrency
	dc.MaxPerHost = cfg.DeliveryPerHost
	dc.Logger = logger
	var metrics *deliveryMetrics
	if cfg.Registry != nil {
		metrics = newDeliveryMetrics()
		dc.Observer = metrics
	}
	// pub.Federation runs the one delivery pool, over pub/bunstore's
	// queue, signing each job as its actor, and reports every inbox
	// request's outcome to the inbox metrics.
	f.inbox = newInboxMetrics()
	f.fed, err = pub.NewFederation(f.engine, pub.FederationConfig{
		Store:    bunstore.NewFederationStore(d),
		Queue:    bunstore.New(d),
		Actors:   f.actors,
		Hooks:    f.actors.Hooks(),
		Delivery: dc,
		Logger:   logger,
		Observer: f.inbox.observe,
	})
	if err != nil {
		return nil, fmt.Errorf("federation: %w", err)
	}

	origin, err := transport.ParseOrigin(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("federation: base URL: %w", err)
	}
	f.webfinger, err = webfinger.NewHandler(webfinger.Config{
		BaseURL:  cfg.BaseURL,
		Resolver: f.actors,
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
	// Local handles resolve without a request to ourselves (rule 17).
	handles.Local = f.webfinger

	nc := nodeinfo.DefaultConfig(cfg.BaseURL, cfg.Version)
	nc.OpenRegistrations = cfg.OpenRegistrations
	nc.NodeName = cfg.InstanceName
	nc.NodeDescription = cfg.InstanceDescription
	nc.Usage = nodeinfo.UsageFunc(f.usage)
	nc.Logger = logger
	if f.nodeinfo, err = nodeinfo.NewHandler(nc); err != nil {
		return nil, fmt.Errorf("federation: %w", err)
	}

	if cfg.Registry != nil {
		if err := metrics.register(cfg.Registry, f.fed.Pool(), logger); err != nil {
			return nil, fmt.Errorf("federation: %w", err)
		}
		if err := f.inbox.register(cfg.Registry); err != nil {
			return nil, fmt.Errorf("federation: %w", err)
		}
	}
	logger.Info("federation ready",
		"instance_actor", f.engine.InstanceActor().ID(),
		"key_id", f.engine.InstanceActor().KeyID(),
		"authorized_fetch", cfg.AuthorizedFetch,
		"delivery_concurrency", f.fed.Pool().Config().Concurrency,
		"delivery_per_host", f.fed.Pool().Config().MaxPerHost)
	return f, nil
}

// Run runs the background work until ctx is cancelled: pub.Federation's
// inbox workers and delivery pool, the key pool that keeps RSA keys ready
// for new actors, and the loop that hands the actors service's unpublished
// activities to the engine every OutboxInterval. On cancellation the
// delivery pool stops claiming jobs and lets the sends in flight finish and
// record their outcome; unclaimed jobs and unprocessed inbound activities
// stay stored for the next start. Run returns nil after such a stop.
func (f *Federation) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := f.keyPool.Run(ctx); err != nil && ctx.Err() == nil {
			f.logger.Error("key pool stopped; new actors' keys are generated when needed", "err", err)
		}
	})
	wg.Go(func() { f.flushOutbox(ctx) })
	err := f.fed.Run(ctx)
	wg.Wait()
	if ctx.Err() != nil && (err == nil || errors.Is(err, ctx.Err())) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("federation: %w", err)
	}
	return nil
}

// flushOutbox publishes what the actors service recorded but could not
// hand to the engine (a crash or an error between the two), now and every
// OutboxInterval until ctx is cancelled. A failed round is logged and the
// next one tries again.
func (f *Federation) flushOutbox(ctx context.Context) {
	ticker := time.NewTicker(f.cfg.OutboxInterval)
	defer ticker.Stop()
	for {
		n, err := f.actors.FlushOutbox(ctx)
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil:
			f.logger.Error("actors: flushing the outbox failed; trying again later", "err", err, "next_in", f.cfg.OutboxInterval)
		case n > 0:
			f.logger.Info("actors: published activities from the outbox", "activities", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// Engine returns the federation engine: keys, the instance actor, the
// signing fetcher and the request authenticator.
func (f *Federation) Engine() *pub.Engine { return f.engine }

// Pub returns the inbox, outbox and collections layer over the engine.
func (f *Federation) Pub() *pub.Federation { return f.fed }

// Actors returns the people service: accounts, statuses, follows and
// timelines, local and remote.
func (f *Federation) Actors() *actors.Service { return f.actors }

// Delivery returns the one delivery pool (pub.Federation's); outboxes
// enqueue jobs on it.
func (f *Federation) Delivery() *delivery.Pool { return f.fed.Pool() }

// KeyStore returns the durable store of local actors' keys.
func (f *Federation) KeyStore() *KeyStore { return f.keys }

// Protect wraps a handler serving actor or object documents: with
// AuthorizedFetch on, unsigned or badly signed GETs get 401 (the instance
// actor stays exempt); otherwise it returns h.
func (f *Federation) Protect(h http.Handler) http.Handler { return f.engine.Protect(h) }

// usage counts what NodeInfo reports from the actors tables: local people
// who are not suspended, those of them who posted in the last 30 and 180
// days, and local posts (neither replies nor boosts) and comments
// (replies).
func (f *Federation) usage(ctx context.Context) (nodeinfo.Usage, error) {
	people := func(since time.Time) (int64, error) {
		q := f.db.NewSelect().Model((*actors.Account)(nil)).
			Where("kind = ?", actors.KindPerson).Where("domain = ''").Where("suspended_at IS NULL")
		if !since.IsZero() {
			q = q.Where("last_status_at >= ?", since)
		}
		n, err := q.Count(ctx)
		return int64(n), err
	}
	statuses := func(replies bool) (int64, error) {
		q := f.db.NewSelect().Model((*actors.Status)(nil)).Where("local = ?", true).Where("reblog_of_id IS NULL")
		if replies {
			q = q.Where("in_reply_to_iri <> ''")
		} else {
			q = q.Where("in_reply_to_iri = ''")
		}
		n, err := q.Count(ctx)
		return int64(n), err
	}
	var u nodeinfo.Usage
	now := time.Now()
	var err error
	if u.Users.Total, err = people(time.Time{}); err != nil {
		return nodeinfo.Usage{}, fmt.Errorf("federation: count users: %w", err)
	}
	if u.Users.ActiveMonth, err = people(now.AddDate(0, 0, -30)); err != nil {
		return nodeinfo.Usage{}, fmt.Errorf("federation: count active users: %w", err)
	}
	if u.Users.ActiveHalfyear, err = people(now.AddDate(0, 0, -180)); err != nil {
		return nodeinfo.Usage{}, fmt.Errorf("federation: count active users: %w", err)
	}
	if u.LocalPosts, err = statuses(false); err != nil {
		return nodeinfo.Usage{}, fmt.Errorf("federation: count posts: %w", err)
	}
	if u.LocalComments, err = statuses(true); err != nil {
		return nodeinfo.Usage{}, fmt.Errorf("federation: count comments: %w", err)
	}
	return u, nil
}
