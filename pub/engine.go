package pub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/commonroom/commonroom/pub/httpsig"
	"github.com/commonroom/commonroom/pub/transport"
	"github.com/commonroom/commonroom/streams"
)

// Config configures an [Engine]. Start from [DefaultConfig]; BaseURL is the
// one field that must be set.
type Config struct {
	// BaseURL is the server's public origin, for example
	// "https://school.example". Local actors, the instance actor and every
	// "never fetch ourselves" rule derive from it.
	BaseURL string
	// InstanceActorPath is where the instance actor is served; "/actor".
	InstanceActorPath string
	// LocalKeys stores local actors' key pairs; RemoteKeys caches remote
	// public keys. DefaultConfig sets one MemoryKeyStore for both.
	LocalKeys  LocalKeyStore
	RemoteKeys RemoteKeyStore
	// KeySource makes keys for new local actors (put a KeyPool in front of
	// GeneratingKeySource in servers).
	KeySource KeySource
	// Clock reads the time everywhere in the engine.
	Clock Clock
	// Logger receives rejections and security events; nil discards them.
	Logger *slog.Logger
	// Transport configures the outbound client. The engine sets its Signer
	// (the instance actor) and adds BaseURL to its LocalOrigins.
	Transport transport.Config
	// Blocker is the domain-block policy; nil blocks nothing.
	Blocker DomainBlocker
	// Local answers fetches of our own IRIs; nil answers them ErrNotFound,
	// except the instance actor, which the engine answers itself.
	Local LocalResolver
	// Registry parses and builds documents; nil means streams.Default().
	Registry *streams.Registry
	// Limits bound every parse of inbound and fetched documents.
	Limits streams.Limits
	// KeyLifetime, RefetchCoolOff: see KeysConfig.
	KeyLifetime    time.Duration
	RefetchCoolOff time.Duration
	// SignatureWindow, MaxBodyBytes, FetchBudget: see AuthConfig.
	SignatureWindow time.Duration
	MaxBodyBytes    int64
	FetchBudget     int
	// MaxAncestors bounds reply-chain walks; see FetcherConfig.
	MaxAncestors int
	// AuthorizedFetch, when true, makes Engine.Protect require signed GETs.
	AuthorizedFetch bool
	// Schemes, when set, is the per-host memory of signature schemes that
	// the instance actor consults when signing (see InstanceConfig.Schemes);
	// share it with the delivery code that learns from peers' answers.
	Schemes *httpsig.HostSchemes
}

// DefaultConfig returns the engine defaults: in-memory key stores,
// generated keys, the system clock, transport.DefaultConfig(), 24 h key
// lifetime, 5 min refetch cool-off, 1 h signature window, 1 MiB bodies, 20
// fetches per inbound request, 100 ancestors, authorized fetch off.
func DefaultConfig() Config {
	m := NewMemoryKeyStore()
	return Config{
		InstanceActorPath: "/actor",
		LocalKeys:         m,
		RemoteKeys:        m,
		KeySource:         GeneratingKeySource{},
		Clock:             SystemClock{},
		Transport:         transport.DefaultConfig(),
		Limits:            streams.DefaultLimits(),
		KeyLifetime:       24 * time.Hour,
		RefetchCoolOff:    5 * time.Minute,
		SignatureWindow:   time.Hour,
		MaxBodyBytes:      1 << 20,
		FetchBudget:       20,
		MaxAncestors:      100,
	}
}

// Engine wires the parts of this layer together: Keys, the InstanceActor
// signing a transport.Client, a Fetcher on that client, and an
// Authenticator. Build it with NewEngine; its parts are safe for concurrent
// use, and several engines can run side by side in one process.
type Engine struct {
	cfg      Config
	keys     *Keys
	instance *InstanceActor
	client   *transport.Client
	fetcher  *Fetcher
	auth     *Authenticator
}

