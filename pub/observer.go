package pub

import (
	"context"
	"errors"
	"net/http"

	"github.com/commonroom/commonroom/pub/httpsig"
)

// InboxOutcome is what became of one inbox request.
type InboxOutcome uint8

const (
	// InboxAccepted: the activity was verified and recorded for processing.
	InboxAccepted InboxOutcome = iota + 1
	// InboxDuplicate: the activity was verified, but one with its id was
	// already recorded (SECURITY rule 21); it is answered 202 and not
	// recorded again.
	InboxDuplicate
	// InboxRejected: the activity was not recorded; InboxEvent.Reason says
	// why.
	InboxRejected
)

// String returns "accepted", "duplicate" or "rejected".
func (o InboxOutcome) String() string {
	switch o {
	case InboxAccepted:
		return "accepted"
	case InboxDuplicate:
		return "duplicate"
	case InboxRejected:
		return "rejected"
	default:
		return "unknown"
	}
}

// InboxReason is why an inbox request was rejected. The set is closed:
// InboxReasons lists every value, so that metrics can create their series
// up front.
type InboxReason string

const (
	// InboxMethod: not a POST (405).
	InboxMethod InboxReason = "method"
	// InboxTooLarge: the body is over the cap (413, rule 19).
	InboxTooLarge InboxReason = "too_large"
	// InboxUnsigned: no Signature or Signature-Input (401, rule 1).
	InboxUnsigned InboxReason = "unsigned"
	// InboxSignature: a malformed or too weak signature, one replayed to
	// another request, or one that does not verify with the signer's key
	// (401, rules 2 and 5).
	InboxSignature InboxReason = "signature"
	// InboxDigest: Digest or Content-Digest missing or not the body's
	// (401, rule 3).
	InboxDigest InboxReason = "digest"
	// InboxTimeWindow: the signature's date is outside the window or
	// unparsable (401, rule 4).
	InboxTimeWindow InboxReason = "time_window"
	// InboxKey: the signer's key could not be fetched, is not bound to its
	// owner, or was rotated away (401, rules 7 and 24).
	InboxKey InboxReason = "key"
	// InboxGone: the signer's key is gone, or an unknown actor deleted
	// itself; answered 202 and dropped (rule 25).
	InboxGone InboxReason = "gone"
	// InboxBlocked: the signer's or the actor's domain is blocked (403,
	// rule 10).
	InboxBlocked InboxReason = "blocked"
	// InboxLocalActor: a remote request claims one of our actors (401,
	// rule 9).
	InboxLocalActor InboxReason = "local_actor"
	// InboxActorMismatch: the signer is not the activity's actor, or the
	// activity id is not on the actor's origin (401 or 403, rules 6 and 8).
	InboxActorMismatch InboxReason = "actor_mismatch"
	// InboxInvalid: the body is not an acceptable activity: bad JSON, over
	// the parser's limits, or missing what its type needs (400, rule 19).
	InboxInvalid InboxReason = "invalid"
	// InboxUnknownRecipient: the personal inbox's actor does not exist (404).
	InboxUnknownRecipient InboxReason = "unknown_recipient"
	// InboxOverloaded: too many requests in flight, or too many recorded
	// activities waiting to be processed (FederationConfig.MaxInboxInFlight
	// and MaxInboxBacklog); answered 503 with Retry-After before the body
	// is read (rule 31).
	InboxOverloaded InboxReason = "overloaded"
	// InboxInternal: our own failure (5xx).
	InboxInternal InboxReason = "internal"
)

// InboxReasons returns every InboxReason, in a fixed order.
func InboxReasons() []InboxReason {
	return []InboxReason{
		InboxMethod, InboxTooLarge, InboxUnsigned, InboxSignature, InboxDigest,
		InboxTimeWindow, InboxKey, InboxGone, InboxBlocked, InboxLocalActor,
		InboxActorMismatch, InboxInvalid, InboxUnknownRecipient, InboxOverloaded,
		InboxInternal,
	}
}

