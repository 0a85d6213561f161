package actors

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/microcosm-cc/bluemonday"
	"github.com/uptrace/bun"

	"github.com/commonroom/commonroom/internal/db"
	"github.com/commonroom/commonroom/internal/ids"
	"github.com/commonroom/commonroom/pub"
	"github.com/commonroom/commonroom/pub/transport"
	"github.com/commonroom/commonroom/streams"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the migration set that creates this package's tables.
// It must run after users.Migrations: actors.user_id references users.id.
func Migrations() db.MigrationSet {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // the embedded directory is fixed at build time
	}
	return db.MigrationSet{Name: "actors", FS: sub}
}

// Fetcher dereferences remote documents under the federation engine's rules
// (signed, origin-checked, size-capped). *pub.Fetcher (Engine.Fetcher())
// implements it, and is the one to pass: RefreshRemote then uses its
// FetchDocument, which skips the cache. *pub.Engine implements it too.
type Fetcher interface {
	Fetch(ctx context.Context, iri string) (*streams.Object, error)
}

// KeyStore holds local actors' key pairs. *pub.Keys implements it:
// EnsureLocal returns the actor's keys, creating them on first use.
type KeyStore interface {
	EnsureLocal(ctx context.Context, actorID string) (*pub.ActorKeys, error)
}

// Publisher hands an activity by a local actor to the federation engine,
// which resolves its audience (to, cc, bto, bcc, audience; followers
// collections included) and delivers it. The Service records each activity
// in its own table in the transaction of the change it announces, and calls
// Publish after that transaction committed (never inside it: the engine may
// write to the same database); an activity whose Publish fails stays queued
// for FlushOutbox. The activity is the Publisher's to keep.
type Publisher interface {
	Publish(ctx context.Context, actorIRI string, activity *streams.Object) error
}

// PublisherFunc adapts a function to Publisher.
type PublisherFunc func(ctx context.Context, actorIRI string, activity *streams.Object) error

// Publish calls f.
func (f PublisherFunc) Publish(ctx context.Context, actorIRI string, activity *streams.Object) error {
	return f(ctx, actorIRI, activity)
}

// Config holds the limits and addresses of a Service. Start from
// DefaultConfig; BaseURL must be set.
type Config struct {
	// BaseURL is the server's public origin, for example
	// "https://school.example"; local IRIs are built on it.
	BaseURL string
	// MaxStatusChars caps a local status's text (and content warning)
	// in characters; 500.
	MaxStatusChars int
	// MaxDisplayNameChars and MaxNoteChars cap local profiles; 30 and 500.
	MaxDisplayNameChars int
	MaxNoteChars        int
	// MaxFields caps a local profile's name/value fields; 4.
	MaxFields int
	// MaxFieldNameChars and MaxFieldValueChars cap each field; 255 each.
	MaxFieldNameChars  int
	MaxFieldValueChars int
	// Remote caps (SECURITY.md rule 26): what a remote document carries
	// beyond them is cut off. Display names 100 characters, notes 10,000
	// characters, 16 fields, 20 alsoKnownAs entries.
	MaxRemoteDisplayNameChars int
	MaxRemoteNoteChars        int
	MaxRemoteFields           int
	MaxAlsoKnownAs            int
	// MaxRemoteStatusChars cuts remote statuses' HTML (100,000
	// characters); MaxRemoteTags caps the mentions and the hashtags read
	// from one remote status (100 each).
	MaxRemoteStatusChars int
	MaxRemoteTags        int
	// RemoteRefreshAfter is how old a remote actor may get before
	// RemoteActor fetches it again; 24 h.
	RemoteRefreshAfter time.Duration
}

// DefaultConfig returns the defaults listed on Config, for baseURL.
func DefaultConfig(baseURL string) Config {
	return Config{
		BaseURL:                   baseURL,
		MaxStatusChars:            500,
		MaxDisplayNameChars:       30,
		MaxNoteChars:              500,
		MaxFields:                 4,
		MaxFieldNameChars:         255,
		MaxFieldValueChars:        255,
		MaxRemoteDisplayNameChars: 100,
		MaxRemoteNoteChars:        10000,
		MaxRemoteFields:           16,
		MaxAlsoKnownAs:            20,
		MaxRemoteStatusChars:      100000,
		MaxRemoteTags:             100,
		RemoteRefreshAfter:        24 * time.Hour,
	}
}

