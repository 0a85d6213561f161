package pub

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/commonroom/commonroom/pub/delivery"
	"github.com/commonroom/commonroom/pub/transport"
	"github.com/commonroom/commonroom/streams"
)

// FederationConfig configures [NewFederation]. Store, Actors and Queue are
// required; the rest has defaults.
type FederationConfig struct {
	// Store keeps inbound activities, objects, follows and collections:
	// NewMemoryStore, or pub/bunstore's FederationStore.
	Store Store
	// Actors says which local actors exist (ActorDirectory is a ready one).
	Actors LocalActors
	// Queue is the durable delivery queue (pub/bunstore's Store); the
	// Federation runs a delivery.Pool over it in Run.
	Queue delivery.Queue
	// Delivery configures that Pool; zero fields take delivery's defaults.
	// Its clock defaults to the engine's.
	Delivery delivery.Config
	// Hooks are the host's side effects.
	Hooks Hooks
	// Workers bounds how many inbound activities are processed at once;
	// default 8.
	Workers int
	// Lease is how long a worker holds an inbound activity before another
	// may take it over (a crashed process's work is picked up after it);
	// default 5 min.
	Lease time.Duration
	// PollInterval is how often Run looks for inbound work recorded by
	// other processes; default 1 s (this process's inboxes wake it at once).
	PollInterval time.Duration
	// AcceptForwarded makes the inboxes take activities forwarded by a
	// third server (signed by someone other than their actor, ActivityPub
	// 7.1.2): they are answered 202 and recorded as forwarded, never
	// trusted as sent, and processed only after the activity is fetched
	// from its own origin under its id with the same actor; otherwise they
	// are forgotten. Off by default: such requests are then refused with
	// 401 as SECURITY rule 6 says.
	AcceptForwarded bool
	// PageSize is the number of items of a collection page; default 20.
	PageSize int
	// IDs mints the ids of published activities and objects; default
	// DefaultIDMinter over the engine's clock and crypto/rand.
	IDs IDMinter
	// Logger receives processing outcomes; default the engine's, or none.
	Logger *slog.Logger
	// Observer, when set, is called exactly once for every request to the
	// inboxes (SharedInbox, PersonalInbox), after its answer is written,
	// in the request's goroutine, with its outcome: accepted, duplicate,
	// or rejected and why (InboxReason). It must be safe for concurrent
	// use and return quickly (count, do not block).
	Observer func(InboxEvent)
	// MaxInboxInFlight bounds how many inbox requests are handled at once;
	// default 256, negative for no bound. A request that gets no slot
	// within 100 ms is answered 503 with Retry-After before its body is
	// read or its signature looked at (SECURITY rule 31).
	MaxInboxInFlight int
	// MaxInboxBacklog bounds how many recorded activities may wait for
	// the background workers; default 10,000, negative for no bound. At or
	// over it, inbox requests are answered 503 with a Retry-After of 5 s
	// to 1 min, scaled to the backlog, and nothing is read or stored. The
	// backlog is counted in the Store at most once a second when it
	// implements InboxBacklogCounter, and kept in memory in between (and
	// otherwise).
	MaxInboxBacklog int
}

// IDMinter assigns ids to what local actors publish. Implementations must be
// safe for concurrent use and never return an id twice.
type IDMinter interface {
	// MintID returns a new IRI for obj, published by actor.
	MintID(ctx context.Context, actor LocalActor, obj *streams.Object) (string, error)
}

// DefaultIDMinter mints <base>/activities/{n} for activities and
// <actor>/statuses/{n} for other objects, n a time-ordered 64-bit number
// (milliseconds since the epoch shifted left 22 bits, plus 22 random bits).
// It is safe for concurrent use.
type DefaultIDMinter struct {
	// BaseURL is the server's origin.
	BaseURL string
	// Clock and Random default to the system clock and crypto/rand.
	Clock  Clock
	Random io.Reader
}

var _ IDMinter = DefaultIDMinter{}

