package actors

import (
	"context"
	"fmt"
	"strings"

	"github.com/uptrace/bun"

	"github.com/commonroom/commonroom/internal/db"
	"github.com/commonroom/commonroom/internal/errkind"
	"github.com/commonroom/commonroom/streams"
)

// EditStatus is what Edit changes: the text, warning, sensitivity and
// language, under the rules of NewStatus.
type EditStatus struct {
	Text        string
	SpoilerText string
	Sensitive   bool
	Language    string
}

// ownStatus loads a local actor's own status that is not a boost.
func (s *Service) ownStatus(ctx context.Context, q bun.IDB, authorID, id int64) (*Account, *Status, error) {
	author, err := s.localActor(ctx, q, authorID)
	if err != nil {
		return nil, nil, err
	}
	st, err := s.statusByID(ctx, q, id)
	if err != nil {
		return nil, nil, err
	}
	if st.ActorID != author.ID {
		return nil, nil, errkind.New(errkind.NotFound, "no such status of yours")
	}
	return author, st, nil
}

// Edit changes a local status. The version replaced is kept in the
// history (History), hashtags follow the new text, accounts that boosted
// it are notified, and an Update of the Note is published. Mentions are
// those of the original plus any the new text adds (as in Mastodon, the
// audience never shrinks): new ones are tagged, addressed and, when
// local, notified; those mentioned before are not notified again. Bad
// input is Invalid and nothing changes.
func (s *Service) Edit(ctx context.Context, authorID, id int64, e EditStatus) (*Status, error) {
	if err := s.validateText(e.Text, e.SpoilerText, e.Language); err != nil {
		return nil, fmt.Errorf("actors: edit status %d: %w", id, err)
	}
	author, st, err := s.ownStatus(ctx, s.db, authorID, id)
	if err == nil && st.ReblogOfID != 0 {
		err = errkind.New(errkind.Invalid, "a boost cannot be edited")
	}
	if err != nil {
		return nil, fmt.Errorf("actors: edit status %d: %w", id, err)
	}
	c, err := s.compose(ctx, e.Text)
	if err != nil {
		return nil, fmt.Errorf("actors: edit status %d: %w", id, err)
	}
	err = s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if st.EditedAt.IsZero() {
			// The first edit keeps the original as version one.
			if err := s.recordVersion(ctx, tx, st); err != nil {
				return err
			}
		}
		st.Content, st.Source = c.html, e.Text
		st.SpoilerText = strings.TrimSpace(e.SpoilerText)
		st.Sensitive = e.Sensitive || st.SpoilerText != ""
		st.Language = e.Language
		st.EditedAt = s.timestamp()
		if _, err := tx.NewUpdate().Model(st).WherePK().Exec(ctx); err != nil {
			return mapStatusError(err)
		}
		if err := s.replaceTags(ctx, tx, st.ID, c.tags); err != nil {
			return err
		}
		if err := s.addMentions(ctx, tx, st, author, c.mentions); err != nil {
			return err
		}
		if err := s.recordVersion(ctx, tx, st); err != nil {
			return err
		}
		if err := s.notifyBoosters(ctx, tx, st, author.ID); err != nil {
			return err
		}
		note, err := s.noteObject(ctx, tx, st, author)
		if err != nil {
			return err
		}
		act, err := s.newActivity("Update", author, note)
		if err != nil {
			return err
		}
		if err := copyAudience(act, note); err != nil {
			return err
		}
		return s.publish(ctx, author, act)
	})
	if err != nil {
		return nil, fmt.Errorf("actors: edit status %d: %w", id, err)
	}
	return st, nil
}

// recordVersion adds st's current text to its history, dated when it
// was written.
func (s *Service) recordVersion(ctx context.Context, tx bun.IDB, st *Status) error {
	id, err := s.nextID()
	if err != nil {
		return err
	}
	at := st.EditedAt
	if at.IsZero() {
		at = st.CreatedAt
	}
	e := &StatusEdit{ID: id, StatusID: st.ID, Content: st.Content, SpoilerText: st.SpoilerText, Sensitive: st.Sensitive, CreatedAt: at}
	_, err = tx.NewInsert().Model(e).Exec(ctx)
	return err
}

