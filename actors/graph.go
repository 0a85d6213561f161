package actors

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/commonroom/commonroom/internal/db"
	"github.com/commonroom/commonroom/internal/errkind"
	"github.com/commonroom/commonroom/pub/transport"
	"github.com/commonroom/commonroom/streams"
)

// Follow is a follow or a follow request: a row of the follows table.
type Follow struct {
	bun.BaseModel `bun:"table:follows"`

	ID         int64 `bun:"id,pk"`
	FollowerID int64 `bun:"follower_id,notnull"`
	TargetID   int64 `bun:"target_id,notnull"`
	// IRI is the id of the Follow activity.
	IRI string `bun:"iri,notnull"`
	// Accepted is false while the request waits for the target's approval.
	Accepted  bool      `bun:"accepted,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
}

// Block is a row of the blocks table.
type Block struct {
	bun.BaseModel `bun:"table:blocks"`

	ID        int64     `bun:"id,pk"`
	ActorID   int64     `bun:"actor_id,notnull"`
	TargetID  int64     `bun:"target_id,notnull"`
	IRI       string    `bun:"iri,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
}

// Mute is a row of the mutes table. Mutes are private and never federate.
type Mute struct {
	bun.BaseModel `bun:"table:mutes"`

	ActorID  int64 `bun:"actor_id,pk"`
	TargetID int64 `bun:"target_id,pk"`
	// Notifications also hides the muted account's notifications.
	Notifications bool      `bun:"notifications,notnull"`
	CreatedAt     time.Time `bun:"created_at,notnull"`
}

// actorDomainBlock is a row of actor_domain_blocks.
type actorDomainBlock struct {
	bun.BaseModel `bun:"table:actor_domain_blocks"`

	ActorID   int64     `bun:"actor_id,pk"`
	Domain    string    `bun:"domain,pk"`
	CreatedAt time.Time `bun:"created_at,notnull"`
}

// Relationship is how one account stands to another, as Mastodon's
// relationships API reports it.
type Relationship struct {
	Following      bool // accepted follow from the account to the other
	Requested      bool // pending follow from the account to the other
	FollowedBy     bool // accepted follow from the other to the account
	RequestedBy    bool // pending follow from the other to the account
	Blocking       bool
	BlockedBy      bool
	Muting         bool
	DomainBlocking bool // the account blocks the other's domain
}

// localActor loads an account that must be local and not suspended.
func (s *Service) localActor(ctx context.Context, q bun.IDB, id int64) (*Account, error) {
	a, err := s.accountByID(ctx, q, id)
	if err != nil {
		return nil, err
	}
	if !a.Local() {
		return nil, errkind.New(errkind.Forbidden, "only local accounts can do this")
	}
	if a.Suspended() {
		return nil, errkind.New(errkind.Forbidden, "the account is suspended")
	}
	return a, nil
}

// pair loads a local actor and another account, refusing the actor itself
// and suspended targets.
func (s *Service) pair(ctx context.Context, q bun.IDB, actorID, targetID int64) (*Account, *Account, error) {
	if actorID == targetID {
		return nil, nil, errkind.New(errkind.Invalid, "an account cannot do this to itself")
	}
	a, err := s.localActor(ctx, q, actorID)
	if err != nil {
		return nil, nil, err
	}
	t, err := s.accountByID(ctx, q, targetID)
	if err != nil {
		return nil, nil, err
	}
	if t.Suspended() {
		return nil, nil, errkind.New(errkind.NotFound, "no such account")
	}
	return a, t, nil
}

