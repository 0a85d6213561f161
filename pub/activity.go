package pub

import (
	"fmt"

	"github.com/commonroom/commonroom/pub/transport"
	"github.com/commonroom/commonroom/streams"
)

// UntrustedObject is an object embedded in an activity that must not be
// stored as sent: its origin does not vouch for it.
type UntrustedObject struct {
	// ID is the embedded object's id ("" when it has none).
	ID string
	// Reason says why, for logs.
	Reason string
}

// ActivityCheck is what [CheckActivity] found besides outright rejection.
type ActivityCheck struct {
	// Untrusted lists embedded objects whose id or attributedTo is on another
	// origin than the actor, or that have no id (SECURITY rule 11). The
	// caller drops them, or refetches each from its own origin and stores it
	// only if that origin confirms it. An embedded object not listed here is
	// on the actor's origin and attributed, if at all, to that origin.
	Untrusted []UntrustedObject
}

// Trusted reports whether the embedded object with this id may be taken as
// sent.
func (c ActivityCheck) Trusted(id string) bool {
	if id == "" {
		return false
	}
	for _, u := range c.Untrusted {
		if u.ID == id {
			return false
		}
	}
	return true
}

// CheckActivity checks that a verified signer may speak for activity:
//
//   - the signer's key id is an http(s) URL (an acct: key id never is) on the
//     same origin as its owner, and the owner is the activity's single actor
//     (SECURITY rule 6) — otherwise ErrSignerNotActor;
//   - the activity has an id, on the actor's origin (rule 8) — otherwise
//     ErrForeignID (ErrInvalidActivity when id or actor is missing);
//   - every embedded object (and the object of an embedded activity, as in
//     an Announce of a Create) whose id or attributedTo is on another
//     origin, or that has no id, is reported in ActivityCheck.Untrusted
//     (rule 11). Objects given only as IRIs are not reported: the caller
//     fetches them from their origin anyway.
//
// It makes no network call and stores nothing.
func CheckActivity(signer VerifiedSigner, activity *streams.Object) (ActivityCheck, error) {
	if activity == nil {
		return ActivityCheck{}, fmt.Errorf("check activity: %w: empty", ErrInvalidActivity)
	}
	actors := activity.IRIs("actor")
	switch {
	case len(actors) == 0:
		return ActivityCheck{}, fmt.Errorf("check activity %s: %w: no actor", activity.ID(), ErrInvalidActivity)
	case len(actors) > 1:
		return ActivityCheck{}, fmt.Errorf("check activity %s: %d actors for one signer: %w", activity.ID(), len(actors), ErrSignerNotActor)
	}
	actor := actors[0]
	actorOrigin, err := transport.ParseOrigin(actor)
	if err != nil {
		return ActivityCheck{}, fmt.Errorf("check activity %s: actor %q: %w", activity.ID(), actor, ErrSignerNotActor)
	}
	keyOrigin, err := transport.ParseOrigin(signer.KeyID)
	if err != nil {
		return ActivityCheck{}, fmt.Errorf("check activity %s: key id %q is not an http(s) URL: %w", activity.ID(), signer.KeyID, ErrSignerNotActor)
	}
	if signer.Owner != actor || keyOrigin != actorOrigin {
		return ActivityCheck{}, fmt.Errorf("check activity %s: signed by %s (owner %s), actor %s: %w",
			activity.ID(), signer.KeyID, signer.Owner, actor, ErrSignerNotActor)
	}
	id := activity.ID()
	if id == "" {
		return ActivityCheck{}, fmt.Errorf("check activity by %s: %w: no id", actor, ErrInvalidActivity)
	}
	if o, err := transport.ParseOrigin(id); err != nil || o != actorOrigin {
		return ActivityCheck{}, fmt.Errorf("check activity %s by %s: %w", id, actor, ErrForeignID)
	}
	var check ActivityCheck
	checkEmbedded(&check, activity, actorOrigin, 0)
	return check, nil
}

// checkEmbedded reports the embedded objects of act not vouched for by the
// actor's origin, descending into embedded activities up to two levels.
func checkEmbedded(c *ActivityCheck, act *streams.Object, origin transport.Origin, depth int) {
	for _, o := range act.Objects("object") {
		id := o.ID()
		switch oo, err := transport.ParseOrigin(id); {
		case id == "":
			c.Untrusted = append(c.Untrusted, UntrustedObject{Reason: "embedded object without id"})
			continue
		case err != nil || oo != origin:
			c.Untrusted = append(c.Untrusted, UntrustedObject{ID: id, Reason: "id is on another origin than the actor"})
			continue
		}
		for _, by := range o.IRIs("attributedTo") {
			if bo, err := transport.ParseOrigin(by); err != nil || bo != origin {
				c.Untrusted = append(c.Untrusted, UntrustedObject{ID: id, Reason: "attributedTo " + by + " is on another origin than the actor"})
				break
			}
		}
		if depth < 1 && o.IsActivity() {
			checkEmbedded(c, o, origin, depth+1)
		}
	}
}
