package pub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/commonroom/commonroom/pub/transport"
	"github.com/commonroom/commonroom/streams"
)

// ErrRejected: an inbound activity was verified but its side effects are
// refused: an illegal update (SECURITY rule 23), a delete or undo of
// someone else's object, an object its origin did not confirm (rule 11).
// Nothing is stored and no hook runs.
var ErrRejected = errors.New("pub: activity rejected")

// Collections the engine keeps per object, at these IRIs under the object.
func likesOf(obj string) string   { return obj + "/likes" }
func sharesOf(obj string) string  { return obj + "/shares" }
func repliesOf(obj string) string { return obj + "/replies" }
func blockedBy(actor string) string {
	return actor + "/blocked_by"
}

// Likes returns the IRI of the collection of actors who liked obj, as the
// engine records it in the CollectionStore.
func Likes(obj string) string { return likesOf(obj) }

// Shares returns the IRI of the collection of actors who announced obj.
func Shares(obj string) string { return sharesOf(obj) }

// Replies returns the IRI of the collection of replies to obj.
func Replies(obj string) string { return repliesOf(obj) }

// BlockedBy returns the IRI of the collection of remote actors who blocked
// the local actor.
func BlockedBy(actor string) string { return blockedBy(actor) }

// audienceOf returns to, cc, bto, bcc and audience, in that order, without
// duplicates.
func audienceOf(o *streams.Object) []string {
	var out []string
	for _, p := range []string{"to", "cc", "bto", "bcc", "audience"} {
		for _, iri := range o.IRIs(p) {
			if !slices.Contains(out, iri) {
				out = append(out, iri)
			}
		}
	}
	return out
}

func isPublic(audience []string) bool {
	return slices.ContainsFunc(audience, streams.IsPublic)
}

// isLocal reports whether iri is on our origin.
func (f *Federation) isLocal(iri string) bool {
	o, err := transport.ParseOrigin(iri)
	return err == nil && o == f.origin
}

func sameOrigin(a, b string) bool {
	oa, err1 := transport.ParseOrigin(a)
	ob, err2 := transport.ParseOrigin(b)
	return err1 == nil && err2 == nil && oa == ob
}

// process applies one recorded inbound activity: the engine's side effects,
// then the host's hook, then inbox forwarding.
func (f *Federation) process(ctx context.Context, a InboundActivity) error {
	var act *streams.Object
	var err error
	signer := VerifiedSigner{KeyID: a.KeyID, Owner: a.Actor}
	if a.ForwardedBy != "" {
		if act, a.Body, err = f.confirmForwarded(ctx, a); err != nil {
			return err
		}
		// The origin vouched for it: the actor speaks for itself.
		signer.KeyID = a.Actor
	} else if act, err = f.e.cfg.Registry.ParseLimits(a.Body, f.e.cfg.Limits); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidActivity, err)
	}
	check, err := CheckActivity(signer, act)
	if err != nil {
		return err
	}
	in := &Inbound{Activity: act, Body: a.Body, Actor: a.Actor}
	in.Object = f.trustedObject(ctx, act, check)
	if in.Recipients, err = f.recipients(ctx, act, a); err != nil {
		return err
	}
	typ := act.Type()
	if a.ForwardedBy != "" && (typ == "Update" || typ == "Delete") && act.IRI("object") == a.Actor {
		// Key rotation and account deletion need the actor's own signature.
		return fmt.Errorf("%w: forwarded %s of actor %s", ErrRejected, typ, a.Actor)
	}
	switch typ {
	case "Follow":
		err = f.onFollow(ctx, in)
	case "Accept", "Reject":
		err = f.onAnswer(ctx, in, typ == "Accept")
	case "Undo":
		err = f.onUndo(ctx, in)
	case "Create":
		err = f.onCreate(ctx, in)
	case "Update":
		err = f.onUpdate(ctx, in, signer)
	case "Delete":
		err = f.onDelete(ctx, in, signer)
	case "Like":
		err = f.onLike(ctx, in)
	case "Announce":
		err = f.onAnnounce(ctx, in)
	case "Block":
		err = f.onBlock(ctx, in)
	case "Add", "Remove":
		if f.isLocal(act.IRI("target")) {
			err = fmt.Errorf("%w: %s by %s targets local collection %s", ErrRejected, typ, a.Actor, act.IRI("target"))
		}
	case "Move":
		err = f.onMove(ctx, in)
	}
	if err != nil {
		return err
	}
	hook := f.cfg.Hooks.On[typ]
	if hook == nil && !coreTypes[typ] {
		hook = f.cfg.Hooks.Fallback
		if hook == nil {
			return fmt.Errorf("unhandled type %q", typ)
		}
	}
	if hook != nil {
		if err := hook(ctx, in); err != nil {
			return fmt.Errorf("pub: %s hook: %w", typ, err)
		}
	}
	return f.forward(ctx, in, a)
}