// Follow makes the local account followerID follow targetID. A local
// target that is not locked is followed at once; a locked one gets a
// request. A remote target gets a Follow activity and the follow stays
// pending until its Accept arrives. Following oneself is Invalid, a second
// follow of the same account is a Conflict, and blocks either way or a
// domain block are Forbidden; nothing is stored then.
func (s *Service) Follow(ctx context.Context, followerID, targetID int64) (*Follow, error) {
	var f *Follow
	err := s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		follower, target, err := s.pair(ctx, tx, followerID, targetID)
		if err != nil {
			return err
		}
		if err := s.checkNotBlocked(ctx, tx, follower, target); err != nil {
			return err
		}
		if !target.Local() {
			if err := s.checkDomainAllowed(ctx, target.IRI); err != nil {
				return err
			}
		}
		id, err := s.nextID()
		if err != nil {
			return err
		}
		f = &Follow{
			ID: id, FollowerID: follower.ID, TargetID: target.ID, IRI: s.activityIRI(id),
			Accepted: target.Local() && !target.Locked, CreatedAt: s.timestamp(),
		}
		if _, err := tx.NewInsert().Model(f).Exec(ctx); err != nil {
			return mapGraphError(err, "already following or requested")
		}
		if target.Local() {
			typ := NotifyFollow
			if !f.Accepted {
				typ = NotifyFollowRequest
			}
			return s.notify(ctx, tx, target.ID, typ, follower.ID, 0)
		}
		act, err := s.followActivity(f, follower, target)
		if err != nil {
			return err
		}
		return s.publish(ctx, follower, act)
	})
	if err != nil {
		return nil, fmt.Errorf("actors: follow %d → %d: %w", followerID, targetID, err)
	}
	return f, nil
}

// checkNotBlocked refuses a relation between a and t when either blocks the
// other, or a blocks t's domain.
func (s *Service) checkNotBlocked(ctx context.Context, q bun.IDB, a, t *Account) error {
	n, err := q.NewSelect().Model((*Block)(nil)).
		Where("(actor_id = ? AND target_id = ?) OR (actor_id = ? AND target_id = ?)", a.ID, t.ID, t.ID, a.ID).
		Count(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		return errkind.New(errkind.Forbidden, "one of the accounts blocks the other")
	}
	if !t.Local() {
		blocked, err := s.userBlocksDomain(ctx, q, a.ID, t.Domain)
		if err != nil {
			return err
		}
		if blocked {
			return errkind.New(errkind.Forbidden, "you block this account's domain")
		}
	}
	return nil
}

// userBlocksDomain reports whether actorID blocks domain (or a parent).
func (s *Service) userBlocksDomain(ctx context.Context, q bun.IDB, actorID int64, domain string) (bool, error) {
	if domain == "" {
		return false, nil
	}
	n, err := q.NewSelect().Model((*actorDomainBlock)(nil)).
		Where("actor_id = ?", actorID).Where("domain IN (?)", bun.In(domainCandidates(domain))).Count(ctx)
	return n > 0, err
}

// domainCandidates lists host and its parent domains, without port.
func domainCandidates(domain string) []string {
	h := hostOnly(domain)
	out := []string{h}
	if isIP(h) {
		return out
	}
	for rest := h; ; {
		i := strings.IndexByte(rest, '.')
		if i < 0 {
			return out
		}
		rest = rest[i+1:]
		out = append(out, rest)
	}
}

func mapGraphError(err error, conflict string) error {
	v, ok := db.ConstraintOf(err)
	if !ok {
		return err
	}
	if v.Kind == db.Unique {
		return errkind.Wrap(errkind.Conflict, conflict, err)
	}
	if v.Kind == db.Check {
		return errkind.Wrap(errkind.Invalid, "an account cannot do this to itself", err)
	}
	return db.MapError(err, "the relation could not be stored")
}

// followActivity builds the Follow activity of f.
func (s *Service) followActivity(f *Follow, follower, target *Account) (*streams.Object, error) {
	act, err := s.activityWithID("Follow", f.IRI, follower, target.IRI)
	if err != nil {
		return nil, err
	}
	return act, setAudience(act, []string{target.IRI}, nil)
}

// followByPair loads the follow from followerID to targetID.
func (s *Service) followByPair(ctx context.Context, q bun.IDB, followerID, targetID int64) (*Follow, error) {
	f := new(Follow)
	err := q.NewSelect().Model(f).Where("follower_id = ? AND target_id = ?", followerID, targetID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errkind.Wrap(errkind.NotFound, "no such follow", err)
	}
	return f, err
}

