package delivery

import (
	"context"
	"errors"
	"fmt"

	"github.com/commonroom/commonroom/pub/transport"
)

// TransportSender is the [Sender] over pub/transport: it POSTs through
// Client.Deliver, with the transport's address policy, timeouts and redirect
// rules, signing with the job's signer.
//
// The Client must be configured with a [ContextSigner] as its Signer, which
// signs each request with the signer Send puts in the request's context
// (transport's Config.Signer is fixed when the client is built; the job's
// actor is only known at send time). Refusals by the transport's own policy
// (blocked address, local origin, invalid URL, too many redirects) are
// returned wrapped around [ErrPermanent]. It is safe for concurrent use.
type TransportSender struct {
	Client *transport.Client
}

var _ Sender = TransportSender{}

// Send implements [Sender].
func (s TransportSender) Send(ctx context.Context, inboxURL string, body []byte, signer Signer) (Response, error) {
	if s.Client == nil {
		return Response{}, fmt.Errorf("%w: TransportSender without a client", ErrPermanent)
	}
	res, err := s.Client.Deliver(WithSigner(ctx, signer), inboxURL, body)
	if res != nil {
		return Response{StatusCode: res.StatusCode, RetryAfter: res.RetryAfter, HasRetryAfter: res.HasRetryAfter}, err
	}
	if err == nil {
		return Response{}, fmt.Errorf("delivery: transport returned no result for %s", inboxURL)
	}
	var se *transport.StatusError
	if errors.As(err, &se) {
		return Response{StatusCode: se.StatusCode, RetryAfter: se.RetryAfter, HasRetryAfter: se.HasRetryAfter}, err
	}
	if !transport.IsRetryable(err) {
		return Response{}, fmt.Errorf("%w: %w", ErrPermanent, err)
	}
	return Response{}, err
}
