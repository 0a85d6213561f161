package actors

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/uptrace/bun"

	"github.com/commonroom/commonroom/internal/errkind"
	"github.com/commonroom/commonroom/streams"
)

// Incoming is an inbound activity the federation engine verified (its
// signature, and that its signer is its actor) and recorded once.
type Incoming struct {
	// Activity is the activity as received; read-only.
	Activity *streams.Object
	// Actor is the verified actor's IRI.
	Actor string
	// Object is the activity's object when the engine holds a copy it
	// trusts (vouched for by its origin, or refetched from it; SECURITY.md
	// rule 11), nil otherwise. Receive never trusts other inline copies.
	Object *streams.Object
	// Undone is, for an Undo, the activity undone; nil otherwise.
	Undone *streams.Object
}

// survivesSuspension reports whether a suspended or blocked actor may
// still send an activity of type typ (SECURITY.md rule 32): the ways to
// take things back.
func survivesSuspension(typ string) bool {
	switch typ {
	case "Delete", "Undo", "Update", "Reject":
		return true
	}
	return false
}

// Receive applies an inbound activity to the social graph and to what
// people receive: Follow, Accept, Reject, Undo (of Follow, Block, Like
// and Announce), Block, Create, Update, Delete, Like, Announce and Flag;
// other types are ignored. Activities by local actors are ignored (their effects
// were applied when they were made). The actor's account is created or
// refreshed from its own document (RemoteActor), except for a Delete by an
// actor never seen, which is dropped without any fetch (rule 25). Activities
// from suspended actors or domains are dropped, except those listed in
// rule 32. Applying the same activity twice changes nothing the second time.
func (s *Service) Receive(ctx context.Context, in Incoming) error {
	act := in.Activity
	if act == nil || in.Actor == "" {
		return fmt.Errorf("actors: receive: %w", errkind.New(errkind.Invalid, "no activity or actor"))
	}
	typ := act.Type()
	if s.isLocal(in.Actor) {
		return nil
	}
	if err := s.checkDomainAllowed(ctx, in.Actor); err != nil {
		if errkind.Of(err) == errkind.Forbidden {
			s.log.InfoContext(ctx, "actors: dropped activity from a suspended domain", slog.String("id", act.ID()), slog.String("type", typ))
			return nil
		}
		return fmt.Errorf("actors: receive %s: %w", act.ID(), err)
	}
	var actor *Account
	var err error
	if typ == "Delete" {
		actor, err = s.accountByIRI(ctx, s.db, stripFragment(in.Actor))
		if errkind.Of(err) == errkind.NotFound {
			return nil // never seen: nothing of theirs to delete
		}
	} else {
		actor, err = s.RemoteActor(ctx, in.Actor)
	}
	if err != nil {
		return fmt.Errorf("actors: receive %s: actor: %w", act.ID(), err)
	}
	if actor.Suspended() && !survivesSuspension(typ) {
		return nil
	}
	switch typ {
	case "Follow":
		err = s.receiveFollow(ctx, actor, act)
	case "Accept":
		err = s.receiveAnswer(ctx, actor, act, true)
	case "Reject":
		err = s.receiveAnswer(ctx, actor, act, false)
	case "Undo":
		err = s.receiveUndo(ctx, actor, in)
	case "Block":
		err = s.receiveBlock(ctx, actor, act)
	case "Create", "Update", "Delete", "Like", "Announce", "Flag":
		err = s.receiveStatusActivity(ctx, actor, in)
	default:
		s.log.DebugContext(ctx, "actors: activity type not handled", slog.String("id", act.ID()), slog.String("type", typ))
	}
	if err != nil {
		return fmt.Errorf("actors: receive %s %s: %w", typ, act.ID(), err)
	}
	return nil
}

// localTarget returns the local, unsuspended account with IRI iri.
func (s *Service) localTarget(ctx context.Context, q bun.IDB, iri string) (*Account, error) {
	if !s.isLocal(iri) {
		return nil, errkind.New(errkind.NotFound, "not a local account")
	}
	t, err := s.accountByIRI(ctx, q, iri)
	if err != nil {
		return nil, err
	}
	if t.Suspended() {
		return nil, errkind.New(errkind.NotFound, "no such account")
	}
	return t, nil
}

// receiveFollow records a remote follow of a local account: accepted at
// once unless the account is locked (the engine answers unlocked follows;
// AuthorizeFollow answers requests). A follower the target blocks, alone
// or by domain, is sent a Reject and nothing is recorded.
func (s *Service) receiveFollow(ctx context.Context, follower *Account, act *streams.Object) error {
	if act.ID() == "" {
		return errkind.New(errkind.Invalid, "a Follow needs an id")
	}
	return s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		target, err := s.localTarget(ctx, tx, act.IRI("object"))
		if err != nil {
			return err
		}
		id, err := s.nextID()
		if err != nil {
			return err
		}
		f := &Follow{ID: id, FollowerID: follower.ID, TargetID: target.ID, IRI: act.ID(), Accepted: !target.Locked, CreatedAt: s.timestamp()}
		if err := s.checkNotBlocked(ctx, tx, target, follower); err != nil {
			if errkind.Of(err) != errkind.Forbidden {
				return err
			}
			ans, err := s.respond("Reject", f, follower, target)
			if err != nil {
				return err
			}
			return s.publish(ctx, target, ans)
		}
		// A repeated Follow (a retry, or a new one after a lost Accept)
		// keeps the row and takes the newest activity id.
		_, err = tx.NewInsert().Model(f).On("CONFLICT (follower_id, target_id) DO UPDATE").
			Set("iri = EXCLUDED.iri").Exec(ctx)
		if err != nil {
			return mapGraphError(err, "follow activity already recorded")
		}
		stored, err := s.followByPair(ctx, tx, follower.ID, target.ID)
		if err != nil {
			return err
		}
		typ := NotifyFollow
		if !stored.Accepted {
			typ = NotifyFollowRequest
		}
		return s.notify(ctx, tx, target.ID, typ, follower.ID, 0)
	})
}