// respond builds an Accept or Reject of follow f by the local target, for
// the remote follower, with the Follow embedded.
func (s *Service) respond(typ string, f *Follow, follower, target *Account) (*streams.Object, error) {
	follow, err := s.followActivity(f, follower, target)
	if err != nil {
		return nil, err
	}
	follow.Delete("to")
	act, err := s.newActivity(typ, target, follow)
	if err != nil {
		return nil, err
	}
	return act, setAudience(act, []string{follower.IRI}, nil)
}

// AuthorizeFollow accepts the pending request of followerID to follow the
// local account targetID; a remote follower is sent an Accept. NotFound
// when there is no pending request.
func (s *Service) AuthorizeFollow(ctx context.Context, targetID, followerID int64) error {
	err := s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		target, follower, err := s.pair(ctx, tx, targetID, followerID)
		if err != nil {
			return err
		}
		f, err := s.followByPair(ctx, tx, follower.ID, target.ID)
		if err != nil {
			return err
		}
		if f.Accepted {
			return errkind.New(errkind.NotFound, "no pending follow request")
		}
		if _, err := tx.NewUpdate().Model(f).Set("accepted = ?", true).WherePK().Exec(ctx); err != nil {
			return err
		}
		if err := s.notify(ctx, tx, target.ID, NotifyFollow, follower.ID, 0); err != nil {
			return err
		}
		if follower.Local() {
			return nil
		}
		act, err := s.respond("Accept", f, follower, target)
		if err != nil {
			return err
		}
		return s.publish(ctx, target, act)
	})
	if err != nil {
		return fmt.Errorf("actors: authorize follow %d → %d: %w", followerID, targetID, err)
	}
	return nil
}

// RejectFollow refuses the pending request of followerID; a remote
// follower is sent a Reject. NotFound when there is no pending request.
func (s *Service) RejectFollow(ctx context.Context, targetID, followerID int64) error {
	err := s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		return s.dropFollower(ctx, tx, targetID, followerID, true)
	})
	if err != nil {
		return fmt.Errorf("actors: reject follow %d → %d: %w", followerID, targetID, err)
	}
	return nil
}

// RemoveFollower removes followerID from the local account targetID's
// followers (Mastodon's "remove from followers"); a remote follower is sent
// a Reject of its Follow. NotFound when followerID does not follow.
func (s *Service) RemoveFollower(ctx context.Context, targetID, followerID int64) error {
	err := s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		return s.dropFollower(ctx, tx, targetID, followerID, false)
	})
	if err != nil {
		return fmt.Errorf("actors: remove follower %d of %d: %w", followerID, targetID, err)
	}
	return nil
}

// dropFollower deletes a pending (pending true) or accepted follow of the
// local target and sends the remote follower a Reject.
func (s *Service) dropFollower(ctx context.Context, tx bun.Tx, targetID, followerID int64, pending bool) error {
	target, follower, err := s.pair(ctx, tx, targetID, followerID)
	if err != nil {
		return err
	}
	f, err := s.followByPair(ctx, tx, follower.ID, target.ID)
	if err != nil {
		return err
	}
	if f.Accepted == pending {
		if pending {
			return errkind.New(errkind.NotFound, "no pending follow request")
		}
		return errkind.New(errkind.NotFound, "not a follower")
	}
	return s.deleteFollow(ctx, tx, f, follower, target, "Reject")
}

// deleteFollow removes f and, when the other side is remote, sends the
// activity that tells it: Reject (by the local target) or Undo (by the
// local follower). The home timeline loses the target's statuses.
func (s *Service) deleteFollow(ctx context.Context, tx bun.Tx, f *Follow, follower, target *Account, typ string) error {
	if _, err := tx.NewDelete().Model(f).WherePK().Exec(ctx); err != nil {
		return err
	}
	if err := s.unfeed(ctx, tx, follower.ID, target.ID); err != nil {
		return err
	}
	switch {
	case typ == "Reject" && !follower.Local():
		act, err := s.respond("Reject", f, follower, target)
		if err != nil {
			return err
		}
		return s.publish(ctx, target, act)
	case typ == "Undo" && !target.Local():
		follow, err := s.followActivity(f, follower, target)
		if err != nil {
			return err
		}
		act, err := s.newActivity("Undo", follower, follow)
		if err != nil {
			return err
		}
		if err := setAudience(act, []string{target.IRI}, nil); err != nil {
			return err
		}
		return s.publish(ctx, follower, act)
	}
	return nil
}

