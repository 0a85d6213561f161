package pub

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/commonroom/commonroom/pub/transport"
	"github.com/commonroom/commonroom/streams"
)

// LocalResolver answers for IRIs on our own origin, which are never fetched
// over HTTP (SECURITY rule 17). It returns the document, or an error wrapping
// ErrNotFound for an IRI it does not know. Implementations must be safe for
// concurrent use.
type LocalResolver interface {
	LocalObject(ctx context.Context, iri string) (*streams.Object, error)
}

// LocalResolverFunc adapts a function to LocalResolver.
type LocalResolverFunc func(ctx context.Context, iri string) (*streams.Object, error)

var _ LocalResolver = LocalResolverFunc(nil)

// LocalObject calls f.
func (f LocalResolverFunc) LocalObject(ctx context.Context, iri string) (*streams.Object, error) {
	return f(ctx, iri)
}

// ErrChainLimit: a reply-chain walk stopped at its bound or on a loop
// (SECURITY rule 20). The ancestors found so far are returned with it.
var ErrChainLimit = errors.New("pub: reply chain limit reached")

// FetcherConfig configures [NewFetcher]. Start from [DefaultFetcherConfig].
type FetcherConfig struct {
	// Client dereferences remote documents. It should sign as the instance
	// actor (InstanceActor is a transport.Signer) and list LocalOrigins.
	Client *transport.Client
	// LocalOrigin is this server's base URL; IRIs on it are answered by
	// Local and never fetched.
	LocalOrigin string
	// Local answers local IRIs. Nil answers every local IRI with
	// ErrNotFound.
	Local LocalResolver
	// Registry parses fetched documents; nil means streams.Default().
	Registry *streams.Registry
	// Limits bound each parse (zero fields take streams' defaults).
	Limits streams.Limits
	// CacheSize is how many fetched documents Fetch keeps; 0 disables the
	// cache.
	CacheSize int
	// CacheTTL is how long a fetched document is served from the cache.
	CacheTTL time.Duration
	// MaxAncestors bounds Ancestors (SECURITY rule 20).
	MaxAncestors int
	// Clock reads the time for the cache.
	Clock Clock
}

// DefaultFetcherConfig returns the defaults: 512 cached documents for 5
// minutes, at most 100 ancestors, streams' default limits, the system
// clock. Client and LocalOrigin must still be set.
func DefaultFetcherConfig() FetcherConfig {
	return FetcherConfig{
		Limits:       streams.DefaultLimits(),
		CacheSize:    512,
		CacheTTL:     5 * time.Minute,
		MaxAncestors: 100,
		Clock:        SystemClock{},
	}
}

// Fetcher fetches ActivityPub documents under the engine's rules: remote
// IRIs through transport.Client.Dereference (signed, SSRF-safe, origin- and
// content-type-checked, within the context's fetch budget) and parsed under
// streams limits; local IRIs from the LocalResolver, never over HTTP. It
// keeps a small LRU cache. Returned objects may be shared between callers
// and must be treated as read-only. A Fetcher is safe for concurrent use.
type Fetcher struct {
	cfg    FetcherConfig
	origin transport.Origin

	mu    sync.Mutex
	lru   *list.List // of *cacheEntry, most recent first
	index map[string]*list.Element
}

type cacheEntry struct {
	iri     string
	obj     *streams.Object
	expires time.Time
}

var _ DocumentFetcher = (*Fetcher)(nil)

// NewFetcher checks cfg and returns a Fetcher.
func NewFetcher(cfg FetcherConfig) (*Fetcher, error) {
	if cfg.Client == nil {
		return nil, errors.New("pub: fetcher: nil transport client")
	}
	o, err := transport.ParseOrigin(cfg.LocalOrigin)
	if err != nil {
		return nil, fmt.Errorf("pub: fetcher: local origin: %w", err)
	}
	if cfg.Registry == nil {
		cfg.Registry = streams.Default()
	}
	if cfg.Clock == nil {
		cfg.Clock = SystemClock{}
	}
	if cfg.MaxAncestors <= 0 {
		cfg.MaxAncestors = DefaultFetcherConfig().MaxAncestors
	}
	return &Fetcher{cfg: cfg, origin: o, lru: list.New(), index: make(map[string]*list.Element)}, nil
}

// IsLocal reports whether iri is on our own origin.
func (f *Fetcher) IsLocal(iri string) bool {
	o, err := transport.ParseOrigin(iri)
	return err == nil && (o == f.origin || f.cfg.Client.IsLocal(iri))
}

// Fetch returns the document at iri (without its fragment): from the local
// resolver for our own origin, from the cache when fresh, and otherwise
// dereferenced and parsed. The document is recorded under its own id, which
// transport guarantees names the URL it was finally served from.
func (f *Fetcher) Fetch(ctx context.Context, iri string) (*streams.Object, error) {
	iri = stripFragment(iri)
	if f.IsLocal(iri) {
		return f.local(ctx, iri)
	}
	if obj, ok := f.cached(iri); ok {
		return obj, nil
	}
	return f.fetchRemote(ctx, iri)
}

