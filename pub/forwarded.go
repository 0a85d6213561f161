package pub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/commonroom/commonroom/pub/transport"
	"github.com/commonroom/commonroom/streams"
)

// errForgotten: a forwarded activity its origin did not confirm was removed
// from the inbox store, so that a copy signed by its actor can still be
// recorded.
var errForgotten = errors.New("pub: forwarded activity not confirmed by its origin")

// inbox is Authenticator.Inbox with two differences: it is behind the
// overload bounds (admit: MaxInboxInFlight and MaxInboxBacklog, SECURITY
// rule 31), and with FederationConfig.AcceptForwarded, a request whose
// signature verifies but whose signer is not the activity's actor (an
// activity forwarded by a third server, ActivityPub 7.1.2) goes to
// acceptForwarded instead of being refused with 401 (SECURITY rule 6).
func (f *Federation) inbox(next http.Handler) http.Handler {
	a := f.e.auth
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rep := &inboxReport{}
		defer f.observe(rep)
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			rep.rejected(InboxMethod, http.StatusMethodNotAllowed, fmt.Errorf("pub: inbox: method %s", r.Method))
			return
		}
		if !f.admit(w, r, rep) {
			return
		}
		defer f.guard.release()
		ctx := transport.WithBudget(r.Context(), a.cfg.FetchBudget)
		ctx = context.WithValue(ctx, inboxReportKey{}, rep)
		r = r.WithContext(ctx)
		signer, act, check, err := a.inbox(ctx, r)
		if errors.Is(err, ErrSignerNotActor) && f.cfg.AcceptForwarded {
			err = f.acceptForwarded(w, r)
		}
		if err != nil {
			rep.rejected(InboxReasonFor(err), StatusFor(err), err)
			a.reject(ctx, w, r, err)
			return
		}
		if act == nil {
			return // acceptForwarded answered
		}
		ctx = ContextWithSigner(ctx, signer)
		ctx = context.WithValue(ctx, activityKey, act)
		ctx = context.WithValue(ctx, checkKey, check)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// acceptForwarded records an activity signed by someone other than its
// actor, to be confirmed in the background by fetching it from its own
// origin (never trusting the forwarded body: SECURITY rules 6 and 33). The
// request's signature must verify; the activity's actor must not be local
// (rule 9) or blocked (rule 10), and its id must be on the actor's origin
// (rule 8). It answers 202 itself and returns nil, or returns the error to
// answer with.
func (f *Federation) acceptForwarded(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	a := f.e.auth
	body, err := io.ReadAll(r.Body) // Authenticator.inbox left the capped body here
	if err != nil {
		return fmt.Errorf("%w: read body: %w", ErrInvalidActivity, err)
	}
	signer, err := a.Authenticate(ctx, r, body)
	if err != nil {
		return err
	}
	act, err := f.e.cfg.Registry.ParseLimits(body, f.e.cfg.Limits)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidActivity, err)
	}
	actor, id := act.IRI("actor"), act.ID()
	if err := checkShape(act); err != nil {
		return err
	}
	if _, err := transport.ParseOrigin(actor); err != nil || len(act.IRIs("actor")) != 1 {
		return fmt.Errorf("%w: forwarded activity %s: actor %q", ErrInvalidActivity, id, actor)
	}
	if !sameOrigin(id, actor) {
		return fmt.Errorf("forwarded activity %s by %s: %w", id, actor, ErrForeignID)
	}
	if f.e.keys.IsLocal(actor) || f.isLocal(actor) {
		a.security(ctx, "local_actor_claimed", slog.String("actor", actor), slog.String("key_id", signer.KeyID))
		return fmt.Errorf("forwarded activity by local actor %s signed by %s: %w", actor, signer.KeyID, ErrLocalImpersonation)
	}
	if err := a.checkBlocked(ctx, actor); err != nil {
		return err
	}
	recipient := ""
	if r.URL.Path != "/inbox" {
		recipient = f.base + r.URL.Path[:len(r.URL.Path)-len("/inbox")]
		if _, err := f.actors.LocalActor(ctx, recipient); err != nil {
			return err
		}
	}
	f.markReachable(ctx, signer.Owner)
	stored, err := f.store.RecordInbound(ctx, InboundActivity{
		ID: id, Type: act.Type(), Actor: actor, ForwardedBy: signer.KeyID,
		Recipient: recipient, Body: body, ReceivedAt: f.clock.Now(),
	})
	if err != nil {
		return fmt.Errorf("pub: inbox: record forwarded %s: %w", id, err)
	}
	if stored {
		f.enqueued()
	}
	w.WriteHeader(http.StatusAccepted)
	rep := reportFrom(ctx)
	rep.ev.ActivityID, rep.ev.Actor, rep.ev.Recipient, rep.ev.Forwarded = id, actor, recipient, true
	rep.recorded(stored, http.StatusAccepted)
	return nil
}

// confirmForwarded fetches a forwarded activity from its origin and returns
// it when the origin serves it under its id with the same actor; otherwise
// it removes the record (so that the actor's own copy can be recorded
// later) and returns errForgotten.
func (f *Federation) confirmForwarded(ctx context.Context, a InboundActivity) (*streams.Object, []byte, error) {
	fetched, err := f.e.Fetch(ctx, a.ID)
	if err == nil && (stripFragment(fetched.ID()) != stripFragment(a.ID) || fetched.IRI("actor") != a.Actor || !fetched.IsActivity()) {
		err = fmt.Errorf("served as %s by %s", fetched.ID(), fetched.IRI("actor"))
	}
	if err != nil {
		if ferr := f.store.ForgetInbound(ctx, a.ID); ferr != nil {
			return nil, nil, fmt.Errorf("pub: forget forwarded %s: %w", a.ID, ferr)
		}
		return nil, nil, fmt.Errorf("%w: %s (forwarded by %s): %w", errForgotten, a.ID, a.ForwardedBy, err)
	}
	body, err := streams.Marshal(fetched)
	if err != nil {
		return nil, nil, err
	}
	return fetched, body, nil
}
