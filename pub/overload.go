package pub

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// The inbox's overload protection (SECURITY rule 31).
const (
	// defaultMaxInboxInFlight is FederationConfig.MaxInboxInFlight's default.
	defaultMaxInboxInFlight = 256
	// defaultMaxInboxBacklog is FederationConfig.MaxInboxBacklog's default.
	defaultMaxInboxBacklog = 10_000
	// inboxSlotWait is how long a request waits for an in-flight slot.
	inboxSlotWait = 100 * time.Millisecond
	// backlogRefresh is how often the backlog is counted in the store.
	backlogRefresh = time.Second
	// busyRetryAfter is Retry-After, in seconds, when every slot is taken.
	busyRetryAfter = 5
	// backlogDrainRate is the processing rate, in activities a second,
	// Retry-After assumes when the backlog is over its bound: the answer
	// is the time the backlog takes to drain at it, between 5 s and 1 min.
	backlogDrainRate = 250
)

// InboxBacklogCounter is an optional extension of [InboxStore]: a store
// that implements it tells the inboxes how many recorded activities are
// still unprocessed, including those other processes sharing it recorded,
// so that FederationConfig.MaxInboxBacklog holds across processes and
// restarts. The inboxes call it at most once a second; between calls they
// count what this process records and finishes. MemoryStore and
// pub/bunstore's FederationStore implement it.
type InboxBacklogCounter interface {
	// PendingInbound returns how many recorded activities are not yet
	// processed, counting at most limit of them (limit <= 0: all).
	PendingInbound(ctx context.Context, limit int) (int, error)
}

// inboxGuard bounds the inboxes' work under a flood: how many requests are
// handled at once (slots) and how many recorded activities may wait for
// the background workers (the backlog). It is safe for concurrent use.
type inboxGuard struct {
	slots      chan struct{} // nil: unbounded
	maxBacklog int           // <= 0: unbounded
	counter    InboxBacklogCounter
	clock      Clock
	log        *slog.Logger

	backlog   atomic.Int64 // last count, plus this process's records, minus its finishes
	countedAt atomic.Int64 // Unix nanoseconds of the last count; 0: never
	counting  sync.Mutex   // one count at a time
}

func newInboxGuard(cfg FederationConfig, clock Clock, log *slog.Logger) *inboxGuard {
	g := &inboxGuard{maxBacklog: cfg.MaxInboxBacklog, clock: clock, log: log}
	if cfg.MaxInboxInFlight > 0 {
		g.slots = make(chan struct{}, cfg.MaxInboxInFlight)
	}
	g.counter, _ = cfg.Store.(InboxBacklogCounter)
	return g
}

// acquire takes an in-flight slot, waiting at most inboxSlotWait; it
// reports whether it got one. A true answer must be followed by release.
func (g *inboxGuard) acquire(ctx context.Context) bool {
	if g.slots == nil {
		return true
	}
	select {
	case g.slots <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(inboxSlotWait)
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
		return true
	case <-t.C:
		return false
	case <-ctx.Done():
		return false
	}
}

func (g *inboxGuard) release() {
	if g.slots != nil {
		<-g.slots
	}
}

// overBacklog reports whether the backlog is over its bound and, if so,
// the Retry-After to answer, in seconds. It counts in the store at most
// once a second (one request counts; the others use the last figure).
func (g *inboxGuard) overBacklog(ctx context.Context) (bool, int) {
	if g.maxBacklog <= 0 {
		return false, 0
	}
	g.refresh(ctx)
	n := int(max(g.backlog.Load(), 0))
	if n < g.maxBacklog {
		return false, 0
	}
	return true, min(max(n/backlogDrainRate, 5), 60)
}

// refresh counts the backlog in the store if the last count is older than
// backlogRefresh and no other request is counting.
func (g *inboxGuard) refresh(ctx context.Context) {
	if g.counter == nil {
		return
	}
	now := g.clock.Now().UnixNano()
	if at := g.countedAt.Load(); at != 0 && now-at < int64(backlogRefresh) && now >= at {
		return
	}
	if !g.counting.TryLock() {
		return
	}
	defer g.counting.Unlock()
	g.countedAt.Store(now) // also after a failure: do not hammer a failing store
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), backlogRefresh)
	defer cancel()
	n, err := g.counter.PendingInbound(ctx, max(2*g.maxBacklog, 60*backlogDrainRate))
	if err != nil {
		g.log.WarnContext(ctx, "pub: inbox: count backlog", slog.Any("error", err))
		return
	}
	g.backlog.Store(int64(n))
}

// recorded and finished keep the backlog's count between two counts in
// the store.
func (g *inboxGuard) recorded() { g.backlog.Add(1) }
func (g *inboxGuard) finished() { g.backlog.Add(-1) }

// admit is the part of the inbox in front of everything that reads the
// body or verifies: it answers 503 with Retry-After and returns false when
// the backlog is over MaxInboxBacklog or no in-flight slot frees within
// 100 ms. When it returns true, the caller holds a slot and must call
// f.guard.release when done.
func (f *Federation) admit(w http.ResponseWriter, r *http.Request, rep *inboxReport) bool {
	if over, retry := f.guard.overBacklog(r.Context()); over {
		f.overloaded(w, rep, retry, fmt.Errorf("%w: backlog of %d or more unprocessed activities", ErrOverloaded, f.guard.maxBacklog))
		return false
	}
	if !f.guard.acquire(r.Context()) {
		f.overloaded(w, rep, busyRetryAfter, fmt.Errorf("%w: %d requests in flight", ErrOverloaded, cap(f.guard.slots)))
		return false
	}
	return true
}

// overloaded answers 503 with Retry-After, without reading the body.
func (f *Federation) overloaded(w http.ResponseWriter, rep *inboxReport, retryAfter int, err error) {
	w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	http.Error(w, "inbox overloaded, retry later", http.StatusServiceUnavailable)
	rep.rejected(InboxOverloaded, http.StatusServiceUnavailable, err)
}

// enqueued notes an activity newly recorded for the workers and wakes them.
func (f *Federation) enqueued() {
	f.guard.recorded()
	f.wake()
}