func (s *Service) replaceTags(ctx context.Context, tx bun.IDB, id int64, tags []string) error {
	if _, err := tx.NewDelete().Model((*statusTag)(nil)).Where("status_id = ?", id).Exec(ctx); err != nil {
		return err
	}
	for _, t := range tags {
		if _, err := tx.NewInsert().Model(&statusTag{StatusID: id, Tag: t}).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
			return err
		}
	}
	return nil
}

// addMentions records the mentions an edit of st adds: accounts already
// mentioned are left alone (and not notified again); a new local one is
// notified, and gets the status in its home timeline when it is private or
// direct, as on posting.
func (s *Service) addMentions(ctx context.Context, tx bun.IDB, st *Status, author *Account, mentions []*Account) error {
	for _, m := range mentions {
		res, err := tx.NewInsert().Model(&statusMention{StatusID: st.ID, ActorID: m.ID}).On("CONFLICT DO NOTHING").Exec(ctx)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 || !m.Local() {
			continue
		}
		if st.Visibility == Direct || st.Visibility == Private {
			row := &feedRow{ActorID: m.ID, StatusID: st.ID, AuthorID: author.ID}
			if _, err := tx.NewInsert().Model(row).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
				return err
			}
		}
		if err := s.notify(ctx, tx, m.ID, NotifyMention, author.ID, st.ID); err != nil {
			return err
		}
	}
	return nil
}

// notifyBoosters tells local accounts that boosted st that it changed.
func (s *Service) notifyBoosters(ctx context.Context, tx bun.IDB, st *Status, from int64) error {
	var boosters []int64
	err := tx.NewSelect().Model((*Status)(nil)).Column("status.actor_id").
		Join("JOIN actors AS a ON a.id = status.actor_id").
		Where("status.reblog_of_id = ? AND a.domain = ''", st.ID).Scan(ctx, &boosters)
	if err != nil {
		return err
	}
	for _, b := range boosters {
		if err := s.notify(ctx, tx, b, NotifyUpdate, from, st.ID); err != nil {
			return err
		}
	}
	return nil
}

// History returns the versions of an edited status, oldest first (empty
// for a status never edited), if viewer may see it.
func (s *Service) History(ctx context.Context, viewer, id int64) ([]StatusEdit, error) {
	if _, err := s.visibleStatus(ctx, s.db, viewer, id); err != nil {
		return nil, fmt.Errorf("actors: history of %d: %w", id, err)
	}
	var out []StatusEdit
	if err := s.db.NewSelect().Model(&out).Where("status_id = ?", id).Order("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("actors: history of %d: %w", id, err)
	}
	return out, nil
}

// DeleteStatus deletes a local status (or boost) of authorID: its replies
// lose their parent, its boosts, favourites, timeline entries and
// notifications go with it, its IRI is tombstoned, and a Delete (for a
// boost, an Undo of the Announce) is published to the same audience.
func (s *Service) DeleteStatus(ctx context.Context, authorID, id int64) error {
	err := s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		author, st, err := s.ownStatus(ctx, tx, authorID, id)
		if err != nil {
			return err
		}
		if st.ReblogOfID != 0 {
			return s.undoBoost(ctx, tx, author, st)
		}
		note, err := s.noteObject(ctx, tx, st, author)
		if err != nil {
			return err
		}
		if err := s.removeStatus(ctx, tx, st); err != nil {
			return err
		}
		ts := s.reg.New("Tombstone")
		ts.SetID(st.IRI)
		act, err := s.newActivity("Delete", author, ts)
		if err != nil {
			return err
		}
		if err := copyAudience(act, note); err != nil {
			return err
		}
		return s.publish(ctx, author, act)
	})
	if err != nil {
		return fmt.Errorf("actors: delete status %d: %w", id, err)
	}
	return nil
}

// removeStatus deletes st and tombstones its IRI.
func (s *Service) removeStatus(ctx context.Context, tx bun.IDB, st *Status) error {
	if _, err := tx.NewDelete().Model(st).WherePK().Exec(ctx); err != nil {
		return err
	}
	return s.addTombstone(ctx, tx, st.IRI)
}