// followAnswered finds the local follow an Accept or Reject by actor is
// about: by the Follow's id, or by the embedded Follow's actor.
func (s *Service) followAnswered(ctx context.Context, q bun.IDB, actor *Account, act *streams.Object) (*Follow, *Account, error) {
	f := new(Follow)
	err := q.NewSelect().Model(f).Where("iri = ? AND target_id = ?", act.IRI("object"), actor.ID).Scan(ctx)
	if err != nil {
		follow := act.Object("object")
		if follow == nil || !follow.Is("Follow") {
			return nil, nil, errkind.New(errkind.NotFound, "no such follow")
		}
		follower, err := s.localTarget(ctx, q, follow.IRI("actor"))
		if err != nil {
			return nil, nil, err
		}
		if f, err = s.followByPair(ctx, q, follower.ID, actor.ID); err != nil {
			return nil, nil, err
		}
	}
	follower, err := s.accountByID(ctx, q, f.FollowerID)
	if err != nil {
		return nil, nil, err
	}
	return f, follower, nil
}

// receiveAnswer applies an Accept (accept true) or Reject of a local
// account's follow by the remote target.
func (s *Service) receiveAnswer(ctx context.Context, actor *Account, act *streams.Object, accept bool) error {
	return s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		f, follower, err := s.followAnswered(ctx, tx, actor, act)
		if errkind.Of(err) == errkind.NotFound {
			return nil // an answer to nothing we asked
		}
		if err != nil {
			return err
		}
		if accept {
			_, err = tx.NewUpdate().Model(f).Set("accepted = ?", true).WherePK().Exec(ctx)
			return err
		}
		if _, err := tx.NewDelete().Model(f).WherePK().Exec(ctx); err != nil {
			return err
		}
		return s.unfeed(ctx, tx, follower.ID, actor.ID)
	})
}

// receiveUndo reverts the actor's own Follow, Block, Like or Announce.
func (s *Service) receiveUndo(ctx context.Context, actor *Account, in Incoming) error {
	undone := in.Undone
	if undone == nil {
		undone = in.Activity.Object("object")
	}
	undoneID := in.Activity.IRI("object")
	if undone != nil && undone.IRI("actor") != "" && undone.IRI("actor") != actor.IRI {
		return errkind.New(errkind.Forbidden, "an actor can only undo its own activities")
	}
	return s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		// Look the undone activity up by id among what the actor did;
		// a type from an embedded copy only narrows the search.
		f := new(Follow)
		err := tx.NewSelect().Model(f).Where("iri = ? AND follower_id = ?", undoneID, actor.ID).Scan(ctx)
		if err == nil || undone != nil && undone.Is("Follow") {
			if err != nil {
				target, terr := s.localTarget(ctx, tx, undone.IRI("object"))
				if terr != nil {
					return nil
				}
				if f, err = s.followByPair(ctx, tx, actor.ID, target.ID); err != nil {
					return nil
				}
			}
			// The follower is remote: it has no home timeline here.
			_, err := tx.NewDelete().Model(f).WherePK().Exec(ctx)
			return err
		}
		res, err := tx.NewDelete().Model((*Block)(nil)).Where("iri = ? AND actor_id = ?", undoneID, actor.ID).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return nil
		}
		if undone != nil && undone.Is("Block") {
			if target, err := s.localTarget(ctx, tx, undone.IRI("object")); err == nil {
				_, err = tx.NewDelete().Model((*Block)(nil)).Where("actor_id = ? AND target_id = ?", actor.ID, target.ID).Exec(ctx)
				return err
			}
			return nil
		}
		return s.undoStatusActivity(ctx, tx, actor, undoneID)
	})
}

// receiveBlock records a remote actor's block of a local account and ends
// the follows between them (nothing is sent back).
func (s *Service) receiveBlock(ctx context.Context, actor *Account, act *streams.Object) error {
	return s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		target, err := s.localTarget(ctx, tx, act.IRI("object"))
		if errkind.Of(err) == errkind.NotFound {
			return nil
		}
		if err != nil {
			return err
		}
		id, err := s.nextID()
		if err != nil {
			return err
		}
		b := &Block{ID: id, ActorID: actor.ID, TargetID: target.ID, IRI: act.ID(), CreatedAt: s.timestamp()}
		if b.IRI == "" {
			b.IRI = s.activityIRI(id) + "#remote"
		}
		if _, err := tx.NewInsert().Model(b).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
			return err
		}
		_, err = tx.NewDelete().Model((*Follow)(nil)).
			Where("(follower_id = ? AND target_id = ?) OR (follower_id = ? AND target_id = ?)", actor.ID, target.ID, target.ID, actor.ID).
			Exec(ctx)
		if err != nil {
			return err
		}
		return s.unfeed(ctx, tx, target.ID, actor.ID)
	})
}
