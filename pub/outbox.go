package pub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/commonroom/commonroom/pub/delivery"
	"github.com/commonroom/commonroom/streams"
)

// Publish publishes activity as the local actor actorID, the way an
// ActivityPub outbox does (ActivityPub 6):
//
//   - an object that is not an activity is wrapped in a Create; the
//     activity gets the actor, an id (Config.IDs) and published, and a
//     Follow without addressing is addressed to its object; a created
//     object gets an id, attributedTo and published when missing, and the
//     activity's addressing when it has none;
//   - the actor's side effects are applied: Create stores the object,
//     Update replaces it (only the author's, keeping attributedTo and
//     published), Delete tombstones it, Follow records a pending follow,
//     Like adds to the liked collection, Undo reverts the actor's own
//     Follow, Like or Announce, Block removes follows both ways;
//   - the activity is stored and added to the outbox;
//   - its audience (to, cc, bto, bcc, audience) is resolved to inboxes: the
//     public collection is never delivered to, the actor's followers
//     collection is expanded from the follow store, remote actors are
//     fetched (Engine.Fetch) for their inbox and endpoints.sharedInbox;
//     recipients collapse to one delivery per shared inbox (bto and bcc
//     recipients get their personal inbox), and local recipients are
//     handed to our own inbox processing without HTTP;
//   - bto and bcc are removed from what is stored and delivered, and one
//     delivery job per inbox is enqueued, signed at send time with the
//     actor's key.
//
// It returns the activity as delivered. Publish fetches remote recipients
// it does not know within ctx; delivery itself happens in Run.
func (f *Federation) Publish(ctx context.Context, actorID string, activity *streams.Object) (*streams.Object, error) {
	local, err := f.actors.LocalActor(ctx, actorID)
	if err != nil {
		return nil, fmt.Errorf("pub: publish as %s: %w", actorID, err)
	}
	act, err := f.prepare(ctx, local, activity)
	if err != nil {
		return nil, err
	}
	audience := audienceOf(act)
	personal := append(act.IRIs("bto"), act.IRIs("bcc")...)
	served := act.Clone()
	for _, o := range append([]*streams.Object{served}, served.Objects("object")...) {
		o.Delete("bto")
		o.Delete("bcc")
	}
	var objAudience []string
	if o := act.Object("object"); o != nil {
		objAudience = audienceOf(o) // with its bto and bcc, for visibility
	}
	if err := f.applyOutbound(ctx, local, served, objAudience); err != nil {
		return nil, err
	}
	so, err := storedObject(served, true, f.clock.Now())
	if err != nil {
		return nil, err
	}
	so.Audience, so.Public = audience, isPublic(audience)
	if err := f.store.PutObject(ctx, so); err != nil {
		return nil, fmt.Errorf("pub: publish %s: store: %w", so.ID, err)
	}
	if _, err := f.store.AddItem(ctx, local.Outbox(), CollectionItem{Item: so.ID, Public: so.Public, Audience: audience, AddedAt: so.UpdatedAt}); err != nil {
		return nil, fmt.Errorf("pub: publish %s: outbox: %w", so.ID, err)
	}
	inboxes, locals := f.resolveInboxes(ctx, local, audience, personal)
	localBody := so.Body
	if len(locals) > 0 && len(personal) > 0 {
		full := served.Clone()
		for _, p := range []string{"bto", "bcc"} {
			if v, ok := act.Get(p); ok {
				_ = full.Set(p, v)
			}
		}
		if localBody, err = streams.Marshal(full); err != nil {
			return nil, fmt.Errorf("pub: publish %s: %w", so.ID, err)
		}
	}
	if err := f.deliver(ctx, local, so.ID, served.Type(), so.Body, localBody, inboxes, locals); err != nil {
		return nil, err
	}
	return served, nil
}