func (s *Service) addTombstone(ctx context.Context, tx bun.IDB, iri string) error {
	_, err := tx.NewInsert().Model(&tombstone{IRI: iri, DeletedAt: s.timestamp()}).On("CONFLICT DO NOTHING").Exec(ctx)
	return err
}

// tombstoned reports whether iri was deleted.
func (s *Service) tombstoned(ctx context.Context, q bun.IDB, iri string) (bool, error) {
	n, err := q.NewSelect().Model((*tombstone)(nil)).Where("iri = ?", iri).Count(ctx)
	return n > 0, err
}

// Favourite records that actorID likes status id (again: no change), tells
// a local author, and sends a remote author a Like.
func (s *Service) Favourite(ctx context.Context, actorID, id int64) error {
	err := s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		a, err := s.localActor(ctx, tx, actorID)
		if err != nil {
			return err
		}
		st, err := s.visibleStatus(ctx, tx, actorID, id)
		if err != nil {
			return err
		}
		if st.ReblogOfID != 0 {
			return errkind.New(errkind.Invalid, "favourite the boosted status, not the boost")
		}
		fid, err := s.nextID()
		if err != nil {
			return err
		}
		f := &favourite{ID: fid, ActorID: a.ID, StatusID: st.ID, IRI: s.activityIRI(fid), CreatedAt: s.timestamp()}
		res, err := tx.NewInsert().Model(f).On("CONFLICT DO NOTHING").Exec(ctx)
		if err != nil {
			return db.MapError(err, "the favourite could not be stored")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		author, err := s.accountByID(ctx, tx, st.ActorID)
		if err != nil {
			return err
		}
		if author.Local() {
			return s.notify(ctx, tx, author.ID, NotifyFavourite, a.ID, st.ID)
		}
		act, err := s.activityWithID("Like", f.IRI, a, st.IRI)
		if err != nil {
			return err
		}
		if err := setAudience(act, []string{author.IRI}, nil); err != nil {
			return err
		}
		return s.publish(ctx, a, act)
	})
	if err != nil {
		return fmt.Errorf("actors: favourite %d by %d: %w", id, actorID, err)
	}
	return nil
}

// Unfavourite takes a favourite back (none: no change) and sends a remote
// author an Undo of the Like.
func (s *Service) Unfavourite(ctx context.Context, actorID, id int64) error {
	err := s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		a, err := s.localActor(ctx, tx, actorID)
		if err != nil {
			return err
		}
		st, err := s.statusByID(ctx, tx, id)
		if err != nil {
			return err
		}
		f := new(favourite)
		if err := tx.NewSelect().Model(f).Where("actor_id = ? AND status_id = ?", a.ID, st.ID).Scan(ctx); err != nil {
			return nil // not favourited
		}
		if _, err := tx.NewDelete().Model(f).WherePK().Exec(ctx); err != nil {
			return err
		}
		author, err := s.accountByID(ctx, tx, st.ActorID)
		if err != nil || author.Local() {
			return err
		}
		like, err := s.activityWithID("Like", f.IRI, a, st.IRI)
		if err != nil {
			return err
		}
		act, err := s.newActivity("Undo", a, like)
		if err != nil {
			return err
		}
		if err := setAudience(act, []string{author.IRI}, nil); err != nil {
			return err
		}
		return s.publish(ctx, a, act)
	})
	if err != nil {
		return fmt.Errorf("actors: unfavourite %d by %d: %w", id, actorID, err)
	}
	return nil
}

