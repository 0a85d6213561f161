package transport

import (
	"context"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ContentTypeActivityJSON is the Content-Type of deliveries and the
// preferred ActivityPub media type.
const ContentTypeActivityJSON = "application/activity+json"

// DeliveryResult describes the response to a delivery.
type DeliveryResult struct {
	// URL is the inbox that answered (after any 307/308 redirect).
	URL string
	// StatusCode is the HTTP status of the response.
	StatusCode int
	// RetryAfter is the parsed Retry-After delay, valid when HasRetryAfter
	// is set; a date in the past gives 0.
	RetryAfter    time.Duration
	HasRetryAfter bool
}

// Deliver POSTs body to inboxURL, signed, with Content-Type
// application/activity+json, under the same address policy, timeouts and
// budget as every other request. It follows only 307 and 308 redirects
// (which keep the method and body), re-signing each hop.
//
// When a response arrives, Deliver returns a non-nil result; if the status is
// not 2xx it also returns a *[StatusError] carrying the same status and
// Retry-After. The response body is read (at most 64 KiB) and discarded.
// Errors without a response (refused address, local origin, exhausted
// budget, network failure, timeout) return a nil result. Classify any error
// with [IsRetryable]; the durable queue retries accordingly.
func (c *Client) Deliver(ctx context.Context, inboxURL string, body []byte) (*DeliveryResult, error) {
	if body == nil {
		body = []byte{}
	}
	resp, err := c.do(ctx, inboxURL, request{
		method:      http.MethodPost,
		contentType: ContentTypeActivityJSON,
		body:        body,
		follow: func(status int) bool {
			return status == http.StatusTemporaryRedirect || status == http.StatusPermanentRedirect
		},
	})
	if err != nil {
		return nil, err
	}
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	resp.Body.Close()
	res := &DeliveryResult{URL: resp.Request.URL.Redacted(), StatusCode: resp.StatusCode}
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return res, nil
	}
	se := c.statusError(resp)
	res.RetryAfter, res.HasRetryAfter = se.RetryAfter, se.HasRetryAfter
	return res, se
}

// ParseRetryAfter parses a Retry-After header value, either delay-seconds
// ("120") or an HTTP-date ("Wed, 21 Oct 2026 07:28:00 GMT", also the obsolete
// RFC 850 and asctime forms), into a delay relative to now. A date in the
// past gives 0. Very large second counts saturate at the largest Duration.
// ok is false for anything else (negative numbers, garbage, empty).
func ParseRetryAfter(value string, now time.Time) (d time.Duration, ok bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0, false
	}
	if value[0] >= '0' && value[0] <= '9' {
		for i := 0; i < len(value); i++ {
			if value[i] < '0' || value[i] > '9' {
				return 0, false
			}
		}
		secs, err := strconv.ParseUint(value, 10, 64)
		if err != nil || secs > uint64(math.MaxInt64/int64(time.Second)) {
			// Only overflow can fail here: all digits.
			return time.Duration(math.MaxInt64), true
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(value)
	if err != nil {
		return 0, false
	}
	if d := t.Sub(now); d > 0 {
		return d, true
	}
	return 0, true
}