// Unfollow ends (or withdraws the request of) followerID's follow of
// targetID; a remote target is sent an Undo of the Follow. NotFound when
// there is no such follow.
func (s *Service) Unfollow(ctx context.Context, followerID, targetID int64) error {
	err := s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		follower, target, err := s.pair(ctx, tx, followerID, targetID)
		if err != nil {
			return err
		}
		f, err := s.followByPair(ctx, tx, follower.ID, target.ID)
		if err != nil {
			return err
		}
		return s.deleteFollow(ctx, tx, f, follower, target, "Undo")
	})
	if err != nil {
		return fmt.Errorf("actors: unfollow %d → %d: %w", followerID, targetID, err)
	}
	return nil
}

// severFollows removes the follows between a (local) and t both ways,
// telling a remote t as deleteFollow does.
func (s *Service) severFollows(ctx context.Context, tx bun.Tx, a, t *Account) error {
	if f, err := s.followByPair(ctx, tx, a.ID, t.ID); err == nil {
		if err := s.deleteFollow(ctx, tx, f, a, t, "Undo"); err != nil {
			return err
		}
	} else if errkind.Of(err) != errkind.NotFound {
		return err
	}
	if f, err := s.followByPair(ctx, tx, t.ID, a.ID); err == nil {
		if err := s.deleteFollow(ctx, tx, f, t, a, "Reject"); err != nil {
			return err
		}
	} else if errkind.Of(err) != errkind.NotFound {
		return err
	}
	return nil
}

// Block makes the local account actorID block targetID: follows both ways
// end, and a remote target is sent a Block. Blocking twice is a Conflict.
func (s *Service) Block(ctx context.Context, actorID, targetID int64) (*Block, error) {
	var b *Block
	err := s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		a, t, err := s.pair(ctx, tx, actorID, targetID)
		if err != nil {
			return err
		}
		id, err := s.nextID()
		if err != nil {
			return err
		}
		b = &Block{ID: id, ActorID: a.ID, TargetID: t.ID, IRI: s.activityIRI(id), CreatedAt: s.timestamp()}
		if _, err := tx.NewInsert().Model(b).Exec(ctx); err != nil {
			return mapGraphError(err, "already blocked")
		}
		if err := s.severFollows(ctx, tx, a, t); err != nil {
			return err
		}
		if t.Local() {
			return nil
		}
		act, err := s.activityWithID("Block", b.IRI, a, t.IRI)
		if err != nil {
			return err
		}
		if err := setAudience(act, []string{t.IRI}, nil); err != nil {
			return err
		}
		return s.publish(ctx, a, act)
	})
	if err != nil {
		return nil, fmt.Errorf("actors: block %d → %d: %w", actorID, targetID, err)
	}
	return b, nil
}

// Unblock lifts actorID's block of targetID; a remote target is sent an
// Undo of the Block. NotFound when there is no block.
func (s *Service) Unblock(ctx context.Context, actorID, targetID int64) error {
	err := s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		a, t, err := s.pair(ctx, tx, actorID, targetID)
		if err != nil {
			return err
		}
		b := new(Block)
		err = tx.NewSelect().Model(b).Where("actor_id = ? AND target_id = ?", a.ID, t.ID).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return errkind.Wrap(errkind.NotFound, "not blocked", err)
		}
		if err != nil {
			return err
		}
		if _, err := tx.NewDelete().Model(b).WherePK().Exec(ctx); err != nil {
			return err
		}
		if t.Local() {
			return nil
		}
		block, err := s.activityWithID("Block", b.IRI, a, t.IRI)
		if err != nil {
			return err
		}
		act, err := s.newActivity("Undo", a, block)
		if err != nil {
			return err
		}
		if err := setAudience(act, []string{t.IRI}, nil); err != nil {
			return err
		}
		return s.publish(ctx, a, act)
	})
	if err != nil {
		return fmt.Errorf("actors: unblock %d → %d: %w", actorID, targetID, err)
	}
	return nil
}