// prepare clones activity and fills in what the outbox assigns.
func (f *Federation) prepare(ctx context.Context, local LocalActor, activity *streams.Object) (*streams.Object, error) {
	if activity == nil {
		return nil, fmt.Errorf("pub: publish: %w: nil activity", ErrInvalidActivity)
	}
	reg := f.e.cfg.Registry
	act := activity.Clone()
	now := f.clock.Now()
	if !act.IsActivity() {
		create := reg.New("Create")
		for _, p := range []string{"to", "cc", "bto", "bcc", "audience"} {
			if v, ok := act.Get(p); ok {
				if err := create.Set(p, v); err != nil {
					return nil, err
				}
			}
		}
		if err := create.Set("object", streams.ObjectValue(act)); err != nil {
			return nil, err
		}
		act = create
	}
	if by := act.IRI("actor"); by != "" && by != local.ID {
		return nil, fmt.Errorf("pub: publish: %w: actor %s, publishing as %s", ErrInvalidActivity, by, local.ID)
	}
	if err := act.Set("actor", streams.IRI(local.ID)); err != nil {
		return nil, err
	}
	if act.ID() == "" {
		id, err := f.cfg.IDs.MintID(ctx, local, act)
		if err != nil {
			return nil, err
		}
		act.SetID(id)
	} else if !f.isLocal(act.ID()) {
		return nil, fmt.Errorf("pub: publish: %w: id %s is not ours", ErrInvalidActivity, act.ID())
	}
	if !act.Has("published") {
		_ = act.Set("published", streams.Time(now))
	}
	if act.Is("Create") {
		obj := act.Object("object")
		if obj == nil {
			return nil, fmt.Errorf("pub: publish: %w: Create needs an embedded object", ErrInvalidActivity)
		}
		if obj.ID() == "" {
			id, err := f.cfg.IDs.MintID(ctx, local, obj)
			if err != nil {
				return nil, err
			}
			obj.SetID(id)
		} else if !f.isLocal(obj.ID()) {
			return nil, fmt.Errorf("pub: publish: %w: object id %s is not ours", ErrInvalidActivity, obj.ID())
		}
		if by := obj.IRIs("attributedTo"); len(by) == 0 {
			_ = obj.Set("attributedTo", streams.IRI(local.ID))
		} else if len(by) != 1 || by[0] != local.ID {
			return nil, fmt.Errorf("pub: publish: %w: object attributed to %v", ErrInvalidActivity, by)
		}
		if !obj.Has("published") {
			_ = obj.Set("published", streams.Time(now))
		}
		if len(audienceOf(obj)) == 0 {
			for _, p := range []string{"to", "cc", "bto", "bcc", "audience"} {
				if v, ok := act.Get(p); ok {
					_ = obj.Set(p, v)
				}
			}
		}
	}
	if err := checkShape(act); err != nil {
		return nil, fmt.Errorf("pub: publish: %w", err)
	}
	if act.Is("Follow") && len(audienceOf(act)) == 0 {
		// A Follow is addressed to whom it follows, as peers expect.
		_ = act.Set("to", streams.IRIList(act.IRI("object")))
	}
	return act, nil
}

