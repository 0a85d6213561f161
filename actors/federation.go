package actors

import (
	"context"
	"errors"
	"fmt"

	"github.com/commonroom/commonroom/internal/errkind"
	"github.com/commonroom/commonroom/pub"
	"github.com/commonroom/commonroom/pub/delivery"
	"github.com/commonroom/commonroom/streams"
)

var (
	_ pub.LocalActors     = (*Service)(nil)
	_ pub.ActorDocumenter = (*Service)(nil)
	_ Publisher           = FederationPublisher{}
)

// LocalActor implements pub.LocalActors over the actors table: local,
// unsuspended people and groups, with their keys and their follow policy
// (Locked is ManuallyApprovesFollowers). Unknown ones wrap pub.ErrNotFound.
func (s *Service) LocalActor(ctx context.Context, id string) (pub.LocalActor, error) {
	a, err := s.accountByIRI(ctx, s.db, stripFragment(id))
	if err == nil && (!a.Local() || a.Suspended()) {
		err = errkind.New(errkind.NotFound, "no such account")
	}
	if errkind.Of(err) == errkind.NotFound {
		return pub.LocalActor{}, fmt.Errorf("actors: local actor %s: %w: %w", id, pub.ErrNotFound, err)
	}
	if err != nil {
		return pub.LocalActor{}, fmt.Errorf("actors: local actor %s: %w", id, err)
	}
	keys, err := s.keys.EnsureLocal(ctx, a.IRI)
	if err != nil {
		return pub.LocalActor{}, fmt.Errorf("actors: local actor %s: keys: %w", id, err)
	}
	return pub.LocalActor{ID: a.IRI, Keys: keys, ManuallyApprovesFollowers: a.Locked}, nil
}

// Hooks returns the hooks a pub.Federation calls for what this package
// handles (Follow, Accept, Reject, Undo, Block, Create, Update, Delete,
// Like, Announce, Flag): each hands the verified activity to Receive. The
// engine has applied its own side effects (follow records, answers to
// unlocked follows, collections) before a hook runs.
func (s *Service) Hooks() pub.Hooks {
	h := func(ctx context.Context, in *pub.Inbound) error {
		return s.Receive(ctx, Incoming{Activity: in.Activity, Actor: in.Actor, Object: in.Object, Undone: in.Undone})
	}
	on := map[string]pub.Hook{}
	for _, typ := range []string{"Follow", "Accept", "Reject", "Undo", "Block", "Create", "Update", "Delete", "Like", "Announce", "Flag"} {
		on[typ] = h
	}
	return pub.Hooks{On: on}
}

// FederationPublisher is the Publisher over a pub.Federation. An Accept or
// Reject of a Follow goes through Federation.AcceptFollow or RejectFollow,
// which also update the engine's follow records (its followers
// collections and audience resolution read them); everything else goes
// through Federation.Publish.
type FederationPublisher struct {
	Federation *pub.Federation
}

// Publish implements Publisher. Besides follow answers, a Flag by the
// instance actor (a forwarded report, Service.FileReport) is delivered to
// the inbox of the account it is addressed to, and never stored in an
// outbox; an Add or Remove
// targeting the actor's featured collection goes through
// Federation.Feature or Unfeature, and an Update of the actor itself
// (which Federation.Publish refuses: it updates only stored objects) is
// queued for delivery to the followers' inboxes the engine recorded.
func (p FederationPublisher) Publish(ctx context.Context, actorIRI string, act *streams.Object) error {
	if (act.Is("Add") || act.Is("Remove")) && act.IRI("target") == actorIRI+"/featured" {
		if act.Is("Add") {
			return p.Federation.Feature(ctx, actorIRI, act.IRI("object"))
		}
		return p.Federation.Unfeature(ctx, actorIRI, act.IRI("object"))
	}
	if act.Is("Update") && act.IRI("object") == actorIRI {
		return p.publishActorUpdate(ctx, actorIRI, act)
	}
	if act.Is("Flag") && actorIRI == p.Federation.Engine().InstanceActor().ID() {
		return p.publishFlag(ctx, act)
	}
	if follow := act.Object("object"); follow != nil && follow.Is("Follow") && (act.Is("Accept") || act.Is("Reject")) {
		var err error
		if act.Is("Accept") {
			err = p.Federation.AcceptFollow(ctx, actorIRI, follow.IRI("actor"))
		} else {
			err = p.Federation.RejectFollow(ctx, actorIRI, follow.IRI("actor"))
		}
		if !errors.Is(err, pub.ErrNotFound) {
			return err
		}
		// The engine never recorded that follow: send the answer as is.
	}
	_, err := p.Federation.Publish(ctx, actorIRI, act)
	return err
}

