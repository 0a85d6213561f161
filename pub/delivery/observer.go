package delivery

import (
	"time"
)

// Outcome is what became of one attempt.
type Outcome uint8

// The outcomes of an attempt.
const (
	// Delivered: the inbox answered 2xx; the job is done.
	Delivered Outcome = iota
	// Retried: a retryable failure; the job is due again later.
	Retried
	// Rejected: a final failure (400, 403, 404, 410, a refused address, a
	// key that is gone); the job is dropped.
	Rejected
	// Expired: a retryable failure on the last allowed attempt; the job
	// is dropped.
	Expired
	// Skipped: the host is unavailable; the job is dropped unsent.
	Skipped
	numOutcomes
)

// String returns the outcome's lower-case name, suitable as a metric label.
func (o Outcome) String() string {
	switch o {
	case Delivered:
		return "delivered"
	case Retried:
		return "retried"
	case Rejected:
		return "rejected"
	case Expired:
		return "expired"
	case Skipped:
		return "skipped"
	}
	return "unknown"
}

// Event describes one attempt's outcome to an [Observer].
type Event struct {
	Outcome    Outcome
	Host       string
	InboxURL   string
	ActivityID string
	// Attempt is the 1-based number of the attempt.
	Attempt int
	// StatusCode is the response status; 0 when none (network error,
	// timeout, skipped).
	StatusCode int
	// Err is the failure, nil when delivered.
	Err error
	// Duration is how long the send took; 0 when skipped.
	Duration time.Duration
	// Age is how long ago the job was enqueued.
	Age time.Duration
	// HostUnavailable is set on the failure that made the host
	// unavailable.
	HostUnavailable bool
}

// Observer is told about every attempt's outcome, for metrics. ObserveDelivery
// is called from the worker goroutines, concurrently, and must return
// quickly; it must not retain the Event's error beyond the call if that
// matters to it.
type Observer interface {
	ObserveDelivery(Event)
}

// ObserverFunc adapts a function to [Observer].
type ObserverFunc func(Event)

var _ Observer = ObserverFunc(nil)

// ObserveDelivery calls f.
func (f ObserverFunc) ObserveDelivery(e Event) { f(e) }

// Stats is a snapshot of a Pool: what this process did since it started and
// what the queue holds.
type Stats struct {
	// Outcomes counts this Pool's attempts by outcome, indexed by Outcome.
	Outcomes [numOutcomes]int64
	// InFlight is the number of sends under way.
	InFlight int64
	// HostFailures counts this Pool's failed attempts by host, for the
	// hosts that failed since the last success to them.
	HostFailures map[string]int64
	// Queue is the queue's own count.
	Queue QueueStats
}

// Count returns the number of attempts with outcome o.
func (s Stats) Count(o Outcome) int64 {
	if o >= numOutcomes {
		return 0
	}
	return s.Outcomes[o]
}