// Options are a Service's collaborators. Config, Fetcher, Keys and
// Publisher are required.
type Options struct {
	Config    Config
	Fetcher   Fetcher
	Keys      KeyStore
	Publisher Publisher
	// Handles resolves @user@host mentions of accounts not stored yet
	// (WebFinger); nil leaves such mentions as plain text.
	Handles HandleResolver
	// IDs draws row ids; nil means a generator on Now.
	IDs *ids.Generator
	// Now reads the clock; nil means time.Now.
	Now func() time.Time
	// Registry builds documents; nil means streams.Default().
	Registry *streams.Registry
	// Logger receives what is dropped or refused; nil discards.
	Logger *slog.Logger
}

// Service is the actors domain over one database. It is safe for concurrent
// use; several Services (one per test server) can run in one process.
type Service struct {
	db      bun.IDB
	cfg     Config
	origin  transport.Origin
	base    string
	fetch   Fetcher
	keys    KeyStore
	pub     Publisher
	handles HandleResolver
	ids     *ids.Generator
	now     func() time.Time
	reg     *streams.Registry
	log     *slog.Logger
	html    *bluemonday.Policy
	strict  *bluemonday.Policy // strips every tag
}

// NewService returns a Service over d, on which Migrations (and the users
// migrations) have run.
func NewService(d bun.IDB, opts Options) (*Service, error) {
	if d == nil {
		return nil, errors.New("actors: no database")
	}
	if opts.Fetcher == nil || opts.Keys == nil || opts.Publisher == nil {
		return nil, errors.New("actors: Fetcher, Keys and Publisher are required")
	}
	cfg := opts.Config
	origin, err := transport.ParseOrigin(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("actors: base URL %q: %w", cfg.BaseURL, err)
	}
	if u, _ := url.Parse(cfg.BaseURL); u != nil && strings.Trim(u.Path, "/") != "" {
		return nil, fmt.Errorf("actors: base URL %q must not have a path", cfg.BaseURL)
	}
	if cfg.MaxStatusChars <= 0 || cfg.MaxDisplayNameChars <= 0 || cfg.MaxNoteChars <= 0 ||
		cfg.MaxFields < 0 || cfg.MaxFieldNameChars <= 0 || cfg.MaxFieldValueChars <= 0 ||
		cfg.MaxRemoteDisplayNameChars <= 0 || cfg.MaxRemoteNoteChars <= 0 ||
		cfg.MaxRemoteFields < 0 || cfg.MaxAlsoKnownAs < 0 || cfg.RemoteRefreshAfter <= 0 ||
		cfg.MaxRemoteStatusChars <= 0 || cfg.MaxRemoteTags < 0 {
		return nil, errors.New("actors: config limits must be positive; start from DefaultConfig")
	}
	s := &Service{
		db:      d,
		cfg:     cfg,
		origin:  origin,
		base:    origin.String(),
		fetch:   opts.Fetcher,
		keys:    opts.Keys,
		pub:     opts.Publisher,
		handles: opts.Handles,
		ids:     opts.IDs,
		now:     opts.Now,
		reg:     opts.Registry,
		log:     opts.Logger,
		html:    newHTMLPolicy(),
		strict:  bluemonday.StrictPolicy(),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.ids == nil {
		s.ids = ids.New(s.now, nil)
	}
	if s.reg == nil {
		s.reg = streams.Default()
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// Config returns the Service's configuration.
func (s *Service) Config() Config { return s.cfg }

// timestamp is the current time as stored: UTC, microsecond precision.
func (s *Service) timestamp() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// nextID draws a row id.
func (s *Service) nextID() (int64, error) {
	id, err := s.ids.Next()
	if err != nil {
		return 0, fmt.Errorf("draw id: %w", err)
	}
	return id, nil
}