// MintID implements IDMinter.
func (m DefaultIDMinter) MintID(_ context.Context, actor LocalActor, obj *streams.Object) (string, error) {
	clock, rnd := m.Clock, m.Random
	if clock == nil {
		clock = SystemClock{}
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	var b [4]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return "", fmt.Errorf("pub: mint id: %w", err)
	}
	n := uint64(clock.Now().UnixMilli())<<22 | uint64(binary.BigEndian.Uint32(b[:])&(1<<22-1))
	if obj.IsActivity() {
		return m.BaseURL + "/activities/" + strconv.FormatUint(n, 10), nil
	}
	return actor.ID + "/statuses/" + strconv.FormatUint(n, 10), nil
}

// Federation is the inbox, outbox and side-effect layer over an [Engine]:
// per-actor and shared inboxes that verify, deduplicate, record and answer
// 202, background workers that apply the protocol's side effects and call
// the host's hooks, Publish for local actors, paged collections, and inbox
// forwarding. Build it with NewFederation, mount it with Routes, and call
// Run. It is safe for concurrent use.
type Federation struct {
	e       *Engine
	cfg     FederationConfig
	store   Store
	actors  LocalActors
	base    string
	origin  transport.Origin
	pool    *delivery.Pool
	log     *slog.Logger
	clock   Clock
	wakeCh  chan struct{}
	reach   sync.Map // host → time.Time of the last MarkReachable
	running sync.Mutex
	guard   *inboxGuard
}

// NewFederation builds the layer over e. When e's Config.Local is nil,
// e answers fetches of our own IRIs from this Federation (local actors'
// documents and stored local objects); call it before e serves requests.
func NewFederation(e *Engine, cfg FederationConfig) (*Federation, error) {
	if e == nil || cfg.Store == nil || cfg.Actors == nil || cfg.Queue == nil {
		return nil, errors.New("pub: federation: engine, Store, Actors and Queue are required")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 5 * time.Minute
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = 20
	}
	if cfg.MaxInboxInFlight == 0 {
		cfg.MaxInboxInFlight = defaultMaxInboxInFlight
	}
	if cfg.MaxInboxBacklog == 0 {
		cfg.MaxInboxBacklog = defaultMaxInboxBacklog
	}
	base := e.baseOrigin()
	if cfg.IDs == nil {
		cfg.IDs = DefaultIDMinter{BaseURL: base, Clock: e.cfg.Clock}
	}
	log := cfg.Logger
	if log == nil {
		log = e.cfg.Logger
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	origin, _ := transport.ParseOrigin(base)
	f := &Federation{
		e: e, cfg: cfg, store: cfg.Store, actors: cfg.Actors, base: base, origin: origin,
		log: log, clock: e.cfg.Clock, wakeCh: make(chan struct{}, 1),
	}
	f.guard = newInboxGuard(cfg, f.clock, log)
	// Deliveries go through a client of their own whose signer is the
	// job's actor, chosen at send time.
	tc := e.cfg.Transport
	tc.Signer = delivery.ContextSigner{Fallback: e.instance}
	tc.LocalOrigins = append(append([]string(nil), tc.LocalOrigins...), e.cfg.BaseURL)
	if tc.Now == nil {
		tc.Now = e.cfg.Clock.Now
	}
	client, err := transport.New(tc)
	if err != nil {
		return nil, fmt.Errorf("pub: federation: delivery client: %w", err)
	}
	dc := cfg.Delivery
	if dc.Now == nil {
		dc.Now = e.cfg.Clock.Now
	}
	if dc.Logger == nil {
		dc.Logger = log
	}
	pool, err := delivery.New(dc, cfg.Queue, delivery.TransportSender{Client: client}, delivery.SignerSourceFunc(f.signer))
	if err != nil {
		return nil, fmt.Errorf("pub: federation: %w", err)
	}
	f.pool = pool
	if e.cfg.Local == nil {
		e.cfg.Local = LocalResolverFunc(f.LocalObject)
	}
	return f, nil
}

// baseOrigin is the engine's base URL in normalized origin form.
func (e *Engine) baseOrigin() string {
	o, err := transport.ParseOrigin(e.cfg.BaseURL)
	if err != nil {
		return strings.TrimSuffix(e.cfg.BaseURL, "/")
	}
	return o.String()
}

// Engine returns the engine under this layer.
func (f *Federation) Engine() *Engine { return f.e }

// Pool returns the delivery pool Run runs.
func (f *Federation) Pool() *delivery.Pool { return f.pool }

// Store returns the store.
func (f *Federation) Store() Store { return f.store }

// signer is the delivery pool's SignerSource: the local actor owning keyID.
func (f *Federation) signer(ctx context.Context, keyID string) (delivery.Signer, error) {
	keys, err := f.e.keys.Local(ctx, stripFragment(keyID))
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("%w: %w", delivery.ErrPermanent, err)
		}
		return nil, err
	}
	if keys.RSAKeyID() != keyID {
		return nil, fmt.Errorf("%w: key %s is not %s's current key", delivery.ErrPermanent, keyID, keys.ActorID)
	}
	s, err := keys.RequestSigner(f.clock.Now)
	if err != nil {
		return nil, err
	}
	return delivery.NewHTTPSigSigner(s, f.e.cfg.Schemes), nil
}