// NewEngine builds an engine from cfg, creating the instance actor's keys on
// first start.
func NewEngine(ctx context.Context, cfg Config) (*Engine, error) {
	if cfg.BaseURL == "" {
		return nil, errors.New("pub: engine: BaseURL is required")
	}
	if cfg.Clock == nil {
		cfg.Clock = SystemClock{}
	}
	if cfg.Registry == nil {
		cfg.Registry = streams.Default()
	}
	if cfg.InstanceActorPath == "" {
		cfg.InstanceActorPath = "/actor"
	}
	origin, err := transport.ParseOrigin(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("pub: engine: base URL: %w", err)
	}
	if cfg.LocalKeys == nil || cfg.KeySource == nil {
		return nil, errors.New("pub: engine: LocalKeys and KeySource are required")
	}
	instanceID, err := InstanceActorID(cfg.BaseURL, cfg.InstanceActorPath)
	if err != nil {
		return nil, err
	}
	instanceKeys, err := EnsureLocalKeys(ctx, cfg.LocalKeys, cfg.KeySource, instanceID, cfg.Clock.Now())
	if err != nil {
		return nil, fmt.Errorf("pub: engine: instance actor keys: %w", err)
	}
	instance, err := NewInstanceActor(instanceKeys, InstanceConfig{
		BaseURL:  cfg.BaseURL,
		Path:     cfg.InstanceActorPath,
		Clock:    cfg.Clock,
		Registry: cfg.Registry,
		Schemes:  cfg.Schemes,
	})
	if err != nil {
		return nil, err
	}
	tc := cfg.Transport
	tc.Signer = instance
	tc.LocalOrigins = append(append([]string(nil), tc.LocalOrigins...), cfg.BaseURL)
	if tc.Now == nil {
		tc.Now = cfg.Clock.Now
	}
	client, err := transport.New(tc)
	if err != nil {
		return nil, fmt.Errorf("pub: engine: %w", err)
	}
	e := &Engine{cfg: cfg, instance: instance, client: client}
	fetcher, err := NewFetcher(FetcherConfig{
		Client:       client,
		LocalOrigin:  cfg.BaseURL,
		Local:        LocalResolverFunc(e.localObject),
		Registry:     cfg.Registry,
		Limits:       cfg.Limits,
		CacheSize:    DefaultFetcherConfig().CacheSize,
		CacheTTL:     DefaultFetcherConfig().CacheTTL,
		MaxAncestors: cfg.MaxAncestors,
		Clock:        cfg.Clock,
	})
	if err != nil {
		return nil, err
	}
	e.fetcher = fetcher
	keys, err := NewKeys(KeysConfig{
		LocalOrigin:    cfg.BaseURL,
		Local:          cfg.LocalKeys,
		Remote:         cfg.RemoteKeys,
		Source:         cfg.KeySource,
		Documents:      fetcher,
		Clock:          cfg.Clock,
		Logger:         cfg.Logger,
		Lifetime:       cfg.KeyLifetime,
		RefetchCoolOff: cfg.RefetchCoolOff,
	})
	if err != nil {
		return nil, err
	}
	e.keys = keys
	auth, err := NewAuthenticator(AuthConfig{
		Keys:         keys,
		Blocker:      cfg.Blocker,
		Clock:        cfg.Clock,
		Logger:       cfg.Logger,
		Window:       cfg.SignatureWindow,
		MaxBodyBytes: cfg.MaxBodyBytes,
		Registry:     cfg.Registry,
		Limits:       cfg.Limits,
		FetchBudget:  cfg.FetchBudget,
		// Peers sign for our public URL, whatever terminates TLS in front.
		Scheme:      origin.Scheme,
		ExemptPaths: []string{cfg.InstanceActorPath},
	})
	if err != nil {
		return nil, err
	}
	e.auth = auth
	return e, nil
}

// localObject answers the instance actor itself and hands every other local
// IRI to the host's resolver.
func (e *Engine) localObject(ctx context.Context, iri string) (*streams.Object, error) {
	if iri == e.instance.ID() {
		return e.cfg.Registry.ParseLimits(e.instance.doc, e.cfg.Limits)
	}
	if e.cfg.Local == nil {
		return nil, fmt.Errorf("%s: %w", iri, ErrNotFound)
	}
	return e.cfg.Local.LocalObject(ctx, iri)
}

// Keys returns the engine's key manager.
func (e *Engine) Keys() *Keys { return e.keys }

// InstanceActor returns the instance actor.
func (e *Engine) InstanceActor() *InstanceActor { return e.instance }

// Client returns the outbound client, signing as the instance actor.
func (e *Engine) Client() *transport.Client { return e.client }

// Fetcher returns the fetcher.
func (e *Engine) Fetcher() *Fetcher { return e.fetcher }

// Authenticator returns the request authenticator.
func (e *Engine) Authenticator() *Authenticator { return e.auth }

// Fetch fetches a document under the engine's rules; see Fetcher.Fetch.
func (e *Engine) Fetch(ctx context.Context, iri string) (*streams.Object, error) {
	return e.fetcher.Fetch(ctx, iri)
}

// Protect wraps a handler serving actors and objects: with AuthorizedFetch
// on, it is Authenticator.AuthorizedFetch (the instance actor stays exempt);
// otherwise h itself.
func (e *Engine) Protect(h http.Handler) http.Handler {
	if !e.cfg.AuthorizedFetch {
		return h
	}
	return e.auth.AuthorizedFetch(h)
}

// Routes registers what this layer serves on mux: the instance actor at
// "GET <InstanceActorPath>" (HEAD included), never behind a signature check.
func (e *Engine) Routes(mux *http.ServeMux) {
	mux.Handle("GET "+e.cfg.InstanceActorPath, e.instance)
}