// trustedObject returns the activity's embedded object when the actor's
// origin vouches for it, or its copy refetched from its own origin; nil
// when the object is only an IRI or its origin does not confirm it (rule
// 11).
func (f *Federation) trustedObject(ctx context.Context, act *streams.Object, check ActivityCheck) *streams.Object {
	emb := act.Object("object")
	if emb == nil {
		return nil
	}
	id := emb.ID()
	if check.Trusted(id) {
		return emb
	}
	if id == "" {
		return nil
	}
	fetched, err := f.e.Fetch(ctx, id)
	if err != nil {
		f.log.InfoContext(ctx, "pub: inbox: embedded object not confirmed by its origin",
			slog.String("activity", act.ID()), slog.String("object", id), slog.Any("error", err))
		return nil
	}
	if stripFragment(fetched.ID()) != stripFragment(id) {
		return nil
	}
	for _, by := range fetched.IRIs("attributedTo") {
		if !sameOrigin(by, fetched.ID()) {
			return nil
		}
	}
	return fetched
}

// resolveObject returns in.Object, or fetches the activity's object from
// its origin when it was given as an IRI. Nil when neither works.
func (f *Federation) resolveObject(ctx context.Context, in *Inbound) *streams.Object {
	if in.Object != nil {
		return in.Object
	}
	if in.Activity.Object("object") != nil {
		return nil // embedded but not confirmed
	}
	iri := in.Activity.IRI("object")
	if iri == "" {
		return nil
	}
	obj, err := f.e.Fetch(ctx, iri)
	if err != nil {
		f.log.InfoContext(ctx, "pub: inbox: object fetch", slog.String("object", iri), slog.Any("error", err))
		return nil
	}
	for _, by := range obj.IRIs("attributedTo") {
		if !sameOrigin(by, obj.ID()) {
			return nil
		}
	}
	in.Object = obj
	return obj
}

