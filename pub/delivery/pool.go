package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ErrRunning: Run was called on a Pool that is already running.
var ErrRunning = errors.New("delivery: pool is already running")

// Pool delivers the jobs of a [Queue]: it claims due jobs, sends each through
// the [Sender] signed with the [SignerSource]'s signer for the job's key, and
// records the outcome. At most Config.Concurrency sends are in flight, and at
// most Config.MaxPerHost to one host.
//
// A Pool is safe for concurrent use. Run it once ([Pool.Run]); Enqueue,
// MarkReachable and Stats may be called at any time from any goroutine.
// Several Pools, in one process or many, may share one Queue if their Owner
// names differ.
type Pool struct {
	cfg     Config
	queue   Queue
	sender  Sender
	signers SignerSource
	log     *slog.Logger

	wake    chan struct{}
	running atomic.Bool

	outcomes [numOutcomes]atomic.Int64
	inflight atomic.Int64

	mu           sync.Mutex
	hostLoad     map[string]int   // sends in flight per host
	hostFailures map[string]int64 // failed attempts per host since a success
}

// New returns a Pool working queue through sender, signing with signers'
// signers. It fails when a dependency is nil or cfg is inconsistent (for
// example a Lease not longer than SendTimeout).
func New(cfg Config, queue Queue, sender Sender, signers SignerSource) (*Pool, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if queue == nil || sender == nil || signers == nil {
		return nil, errors.New("delivery: New needs a queue, a sender and a signer source")
	}
	return &Pool{
		cfg:          cfg,
		queue:        queue,
		sender:       sender,
		signers:      signers,
		log:          cfg.Logger.With("component", "delivery", "owner", cfg.Owner),
		wake:         make(chan struct{}, 1),
		hostLoad:     make(map[string]int),
		hostFailures: make(map[string]int64),
	}, nil
}

// Config returns the Pool's configuration with defaults filled in.
func (p *Pool) Config() Config { return p.cfg }

// Enqueue stores jobs in the queue in one batch, due at once unless they say
// otherwise, and wakes the Pool. Every job needs an inbox, a host, a key id
// and a body ([NewJob] makes them).
func (p *Pool) Enqueue(ctx context.Context, jobs ...Job) error {
	if len(jobs) == 0 {
		return nil
	}
	for i := range jobs {
		j := &jobs[i]
		if j.InboxURL == "" || j.Host == "" || j.KeyID == "" || len(j.Body) == 0 {
			return fmt.Errorf("%w: job %d for %q lacks inbox, host, key id or body", ErrInvalidJob, i, j.InboxURL)
		}
	}
	if err := p.queue.Enqueue(ctx, p.cfg.Now(), jobs); err != nil {
		return fmt.Errorf("delivery: enqueue %d jobs: %w", len(jobs), err)
	}
	p.Wake()
	return nil
}

// Wake makes a running Pool look for due jobs now rather than at its next
// poll. It never blocks.
func (p *Pool) Wake() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// MarkReachable records that host (a host name or any URL on it) sent us
// something: its failure days are cleared and, if it was unavailable,
// deliveries to it resume. The inbox calls it for every verified activity.
func (p *Pool) MarkReachable(ctx context.Context, host string) error {
	h, err := HostOf(host)
	if err != nil {
		return fmt.Errorf("delivery: mark reachable: %w", err)
	}
	if err := p.queue.MarkReachable(ctx, h); err != nil {
		return fmt.Errorf("delivery: mark %s reachable: %w", h, err)
	}
	p.mu.Lock()
	delete(p.hostFailures, h)
	p.mu.Unlock()
	return nil
}

// Stats returns what this Pool did and what the queue holds now.
func (p *Pool) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	for i := range s.Outcomes {
		s.Outcomes[i] = p.outcomes[i].Load()
	}
	s.InFlight = p.inflight.Load()
	p.mu.Lock()
	s.HostFailures = maps.Clone(p.hostFailures)
	p.mu.Unlock()
	q, err := p.queue.Stats(ctx, p.cfg.Now())
	if err != nil {
		return s, fmt.Errorf("delivery: queue stats: %w", err)
	}
	s.Queue = q
	return s, nil
}