// Routes registers everything this layer serves on mux, for actors under
// /users/{name} and /groups/{name}: the engine's routes (the instance
// actor), GET <instance actor>/outbox, POST /inbox (shared inbox), POST
// <actor>/inbox, GET <actor> (when Actors is an ActorDocumenter), GET
// <actor>/{outbox,followers,following,liked,featured}, and the local
// objects at GET <actor>/statuses/{id} and
// GET /activities/{id}. Every GET but the instance actor's goes through
// Engine.Protect, so that under AuthorizedFetch collections and objects,
// like actors, need a signed request. It includes Engine.Routes: do not
// call both on one mux.
func (f *Federation) Routes(mux *http.ServeMux) {
	f.e.Routes(mux)
	get := func(pattern string, h http.HandlerFunc) {
		mux.Handle("GET "+pattern, f.e.Protect(h))
	}
	mux.Handle("POST /inbox", f.SharedInbox())
	get(f.e.cfg.InstanceActorPath+"/outbox", f.serveInstanceOutbox)
	get("/activities/{id}", f.serveObject)
	for _, dir := range []string{"/users/{name}", "/groups/{name}"} {
		mux.Handle("POST "+dir+"/inbox", f.PersonalInbox())
		get(dir, f.serveActor)
		get(dir+"/statuses/{id}", f.serveObject)
		for _, c := range []string{"outbox", "followers", "following", "liked", "featured"} {
			get(dir+"/"+c, f.serveCollection)
		}
	}
}

// SharedInbox returns the shared inbox handler (/inbox): the checks of
// Authenticator.Inbox in front of the recording step. With
// AcceptForwarded, an activity whose valid signature is not its actor's
// (forwarded by a third server) is recorded as forwarded and fetched from
// its origin before processing.
func (f *Federation) SharedInbox() http.Handler {
	return f.inbox(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.accept(w, r, "")
	}))
}

// PersonalInbox returns the handler of local actors' inboxes; the actor is
// the request path without its "/inbox" suffix. An unknown actor is 404.
func (f *Federation) PersonalInbox() http.Handler {
	return f.inbox(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := f.base + strings.TrimSuffix(r.URL.Path, "/inbox")
		rep := reportFrom(r.Context())
		rep.ev.Recipient = id
		if _, err := f.actors.LocalActor(r.Context(), id); err != nil {
			status := StatusFor(err)
			if status == http.StatusNotFound {
				http.Error(w, "no such actor", status)
				rep.rejected(InboxUnknownRecipient, status, err)
			} else {
				f.log.ErrorContext(r.Context(), "pub: inbox: local actor lookup", slog.String("actor", id), slog.Any("error", err))
				http.Error(w, http.StatusText(status), status)
				rep.rejected(InboxInternal, status, err)
			}
			return
		}
		f.accept(w, r, id)
	}))
}