// Reblog boosts a public or unlisted status (a person may also boost
// their own private statuses, to their followers). The boost is a status of
// its own, fanned out to followers; a local author is notified and an
// Announce is published to Public, the author and the booster's followers.
// Boosting twice returns the existing boost.
func (s *Service) Reblog(ctx context.Context, actorID, id int64) (*Status, error) {
	var boost *Status
	err := s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		a, err := s.localActor(ctx, tx, actorID)
		if err != nil {
			return err
		}
		st, err := s.visibleStatus(ctx, tx, actorID, id)
		if err != nil {
			return err
		}
		if st.ReblogOfID != 0 {
			if st, err = s.visibleStatus(ctx, tx, actorID, st.ReblogOfID); err != nil {
				return err
			}
		}
		if st.Visibility == Direct || st.Visibility == Private && st.ActorID != a.ID {
			return errkind.New(errkind.Forbidden, "this status cannot be boosted")
		}
		existing := new(Status)
		if err := tx.NewSelect().Model(existing).Where("actor_id = ? AND reblog_of_id = ?", a.ID, st.ID).Scan(ctx); err == nil {
			boost = existing
			return nil
		}
		author, err := s.accountByID(ctx, tx, st.ActorID)
		if err != nil {
			return err
		}
		bid, err := s.nextID()
		if err != nil {
			return err
		}
		vis := Public
		if st.Visibility == Private {
			vis = Private
		}
		boost = &Status{
			ID: bid, IRI: s.activityIRI(bid), ActorID: a.ID, Local: true, Visibility: vis,
			ReblogOfID: st.ID, CreatedAt: s.timestamp(),
		}
		if err := s.insertStatus(ctx, tx, boost, a, nil, nil); err != nil {
			return err
		}
		if author.Local() {
			if err := s.notify(ctx, tx, author.ID, NotifyReblog, a.ID, st.ID); err != nil {
				return err
			}
		}
		act, err := s.activityWithID("Announce", boost.IRI, a, st.IRI)
		if err != nil {
			return err
		}
		to, cc := []string{streamsPublic}, []string{author.IRI, a.Followers}
		if vis == Private {
			to, cc = []string{a.Followers}, nil
		}
		if err := act.Set("published", streams.Time(boost.CreatedAt)); err != nil {
			return err
		}
		if err := setAudience(act, to, cc); err != nil {
			return err
		}
		return s.publish(ctx, a, act)
	})
	if err != nil {
		return nil, fmt.Errorf("actors: reblog %d by %d: %w", id, actorID, err)
	}
	return boost, nil
}

// Unreblog takes back actorID's boost of status id (none: no change) and
// publishes an Undo of the Announce.
func (s *Service) Unreblog(ctx context.Context, actorID, id int64) error {
	err := s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		a, err := s.localActor(ctx, tx, actorID)
		if err != nil {
			return err
		}
		boost := new(Status)
		if err := tx.NewSelect().Model(boost).Where("actor_id = ? AND reblog_of_id = ?", a.ID, id).Scan(ctx); err != nil {
			return nil // not boosted
		}
		return s.undoBoost(ctx, tx, a, boost)
	})
	if err != nil {
		return fmt.Errorf("actors: unreblog %d by %d: %w", id, actorID, err)
	}
	return nil
}

// undoBoost deletes a local boost and publishes the Undo of its Announce.
func (s *Service) undoBoost(ctx context.Context, tx bun.IDB, a *Account, boost *Status) error {
	orig, err := s.statusByID(ctx, tx, boost.ReblogOfID)
	if err != nil {
		return err
	}
	author, err := s.accountByID(ctx, tx, orig.ActorID)
	if err != nil {
		return err
	}
	if _, err := tx.NewDelete().Model(boost).WherePK().Exec(ctx); err != nil {
		return err
	}
	announce, err := s.activityWithID("Announce", boost.IRI, a, orig.IRI)
	if err != nil {
		return err
	}
	act, err := s.newActivity("Undo", a, announce)
	if err != nil {
		return err
	}
	if err := setAudience(act, []string{streamsPublic}, []string{author.IRI, a.Followers}); err != nil {
		return err
	}
	return s.publish(ctx, a, act)
}

// Bookmark saves a status viewer can see to their private bookmarks
// (again: no change). Bookmarks never federate.
func (s *Service) Bookmark(ctx context.Context, actorID, id int64) error {
	if _, err := s.localActor(ctx, s.db, actorID); err != nil {
		return fmt.Errorf("actors: bookmark %d: %w", id, err)
	}
	if _, err := s.visibleStatus(ctx, s.db, actorID, id); err != nil {
		return fmt.Errorf("actors: bookmark %d: %w", id, err)
	}
	_, err := s.db.NewInsert().Model(&bookmark{ActorID: actorID, StatusID: id, CreatedAt: s.timestamp()}).On("CONFLICT DO NOTHING").Exec(ctx)
	if err != nil {
		return fmt.Errorf("actors: bookmark %d: %w", id, db.MapError(err, "the bookmark could not be stored"))
	}
	return nil
}

