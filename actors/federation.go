package actors

import (
	"context"
	"errors"
	"fmt"

	"github.com/commonroom/commonroom/internal/errkind"
	"github.com/commonroom/commonroom/pub"
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

// Publish implements Publisher.
func (p FederationPublisher) Publish(ctx context.Context, actorIRI string, act *streams.Object) error {
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
