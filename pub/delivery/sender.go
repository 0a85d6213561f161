package delivery

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/commonroom/commonroom/pub/transport"
)

// ErrPermanent marks an error that retrying cannot fix. A [Sender] wraps it
// around refusals made before any response (an address the transport's
// policy refuses, a malformed inbox URL), and a [SignerSource] around a key
// that no longer exists; the job is then dropped instead of retried.
var ErrPermanent = errors.New("delivery: permanent failure")

// Signer signs one outgoing request: it may set headers (Date, Digest,
// Signature, ...) and must not read or replace req.Body; body is the exact
// request body. It has the shape of pub/transport's Signer, so the same
// pub/httpsig signers serve both. Implementations must be safe for
// concurrent use.
type Signer interface {
	SignRequest(req *http.Request, body []byte) error
}

// SignerSource returns the signer for a local actor's key id. The Pool asks
// for it when it sends a job, not when the job is enqueued, so a rotated key
// is used from the next attempt on. An error wrapping [ErrPermanent] (the
// actor or key is gone) drops the job; any other error retries it later.
// Implementations must be safe for concurrent use.
type SignerSource interface {
	Signer(ctx context.Context, keyID string) (Signer, error)
}

// SignerSourceFunc adapts a function to [SignerSource].
type SignerSourceFunc func(ctx context.Context, keyID string) (Signer, error)

var _ SignerSource = SignerSourceFunc(nil)

// Signer calls f.
func (f SignerSourceFunc) Signer(ctx context.Context, keyID string) (Signer, error) {
	return f(ctx, keyID)
}

// Response is what a [Sender] learned from the remote server.
type Response struct {
	// StatusCode is the HTTP status; 0 when no response arrived.
	StatusCode int
	// RetryAfter is the parsed Retry-After delay, valid when HasRetryAfter
	// is set.
	RetryAfter    time.Duration
	HasRetryAfter bool
}

// Sender POSTs a signed activity to an inbox. The server's implementation is
// pub/transport (through a small adapter); tests use loopback servers.
//
// Send signs the request with signer, sends body with Content-Type
// application/activity+json, reads and discards the answer, and reports the
// status. When a response arrived, Send returns it with a nil error for any
// status (the Pool classifies statuses itself) or with an error describing a
// non-2xx status; when none arrived it returns StatusCode 0 and the error
// (timeouts and network errors are retried unless wrapped around
// [ErrPermanent]). Send must honour ctx's deadline and be safe for concurrent
// use.
type Sender interface {
	Send(ctx context.Context, inboxURL string, body []byte, signer Signer) (Response, error)
}

// Retryable classifies a response status for delivery (SECURITY.md rule 28):
// 5xx, 429 Too Many Requests, 408 Request Timeout and 401 Unauthorized (the
// remote may not have fetched our key yet) are retried; every other non-2xx
// status is final, so 400, 403, 404 and 410 are not retried. It is
// [transport.Retryable], so that the rule lives in one place.
func Retryable(status int) bool { return transport.Retryable(status) }

// signerKey is the context key under which [WithSigner] stores a signer.
type signerKey struct{}

// WithSigner returns a context carrying s, for an HTTP client configured with
// one client-wide signer that reads the signer of each request from the
// request's context ([ContextSigner]).
func WithSigner(ctx context.Context, s Signer) context.Context {
	return context.WithValue(ctx, signerKey{}, s)
}

// SignerFromContext returns the signer stored by [WithSigner].
func SignerFromContext(ctx context.Context) (Signer, bool) {
	s, ok := ctx.Value(signerKey{}).(Signer)
	return s, ok && s != nil
}

// ContextSigner signs each request with the signer its context carries
// ([WithSigner]), or with Fallback when there is none. It lets a client whose
// signer is fixed at construction (pub/transport's Config.Signer) sign every
// delivery as the job's actor. A request with neither fails: nothing is sent
// unsigned. It is safe for concurrent use if Fallback is.
type ContextSigner struct {
	Fallback Signer
}

var _ Signer = ContextSigner{}

// SignRequest signs req with the context's signer or the fallback.
func (c ContextSigner) SignRequest(req *http.Request, body []byte) error {
	if s, ok := SignerFromContext(req.Context()); ok {
		return s.SignRequest(req, body)
	}
	if c.Fallback != nil {
		return c.Fallback.SignRequest(req, body)
	}
	return errors.New("delivery: no signer in the request context")
}
