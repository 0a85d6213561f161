package transport

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Errors returned by the package, always wrapped with context: test for them
// with errors.Is. Errors from the network itself (connection refused, reset,
// TLS failures, DNS failures) are passed through wrapped as they are.
var (
	// ErrInvalidURL: the URL is not an absolute http(s) URL with a valid
	// host, or carries user information.
	ErrInvalidURL = errors.New("transport: invalid URL")
	// ErrScheme: plain http was requested (directly or by a redirect) while
	// the client only allows https.
	ErrScheme = errors.New("transport: scheme not allowed")
	// ErrBlockedAddress: the host resolved to an address the address policy
	// refuses (loopback, private, link-local, ...). No connection was made.
	// The error is a *[BlockedAddressError].
	ErrBlockedAddress = errors.New("transport: address not allowed")
	// ErrLocal: the URL belongs to one of the server's own origins, which are
	// never fetched over HTTP; the caller answers from its own store (and
	// treats an unknown local URL as not found). No request was made.
	ErrLocal = errors.New("transport: local origin is not fetched over HTTP")
	// ErrBudgetExhausted: the fetch budget in the context is used up
	// ([WithBudget]). No request was made.
	ErrBudgetExhausted = errors.New("transport: fetch budget exhausted")
	// ErrTooLarge: the response body exceeds the configured cap, by its
	// Content-Length or while it was being read. The body was discarded.
	ErrTooLarge = errors.New("transport: response body too large")
	// ErrTimeout: a connect, read or total deadline passed.
	ErrTimeout = errors.New("transport: timed out")
	// ErrTooManyRedirects: the redirect chain is longer than allowed, or a
	// redirect had no usable Location.
	ErrTooManyRedirects = errors.New("transport: too many redirects")
	// ErrSign: the [Signer] refused to sign a request. Nothing was sent.
	ErrSign = errors.New("transport: signing request")
	// ErrContentType: a dereferenced document was not served with an
	// ActivityPub content type.
	ErrContentType = errors.New("transport: not an ActivityPub content type")
	// ErrIDMismatch: a dereferenced document's id is not the URL it was
	// served from, even after the one permitted same-origin refetch.
	ErrIDMismatch = errors.New("transport: document id does not match its URL")
	// ErrInvalidDocument: a dereferenced document is not a JSON object with
	// exactly one string "id" holding an absolute http(s) URL, or is nested
	// too deeply.
	ErrInvalidDocument = errors.New("transport: invalid ActivityPub document")
)

// BlockedAddressError reports a host that resolved to an address refused by
// the address policy. It matches [ErrBlockedAddress] with errors.Is.
type BlockedAddressError struct {
	// Host is the name that was resolved (or the IP literal dialled).
	Host string
	// Addr is the refused address.
	Addr netip.Addr
}

// Error implements error.
func (e *BlockedAddressError) Error() string {
	return fmt.Sprintf("transport: address %s of host %q not allowed", e.Addr, e.Host)
}

// Is makes errors.Is(err, ErrBlockedAddress) true.
func (e *BlockedAddressError) Is(target error) bool { return target == ErrBlockedAddress }

// StatusError reports a response whose status is not a success (and, for
// redirects, one the client does not follow). Callers branch on StatusCode
// (for example 404 and 410 when dereferencing) or call [StatusError.Retryable].
type StatusError struct {
	// URL is the URL that answered.
	URL string
	// StatusCode is the HTTP status.
	StatusCode int
	// RetryAfter is the parsed Retry-After delay, when HasRetryAfter is set.
	RetryAfter    time.Duration
	HasRetryAfter bool
}

// Error implements error.
func (e *StatusError) Error() string {
	return fmt.Sprintf("transport: %s answered status %d", e.URL, e.StatusCode)
}

// Retryable reports whether the status is worth retrying; see [Retryable].
func (e *StatusError) Retryable() bool { return Retryable(e.StatusCode) }

// Retryable classifies a response status for delivery retries (SECURITY.md
// rule 28): 5xx, 429 Too Many Requests, 408 Request Timeout and 401
// Unauthorized (the remote may not have our key yet) are retried; every other
// status is final, so 400, 403, 404 and 410 are not retried.
func Retryable(status int) bool {
	switch {
	case status >= 500 && status <= 599:
		return true
	case status == 429, status == 408, status == 401:
		return true
	}
	return false
}

// IsRetryable classifies an error returned by [Client.Deliver] (or any client
// method): a *[StatusError] is retryable as its status is ([Retryable]);
// refusals by this package's own policy (invalid URL, scheme, blocked
// address, local origin, exhausted budget, too many redirects, oversized
// body) and unacceptable documents (content type, id) are final; signing
// failures, network errors, timeouts and cancellations are retryable.
// IsRetryable(nil) is false.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	var se *StatusError
	if errors.As(err, &se) {
		return se.Retryable()
	}
	for _, final := range []error{
		ErrInvalidURL, ErrScheme, ErrBlockedAddress, ErrLocal,
		ErrBudgetExhausted, ErrTooManyRedirects, ErrTooLarge,
		ErrContentType, ErrIDMismatch, ErrInvalidDocument,
	} {
		if errors.Is(err, final) {
			return false
		}
	}
	return true
}