// recipients resolves which local actors an inbound activity concerns.
func (f *Federation) recipients(ctx context.Context, act *streams.Object, a InboundActivity) ([]string, error) {
	var out []string
	add := func(id string) {
		if id != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	add(a.Recipient)
	audience := audienceOf(act)
	followers := isPublic(audience)
	for _, iri := range audience {
		switch {
		case streams.IsPublic(iri):
		case f.isLocal(iri):
			if _, err := f.actors.LocalActor(ctx, iri); err == nil {
				add(iri)
				continue
			} else if !errors.Is(err, ErrNotFound) {
				return nil, fmt.Errorf("pub: recipients: %w", err)
			}
			if f.cfg.Hooks.GroupMembers != nil {
				members, ok, err := f.cfg.Hooks.GroupMembers(ctx, iri)
				if err != nil {
					return nil, fmt.Errorf("pub: recipients: members of %s: %w", iri, err)
				}
				if ok {
					for _, m := range members {
						add(m)
					}
					continue
				}
			}
			if iri != a.Actor && sameOrigin(iri, a.Actor) {
				followers = true // a local sender's collection
			}
		case iri != a.Actor && sameOrigin(iri, a.Actor):
			// One of the actor's own collections (its followers).
			followers = true
		}
	}
	if followers {
		fs, _, err := f.store.Follows(ctx, FollowQuery{Followee: a.Actor, State: FollowAccepted})
		if err != nil {
			return nil, fmt.Errorf("pub: recipients: followers of %s: %w", a.Actor, err)
		}
		for _, fl := range fs {
			if f.isLocal(fl.Follower) {
				add(fl.Follower)
			}
		}
	}
	return out, nil
}

// remoteInboxes fetches a remote actor and returns its inbox and shared
// inbox, both required to be on the actor's origin.
func (f *Federation) remoteInboxes(ctx context.Context, actor string) (inbox, shared string, err error) {
	doc, err := f.e.Fetch(ctx, actor)
	if err != nil {
		return "", "", err
	}
	if !doc.IsActor() {
		return "", "", fmt.Errorf("%w: %s is not an actor", ErrRejected, actor)
	}
	inbox = doc.IRI("inbox")
	if !sameOrigin(inbox, actor) {
		return "", "", fmt.Errorf("%w: inbox %q of %s is not on its origin", ErrRejected, inbox, actor)
	}
	shared = doc.Object("endpoints").IRI("sharedInbox")
	if shared != "" && !sameOrigin(shared, actor) {
		shared = ""
	}
	return inbox, shared, nil
}

func (f *Federation) onFollow(ctx context.Context, in *Inbound) error {
	target := in.Activity.IRI("object")
	local, err := f.actors.LocalActor(ctx, target)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("%w: follow of %s, not a local actor", ErrRejected, target)
		}
		return err
	}
	if blocked, err := f.store.HasItem(ctx, blockedBy(local.ID), in.Actor); err != nil {
		return err
	} else if blocked {
		return fmt.Errorf("%w: %s blocked %s", ErrRejected, local.ID, in.Actor)
	}
	fl := Follow{Follower: in.Actor, Followee: local.ID, ActivityID: in.Activity.ID(), State: FollowAccepted, CreatedAt: f.clock.Now()}
	if f.isLocal(in.Actor) {
		fl.Inbox = in.Actor + "/inbox"
	} else if fl.Inbox, fl.SharedInbox, err = f.remoteInboxes(ctx, in.Actor); err != nil {
		return fmt.Errorf("pub: follow by %s: %w", in.Actor, err)
	}
	old, err := f.store.GetFollow(ctx, in.Actor, local.ID)
	switch {
	case err == nil && old.State == FollowAccepted:
	case err != nil && !errors.Is(err, ErrNotFound):
		return err
	case local.ManuallyApprovesFollowers:
		fl.State = FollowPending
	}
	if err := f.store.PutFollow(ctx, fl); err != nil {
		return fmt.Errorf("pub: record follow: %w", err)
	}
	in.Follow = &fl
	if fl.State == FollowAccepted {
		return f.answerFollow(ctx, local, fl, "Accept")
	}
	return nil
}

// onAnswer applies an Accept or Reject of one of our actors' Follows.
func (f *Federation) onAnswer(ctx context.Context, in *Inbound, accept bool) error {
	iri := in.Activity.IRI("object")
	fl, err := f.store.FollowByActivity(ctx, iri)
	if errors.Is(err, ErrNotFound) {
		// Some servers answer with the Follow embedded under another id.
		emb := in.Activity.Object("object")
		if emb == nil || !emb.Is("Follow") {
			return fmt.Errorf("%w: %s of unknown follow %s", ErrRejected, in.Activity.Type(), iri)
		}
		fl, err = f.store.GetFollow(ctx, emb.IRI("actor"), in.Actor)
	}
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("%w: %s of unknown follow %s", ErrRejected, in.Activity.Type(), iri)
		}
		return err
	}
	if fl.Followee != in.Actor || !f.isLocal(fl.Follower) {
		return fmt.Errorf("%w: %s by %s of a follow of %s", ErrRejected, in.Activity.Type(), in.Actor, fl.Followee)
	}
	in.Follow = &fl
	if !accept {
		_, err := f.store.DeleteFollow(ctx, fl.Follower, fl.Followee)
		return err
	}
	fl.State = FollowAccepted
	return f.store.PutFollow(ctx, fl)
}