// FetchDocument is Fetch without reading the cache (the result still
// refreshes it). Keys uses it, so that a key refetch sees what the peer
// publishes now.
func (f *Fetcher) FetchDocument(ctx context.Context, iri string) (*streams.Object, error) {
	iri = stripFragment(iri)
	if f.IsLocal(iri) {
		return f.local(ctx, iri)
	}
	return f.fetchRemote(ctx, iri)
}

// Forget drops iri from the cache.
func (f *Fetcher) Forget(iri string) {
	iri = stripFragment(iri)
	f.mu.Lock()
	defer f.mu.Unlock()
	if el, ok := f.index[iri]; ok {
		f.lru.Remove(el)
		delete(f.index, iri)
	}
}

func (f *Fetcher) local(ctx context.Context, iri string) (*streams.Object, error) {
	if f.cfg.Local == nil {
		return nil, fmt.Errorf("pub: local %s: %w", iri, ErrNotFound)
	}
	obj, err := f.cfg.Local.LocalObject(ctx, iri)
	if err != nil {
		return nil, fmt.Errorf("pub: local %s: %w", iri, err)
	}
	if obj == nil {
		return nil, fmt.Errorf("pub: local %s: %w", iri, ErrNotFound)
	}
	return obj, nil
}

func (f *Fetcher) fetchRemote(ctx context.Context, iri string) (*streams.Object, error) {
	doc, err := f.cfg.Client.Dereference(ctx, iri)
	if err != nil {
		return nil, fmt.Errorf("pub: fetch %s: %w", iri, err)
	}
	obj, err := f.cfg.Registry.ParseLimits(doc.Body, f.cfg.Limits)
	if err != nil {
		return nil, fmt.Errorf("pub: fetch %s: parse: %w", iri, err)
	}
	if obj.ID() != doc.ID {
		// transport read the id without the AS2 parser; both must agree.
		return nil, fmt.Errorf("pub: fetch %s: id %q parsed as %q: %w", iri, doc.ID, obj.ID(), transport.ErrIDMismatch)
	}
	f.store(stripFragment(doc.ID), obj)
	return obj, nil
}

func (f *Fetcher) cached(iri string) (*streams.Object, bool) {
	if f.cfg.CacheSize <= 0 {
		return nil, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	el, ok := f.index[iri]
	if !ok {
		return nil, false
	}
	e := el.Value.(*cacheEntry)
	if !f.cfg.Clock.Now().Before(e.expires) {
		f.lru.Remove(el)
		delete(f.index, iri)
		return nil, false
	}
	f.lru.MoveToFront(el)
	return e.obj, true
}

func (f *Fetcher) store(iri string, obj *streams.Object) {
	if f.cfg.CacheSize <= 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	e := &cacheEntry{iri: iri, obj: obj, expires: f.cfg.Clock.Now().Add(f.cfg.CacheTTL)}
	if el, ok := f.index[iri]; ok {
		el.Value = e
		f.lru.MoveToFront(el)
		return
	}
	f.index[iri] = f.lru.PushFront(e)
	for f.lru.Len() > f.cfg.CacheSize {
		last := f.lru.Back()
		f.lru.Remove(last)
		delete(f.index, last.Value.(*cacheEntry).iri)
	}
}

// Ancestors walks the inReplyTo chain up from obj, nearest first, fetching
// each ancestor with Fetch. It stops at the top of the thread, after max
// ancestors (FetcherConfig.MaxAncestors when max <= 0 or above it), or when
// the chain loops (A→B→A); in the last two cases it returns what it found
// with an error wrapping ErrChainLimit. A fetch error (for example the
// context's fetch budget running out, transport.ErrBudgetExhausted) stops the
// walk and is returned with the ancestors found before it.
func (f *Fetcher) Ancestors(ctx context.Context, obj *streams.Object, max int) ([]*streams.Object, error) {
	if max <= 0 || max > f.cfg.MaxAncestors {
		max = f.cfg.MaxAncestors
	}
	seen := map[string]bool{stripFragment(obj.ID()): true}
	var out []*streams.Object
	next := obj.IRI("inReplyTo")
	for next != "" {
		key := stripFragment(next)
		if seen[key] {
			return out, fmt.Errorf("pub: reply chain loops at %s: %w", next, ErrChainLimit)
		}
		if len(out) >= max {
			return out, fmt.Errorf("pub: reply chain longer than %d: %w", max, ErrChainLimit)
		}
		seen[key] = true
		parent, err := f.Fetch(ctx, next)
		if err != nil {
			return out, fmt.Errorf("pub: ancestor %d of %s: %w", len(out)+1, obj.ID(), err)
		}
		seen[stripFragment(parent.ID())] = true
		out = append(out, parent)
		next = parent.IRI("inReplyTo")
	}
	return out, nil
}

func stripFragment(iri string) string {
	before, _, _ := strings.Cut(iri, "#")
	return before
}