// InboxEvent reports the outcome of one inbox request to
// FederationConfig.Observer.
type InboxEvent struct {
	// Outcome is accepted, duplicate or rejected.
	Outcome InboxOutcome
	// Reason says why a rejected request was rejected; "" otherwise.
	Reason InboxReason
	// Status is the HTTP status answered.
	Status int
	// Recipient is the personal inbox's actor; "" for the shared inbox.
	Recipient string
	// ActivityID and Actor are the activity's id and actor when the
	// request got as far as a parsed activity; "" otherwise.
	ActivityID, Actor string
	// Forwarded is true for an activity signed by a third server and
	// recorded to be confirmed from its origin (AcceptForwarded).
	Forwarded bool
	// Err is the rejection's cause, for logs; nil unless rejected. Its text
	// may name hosts and key ids: never show it to the client.
	Err error
}

// InboxReasonFor returns the reason of a rejection with err, as the
// inboxes report it; InboxInternal for errors pub does not classify.
func InboxReasonFor(err error) InboxReason {
	switch {
	case errors.Is(err, ErrBodyTooLarge):
		return InboxTooLarge
	case errors.Is(err, ErrUnsigned):
		return InboxUnsigned
	case errors.Is(err, ErrBlocked):
		return InboxBlocked
	case errors.Is(err, ErrLocalImpersonation):
		return InboxLocalActor
	case errors.Is(err, ErrSignerNotActor), errors.Is(err, ErrForeignID):
		return InboxActorMismatch
	case errors.Is(err, ErrKeyGone), errors.Is(err, ErrUnknownActorDeleted):
		return InboxGone
	case errors.Is(err, ErrKeyNotBound), errors.Is(err, ErrKeyUnavailable), errors.Is(err, ErrKeyRevoked):
		return InboxKey
	case errors.Is(err, httpsig.ErrDigest):
		return InboxDigest
	case errors.Is(err, httpsig.ErrTimeWindow):
		return InboxTimeWindow
	case errors.Is(err, ErrBadSignature):
		return InboxSignature
	case errors.Is(err, ErrInvalidActivity):
		return InboxInvalid
	case errors.Is(err, ErrNotFound):
		return InboxUnknownRecipient
	case errors.Is(err, ErrOverloaded):
		return InboxOverloaded
	default:
		return InboxInternal
	}
}

// inboxReport collects the outcome of one inbox request; the inbox
// handlers fill it in and Federation.inbox hands it to the observer once.
type inboxReport struct {
	ev  InboxEvent
	set bool
}

type inboxReportKey struct{}

// reportFrom returns the request's report, or a throwaway one.
func reportFrom(ctx context.Context) *inboxReport {
	if rep, ok := ctx.Value(inboxReportKey{}).(*inboxReport); ok {
		return rep
	}
	return &inboxReport{}
}

// recorded sets the outcome of a recorded (or already recorded) activity.
func (rep *inboxReport) recorded(stored bool, status int) {
	rep.ev.Outcome, rep.ev.Status, rep.set = InboxAccepted, status, true
	if !stored {
		rep.ev.Outcome = InboxDuplicate
	}
}

// rejected sets the outcome of a rejection with err, answered status.
func (rep *inboxReport) rejected(reason InboxReason, status int, err error) {
	rep.ev.Outcome, rep.ev.Reason, rep.ev.Status, rep.ev.Err, rep.set = InboxRejected, reason, status, err, true
}

// observe calls the observer with rep, once. A handler that set no outcome
// (it should not happen) is reported as an internal rejection.
func (f *Federation) observe(rep *inboxReport) {
	if f.cfg.Observer == nil {
		return
	}
	if !rep.set {
		rep.rejected(InboxInternal, http.StatusInternalServerError, errors.New("pub: inbox: no outcome recorded"))
	}
	f.cfg.Observer(rep.ev)
}
