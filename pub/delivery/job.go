package delivery

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
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

// HostOf returns the host key of an inbox URL or a bare host: the host name
// lowercased without a trailing dot, followed by ":port" when the port is not
// the scheme's default. Servers on one address with different ports are
// different hosts, as they are different origins.
//
// IDNA names should arrive in their ASCII (punycode) form, as pub/transport
// normalizes them; HostOf does not convert Unicode names.
func HostOf(rawURL string) (string, error) {
	s := rawURL
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("%w: %q: %w", ErrInvalidJob, rawURL, err)
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" || u.Host == "" || u.User != nil {
		return "", fmt.Errorf("%w: %q is not an absolute http(s) URL", ErrInvalidJob, rawURL)
	}
	name := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if name == "" {
		return "", fmt.Errorf("%w: %q has no host", ErrInvalidJob, rawURL)
	}
	port := u.Port()
	if scheme == "https" && port == "443" || scheme == "http" && port == "80" {
		port = ""
	}
	if port == "" {
		if strings.Contains(name, ":") {
			return "[" + name + "]", nil
		}
		return name, nil
	}
	return net.JoinHostPort(name, port), nil
}
