package delivery

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/commonroom/commonroom/pub/transport"
)

// ErrInvalidJob: a job cannot be enqueued (inbox not an absolute http(s) URL,
// empty key id or body).
var ErrInvalidJob = errors.New("delivery: invalid job")

// Job is one POST of an activity body to one inbox on behalf of one local
// actor. Jobs are values: a Queue hands out copies, and the worker that
// claimed a job owns that copy until it reports an outcome.
type Job struct {
	// ID is assigned by the Queue on Enqueue.
	ID int64
	// InboxURL is the inbox (or shared inbox) the body is POSTed to.
	InboxURL string
	// Host is the inbox's normalized host ([HostOf]): the key for per-host
	// concurrency and availability.
	Host string
	// KeyID names the local actor's key the request is signed with, at
	// send time, through the [SignerSource].
	KeyID string
	// ActivityID is the id of the activity in Body, for logs and metrics.
	ActivityID string
	// Body is the exact bytes POSTed.
	Body []byte
	// Attempts counts the attempts started, including the current one
	// for a claimed job (a Queue increments it when a job is claimed, so a
	// job whose worker died mid-send has used up an attempt).
	Attempts int
	// NextAttemptAt is when the job is due. While a job is leased it holds
	// the lease's expiry, after which the job is due again.
	NextAttemptAt time.Time
	// LeaseOwner is the worker holding the job's lease, empty when none.
	// Together with NextAttemptAt it fences outcomes: a worker whose lease
	// was taken over cannot complete, reschedule or drop the job.
	LeaseOwner string
	// LastError describes the previous failed attempt.
	LastError string
	// CreatedAt is when the job was enqueued.
	CreatedAt time.Time
}

// NewJob returns a job delivering body to inboxURL signed with keyID, with
// Host filled in and due at once (a zero NextAttemptAt means "now" to
// [Queue.Enqueue]). It fails with [ErrInvalidJob] when the inbox is not an
// absolute http(s) URL or keyID or body is empty. activityID is informative.
func NewJob(inboxURL, keyID, activityID string, body []byte) (Job, error) {
	host, err := HostOf(inboxURL)
	if err != nil {
		return Job{}, err
	}
	if keyID == "" {
		return Job{}, fmt.Errorf("%w: inbox %s: empty key id", ErrInvalidJob, inboxURL)
	}
	if len(body) == 0 {
		return Job{}, fmt.Errorf("%w: inbox %s: empty body", ErrInvalidJob, inboxURL)
	}
	return Job{InboxURL: inboxURL, Host: host, KeyID: keyID, ActivityID: activityID, Body: body}, nil
}

// HostOf returns the host key of an inbox URL or a bare host[:port]: the
// [transport.Origin.HostPort] of its origin (a bare host is taken as https),
// so the host is in IDNA ASCII form, lowercased, without a trailing dot, IP
// literals canonical ("127.1" is "127.0.0.1", IPv6 in brackets), followed by
// ":port" when the port is not the scheme's default. Two inbox URLs with the
// same scheme have the same host key exactly when they are same-origin, as
// pub/transport decides it; servers on one address with different ports are
// different hosts.
//
// It fails with [ErrInvalidJob] for anything else: other schemes, user
// information, a bare host followed by a path, query or fragment
// ("mastodon.so/cial" is not a host), or a host pub/transport refuses.
func HostOf(rawURL string) (string, error) {
	s := rawURL
	if !strings.Contains(s, "://") {
		if strings.ContainsAny(s, "/?#@\\") {
			return "", fmt.Errorf("%w: %q is not a host", ErrInvalidJob, rawURL)
		}
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("%w: %q: %w", ErrInvalidJob, rawURL, err)
	}
	if u.Host == "" || u.User != nil {
		return "", fmt.Errorf("%w: %q is not an absolute http(s) URL", ErrInvalidJob, rawURL)
	}
	o, err := transport.OriginOf(u)
	if err != nil {
		return "", fmt.Errorf("%w: %q: %w", ErrInvalidJob, rawURL, err)
	}
	return o.HostPort(), nil
}
