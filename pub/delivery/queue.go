package delivery

import (
	"context"
	"errors"
	"time"
)

// ErrLeaseLost: the job's lease is no longer held by the caller (it expired
// and another worker claimed the job, or the job is gone). The outcome was
// not recorded; the job's current holder will record its own.
var ErrLeaseLost = errors.New("delivery: job lease lost")

// Queue is the durable store of delivery jobs and host availability that a
// [Pool] works from. pub/bunstore implements it on SQLite and PostgreSQL.
//
// Implementations must be safe for concurrent use, and for use by several
// processes over one database: a job is held by at most one lease at a time,
// so that under normal operation no job is delivered twice. All times are
// passed in by the caller (the Pool's clock), never read from the database
// server, so tests move time instead of sleeping.
type Queue interface {
	// Enqueue stores jobs, assigning their IDs, in one transaction: all or
	// none. A zero NextAttemptAt is due at once (now); CreatedAt is set to
	// now. Host must be filled in ([NewJob] does it).
	Enqueue(ctx context.Context, now time.Time, jobs []Job) error

	// Claim leases up to req.Limit due jobs (NextAttemptAt <= req.Now, which
	// includes jobs whose lease lapsed), oldest due first, to req.Owner until
	// req.Now+req.Lease, incrementing each job's Attempts. It takes no more
	// than req.MaxPerHost jobs of one host, counting req.HostLoad. It returns
	// the claimed jobs with LeaseOwner and NextAttemptAt (the lease expiry)
	// set; none, without error, when nothing is due.
	Claim(ctx context.Context, req ClaimRequest) ([]Job, error)

	// Complete deletes a delivered job and records a success for its host
	// at now: failure days cleared, host available again. It fails with
	// ErrLeaseLost when job's lease (LeaseOwner, NextAttemptAt) is no longer
	// the current one; the host's success is recorded anyway.
	Complete(ctx context.Context, job Job, now time.Time) error

	// Reschedule releases job's lease and makes it due at at, storing
	// job.Attempts and lastError. It fails with ErrLeaseLost as Complete.
	Reschedule(ctx context.Context, job Job, at time.Time, lastError string) error

	// Drop deletes a job that will not be delivered. It fails with
	// ErrLeaseLost as Complete.
	Drop(ctx context.Context, job Job) error

	// RecordFailure records a failed delivery to host at now. A failure on
	// a UTC day later than the host's last failure day adds a failure day;
	// when the host reaches unavailableDays it is marked unavailable. It
	// returns the host's state after the update, and whether this very
	// call marked it unavailable (true for one call only, however many
	// workers fail at once).
	RecordFailure(ctx context.Context, host string, now time.Time, unavailableDays int) (state HostState, marked bool, err error)

	// MarkReachable clears host's failure days and unavailable flag (the
	// host sent us something). Unknown hosts are left unrecorded.
	MarkReachable(ctx context.Context, host string) error

	// Hosts returns the recorded state of the given hosts; hosts without a
	// record are missing from the map (they are available).
	Hosts(ctx context.Context, hosts []string) (map[string]HostState, error)

	// Stats counts the queue at now.
	//
	// All times are stored to the millisecond.
	Stats(ctx context.Context, now time.Time) (QueueStats, error)
}

// ClaimRequest says what a worker wants from [Queue.Claim].
type ClaimRequest struct {
	// Owner names the claiming worker; it is stored as the lease owner.
	Owner string
	// Now is the current time: jobs due at or before it are claimable.
	Now time.Time
	// Lease is how long the claimed jobs stay leased.
	Lease time.Duration
	// Limit is the most jobs returned; Claim returns none when it is <= 0.
	Limit int
	// MaxPerHost caps the jobs of one host held by this worker, counting
	// HostLoad; <= 0 means no cap.
	MaxPerHost int
	// HostLoad is how many jobs of each host the worker already has in
	// flight. Claim only reads it.
	HostLoad map[string]int
}

// HostState is what a Queue records about a remote host.
type HostState struct {
	Host string
	// FailureDays counts the distinct UTC days with a failed delivery
	// since the last success (or MarkReachable).
	FailureDays int
	// LastFailureDay is the UTC day of the latest failure (days since the
	// Unix epoch, see [UTCDay]); 0 when none.
	LastFailureDay int64
	// Unavailable is set when FailureDays reached the threshold.
	Unavailable bool
	// UnavailableSince is when the host was marked unavailable, to the
	// millisecond; zero while it is available.
	UnavailableSince time.Time
	// LastSuccessAt is the time of the latest successful delivery; zero
	// when none.
	LastSuccessAt time.Time
}

// QueueStats is a snapshot of a Queue's contents.
type QueueStats struct {
	// Pending counts every stored job: due, scheduled or leased.
	Pending int64
	// Due counts jobs that are due now and not leased.
	Due int64
	// Leased counts jobs held by a live lease (being delivered).
	Leased int64
	// OldestDueAt is the creation time of the oldest due job; zero when
	// nothing is due. now minus it is how far delivery lags behind.
	OldestDueAt time.Time
	// FailingHosts counts hosts with at least one failure day.
	FailingHosts int64
	// UnavailableHosts counts hosts marked unavailable.
	UnavailableHosts int64
}

// UTCDay returns the UTC day t falls on, as days since the Unix epoch.
func UTCDay(t time.Time) int64 {
	s := t.Unix()
	d := s / 86400
	if s < 0 && s%86400 != 0 {
		d--
	}
	return d
}

// OldestDueAge returns how long the oldest due job has waited since it was
// enqueued, at now; 0 when nothing is due.
func (s QueueStats) OldestDueAge(now time.Time) time.Duration {
	if s.OldestDueAt.IsZero() {
		return 0
	}
	return max(now.Sub(s.OldestDueAt), 0)
}
