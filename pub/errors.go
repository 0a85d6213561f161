package pub

import (
	"errors"
	"net/http"
)

// Errors returned by pub. Each is wrapped with context (fmt.Errorf("...: %w"))
// on its way out; callers branch with errors.Is and map them to responses
// with [StatusFor]. The wrapped detail is for logs, never for the client.
var (
	// ErrUnsigned: the request carries neither Signature nor Signature-Input
	// (SECURITY rule 1).
	ErrUnsigned = errors.New("pub: request is not signed")
	// ErrBadSignature: the signature is malformed, too weak, outside the time
	// window, over a tampered body, or does not verify (rules 2-5).
	ErrBadSignature = errors.New("pub: signature rejected")
	// ErrBodyTooLarge: the request body is over the configured cap (rule 19).
	ErrBodyTooLarge = errors.New("pub: request body too large")
	// ErrInvalidActivity: the body is not an acceptable AS2 document: bad
	// JSON, over the parser's depth or size limits, or missing id, type or
	// actor (rule 19).
	ErrInvalidActivity = errors.New("pub: invalid activity")
	// ErrBlocked: the signer's host is domain-blocked (rule 10). Returned
	// before any key fetch.
	ErrBlocked = errors.New("pub: signer's domain is blocked")
	// ErrLocalImpersonation: a request claims a key or actor on our own
	// origin that is not one of ours (rule 9).
	ErrLocalImpersonation = errors.New("pub: remote request claims a local actor")
	// ErrKeyNotBound: the key's owner is on another origin than the key id,
	// or the owner actor does not list the key (rule 7).
	ErrKeyNotBound = errors.New("pub: key is not bound to its owner")
	// ErrKeyUnavailable: the key could not be fetched, the fetched document
	// does not contain it, or a recent failure for it is still cooling off.
	ErrKeyUnavailable = errors.New("pub: key unavailable")
	// ErrKeyGone: the key's document answered 410 Gone or its actor deleted
	// itself; the key id is tombstoned and never fetched again (rule 25).
	ErrKeyGone = errors.New("pub: key is gone")
	// ErrKeyRevoked: the key was replaced by a signed actor Update (rule 24).
	ErrKeyRevoked = errors.New("pub: key was rotated away")
	// ErrSignerNotActor: the verified signer is not the activity's actor
	// (rule 6).
	ErrSignerNotActor = errors.New("pub: signer is not the activity's actor")
	// ErrForeignID: the activity id is not on the actor's origin (rule 8).
	ErrForeignID = errors.New("pub: activity id is not on the actor's origin")
	// ErrUnknownActorDeleted: a self-Delete of an actor whose key we never
	// cached. Nothing is fetched or stored; inboxes answer 202 (rule 25).
	ErrUnknownActorDeleted = errors.New("pub: self-delete of an unknown actor")
	// ErrNotFound: a local document or key does not exist.
	ErrNotFound = errors.New("pub: not found")
	// ErrOverloaded: the inbox is over FederationConfig.MaxInboxInFlight or
	// MaxInboxBacklog; the request was not read and may be retried later
	// (rule 31).
	ErrOverloaded = errors.New("pub: inbox overloaded")
)

// StatusFor maps an error from pub to the HTTP status an inbox answers:
// 413 for ErrBodyTooLarge, 400 for ErrInvalidActivity, 401 for signature and
// key failures, 403 for ErrBlocked and ErrForeignID, 202 for ErrKeyGone and
// ErrUnknownActorDeleted (accepted and dropped, as Mastodon does), 404 for
// ErrNotFound, 503 for ErrOverloaded and 500 for anything else. A nil
// error maps to 200.
func StatusFor(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, ErrBodyTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrInvalidActivity):
		return http.StatusBadRequest
	case errors.Is(err, ErrBlocked), errors.Is(err, ErrForeignID):
		return http.StatusForbidden
	case errors.Is(err, ErrKeyGone), errors.Is(err, ErrUnknownActorDeleted):
		return http.StatusAccepted
	case errors.Is(err, ErrUnsigned), errors.Is(err, ErrBadSignature),
		errors.Is(err, ErrLocalImpersonation), errors.Is(err, ErrKeyNotBound),
		errors.Is(err, ErrKeyUnavailable), errors.Is(err, ErrKeyRevoked),
		errors.Is(err, ErrSignerNotActor):
		return http.StatusUnauthorized
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrOverloaded):
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}
