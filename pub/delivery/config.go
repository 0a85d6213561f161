package delivery

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"time"
)

// Config configures a [Pool]. Start from [DefaultConfig]; New fills zero
// fields with the defaults.
type Config struct {
	// Owner names this worker in job leases. It must be unique among the
	// processes sharing a queue; the default is host name, process id and
	// a random suffix.
	Owner string
	// Concurrency is the most sends in flight at once, over all hosts.
	Concurrency int
	// MaxPerHost is the most sends in flight to one host.
	MaxPerHost int
	// Lease is how long a claimed job stays leased. It must exceed
	// SendTimeout plus the time to record the outcome, or a slow send's job
	// may be claimed (and sent) again.
	Lease time.Duration
	// SendTimeout bounds one send; pub/transport bounds a request at 30 s
	// anyway.
	SendTimeout time.Duration
	// PollInterval is how often an idle Run looks for due jobs (jobs
	// enqueued through the same Pool wake it at once).
	PollInterval time.Duration
	// MaxAttempts is how many attempts a job gets before it is dropped
	// and counted as expired.
	MaxAttempts int
	// BackoffBase and BackoffMax shape the retry schedule: after the nth
	// failed attempt the next one waits a uniformly random time (full
	// jitter) between BackoffMin and min(BackoffMax, BackoffBase*2^(n-1)).
	BackoffBase time.Duration
	BackoffMin  time.Duration
	BackoffMax  time.Duration
	// MaxRetryAfter caps how long a Retry-After header can postpone the
	// next attempt.
	MaxRetryAfter time.Duration
	// UnavailableDays is the number of distinct UTC days with failures
	// after which a host is marked unavailable.
	UnavailableDays int
	// Now is the clock; nil uses time.Now.
	Now func() time.Time
	// Jitter returns a uniformly random duration in [0, max]; nil uses
	// math/rand/v2. Tests pin it.
	Jitter func(max time.Duration) time.Duration
	// Logger receives the pool's logs; nil uses slog.Default().
	Logger *slog.Logger
	// Observer, if set, is told about every outcome.
	Observer Observer
}

// Defaults applied by [DefaultConfig]. The retry schedule (16 attempts, base
// 1 min doubling to a 12 h cap, full jitter) spans at most about 77 hours and
// about 38 hours on average, like Mastodon's 16 tries over two to three days.
const (
	DefaultConcurrency     = 64
	DefaultMaxPerHost      = 4
	DefaultLease           = 5 * time.Minute
	DefaultSendTimeout     = 60 * time.Second
	DefaultPollInterval    = time.Second
	DefaultMaxAttempts     = 16
	DefaultBackoffBase     = time.Minute
	DefaultBackoffMin      = 10 * time.Second
	DefaultBackoffMax      = 12 * time.Hour
	DefaultMaxRetryAfter   = 6 * time.Hour
	DefaultUnavailableDays = 7
)

// DefaultConfig returns the production defaults (see the Default constants),
// with the wall clock, math/rand/v2 jitter and slog.Default().
func DefaultConfig() Config {
	return Config{
		Concurrency:     DefaultConcurrency,
		MaxPerHost:      DefaultMaxPerHost,
		Lease:           DefaultLease,
		SendTimeout:     DefaultSendTimeout,
		PollInterval:    DefaultPollInterval,
		MaxAttempts:     DefaultMaxAttempts,
		BackoffBase:     DefaultBackoffBase,
		BackoffMin:      DefaultBackoffMin,
		BackoffMax:      DefaultBackoffMax,
		MaxRetryAfter:   DefaultMaxRetryAfter,
		UnavailableDays: DefaultUnavailableDays,
		Now:             time.Now,
		Jitter:          uniformJitter,
		Logger:          slog.Default(),
	}
}

func uniformJitter(max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(max) + 1))
}

// withDefaults fills zero fields and checks the rest.
func (c Config) withDefaults() (Config, error) {
	d := DefaultConfig()
	if c.Owner == "" {
		host, _ := os.Hostname()
		c.Owner = host + ":" + strconv.Itoa(os.Getpid()) + ":" + strconv.FormatUint(rand.Uint64()&0xffffff, 16)
	}
	setInt := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	setDur := func(p *time.Duration, v time.Duration) {
		if *p == 0 {
			*p = v
		}
	}
	setInt(&c.Concurrency, d.Concurrency)
	setInt(&c.MaxPerHost, d.MaxPerHost)
	setInt(&c.MaxAttempts, d.MaxAttempts)
	setInt(&c.UnavailableDays, d.UnavailableDays)
	setDur(&c.Lease, d.Lease)
	setDur(&c.SendTimeout, d.SendTimeout)
	setDur(&c.PollInterval, d.PollInterval)
	setDur(&c.BackoffBase, d.BackoffBase)
	setDur(&c.BackoffMin, d.BackoffMin)
	setDur(&c.BackoffMax, d.BackoffMax)
	setDur(&c.MaxRetryAfter, d.MaxRetryAfter)
	if c.Now == nil {
		c.Now = d.Now
	}
	if c.Jitter == nil {
		c.Jitter = d.Jitter
	}
	if c.Logger == nil {
		c.Logger = d.Logger
	}
	switch {
	case c.Concurrency < 0, c.MaxPerHost < 0, c.MaxAttempts < 0, c.UnavailableDays < 0:
		return c, fmt.Errorf("delivery: config: negative limit")
	case c.Lease < 0, c.SendTimeout < 0, c.PollInterval < 0, c.BackoffBase < 0, c.BackoffMin < 0, c.BackoffMax < 0, c.MaxRetryAfter < 0:
		return c, fmt.Errorf("delivery: config: negative duration")
	case c.Lease <= c.SendTimeout:
		return c, fmt.Errorf("delivery: config: lease %v must exceed send timeout %v", c.Lease, c.SendTimeout)
	}
	return c, nil
}

// BackoffCeiling returns the longest wait after the attempt-th failed
// attempt (1-based): min(BackoffMax, BackoffBase*2^(attempt-1)), and at least
// BackoffMin. The actual wait is uniformly random up to it.
func (c Config) BackoffCeiling(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	ceil := c.BackoffMax
	if attempt-1 < 62 {
		if d := c.BackoffBase << (attempt - 1); d > 0 && d>>(attempt-1) == c.BackoffBase && d < ceil {
			ceil = d
		}
	}
	if ceil < c.BackoffMin {
		ceil = c.BackoffMin
	}
	return ceil
}

// retryDelay is the wait before the next attempt after the attempt-th failed
// one: full jitter between BackoffMin and the ceiling, but never less than a
// Retry-After (capped at MaxRetryAfter).
func (c Config) retryDelay(attempt int, resp Response) time.Duration {
	ceil := c.BackoffCeiling(attempt)
	d := c.BackoffMin + c.Jitter(ceil-c.BackoffMin)
	if resp.HasRetryAfter {
		ra := min(max(resp.RetryAfter, 0), c.MaxRetryAfter)
		d = max(d, ra)
	}
	return d
}