// accept is the synchronous part of an inbox behind Authenticator.Inbox:
// check the activity's shape, record it once by id, answer 202, wake the
// workers.
func (f *Federation) accept(w http.ResponseWriter, r *http.Request, recipient string) {
	ctx := r.Context()
	rep := reportFrom(ctx)
	signer, _ := SignerFromContext(ctx)
	act, _, ok := ActivityFromContext(ctx)
	if !ok {
		http.Error(w, "no verified activity", http.StatusInternalServerError)
		rep.rejected(InboxInternal, http.StatusInternalServerError, errors.New("pub: inbox: no verified activity"))
		return
	}
	rep.ev.ActivityID, rep.ev.Actor = act.ID(), act.IRI("actor")
	if err := checkShape(act); err != nil {
		f.log.InfoContext(ctx, "pub: inbox: refused", slog.String("id", act.ID()), slog.Any("error", err))
		http.Error(w, err.Error(), http.StatusBadRequest)
		rep.rejected(InboxInvalid, http.StatusBadRequest, err)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		rep.rejected(InboxInvalid, http.StatusBadRequest, fmt.Errorf("%w: read body: %w", ErrInvalidActivity, err))
		return
	}
	f.markReachable(ctx, signer.Owner)
	stored, err := f.store.RecordInbound(ctx, InboundActivity{
		ID: act.ID(), Type: act.Type(), Actor: signer.Owner, KeyID: signer.KeyID,
		Recipient: recipient, Body: body, ReceivedAt: f.clock.Now(),
	})
	if err != nil {
		f.log.ErrorContext(ctx, "pub: inbox: record", slog.String("id", act.ID()), slog.Any("error", err))
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		rep.rejected(InboxInternal, http.StatusInternalServerError, err)
		return
	}
	if stored {
		f.enqueued()
	}
	w.WriteHeader(http.StatusAccepted)
	rep.recorded(stored, http.StatusAccepted)
}

// checkShape refuses activities that cannot be processed: no type, or no
// object for a type that needs one, or a Create/Update object without id.
func checkShape(act *streams.Object) error {
	typ := act.Type()
	if typ == "" {
		return fmt.Errorf("%w: activity %s has no type", ErrInvalidActivity, act.ID())
	}
	if coreTypes[typ] && act.IRI("object") == "" {
		return fmt.Errorf("%w: %s %s has no object", ErrInvalidActivity, typ, act.ID())
	}
	if (typ == "Add" || typ == "Remove" || typ == "Move") && act.IRI("target") == "" {
		return fmt.Errorf("%w: %s %s has no target", ErrInvalidActivity, typ, act.ID())
	}
	return nil
}

// markReachable tells the delivery pool that host sent us something, at
// most once a minute per host.
func (f *Federation) markReachable(ctx context.Context, actor string) {
	o, err := transport.ParseOrigin(actor)
	if err != nil {
		return
	}
	now := f.clock.Now()
	if last, ok := f.reach.Load(o.String()); ok && now.Sub(last.(time.Time)) < time.Minute {
		return
	}
	f.reach.Store(o.String(), now)
	if err := f.pool.MarkReachable(ctx, o.String()); err != nil {
		f.log.WarnContext(ctx, "pub: inbox: mark reachable", slog.String("host", o.String()), slog.Any("error", err))
	}
}

func (f *Federation) wake() {
	select {
	case f.wakeCh <- struct{}{}:
	default:
	}
}