// Run delivers jobs until ctx is cancelled, then stops claiming, waits for
// the sends in flight to finish and record their outcomes (each bounded by
// SendTimeout), and returns ctx's error. Jobs not yet claimed stay queued for
// the next start. Errors of the queue are logged and retried at the next
// poll; Run returns early only with [ErrRunning].
func (p *Pool) Run(ctx context.Context) error {
	if !p.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer p.running.Store(false)

	// Sends and their bookkeeping outlive ctx: a stop lets them finish.
	work := context.WithoutCancel(ctx)
	done := make(chan struct{}, p.cfg.Concurrency)
	var wg sync.WaitGroup
	defer wg.Wait()

	timer := time.NewTimer(0)
	defer timer.Stop()
	inflight := 0
	for {
		if ctx.Err() != nil {
			for ; inflight > 0; inflight-- {
				<-done
			}
			return ctx.Err()
		}
		free := p.cfg.Concurrency - inflight
		claimed := 0
		if free > 0 {
			jobs, n, err := p.claim(ctx, free)
			if err != nil && ctx.Err() == nil {
				p.log.ErrorContext(ctx, "claiming delivery jobs", "err", err)
			}
			for _, j := range jobs {
				inflight++
				wg.Add(1)
				go func() {
					defer wg.Done()
					p.deliver(work, j)
					done <- struct{}{}
				}()
			}
			claimed = n
		}
		if inflight >= p.cfg.Concurrency {
			// Every slot is taken; wait for one to free up.
			select {
			case <-done:
				inflight--
			case <-ctx.Done():
			}
			inflight -= drain(done)
			continue
		}
		if claimed > 0 && claimed == free {
			// A full batch, yet free slots (some jobs were skipped): more
			// may be due at once.
			continue
		}
		// Fewer due jobs than free slots: look again when a send ends
		// (per-host limits may have held some back), when woken, or at
		// the next poll.
		// Since Go 1.23 Reset discards a stale tick: no Stop-and-drain.
		timer.Reset(p.cfg.PollInterval)
		select {
		case <-done:
			inflight--
			inflight -= drain(done)
		case <-p.wake:
		case <-timer.C:
		case <-ctx.Done():
		}
	}
}

// drain receives what is ready on done without blocking and returns the count.
func drain(done chan struct{}) int {
	n := 0
	for {
		select {
		case <-done:
			n++
		default:
			return n
		}
	}
}

// Step claims one batch of due jobs (as many as Concurrency allows), delivers
// them concurrently, waits for every outcome to be recorded, and returns how
// many jobs it claimed. It is for tests and for embedders that schedule
// delivery themselves; it must not run concurrently with Run on one Pool.
func (p *Pool) Step(ctx context.Context) (int, error) {
	jobs, n, err := p.claim(ctx, p.cfg.Concurrency-int(p.inflight.Load()))
	if err != nil {
		return n, err
	}
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.deliver(context.WithoutCancel(ctx), j)
		}()
	}
	wg.Wait()
	return n, nil
}

// claim leases up to limit jobs and drops those whose host is unavailable.
// It returns the jobs to deliver, counted in hostLoad and inflight (deliver
// releases them), and how many it claimed, skipped ones included.
func (p *Pool) claim(ctx context.Context, limit int) ([]Job, int, error) {
	if limit <= 0 {
		return nil, 0, nil
	}
	now := p.cfg.Now()
	p.mu.Lock()
	load := maps.Clone(p.hostLoad)
	p.mu.Unlock()
	jobs, err := p.queue.Claim(ctx, ClaimRequest{
		Owner:      p.cfg.Owner,
		Now:        now,
		Lease:      p.cfg.Lease,
		Limit:      limit,
		MaxPerHost: p.cfg.MaxPerHost,
		HostLoad:   load,
	})
	if err != nil {
		return nil, 0, fmt.Errorf("delivery: claim: %w", err)
	}
	if len(jobs) == 0 {
		return nil, 0, nil
	}
	claimed := len(jobs)
	hosts := make([]string, 0, len(jobs))
	seen := make(map[string]bool, len(jobs))
	for _, j := range jobs {
		if !seen[j.Host] {
			seen[j.Host] = true
			hosts = append(hosts, j.Host)
		}
	}
	states, err := p.queue.Hosts(ctx, hosts)
	if err != nil {
		// Without host states, deliver everything: the leases are held,
		// and an extra request to a dead host costs little.
		p.log.WarnContext(ctx, "reading host states", "err", err)
		states = nil
	}
	today := UTCDay(now)
	out := jobs[:0]
	for _, j := range jobs {
		st, ok := states[j.Host]
		// An unavailable host gets one probe a day: the first job claimed
		// on a day it has not failed yet goes out, the rest are skipped.
		if ok && st.Unavailable && st.LastFailureDay >= today {
			p.skip(ctx, j, now)
			continue
		}
		out = append(out, j)
	}
	p.mu.Lock()
	for _, j := range out {
		p.hostLoad[j.Host]++
	}
	p.mu.Unlock()
	p.inflight.Add(int64(len(out)))
	return out, claimed, nil
}

func (p *Pool) skip(ctx context.Context, j Job, now time.Time) {
	if err := p.queue.Drop(context.WithoutCancel(ctx), j); err != nil {
		p.log.WarnContext(ctx, "dropping job for unavailable host", "job", j.ID, "host", j.Host, "err", err)
	}
	p.log.DebugContext(ctx, "delivery skipped: host unavailable", "job", j.ID, "host", j.Host, "activity", j.ActivityID)
	p.record(Event{Outcome: Skipped, Host: j.Host, InboxURL: j.InboxURL, ActivityID: j.ActivityID, Attempt: j.Attempts, Age: now.Sub(j.CreatedAt)})
}

func (p *Pool) record(e Event) {
	p.outcomes[e.Outcome].Add(1)
	if p.cfg.Observer != nil {
		p.cfg.Observer.ObserveDelivery(e)
	}
}