// undone returns the activity an Undo undoes: embedded, or recorded when
// it arrived; it must be by the Undo's actor.
func (f *Federation) undone(ctx context.Context, in *Inbound) (*streams.Object, error) {
	inner := in.Activity.Object("object")
	if inner == nil {
		iri := in.Activity.IRI("object")
		rec, err := f.store.Inbound(ctx, iri)
		if err != nil {
			if errors.Is(err, ErrNotFound) {
				return nil, fmt.Errorf("%w: undo of unknown activity %s", ErrRejected, iri)
			}
			return nil, err
		}
		if inner, err = f.e.cfg.Registry.ParseLimits(rec.Body, f.e.cfg.Limits); err != nil {
			return nil, err
		}
	}
	if inner.IRI("actor") != in.Actor {
		return nil, fmt.Errorf("%w: %s undoes %s's activity", ErrRejected, in.Actor, inner.IRI("actor"))
	}
	return inner, nil
}

func (f *Federation) onUndo(ctx context.Context, in *Inbound) error {
	inner, err := f.undone(ctx, in)
	if err != nil {
		return err
	}
	in.Undone = inner
	obj := inner.IRI("object")
	switch inner.Type() {
	case "Follow":
		_, err = f.store.DeleteFollow(ctx, in.Actor, obj)
	case "Like":
		_, err = f.store.RemoveItem(ctx, likesOf(obj), in.Actor)
	case "Announce":
		_, err = f.store.RemoveItem(ctx, sharesOf(obj), in.Actor)
	case "Block":
		_, err = f.store.RemoveItem(ctx, blockedBy(obj), in.Actor)
	}
	return err
}

// storedObject makes the StoredObject of a document.
func storedObject(o *streams.Object, local bool, now time.Time) (StoredObject, error) {
	body, err := streams.Marshal(o)
	if err != nil {
		return StoredObject{}, fmt.Errorf("pub: marshal %s: %w", o.ID(), err)
	}
	by := o.IRI("attributedTo")
	if o.IsActivity() {
		by = o.IRI("actor")
	}
	published, _ := o.Time("published")
	aud := audienceOf(o)
	return StoredObject{
		ID: o.ID(), Type: o.Type(), AttributedTo: by, Published: published,
		Audience: aud, Public: isPublic(aud), Local: local, Body: body, UpdatedAt: now,
	}, nil
}

func (f *Federation) onCreate(ctx context.Context, in *Inbound) error {
	obj := f.resolveObject(ctx, in)
	if obj == nil {
		return fmt.Errorf("%w: object of %s not confirmed by its origin", ErrRejected, in.Activity.ID())
	}
	if !slices.Contains(obj.IRIs("attributedTo"), in.Actor) {
		return fmt.Errorf("%w: %s creates %s attributed to %v", ErrRejected, in.Actor, obj.ID(), obj.IRIs("attributedTo"))
	}
	return f.storeRemote(ctx, obj)
}