// Mute hides targetID's statuses (and, with notifications, its
// notifications) from the local account actorID. Mutes are private: nothing
// federates. Muting again updates the notifications choice.
func (s *Service) Mute(ctx context.Context, actorID, targetID int64, notifications bool) error {
	err := s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		a, t, err := s.pair(ctx, tx, actorID, targetID)
		if err != nil {
			return err
		}
		m := &Mute{ActorID: a.ID, TargetID: t.ID, Notifications: notifications, CreatedAt: s.timestamp()}
		_, err = tx.NewInsert().Model(m).On("CONFLICT (actor_id, target_id) DO UPDATE").
			Set("notifications = EXCLUDED.notifications").Exec(ctx)
		return mapGraphError(err, "already muted")
	})
	if err != nil {
		return fmt.Errorf("actors: mute %d → %d: %w", actorID, targetID, err)
	}
	return nil
}

// Unmute lifts a mute; NotFound when there is none.
func (s *Service) Unmute(ctx context.Context, actorID, targetID int64) error {
	res, err := s.db.NewDelete().Model((*Mute)(nil)).Where("actor_id = ? AND target_id = ?", actorID, targetID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("actors: unmute %d → %d: %w", actorID, targetID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("actors: unmute %d → %d: %w", actorID, targetID, errkind.New(errkind.NotFound, "not muted"))
	}
	return nil
}

// BlockDomainForUser hides everything from domain (and its subdomains)
// from the local account actorID and ends follows with accounts there,
// telling them as Unfollow and RemoveFollower do.
func (s *Service) BlockDomainForUser(ctx context.Context, actorID int64, domain string) error {
	host, err := transport.NormalizeHost(strings.TrimSpace(domain))
	if err != nil {
		return fmt.Errorf("actors: block domain %q for %d: %w", domain, actorID, errkind.Wrap(errkind.Invalid, "not a domain name", err))
	}
	err = s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		a, err := s.localActor(ctx, tx, actorID)
		if err != nil {
			return err
		}
		if host == s.origin.Host {
			return errkind.New(errkind.Invalid, "you cannot block your own server")
		}
		row := &actorDomainBlock{ActorID: a.ID, Domain: host, CreatedAt: s.timestamp()}
		if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
			return mapGraphError(err, "the domain is already blocked")
		}
		var others []Account
		err = tx.NewSelect().Model(&others).
			Where("domain = ? OR domain LIKE ? OR domain LIKE ? OR domain LIKE ?", host, host+":%", "%."+host, "%."+host+":%").
			Where("id IN (SELECT target_id FROM follows WHERE follower_id = ?) OR id IN (SELECT follower_id FROM follows WHERE target_id = ?)", a.ID, a.ID).
			Scan(ctx)
		if err != nil {
			return err
		}
		for i := range others {
			if err := s.severFollows(ctx, tx, a, &others[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("actors: block domain %q for %d: %w", host, actorID, err)
	}
	return nil
}

// UnblockDomainForUser lifts a personal domain block; NotFound when there
// is none.
func (s *Service) UnblockDomainForUser(ctx context.Context, actorID int64, domain string) error {
	host, err := transport.NormalizeHost(strings.TrimSpace(domain))
	if err != nil {
		return fmt.Errorf("actors: unblock domain %q for %d: %w", domain, actorID, errkind.Wrap(errkind.Invalid, "not a domain name", err))
	}
	res, err := s.db.NewDelete().Model((*actorDomainBlock)(nil)).Where("actor_id = ? AND domain = ?", actorID, host).Exec(ctx)
	if err != nil {
		return fmt.Errorf("actors: unblock domain %q for %d: %w", host, actorID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("actors: unblock domain %q for %d: %w", host, actorID, errkind.New(errkind.NotFound, "the domain is not blocked"))
	}
	return nil
}

// Relationship reports how actorID stands to targetID.
func (s *Service) Relationship(ctx context.Context, actorID, targetID int64) (Relationship, error) {
	var r Relationship
	var follows []Follow
	err := s.db.NewSelect().Model(&follows).
		Where("(follower_id = ? AND target_id = ?) OR (follower_id = ? AND target_id = ?)", actorID, targetID, targetID, actorID).
		Scan(ctx)
	if err != nil {
		return r, fmt.Errorf("actors: relationship %d → %d: %w", actorID, targetID, err)
	}
	for _, f := range follows {
		if f.FollowerID == actorID {
			r.Following, r.Requested = f.Accepted, !f.Accepted
		} else {
			r.FollowedBy, r.RequestedBy = f.Accepted, !f.Accepted
		}
	}
	var blocks []Block
	err = s.db.NewSelect().Model(&blocks).
		Where("(actor_id = ? AND target_id = ?) OR (actor_id = ? AND target_id = ?)", actorID, targetID, targetID, actorID).
		Scan(ctx)
	if err != nil {
		return r, fmt.Errorf("actors: relationship %d → %d: %w", actorID, targetID, err)
	}
	for _, b := range blocks {
		if b.ActorID == actorID {
			r.Blocking = true
		} else {
			r.BlockedBy = true
		}
	}
	n, err := s.db.NewSelect().Model((*Mute)(nil)).Where("actor_id = ? AND target_id = ?", actorID, targetID).Count(ctx)
	if err != nil {
		return r, fmt.Errorf("actors: relationship %d → %d: %w", actorID, targetID, err)
	}
	r.Muting = n > 0
	t, err := s.accountByID(ctx, s.db, targetID)
	if err != nil {
		return r, fmt.Errorf("actors: relationship %d → %d: %w", actorID, targetID, err)
	}
	if r.DomainBlocking, err = s.userBlocksDomain(ctx, s.db, actorID, t.Domain); err != nil {
		return r, fmt.Errorf("actors: relationship %d → %d: %w", actorID, targetID, err)
	}
	return r, nil
}

// Page selects a slice of a list ordered newest first, Mastodon style:
// items with ids below MaxID (when set) and above SinceID (when set), at
// most Limit (default 20, at most 80).
type Page struct {
	MaxID   int64
	SinceID int64
	Limit   int
}

func (p Page) limit() int {
	switch {
	case p.Limit <= 0:
		return 20
	case p.Limit > 80:
		return 80
	}
	return p.Limit
}

// apply adds p's bounds on col to q, newest first.
func (p Page) apply(q *bun.SelectQuery, col string) *bun.SelectQuery {
	if p.MaxID > 0 {
		q = q.Where(col+" < ?", p.MaxID)
	}
	if p.SinceID > 0 {
		q = q.Where(col+" > ?", p.SinceID)
	}
	return q.OrderExpr(col + " DESC").Limit(int64(p.limit()))
}

// Followers lists the accounts whose follows of id are accepted (pending
// false) or waiting (pending true), newest follow first; Page bounds apply
// to follow ids.
func (s *Service) Followers(ctx context.Context, id int64, pending bool, p Page) ([]Account, error) {
	var out []Account
	q := s.db.NewSelect().Model(&out).
		Join("JOIN follows AS f ON f.follower_id = account.id").
		Where("f.target_id = ?", id).Where("f.accepted = ?", !pending)
	if err := p.apply(q, "f.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("actors: followers of %d: %w", id, err)
	}
	return out, nil
}

// Following lists the accounts id follows (accepted), newest first.
func (s *Service) Following(ctx context.Context, id int64, p Page) ([]Account, error) {
	var out []Account
	q := s.db.NewSelect().Model(&out).
		Join("JOIN follows AS f ON f.target_id = account.id").
		Where("f.follower_id = ?", id).Where("f.accepted = ?", true)
	if err := p.apply(q, "f.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("actors: following of %d: %w", id, err)
	}
	return out, nil
}
