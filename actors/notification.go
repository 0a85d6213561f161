package actors

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/commonroom/commonroom/internal/db"
	"github.com/commonroom/commonroom/internal/errkind"
)

// NotificationType says what a notification is about (Mastodon's names).
type NotificationType string

// The notification types.
const (
	NotifyMention       NotificationType = "mention"
	NotifyFollow        NotificationType = "follow"
	NotifyFollowRequest NotificationType = "follow_request"
	NotifyFavourite     NotificationType = "favourite"
	NotifyReblog        NotificationType = "reblog"
	NotifyUpdate        NotificationType = "update"
)

// Notification is a row of the notifications table.
type Notification struct {
	bun.BaseModel `bun:"table:notifications"`

	ID          int64            `bun:"id,pk"`
	ActorID     int64            `bun:"actor_id,notnull"` // the recipient
	Type        NotificationType `bun:"type,notnull"`
	FromActorID int64            `bun:"from_actor_id,notnull"`
	StatusID    int64            `bun:"status_id,nullzero"`
	CreatedAt   time.Time        `bun:"created_at,notnull"`
}

// notify records a notification for the local account recipient, unless
// the recipient mutes (with notifications), blocks or domain-blocks the
// sender, the sender is suspended, or the sender is silenced (alone or by
// domain) and the recipient does not follow them. The same event twice
// records one notification.
func (s *Service) notify(ctx context.Context, tx bun.IDB, recipient int64, typ NotificationType, from, statusID int64) error {
	if recipient == from {
		return nil
	}
	sender, err := s.accountByID(ctx, tx, from)
	if err != nil {
		return err
	}
	if sender.Suspended() {
		return nil
	}
	hidden, err := tx.NewSelect().TableExpr("mutes").
		Where("actor_id = ? AND target_id = ? AND notifications = ?", recipient, from, true).Count(ctx)
	if err != nil {
		return err
	}
	blocked, err := tx.NewSelect().TableExpr("blocks").
		Where("(actor_id = ? AND target_id = ?) OR (actor_id = ? AND target_id = ?)", recipient, from, from, recipient).Count(ctx)
	if err != nil {
		return err
	}
	if hidden+blocked > 0 {
		return nil
	}
	if blocks, err := s.userBlocksDomain(ctx, tx, recipient, sender.Domain); err != nil || blocks {
		return err
	}
	silenced, err := s.silenced(ctx, sender)
	if err != nil {
		return err
	}
	if silenced {
		n, err := tx.NewSelect().TableExpr("follows").
			Where("follower_id = ? AND target_id = ? AND accepted = ?", recipient, from, true).Count(ctx)
		if err != nil || n == 0 {
			return err
		}
	}
	id, err := s.nextID()
	if err != nil {
		return err
	}
	n := &Notification{ID: id, ActorID: recipient, Type: typ, FromActorID: from, StatusID: statusID, CreatedAt: s.timestamp()}
	if _, err := tx.NewInsert().Model(n).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
		return db.MapError(err, "notification could not be stored")
	}
	return nil
}

// silenced reports whether a is silenced, itself or by its domain.
func (s *Service) silenced(ctx context.Context, a *Account) (bool, error) {
	if a.Silenced() {
		return true, nil
	}
	if a.Local() {
		return false, nil
	}
	b, err := s.DomainBlockFor(ctx, a.Domain)
	if err != nil {
		return false, err
	}
	return b != nil && b.Severity != SeverityNoop, nil
}

// NotificationFilter narrows Notifications.
type NotificationFilter struct {
	Page
	// Types, when set, keeps only these types.
	Types []NotificationType
}

// Notifications lists the local account id's notifications, newest first.
func (s *Service) Notifications(ctx context.Context, id int64, f NotificationFilter) ([]Notification, error) {
	var out []Notification
	q := s.db.NewSelect().Model(&out).Where("actor_id = ?", id)
	if len(f.Types) > 0 {
		q = q.Where("type IN (?)", bun.In(f.Types))
	}
	if err := f.apply(q, "id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("actors: notifications of %d: %w", id, err)
	}
	return out, nil
}

// DismissNotification deletes one of id's notifications; NotFound when it
// is not theirs.
func (s *Service) DismissNotification(ctx context.Context, id, notificationID int64) error {
	res, err := s.db.NewDelete().Model((*Notification)(nil)).Where("id = ? AND actor_id = ?", notificationID, id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("actors: dismiss notification %d: %w", notificationID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("actors: dismiss notification %d: %w", notificationID, errkind.New(errkind.NotFound, "no such notification"))
	}
	return nil
}

// Timeline names a timeline that has a read marker.
type Timeline string

// The timelines with markers.
const (
	TimelineHome          Timeline = "home"
	TimelineNotifications Timeline = "notifications"
)

// Marker is how far a person has read a timeline.
type Marker struct {
	bun.BaseModel `bun:"table:markers"`

	ActorID    int64     `bun:"actor_id,pk"`
	Timeline   Timeline  `bun:"timeline,pk"`
	LastReadID int64     `bun:"last_read_id,notnull"`
	Version    int64     `bun:"version,notnull"`
	UpdatedAt  time.Time `bun:"updated_at,notnull"`
}

// SetMarker records that id has read timeline up to lastReadID; each save
// bumps the marker's version.
func (s *Service) SetMarker(ctx context.Context, id int64, timeline Timeline, lastReadID int64) (*Marker, error) {
	if timeline != TimelineHome && timeline != TimelineNotifications {
		return nil, fmt.Errorf("actors: marker: %w", errkind.New(errkind.Invalid, "timeline must be home or notifications"))
	}
	if lastReadID <= 0 {
		return nil, fmt.Errorf("actors: marker: %w", errkind.New(errkind.Invalid, "last read id must be positive"))
	}
	m := &Marker{ActorID: id, Timeline: timeline, LastReadID: lastReadID, UpdatedAt: s.timestamp()}
	_, err := s.db.NewInsert().Model(m).
		On("CONFLICT (actor_id, timeline) DO UPDATE").
		Set("last_read_id = EXCLUDED.last_read_id").
		Set("updated_at = EXCLUDED.updated_at").
		Set("version = markers.version + 1").
		Returning("version").
		Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("actors: marker: %w", db.MapError(err, "marker could not be stored"))
	}
	return m, nil
}

// Markers returns id's read markers by timeline.
func (s *Service) Markers(ctx context.Context, id int64) (map[Timeline]Marker, error) {
	var ms []Marker
	if err := s.db.NewSelect().Model(&ms).Where("actor_id = ?", id).Scan(ctx); err != nil {
		return nil, fmt.Errorf("actors: markers of %d: %w", id, err)
	}
	out := make(map[Timeline]Marker, len(ms))
	for _, m := range ms {
		out[m.Timeline] = m
	}
	return out, nil
}

// unfeed removes from id's home timeline what came from author.
func (s *Service) unfeed(ctx context.Context, tx bun.IDB, id, author int64) error {
	_, err := tx.NewDelete().TableExpr("home_feed").Where("actor_id = ? AND author_id = ?", id, author).Exec(ctx)
	return err
}
