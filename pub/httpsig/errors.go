package httpsig

import "errors"

// The errors below classify why a request was not verified. Every error
// returned by [Verifier.Parse] and [Verifier.Verify] wraps exactly one of
// them (and, for key lookups, the resolver's own error too), so callers
// branch with errors.Is and log the full message, which carries the detail.
// All of them mean "answer 401" except where a caller's own policy (for
// example a blocked domain) says otherwise.
var (
	// ErrMissingSignature: the request carries no Signature, Signature-Input
	// or "Authorization: Signature" header at all (SECURITY.md rule 1).
	ErrMissingSignature = errors.New("httpsig: request is not signed")

	// ErrMalformed: a signature header is present but cannot be parsed, or
	// names a component the request does not have.
	ErrMalformed = errors.New("httpsig: malformed signature")

	// ErrUnsupportedAlgorithm: the signature names an algorithm we do not
	// verify, or one that does not match the key's type.
	ErrUnsupportedAlgorithm = errors.New("httpsig: unsupported algorithm")

	// ErrWeakSignature: the signature does not cover what our strength rules
	// require (SECURITY.md rule 2), for example a POST without the digest.
	ErrWeakSignature = errors.New("httpsig: signature does not cover required components")

	// ErrDigest: the Digest or Content-Digest header is missing where
	// required, uses no accepted algorithm, is badly encoded or does not
	// match the body (SECURITY.md rule 3).
	ErrDigest = errors.New("httpsig: body digest check failed")

	// ErrTimeWindow: the signature's creation time (Date or created) is
	// missing, unparsable, too old or in the future, or it has expired
	// (SECURITY.md rule 4).
	ErrTimeWindow = errors.New("httpsig: signature outside the accepted time window")

	// ErrKeyLookup: the resolver could not produce a key for the key id. The
	// resolver's error is wrapped as well.
	ErrKeyLookup = errors.New("httpsig: key lookup failed")

	// ErrWeakKey: the resolved key is of an unsupported type, or too small or
	// too large (RSA under Config.MinRSABits or over 8192 bits).
	ErrWeakKey = errors.New("httpsig: unacceptable public key")

	// ErrBadSignature: the cryptographic check failed; the message was not
	// signed by that key as it arrived (tampering, replay to another target,
	// or the wrong key).
	ErrBadSignature = errors.New("httpsig: signature verification failed")

	// ErrKeyFormat: a PEM or Multikey public key could not be decoded.
	ErrKeyFormat = errors.New("httpsig: bad public key encoding")
)