// Unbookmark removes a bookmark (none: no change).
func (s *Service) Unbookmark(ctx context.Context, actorID, id int64) error {
	if _, err := s.db.NewDelete().Model((*bookmark)(nil)).Where("actor_id = ? AND status_id = ?", actorID, id).Exec(ctx); err != nil {
		return fmt.Errorf("actors: unbookmark %d: %w", id, err)
	}
	return nil
}

// Bookmarks lists actorID's bookmarked statuses, newest bookmark first;
// Page bounds apply to status ids.
func (s *Service) Bookmarks(ctx context.Context, actorID int64, p Page) ([]Status, error) {
	var out []Status
	q := s.db.NewSelect().Model(&out).
		Join("JOIN bookmarks AS bm ON bm.status_id = status.id").
		Where("bm.actor_id = ?", actorID)
	if err := p.apply(q, "status.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("actors: bookmarks of %d: %w", actorID, err)
	}
	return out, nil
}

// Pin features one of authorID's own public or unlisted statuses on their
// profile (at most MaxPins) and publishes an Add to their featured
// collection. Pinning twice is no change.
func (s *Service) Pin(ctx context.Context, authorID, id int64) error {
	err := s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		author, st, err := s.ownStatus(ctx, tx, authorID, id)
		if err != nil {
			return err
		}
		if st.ReblogOfID != 0 || st.Visibility == Private || st.Visibility == Direct {
			return errkind.New(errkind.Invalid, "only your own public or unlisted statuses can be pinned")
		}
		n, err := tx.NewSelect().Model((*pin)(nil)).Where("actor_id = ?", author.ID).Count(ctx)
		if err != nil {
			return err
		}
		if n >= MaxPins {
			return errkind.New(errkind.Invalid, fmt.Sprintf("at most %d statuses can be pinned", MaxPins))
		}
		res, err := tx.NewInsert().Model(&pin{ActorID: author.ID, StatusID: st.ID, CreatedAt: s.timestamp()}).On("CONFLICT DO NOTHING").Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return s.publishFeatured(ctx, author, st, "Add")
	})
	if err != nil {
		return fmt.Errorf("actors: pin %d: %w", id, err)
	}
	return nil
}

// Unpin takes a status off the profile and publishes a Remove.
func (s *Service) Unpin(ctx context.Context, authorID, id int64) error {
	err := s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		author, st, err := s.ownStatus(ctx, tx, authorID, id)
		if err != nil {
			return err
		}
		res, err := tx.NewDelete().Model((*pin)(nil)).Where("actor_id = ? AND status_id = ?", author.ID, st.ID).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return s.publishFeatured(ctx, author, st, "Remove")
	})
	if err != nil {
		return fmt.Errorf("actors: unpin %d: %w", id, err)
	}
	return nil
}

func (s *Service) publishFeatured(ctx context.Context, author *Account, st *Status, typ string) error {
	act, err := s.newActivity(typ, author, st.IRI)
	if err != nil {
		return err
	}
	if err := act.Set("target", streams.IRI(author.Featured)); err != nil {
		return err
	}
	if err := setAudience(act, []string{streamsPublic}, []string{author.Followers}); err != nil {
		return err
	}
	return s.publish(ctx, author, act)
}

// Pinned lists authorID's pinned statuses, newest pin first.
func (s *Service) Pinned(ctx context.Context, authorID int64) ([]Status, error) {
	var out []Status
	err := s.db.NewSelect().Model(&out).
		Join("JOIN pins AS p ON p.status_id = status.id").
		Where("p.actor_id = ?", authorID).OrderExpr("p.created_at DESC, status.id DESC").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("actors: pins of %d: %w", authorID, err)
	}
	return out, nil
}