// storeRemote stores a remote object unless it is known (a Create does not
// replace) or tombstoned (rule 22), and files it as a reply.
func (f *Federation) storeRemote(ctx context.Context, obj *streams.Object) error {
	if old, err := f.store.Object(ctx, obj.ID()); err == nil {
		if !old.Deleted.IsZero() {
			return fmt.Errorf("%w: %s: %w", ErrRejected, obj.ID(), ErrGone)
		}
		return nil
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	so, err := storedObject(obj, false, f.clock.Now())
	if err != nil {
		return err
	}
	if err := f.store.PutObject(ctx, so); err != nil {
		if errors.Is(err, ErrGone) {
			return fmt.Errorf("%w: %w", ErrRejected, err)
		}
		return err
	}
	if parent := obj.IRI("inReplyTo"); parent != "" {
		if _, err := f.store.AddItem(ctx, repliesOf(parent), CollectionItem{Item: obj.ID(), Public: so.Public, Audience: so.Audience, AddedAt: so.UpdatedAt}); err != nil {
			return err
		}
	}
	return nil
}

func (f *Federation) onUpdate(ctx context.Context, in *Inbound, signer VerifiedSigner) error {
	obj := f.resolveObject(ctx, in)
	if obj == nil {
		return fmt.Errorf("%w: object of %s not confirmed by its origin", ErrRejected, in.Activity.ID())
	}
	if obj.ID() == in.Actor && obj.IsActor() {
		return f.e.keys.ApplyActorUpdate(ctx, signer, obj)
	}
	old, err := f.store.Object(ctx, obj.ID())
	if errors.Is(err, ErrNotFound) {
		return nil // an update of something we never stored creates nothing
	} else if err != nil {
		return err
	}
	if !old.Deleted.IsZero() {
		return fmt.Errorf("%w: update of deleted %s: %w", ErrRejected, obj.ID(), ErrGone)
	}
	by := obj.IRIs("attributedTo")
	switch {
	case old.AttributedTo != in.Actor:
		return fmt.Errorf("%w: %s updates %s's %s", ErrRejected, in.Actor, old.AttributedTo, obj.ID())
	case len(by) != 1 || by[0] != old.AttributedTo:
		return fmt.Errorf("%w: update changes attributedTo of %s to %v", ErrRejected, obj.ID(), by)
	}
	if f.changesPublished(old, obj) {
		return fmt.Errorf("%w: update changes published of %s", ErrRejected, obj.ID())
	}
	so, err := storedObject(obj, false, f.clock.Now())
	if err != nil {
		return err
	}
	if so.Published.IsZero() {
		so.Published = old.Published
	}
	return f.store.PutObject(ctx, so)
}

// changesPublished reports whether obj, an update of the stored old,
// carries a published time other than old's, or one that does not parse
// (SECURITY rule 23); an update without published keeps old's. old's time
// is read from its stored body, which keeps it as published: a store may
// hold StoredObject.Published at a coarser precision (pub/bunstore keeps
// milliseconds), and a Note published at .123456 must stay editable. When
// the body has none, the times are compared to the millisecond.
func (f *Federation) changesPublished(old StoredObject, obj *streams.Object) bool {
	p, ok := obj.Time("published")
	if !ok {
		return obj.Has("published")
	}
	if len(old.Body) > 0 {
		if prev, err := f.e.cfg.Registry.ParseLimits(old.Body, f.e.cfg.Limits); err == nil {
			if q, ok := prev.Time("published"); ok {
				return !p.Equal(q)
			}
		}
	}
	return old.Published.IsZero() || p.UnixMilli() != old.Published.UnixMilli()
}

func (f *Federation) onDelete(ctx context.Context, in *Inbound, signer VerifiedSigner) error {
	target := in.Activity.IRI("object")
	if target == in.Actor {
		if err := f.e.keys.ApplyActorDelete(ctx, signer, target); err != nil {
			return err
		}
		for _, q := range []FollowQuery{{Follower: target}, {Followee: target}} {
			fs, _, err := f.store.Follows(ctx, q)
			if err != nil {
				return err
			}
			for _, fl := range fs {
				if _, err := f.store.DeleteFollow(ctx, fl.Follower, fl.Followee); err != nil {
					return err
				}
			}
		}
		return nil
	}
	old, err := f.store.Object(ctx, target)
	known := err == nil
	switch {
	case known && old.AttributedTo != in.Actor:
		return fmt.Errorf("%w: %s deletes %s's %s", ErrRejected, in.Actor, old.AttributedTo, target)
	case errors.Is(err, ErrNotFound):
		if !sameOrigin(target, in.Actor) {
			return fmt.Errorf("%w: %s deletes %s on another origin", ErrRejected, in.Actor, target)
		}
	case err != nil:
		return err
	}
	if err := f.store.DeleteObject(ctx, target, in.Actor, f.clock.Now()); err != nil {
		return err
	}
	if known && old.Body != nil {
		if o, perr := f.e.cfg.Registry.ParseLimits(old.Body, f.e.cfg.Limits); perr == nil {
			if parent := o.IRI("inReplyTo"); parent != "" {
				if _, err := f.store.RemoveItem(ctx, repliesOf(parent), target); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// localObject reports whether iri is a live local object.
func (f *Federation) localObject(ctx context.Context, iri string) (bool, error) {
	if !f.isLocal(iri) {
		return false, nil
	}
	o, err := f.store.Object(ctx, iri)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return o.Deleted.IsZero(), nil
}

func (f *Federation) onLike(ctx context.Context, in *Inbound) error {
	obj := in.Activity.IRI("object")
	ok, err := f.localObject(ctx, obj)
	if err != nil || !ok {
		return err
	}
	_, err = f.store.AddItem(ctx, likesOf(obj), CollectionItem{Item: in.Actor, Public: true, AddedAt: f.clock.Now()})
	return err
}

func (f *Federation) onAnnounce(ctx context.Context, in *Inbound) error {
	iri := in.Activity.IRI("object")
	ok, err := f.localObject(ctx, iri)
	if err != nil {
		return err
	}
	if ok {
		_, err = f.store.AddItem(ctx, sharesOf(iri), CollectionItem{Item: in.Actor, Public: true, AddedAt: f.clock.Now()})
		return err
	}
	if f.isLocal(iri) {
		return fmt.Errorf("%w: announce of unknown local object %s", ErrRejected, iri)
	}
	if emb := in.Activity.Object("object"); emb != nil && emb.IsActivity() {
		return f.onRelayed(ctx, in, emb)
	}
	obj := f.resolveObject(ctx, in)
	if obj == nil {
		return fmt.Errorf("%w: announced object %s not confirmed by its origin", ErrRejected, iri)
	}
	return f.storeRemote(ctx, obj)
}

// onRelayed handles an Announce of an activity, as a group relays its
// members' posts (FEP-1b12). The relayed activity is not trusted as
// embedded: for a Create or Update, its object is fetched from its own
// origin and stored only if that origin confirms it and it is attributed
// to the relayed activity's actor (SECURITY rule 11); in.Object is set to
// it. Other relayed activities are left to the Announce hook.
func (f *Federation) onRelayed(ctx context.Context, in *Inbound, inner *streams.Object) error {
	if !inner.Is("Create") && !inner.Is("Update") {
		in.Object = nil
		return nil
	}
	iri := inner.IRI("object")
	if iri == "" {
		return fmt.Errorf("%w: relayed %s without object", ErrRejected, inner.Type())
	}
	obj, err := f.e.Fetch(ctx, iri)
	if err != nil {
		return fmt.Errorf("%w: relayed object %s not confirmed by its origin: %w", ErrRejected, iri, err)
	}
	by := obj.IRIs("attributedTo")
	if len(by) != 1 || by[0] != inner.IRI("actor") || !sameOrigin(by[0], obj.ID()) {
		return fmt.Errorf("%w: relayed object %s attributed to %v, relayed as %s's", ErrRejected, iri, by, inner.IRI("actor"))
	}
	in.Object = obj
	return f.storeRemote(ctx, obj)
}

func (f *Federation) onBlock(ctx context.Context, in *Inbound) error {
	target := in.Activity.IRI("object")
	if _, err := f.actors.LocalActor(ctx, target); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	}
	for _, pair := range [][2]string{{in.Actor, target}, {target, in.Actor}} {
		if _, err := f.store.DeleteFollow(ctx, pair[0], pair[1]); err != nil {
			return err
		}
	}
	_, err := f.store.AddItem(ctx, blockedBy(target), CollectionItem{Item: in.Actor, AddedAt: f.clock.Now()})
	return err
}

// onMove checks a Move of the actor to a new account: the object is the
// actor and the target names it in alsoKnownAs. Following the new account
// is the host's decision (its Move hook).
func (f *Federation) onMove(ctx context.Context, in *Inbound) error {
	if in.Activity.IRI("object") != in.Actor {
		return fmt.Errorf("%w: %s moves %s", ErrRejected, in.Actor, in.Activity.IRI("object"))
	}
	target, err := f.e.Fetch(ctx, in.Activity.IRI("target"))
	if err != nil {
		return fmt.Errorf("%w: move target: %w", ErrRejected, err)
	}
	if !slices.Contains(target.IRIs("alsoKnownAs"), in.Actor) {
		return fmt.Errorf("%w: move target %s does not name %s in alsoKnownAs", ErrRejected, target.ID(), in.Actor)
	}
	in.Object = target
	return nil
}