// Run processes inbound activities and delivers outbound ones until ctx is
// cancelled: it runs the delivery Pool, and claims recorded, unprocessed
// activities (including those a previous process recorded but did not
// finish) for up to Workers concurrent workers. Activities of one actor are
// processed one after another, in the order they were received, so that an
// Undo never overtakes its Follow or a Create its Delete; different actors'
// activities run in parallel. It returns ctx's error once the workers in
// flight have finished. Run may be called once at a time.
func (f *Federation) Run(ctx context.Context) error {
	if !f.running.TryLock() {
		return errors.New("pub: federation: already running")
	}
	defer f.running.Unlock()
	var wg sync.WaitGroup
	wg.Go(func() { _ = f.pool.Run(ctx) })
	workers := f.cfg.Workers
	maxQueued := 4 * workers
	var (
		mu      sync.Mutex
		running int
		queued  int
		chains  = map[string][]InboundActivity{} // actor → waiting behind its running activity
	)
	work := context.WithoutCancel(ctx)
	chain := func(a InboundActivity) {
		defer wg.Done()
		for {
			f.processOne(work, a)
			mu.Lock()
			q := chains[a.Actor]
			if len(q) == 0 {
				delete(chains, a.Actor)
				running--
				mu.Unlock()
				f.wake()
				return
			}
			a, chains[a.Actor] = q[0], q[1:]
			queued--
			mu.Unlock()
		}
	}
	tick := time.NewTicker(f.cfg.PollInterval)
	defer tick.Stop()
	for {
		for {
			mu.Lock()
			free := min(workers-running, maxQueued-queued)
			mu.Unlock()
			if free <= 0 {
				break
			}
			batch, err := f.store.ClaimInbound(ctx, f.clock.Now(), f.cfg.Lease, free)
			if err != nil {
				if ctx.Err() == nil {
					f.log.ErrorContext(ctx, "pub: inbox: claim", slog.Any("error", err))
				}
				break
			}
			mu.Lock()
			for _, a := range batch {
				if q, busy := chains[a.Actor]; busy {
					chains[a.Actor] = append(q, a)
					queued++
					continue
				}
				chains[a.Actor] = nil
				running++
				wg.Add(1)
				go chain(a)
			}
			mu.Unlock()
			if len(batch) < free {
				break
			}
		}
		select {
		case <-ctx.Done():
			wg.Wait()
			return ctx.Err()
		case <-f.wakeCh:
		case <-tick.C:
		}
	}
}

// ProcessPending claims and processes inbound activities in the calling
// goroutine until none is left, and returns how many it processed. It is
// for programs and tests that do not call Run.
func (f *Federation) ProcessPending(ctx context.Context) (int, error) {
	n := 0
	for {
		batch, err := f.store.ClaimInbound(ctx, f.clock.Now(), f.cfg.Lease, f.cfg.Workers)
		if err != nil {
			return n, fmt.Errorf("pub: process pending: %w", err)
		}
		if len(batch) == 0 {
			return n, nil
		}
		for _, a := range batch {
			f.processOne(ctx, a)
			n++
		}
	}
}

// processOne processes a claimed activity and records the outcome.
func (f *Federation) processOne(ctx context.Context, a InboundActivity) {
	ctx = transport.WithBudget(ctx, f.e.cfg.FetchBudget)
	result := "ok"
	err := f.process(ctx, a)
	if errors.Is(err, errForgotten) {
		f.guard.finished()
		f.log.InfoContext(ctx, "pub: inbox: forwarded activity dropped", slog.String("id", a.ID), slog.Any("error", err))
		return
	}
	if err != nil {
		result = err.Error()
		level := slog.LevelInfo
		if StatusFor(err) >= 500 && !errors.Is(err, ErrRejected) {
			level = slog.LevelError
		}
		f.log.Log(ctx, level, "pub: inbox: activity not applied", slog.String("id", a.ID),
			slog.String("type", a.Type), slog.String("actor", a.Actor), slog.Any("error", err))
	}
	if len(result) > 500 {
		result = result[:500]
	}
	if err := f.store.FinishInbound(ctx, a.ID, f.clock.Now(), result); err != nil {
		f.log.ErrorContext(ctx, "pub: inbox: finish", slog.String("id", a.ID), slog.Any("error", err))
		return
	}
	f.guard.finished()
}