// publishActorUpdate queues an Update of a local actor's own document for
// every inbox (shared where there is one) of its accepted remote
// followers, signed with the actor's key at send time.
func (p FederationPublisher) publishActorUpdate(ctx context.Context, actorIRI string, act *streams.Object) error {
	local, err := p.Federation.Engine().Keys().Local(ctx, actorIRI)
	if err != nil {
		return fmt.Errorf("actors: update of %s: keys: %w", actorIRI, err)
	}
	body, err := act.MarshalJSON()
	if err != nil {
		return fmt.Errorf("actors: update of %s: %w", actorIRI, err)
	}
	follows, _, err := p.Federation.Store().Follows(ctx, pub.FollowQuery{Followee: actorIRI, State: pub.FollowAccepted})
	if err != nil {
		return fmt.Errorf("actors: update of %s: followers: %w", actorIRI, err)
	}
	var jobs []delivery.Job
	seen := map[string]bool{}
	for _, f := range follows {
		inbox := f.SharedInbox
		if inbox == "" {
			inbox = f.Inbox
		}
		if inbox == "" || seen[inbox] || p.Federation.Engine().Fetcher().IsLocal(inbox) {
			continue
		}
		seen[inbox] = true
		j, err := delivery.NewJob(inbox, local.RSAKeyID(), act.ID(), body)
		if err != nil {
			continue // an inbox that is not a deliverable URL
		}
		jobs = append(jobs, j)
	}
	if err := p.Federation.Pool().Enqueue(ctx, jobs...); err != nil {
		return fmt.Errorf("actors: update of %s: %w", actorIRI, err)
	}
	return nil
}

// publishFlag queues a forwarded report, signed by the instance actor, for
// the personal inbox of each remote actor it is addressed to (to), as
// Mastodon sends it. The recipients' documents come through the engine's
// Fetcher.
func (p FederationPublisher) publishFlag(ctx context.Context, act *streams.Object) error {
	engine := p.Federation.Engine()
	keyID := engine.InstanceActor().KeyID()
	body, err := act.MarshalJSON()
	if err != nil {
		return fmt.Errorf("actors: flag: %w", err)
	}
	var jobs []delivery.Job
	seen := map[string]bool{}
	for _, to := range act.IRIs("to") {
		if engine.Fetcher().IsLocal(to) {
			continue
		}
		doc, err := engine.Fetcher().Fetch(ctx, to)
		if err != nil {
			return fmt.Errorf("actors: flag for %s: %w", to, err)
		}
		inbox := doc.IRI("inbox")
		if inbox == "" || seen[inbox] || engine.Fetcher().IsLocal(inbox) {
			continue
		}
		seen[inbox] = true
		j, err := delivery.NewJob(inbox, keyID, act.ID(), body)
		if err != nil {
			continue // an inbox that is not a deliverable URL
		}
		jobs = append(jobs, j)
	}
	if len(jobs) == 0 {
		return fmt.Errorf("actors: flag %s: no inbox to deliver to: %w", act.ID(), ErrUndeliverable)
	}
	if err := p.Federation.Pool().Enqueue(ctx, jobs...); err != nil {
		return fmt.Errorf("actors: flag %s: %w", act.ID(), err)
	}
	return nil
}
