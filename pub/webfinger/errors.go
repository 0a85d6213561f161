package webfinger

import (
	"errors"
	"fmt"
)

// Error kinds. Every error this package returns that a caller may act on
// wraps one of these; test with errors.Is.
var (
	// ErrInvalidResource marks a resource, handle or host that does not
	// parse. The server answers 400 for it.
	ErrInvalidResource = errors.New("webfinger: invalid resource")

	// ErrNotFound marks an account that does not exist: a Resolver reports
	// it for unknown names, and the client when a server answers 404.
	ErrNotFound = errors.New("webfinger: not found")

	// ErrGone marks an account a remote server says is gone (HTTP 410).
	// Errors that wrap it also wrap ErrNotFound.
	ErrGone = errors.New("webfinger: gone")

	// ErrTooLarge marks a response body over the client's size cap.
	ErrTooLarge = errors.New("webfinger: response too large")

	// ErrContentType marks a response that is not JSON.
	ErrContentType = errors.New("webfinger: response is not JSON")

	// ErrMalformed marks a response that is JSON but not a usable JRD (bad
	// syntax, missing or unparsable subject).
	ErrMalformed = errors.New("webfinger: malformed response")

	// ErrNoActor marks a JRD without a usable self link of an ActivityPub
	// type.
	ErrNoActor = errors.New("webfinger: no ActivityPub actor link")

	// ErrMismatch marks an answer the client refuses because hosts
	// disagree: an actor on another host that its own host does not
	// confirm, or a subject on another host that does not confirm itself.
	// Errors that wrap it are *MismatchError values.
	ErrMismatch = errors.New("webfinger: host mismatch")
)

// StatusError reports a WebFinger or host-meta response with an HTTP status
// the client does not handle (anything but 200, 404 and 410).
type StatusError struct {
	URL        string // the URL requested
	StatusCode int
}

// Error implements error.
func (e *StatusError) Error() string {
	return fmt.Sprintf("webfinger: GET %s: unexpected status %d", e.URL, e.StatusCode)
}

// MismatchError reports why the client refused an answer whose hosts
// disagree. It wraps ErrMismatch.
type MismatchError struct {
	Handle    Handle // the account asked about
	QueryHost string // the host whose WebFinger answer was checked
	Actor     string // the actor IRI in question, if any
	Reason    string // what did not agree
}

// Error implements error.
func (e *MismatchError) Error() string {
	return fmt.Sprintf("webfinger: %s (asked %s, answer from %s, actor %q)", e.Reason, e.Handle, e.QueryHost, e.Actor)
}

// Unwrap returns ErrMismatch.
func (e *MismatchError) Unwrap() error { return ErrMismatch }