// deliver makes one attempt at j and records its outcome. ctx is not
// cancelled by a stop.
func (p *Pool) deliver(ctx context.Context, j Job) {
	defer func() {
		p.mu.Lock()
		if p.hostLoad[j.Host]--; p.hostLoad[j.Host] <= 0 {
			delete(p.hostLoad, j.Host)
		}
		p.mu.Unlock()
		p.inflight.Add(-1)
	}()
	log := p.log.With("job", j.ID, "inbox", j.InboxURL, "activity", j.ActivityID, "attempt", j.Attempts)
	ev := Event{Host: j.Host, InboxURL: j.InboxURL, ActivityID: j.ActivityID, Attempt: j.Attempts}

	signer, err := p.signers.Signer(ctx, j.KeyID)
	if err != nil {
		err = fmt.Errorf("signer for %s: %w", j.KeyID, err)
		now := p.cfg.Now()
		ev.Err, ev.Age = err, now.Sub(j.CreatedAt)
		if errors.Is(err, ErrPermanent) {
			p.finish(ctx, log, j, ev, Rejected)
			return
		}
		// Our own trouble, not the host's: retry without a host failure.
		p.retry(ctx, log, j, ev, Response{}, now)
		return
	}

	start := p.cfg.Now()
	sctx, cancel := context.WithTimeout(ctx, p.cfg.SendTimeout)
	resp, err := p.sender.Send(sctx, j.InboxURL, j.Body, signer)
	cancel()
	if r, ok := signer.(SendReporter); ok {
		r.ReportSend(resp.StatusCode)
	}
	now := p.cfg.Now()
	ev.Duration, ev.Age, ev.StatusCode = now.Sub(start), now.Sub(j.CreatedAt), resp.StatusCode

	switch status := resp.StatusCode; {
	case status >= 200 && status <= 299:
		if err := p.queue.Complete(ctx, j, now); err != nil {
			log.WarnContext(ctx, "recording delivery", "err", err)
		}
		p.mu.Lock()
		delete(p.hostFailures, j.Host)
		p.mu.Unlock()
		p.record(ev)
		return
	case status != 0 && !Retryable(status):
		if err == nil {
			err = fmt.Errorf("delivery: %s answered status %d", j.InboxURL, status)
		}
		ev.Err = err
		p.finish(ctx, log, j, ev, Rejected)
		return
	case status == 0 && err == nil:
		err = fmt.Errorf("delivery: sender returned neither a response nor an error for %s", j.InboxURL)
	case status == 0 && errors.Is(err, ErrPermanent):
		ev.Err = err
		p.finish(ctx, log, j, ev, Rejected)
		return
	}
	if err == nil {
		err = fmt.Errorf("delivery: %s answered status %d", j.InboxURL, resp.StatusCode)
	}
	ev.Err = err
	// No answer or a server error counts against the host; 401, 408 and
	// 429 mean it is up and talking to us.
	if resp.StatusCode == 0 || resp.StatusCode >= 500 {
		p.mu.Lock()
		p.hostFailures[j.Host]++
		p.mu.Unlock()
		st, marked, ferr := p.queue.RecordFailure(ctx, j.Host, now, p.cfg.UnavailableDays)
		switch {
		case ferr != nil:
			log.WarnContext(ctx, "recording host failure", "host", j.Host, "err", ferr)
		case marked:
			ev.HostUnavailable = true
			log.WarnContext(ctx, "host marked unavailable", "host", j.Host, "failure_days", st.FailureDays)
		}
	}
	p.retry(ctx, log, j, ev, resp, now)
}

// retry reschedules j after a retryable failure, or drops it when it has
// used its attempts.
func (p *Pool) retry(ctx context.Context, log *slog.Logger, j Job, ev Event, resp Response, now time.Time) {
	if j.Attempts >= p.cfg.MaxAttempts {
		p.finish(ctx, log, j, ev, Expired)
		return
	}
	at := now.Add(p.cfg.retryDelay(j.Attempts, resp))
	// Stored as text: valid UTF-8 without NUL (PostgreSQL refuses both),
	// and bounded.
	msg := ev.Err.Error()
	if len(msg) > 1000 {
		msg = msg[:1000]
	}
	msg = strings.ReplaceAll(strings.ToValidUTF8(msg, ""), "\x00", "")
	if err := p.queue.Reschedule(ctx, j, at, msg); err != nil {
		log.WarnContext(ctx, "rescheduling delivery", "err", err)
	}
	log.DebugContext(ctx, "delivery failed, will retry", "status", resp.StatusCode, "next", at, "err", ev.Err)
	ev.Outcome = Retried
	p.record(ev)
}

// finish drops j with a final outcome.
func (p *Pool) finish(ctx context.Context, log *slog.Logger, j Job, ev Event, o Outcome) {
	if err := p.queue.Drop(ctx, j); err != nil {
		log.WarnContext(ctx, "dropping delivery", "err", err)
	}
	log.InfoContext(ctx, "delivery dropped", "outcome", o.String(), "status", ev.StatusCode, "err", ev.Err)
	ev.Outcome = o
	p.record(ev)
}