// applyOutbound applies the side effects of a local actor's activity
// (bto and bcc already removed; objAudience is the embedded object's full
// audience).
func (f *Federation) applyOutbound(ctx context.Context, local LocalActor, act *streams.Object, objAudience []string) error {
	now := f.clock.Now()
	objIRI := act.IRI("object")
	switch act.Type() {
	case "Create":
		so, err := storedObject(act.Object("object"), true, now)
		if err != nil {
			return err
		}
		so.Audience, so.Public = objAudience, isPublic(objAudience)
		if _, err := f.store.Object(ctx, so.ID); err == nil {
			return fmt.Errorf("pub: publish: %w: %s exists", ErrRejected, so.ID)
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		if err := f.store.PutObject(ctx, so); err != nil {
			return fmt.Errorf("pub: publish: store %s: %w", so.ID, err)
		}
		if parent := act.Object("object").IRI("inReplyTo"); parent != "" {
			if ok, err := f.localObject(ctx, parent); err != nil {
				return err
			} else if ok {
				_, err := f.store.AddItem(ctx, repliesOf(parent), CollectionItem{Item: so.ID, Public: so.Public, Audience: so.Audience, AddedAt: now})
				return err
			}
		}
		return nil
	case "Update":
		obj := act.Object("object")
		if obj == nil {
			return fmt.Errorf("pub: publish: %w: Update needs an embedded object", ErrInvalidActivity)
		}
		old, err := f.store.Object(ctx, obj.ID())
		if err != nil {
			return fmt.Errorf("pub: publish: update %s: %w", obj.ID(), err)
		}
		if !old.Deleted.IsZero() || old.AttributedTo != local.ID || !slices.Equal(obj.IRIs("attributedTo"), []string{local.ID}) {
			return fmt.Errorf("pub: publish: %w: %s may not update %s", ErrRejected, local.ID, obj.ID())
		}
		if f.changesPublished(old, obj) {
			return fmt.Errorf("pub: publish: %w: update changes published", ErrRejected)
		}
		so, err := storedObject(obj, true, now)
		if err != nil {
			return err
		}
		so.Audience, so.Public = objAudience, isPublic(objAudience)
		if so.Published.IsZero() {
			so.Published = old.Published
		}
		return f.store.PutObject(ctx, so)
	case "Delete":
		old, err := f.store.Object(ctx, objIRI)
		if err != nil {
			return fmt.Errorf("pub: publish: delete %s: %w", objIRI, err)
		}
		if old.AttributedTo != local.ID {
			return fmt.Errorf("pub: publish: %w: %s may not delete %s", ErrRejected, local.ID, objIRI)
		}
		return f.store.DeleteObject(ctx, objIRI, local.ID, now)
	case "Follow":
		return f.store.PutFollow(ctx, Follow{Follower: local.ID, Followee: objIRI, ActivityID: act.ID(), State: FollowPending, CreatedAt: now})
	case "Like":
		aud := audienceOf(act)
		if _, err := f.store.AddItem(ctx, local.Liked(), CollectionItem{Item: objIRI, Public: isPublic(aud), Audience: aud, AddedAt: now}); err != nil {
			return err
		}
		if ok, err := f.localObject(ctx, objIRI); err != nil || !ok {
			return err
		}
		_, err := f.store.AddItem(ctx, likesOf(objIRI), CollectionItem{Item: local.ID, Public: true, AddedAt: now})
		return err
	case "Announce":
		if ok, err := f.localObject(ctx, objIRI); err != nil || !ok {
			return err
		}
		_, err := f.store.AddItem(ctx, sharesOf(objIRI), CollectionItem{Item: local.ID, Public: true, AddedAt: now})
		return err
	case "Block":
		for _, pair := range [][2]string{{local.ID, objIRI}, {objIRI, local.ID}} {
			if _, err := f.store.DeleteFollow(ctx, pair[0], pair[1]); err != nil {
				return err
			}
		}
		return nil
	case "Undo":
		inner := act.Object("object")
		if inner == nil {
			old, err := f.store.Object(ctx, objIRI)
			if err != nil {
				return fmt.Errorf("pub: publish: undo %s: %w", objIRI, err)
			}
			if inner, err = f.e.cfg.Registry.ParseLimits(old.Body, f.e.cfg.Limits); err != nil {
				return err
			}
			// Deliver the undone activity embedded, as peers expect.
			if err := act.Set("object", streams.ObjectValue(inner)); err != nil {
				return err
			}
		}
		if inner.IRI("actor") != local.ID {
			return fmt.Errorf("pub: publish: %w: %s may not undo %s", ErrRejected, local.ID, inner.ID())
		}
		target := inner.IRI("object")
		var err error
		switch inner.Type() {
		case "Follow":
			_, err = f.store.DeleteFollow(ctx, local.ID, target)
		case "Like":
			if _, err = f.store.RemoveItem(ctx, local.Liked(), target); err == nil {
				_, err = f.store.RemoveItem(ctx, likesOf(target), local.ID)
			}
		case "Announce":
			_, err = f.store.RemoveItem(ctx, sharesOf(target), local.ID)
		}
		return err
	}
	return nil
}

// resolveInboxes turns an audience into remote inboxes, one per shared
// inbox (personal inboxes for the bto/bcc recipients in personal), and
// local actors. Recipients that cannot be resolved are logged and skipped.
func (f *Federation) resolveInboxes(ctx context.Context, local LocalActor, audience, personal []string) (inboxes, locals []string) {
	addInbox := func(iri string) {
		if iri != "" && !slices.Contains(inboxes, iri) {
			inboxes = append(inboxes, iri)
		}
	}
	addLocal := func(id string) {
		if id != local.ID && !slices.Contains(locals, id) {
			locals = append(locals, id)
		}
	}
	for _, iri := range audience {
		switch {
		case streams.IsPublic(iri) || iri == local.ID:
		case iri == local.Followers():
			fs, _, err := f.store.Follows(ctx, FollowQuery{Followee: local.ID, State: FollowAccepted})
			if err != nil {
				f.log.ErrorContext(ctx, "pub: publish: followers", slog.String("actor", local.ID), slog.Any("error", err))
				continue
			}
			for _, fl := range fs {
				switch {
				case f.isLocal(fl.Follower):
					addLocal(fl.Follower)
				case fl.SharedInbox != "":
					addInbox(fl.SharedInbox)
				default:
					addInbox(fl.Inbox)
				}
			}
		case f.isLocal(iri):
			if _, err := f.actors.LocalActor(ctx, iri); err == nil {
				addLocal(iri)
			} else if f.cfg.Hooks.GroupMembers != nil {
				members, ok, err := f.cfg.Hooks.GroupMembers(ctx, iri)
				if err != nil {
					f.log.ErrorContext(ctx, "pub: publish: members", slog.String("collection", iri), slog.Any("error", err))
				}
				if ok {
					for _, m := range members {
						addLocal(m)
					}
				}
			}
		default:
			inbox, shared, err := f.remoteInboxes(ctx, iri)
			if err != nil {
				// Remote collections (someone's followers) are not
				// delivered to; they are resolved by their owner.
				f.log.InfoContext(ctx, "pub: publish: recipient skipped", slog.String("recipient", iri), slog.Any("error", err))
				continue
			}
			if shared != "" && !slices.Contains(personal, iri) {
				addInbox(shared)
			} else {
				addInbox(inbox)
			}
		}
	}
	return inboxes, locals
}

// deliver enqueues one job per inbox, signed as local at send time, and
// hands the activity to our own inbox processing when local actors are
// among its recipients. localBody is the activity with its bto and bcc, so
// that local recipients named there are found again when it is processed.
func (f *Federation) deliver(ctx context.Context, local LocalActor, id, typ string, body, localBody []byte, inboxes, locals []string) error {
	jobs := make([]delivery.Job, 0, len(inboxes))
	for _, inbox := range inboxes {
		j, err := delivery.NewJob(inbox, local.Keys.RSAKeyID(), id, body)
		if err != nil {
			f.log.InfoContext(ctx, "pub: publish: inbox skipped", slog.String("inbox", inbox), slog.Any("error", err))
			continue
		}
		jobs = append(jobs, j)
	}
	if err := f.pool.Enqueue(ctx, jobs...); err != nil {
		return fmt.Errorf("pub: publish %s: %w", id, err)
	}
	if len(locals) == 0 {
		return nil
	}
	// One record serves every local recipient: processing resolves them
	// from the addressing, as for a shared inbox.
	stored, err := f.store.RecordInbound(ctx, InboundActivity{
		ID: id, Type: typ, Actor: local.ID, KeyID: local.Keys.RSAKeyID(), Recipient: locals[0],
		Body: localBody, ReceivedAt: f.clock.Now(),
	})
	if err != nil {
		return fmt.Errorf("pub: publish %s: local delivery: %w", id, err)
	}
	if stored {
		f.enqueued()
	}
	return nil
}

// answerFollow publishes an Accept or Reject of fl as local, addressed to
// the follower.
func (f *Federation) answerFollow(ctx context.Context, local LocalActor, fl Follow, typ string) error {
	reg := f.e.cfg.Registry
	follow := reg.New("Follow")
	follow.SetID(fl.ActivityID)
	_ = follow.Set("actor", streams.IRI(fl.Follower))
	_ = follow.Set("object", streams.IRI(fl.Followee))
	ans := reg.New(typ)
	_ = ans.Set("object", streams.ObjectValue(follow))
	_ = ans.Set("to", streams.IRIList(fl.Follower))
	if _, err := f.Publish(ctx, local.ID, ans); err != nil {
		return fmt.Errorf("pub: %s follow of %s by %s: %w", typ, local.ID, fl.Follower, err)
	}
	return nil
}

// AcceptFollow accepts follower's pending follow of the local actor
// followee and sends the Accept.
func (f *Federation) AcceptFollow(ctx context.Context, followee, follower string) error {
	local, err := f.actors.LocalActor(ctx, followee)
	if err != nil {
		return fmt.Errorf("pub: accept follow: %w", err)
	}
	fl, err := f.store.GetFollow(ctx, follower, followee)
	if err != nil {
		return fmt.Errorf("pub: accept follow: %w", err)
	}
	if fl.State != FollowAccepted {
		fl.State = FollowAccepted
		if err := f.store.PutFollow(ctx, fl); err != nil {
			return fmt.Errorf("pub: accept follow: %w", err)
		}
	}
	return f.answerFollow(ctx, local, fl, "Accept")
}

// RejectFollow removes follower's follow (pending or accepted) of the local
// actor followee and sends a Reject.
func (f *Federation) RejectFollow(ctx context.Context, followee, follower string) error {
	local, err := f.actors.LocalActor(ctx, followee)
	if err != nil {
		return fmt.Errorf("pub: reject follow: %w", err)
	}
	fl, err := f.store.GetFollow(ctx, follower, followee)
	if err != nil {
		return fmt.Errorf("pub: reject follow: %w", err)
	}
	if _, err := f.store.DeleteFollow(ctx, follower, followee); err != nil {
		return fmt.Errorf("pub: reject follow: %w", err)
	}
	return f.answerFollow(ctx, local, fl, "Reject")
}

// PendingFollowers lists the follow requests waiting for the local actor's
// decision, newest first.
func (f *Federation) PendingFollowers(ctx context.Context, actor string) ([]Follow, error) {
	fs, _, err := f.store.Follows(ctx, FollowQuery{Followee: actor, State: FollowPending})
	if err != nil {
		return nil, fmt.Errorf("pub: pending followers of %s: %w", actor, err)
	}
	return fs, nil
}

// Feature pins one of the local actor's live objects to its featured
// collection and publishes an Add of it to the actor's followers (what
// Mastodon sends for pinned posts). Unfeature undoes it with a Remove.
func (f *Federation) Feature(ctx context.Context, actorID, objectID string) error {
	return f.feature(ctx, actorID, objectID, true)
}

// Unfeature removes an object from the local actor's featured collection
// and publishes a Remove of it.
func (f *Federation) Unfeature(ctx context.Context, actorID, objectID string) error {
	return f.feature(ctx, actorID, objectID, false)
}

func (f *Federation) feature(ctx context.Context, actorID, objectID string, add bool) error {
	local, err := f.actors.LocalActor(ctx, actorID)
	if err != nil {
		return fmt.Errorf("pub: feature: %w", err)
	}
	so, err := f.store.Object(ctx, objectID)
	if err != nil {
		return fmt.Errorf("pub: feature: %w", err)
	}
	if !so.Local || so.AttributedTo != local.ID || !so.Deleted.IsZero() {
		return fmt.Errorf("pub: feature %s: %w: not a live object of %s", objectID, ErrRejected, local.ID)
	}
	typ := "Remove"
	if add {
		typ = "Add"
		_, err = f.store.AddItem(ctx, local.Featured(), CollectionItem{Item: objectID, Public: so.Public, Audience: so.Audience, AddedAt: f.clock.Now()})
	} else {
		_, err = f.store.RemoveItem(ctx, local.Featured(), objectID)
	}
	if err != nil {
		return fmt.Errorf("pub: feature %s: %w", objectID, err)
	}
	act := f.e.cfg.Registry.New(typ)
	_ = act.Set("object", streams.IRI(objectID))
	_ = act.Set("target", streams.IRI(local.Featured()))
	if so.Public {
		_ = act.Set("to", streams.IRIList(streams.PublicIRI))
	}
	_ = act.Set("cc", streams.IRIList(local.Followers()))
	if _, err := f.Publish(ctx, local.ID, act); err != nil {
		return fmt.Errorf("pub: feature %s: %w", objectID, err)
	}
	return nil
}
