package bunstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/commonroom/commonroom/pub"
)

// FederationStore is the bun implementation of [pub.Store] on SQLite and
// PostgreSQL: inbound activities deduplicated by a primary key on their id
// (so several processes agree), objects with tombstones, follows, and
// collections. Its tables come from migration 0100 of [Migrations]. It is
// safe for concurrent use, and several processes may share one database:
// inbound claims use FOR UPDATE SKIP LOCKED on PostgreSQL and the single
// writer lock on SQLite.
type FederationStore struct {
	db *bun.DB
	pg bool
}

var _ pub.Store = (*FederationStore)(nil)

// NewFederationStore returns a FederationStore over db, whose tables must
// have been migrated.
func NewFederationStore(db *bun.DB) *FederationStore {
	return &FederationStore{db: db, pg: db.Dialect().Name() == dialect.PG}
}

// exec runs a statement with bound parameters (? placeholders, rewritten
// to $n on PostgreSQL). Unlike bun's NewRaw, which formats the arguments
// into the SQL text, the statement text stays small and constant, so the
// database does not parse a kilobyte-long literal body on every insert.
func (s *FederationStore) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s.pg {
		var b strings.Builder
		n := 0
		for _, r := range query {
			if r == '?' {
				n++
				b.WriteString("$" + strconv.Itoa(n))
				continue
			}
			b.WriteRune(r)
		}
		query = b.String()
	}
	return s.db.DB.ExecContext(ctx, query, args...)
}

type inboundRow struct {
	Seq         int64  `bun:"seq"`
	ID          string `bun:"id"`
	Type        string `bun:"type"`
	Actor       string `bun:"actor"`
	KeyID       string `bun:"key_id"`
	ForwardedBy string `bun:"forwarded_by"`
	Recipient   string `bun:"recipient"`
	Body        []byte `bun:"body"`
	ReceivedAt  int64  `bun:"received_at"`
	ProcessedAt *int64 `bun:"processed_at"`
	Result      string `bun:"result"`
}

const inboundColumns = "id, type, actor, key_id, forwarded_by, recipient, body, received_at, processed_at, result"

func (r inboundRow) activity() pub.InboundActivity {
	a := pub.InboundActivity{
		ID: r.ID, Type: r.Type, Actor: r.Actor, KeyID: r.KeyID, ForwardedBy: r.ForwardedBy, Recipient: r.Recipient,
		Body: r.Body, ReceivedAt: time.UnixMilli(r.ReceivedAt), Result: r.Result,
	}
	if r.ProcessedAt != nil {
		a.ProcessedAt = time.UnixMilli(*r.ProcessedAt)
	}
	return a
}

// RecordInbound implements [pub.InboxStore] with one INSERT ... ON
// CONFLICT on the id's primary key.
func (s *FederationStore) RecordInbound(ctx context.Context, a pub.InboundActivity) (bool, error) {
	if a.ID == "" {
		return false, fmt.Errorf("bunstore: record inbound: %w: no id", pub.ErrInvalidActivity)
	}
	body := a.Body
	if body == nil {
		body = []byte{}
	}
	// A copy signed by its actor replaces a forwarded copy not yet
	// processed; anything else with a known id is a duplicate.
	const upgrade = ` ON CONFLICT (id) DO UPDATE SET type = excluded.type, actor = excluded.actor,
key_id = excluded.key_id, forwarded_by = excluded.forwarded_by, recipient = excluded.recipient, body = excluded.body
WHERE pub_inbound.forwarded_by <> '' AND excluded.forwarded_by = '' AND pub_inbound.processed_at IS NULL`
	q := `INSERT INTO pub_inbound (id, type, actor, key_id, forwarded_by, recipient, body, received_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)` + upgrade
	if !s.pg {
		// PostgreSQL numbers rows from a sequence; SQLite, with its
		// single writer, from the largest number so far.
		q = `INSERT INTO pub_inbound (id, type, actor, key_id, forwarded_by, recipient, body, received_at, seq)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, COALESCE((SELECT MAX(seq) FROM pub_inbound), 0) + 1)` + upgrade
	}
	res, err := s.exec(ctx, q, a.ID, a.Type, a.Actor, a.KeyID, a.ForwardedBy, a.Recipient, body, ms(a.ReceivedAt))
	if err != nil {
		return false, fmt.Errorf("bunstore: record inbound %s: %w", a.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("bunstore: record inbound %s: %w", a.ID, err)
	}
	return n == 1, nil
}

// writeTx runs fn in a transaction that holds SQLite's write lock from its
// first statement (see Store.writeTx).
func (s *FederationStore) writeTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if !s.pg {
			if _, err := tx.ExecContext(ctx, "UPDATE pub_inbound SET lease_until = lease_until WHERE 0 = 1"); err != nil {
				return fmt.Errorf("taking the write lock: %w", err)
			}
		}
		return fn(ctx, tx)
	})
}

// ClaimInbound implements [pub.InboxStore]: in one transaction it reads the
// oldest unleased pending activities in the order they were recorded (on
// PostgreSQL with FOR UPDATE SKIP LOCKED) and leases them.
func (s *FederationStore) ClaimInbound(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]pub.InboundActivity, error) {
	if limit <= 0 {
		return nil, nil
	}
	var out []pub.InboundActivity
	err := s.writeTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		q := "SELECT id FROM pub_inbound WHERE processed_at IS NULL AND lease_until <= ? ORDER BY seq LIMIT ?"
		if s.pg {
			q += " FOR UPDATE SKIP LOCKED"
		}
		var ids []string
		if err := tx.NewRaw(q, ms(now), limit).Scan(ctx, &ids); err != nil {
			return fmt.Errorf("reading due activities: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		var rows []inboundRow
		if err := tx.NewRaw("UPDATE pub_inbound SET lease_until = ? WHERE id IN (?) RETURNING seq, "+inboundColumns,
			ms(now.Add(lease)), bun.In(ids)).Scan(ctx, &rows); err != nil {
			return fmt.Errorf("leasing %d activities: %w", len(ids), err)
		}
		// RETURNING follows no particular order.
		slices.SortFunc(rows, func(a, b inboundRow) int { return cmp.Compare(a.Seq, b.Seq) })
		for _, r := range rows {
			out = append(out, r.activity())
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bunstore: claim inbound: %w", err)
	}
	return out, nil
}

var _ pub.InboxBacklogCounter = (*FederationStore)(nil)

// PendingInbound implements [pub.InboxBacklogCounter]: it counts at most
// limit unprocessed activities over the pending index.
func (s *FederationStore) PendingInbound(ctx context.Context, limit int) (int, error) {
	q := "SELECT COUNT(*) FROM pub_inbound WHERE processed_at IS NULL"
	args := []any{}
	if limit > 0 {
		q = "SELECT COUNT(*) FROM (SELECT 1 FROM pub_inbound WHERE processed_at IS NULL LIMIT ?) AS pending"
		args = append(args, limit)
	}
	var n int
	if err := s.db.NewRaw(q, args...).Scan(ctx, &n); err != nil {
		return 0, fmt.Errorf("bunstore: pending inbound: %w", err)
	}
	return n, nil
}

// ForgetInbound implements [pub.InboxStore].
func (s *FederationStore) ForgetInbound(ctx context.Context, id string) error {
	if _, err := s.db.NewRaw("DELETE FROM pub_inbound WHERE id = ? AND forwarded_by <> ''", id).Exec(ctx); err != nil {
		return fmt.Errorf("bunstore: forget inbound %s: %w", id, err)
	}
	return nil
}

// FinishInbound implements [pub.InboxStore].
func (s *FederationStore) FinishInbound(ctx context.Context, id string, at time.Time, result string) error {
	res, err := s.exec(ctx, "UPDATE pub_inbound SET processed_at = ?, result = ? WHERE id = ?", ms(at), result, id)
	if err != nil {
		return fmt.Errorf("bunstore: finish inbound %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("bunstore: finish inbound %s: %w", id, pub.ErrNotFound)
	}
	return nil
}

// Inbound implements [pub.InboxStore].
func (s *FederationStore) Inbound(ctx context.Context, id string) (pub.InboundActivity, error) {
	var rows []inboundRow
	if err := s.db.NewRaw("SELECT "+inboundColumns+" FROM pub_inbound WHERE id = ?", id).Scan(ctx, &rows); err != nil {
		return pub.InboundActivity{}, fmt.Errorf("bunstore: inbound %s: %w", id, err)
	}
	if len(rows) == 0 {
		return pub.InboundActivity{}, fmt.Errorf("bunstore: inbound %s: %w", id, pub.ErrNotFound)
	}
	return rows[0].activity(), nil
}

type objectRow struct {
	ID           string `bun:"id"`
	Type         string `bun:"type"`
	AttributedTo string `bun:"attributed_to"`
	Published    *int64 `bun:"published"`
	Audience     string `bun:"audience"`
	Public       bool   `bun:"public"`
	Local        bool   `bun:"local"`
	Body         []byte `bun:"body"`
	UpdatedAt    int64  `bun:"updated_at"`
	DeletedAt    *int64 `bun:"deleted_at"`
}

const objectColumns = "id, type, attributed_to, published, audience, public, local, body, updated_at, deleted_at"

func (r objectRow) object() (pub.StoredObject, error) {
	o := pub.StoredObject{
		ID: r.ID, Type: r.Type, AttributedTo: r.AttributedTo, Public: r.Public, Local: r.Local,
		Body: r.Body, UpdatedAt: time.UnixMilli(r.UpdatedAt),
	}
	if r.Published != nil {
		o.Published = time.UnixMilli(*r.Published).UTC()
	}
	if r.DeletedAt != nil {
		o.Deleted = time.UnixMilli(*r.DeletedAt)
		o.Body = nil
	}
	if err := json.Unmarshal([]byte(r.Audience), &o.Audience); err != nil {
		return o, fmt.Errorf("audience of %s: %w", r.ID, err)
	}
	return o, nil
}

func audienceJSON(a []string) string {
	if a == nil {
		a = []string{}
	}
	b, _ := json.Marshal(a)
	return string(b)
}

func optMS(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	v := t.UnixMilli()
	return &v
}

// Object implements [pub.ObjectStore].
func (s *FederationStore) Object(ctx context.Context, id string) (pub.StoredObject, error) {
	var rows []objectRow
	if err := s.db.NewRaw("SELECT "+objectColumns+" FROM pub_objects WHERE id = ?", id).Scan(ctx, &rows); err != nil {
		return pub.StoredObject{}, fmt.Errorf("bunstore: object %s: %w", id, err)
	}
	if len(rows) == 0 {
		return pub.StoredObject{}, fmt.Errorf("bunstore: object %s: %w", id, pub.ErrNotFound)
	}
	o, err := rows[0].object()
	if err != nil {
		return o, fmt.Errorf("bunstore: object: %w", err)
	}
	return o, nil
}

// PutObject implements [pub.ObjectStore]: one upsert whose update is
// conditional on the row not being tombstoned.
func (s *FederationStore) PutObject(ctx context.Context, o pub.StoredObject) error {
	body := o.Body
	if body == nil {
		body = []byte{}
	}
	res, err := s.exec(ctx, `INSERT INTO pub_objects (id, type, attributed_to, published, audience, public, local, body, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET type = excluded.type, attributed_to = excluded.attributed_to,
published = excluded.published, audience = excluded.audience, public = excluded.public,
local = excluded.local, body = excluded.body, updated_at = excluded.updated_at
WHERE pub_objects.deleted_at IS NULL`,
		o.ID, o.Type, o.AttributedTo, optMS(o.Published), audienceJSON(o.Audience), o.Public, o.Local, body, ms(o.UpdatedAt))
	if err != nil {
		return fmt.Errorf("bunstore: put object %s: %w", o.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("bunstore: put object %s: %w", o.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("bunstore: put object %s: %w", o.ID, pub.ErrGone)
	}
	return nil
}

// DeleteObject implements [pub.ObjectStore].
func (s *FederationStore) DeleteObject(ctx context.Context, id, attributedTo string, at time.Time) error {
	if _, err := s.db.NewRaw(`INSERT INTO pub_objects (id, type, attributed_to, audience, public, local, body, updated_at, deleted_at)
VALUES (?, 'Tombstone', ?, '[]', ?, ?, NULL, ?, ?)
ON CONFLICT (id) DO UPDATE SET body = NULL, updated_at = excluded.updated_at,
deleted_at = COALESCE(pub_objects.deleted_at, excluded.deleted_at)`,
		id, attributedTo, false, false, ms(at), ms(at)).Exec(ctx); err != nil {
		return fmt.Errorf("bunstore: delete object %s: %w", id, err)
	}
	return nil
}

type followRow struct {
	Follower    string `bun:"follower"`
	Followee    string `bun:"followee"`
	ActivityID  string `bun:"activity_id"`
	State       int    `bun:"state"`
	Inbox       string `bun:"inbox"`
	SharedInbox string `bun:"shared_inbox"`
	CreatedAt   int64  `bun:"created_at"`
}

const followColumns = "follower, followee, activity_id, state, inbox, shared_inbox, created_at"

func (r followRow) follow() pub.Follow {
	return pub.Follow{
		Follower: r.Follower, Followee: r.Followee, ActivityID: r.ActivityID, State: pub.FollowState(r.State),
		Inbox: r.Inbox, SharedInbox: r.SharedInbox, CreatedAt: time.UnixMilli(r.CreatedAt),
	}
}

// PutFollow implements [pub.FollowStore].
func (s *FederationStore) PutFollow(ctx context.Context, f pub.Follow) error {
	if f.Follower == "" || f.Followee == "" {
		return errors.New("bunstore: put follow: empty follower or followee")
	}
	if _, err := s.db.NewRaw(`INSERT INTO pub_follows (`+followColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (follower, followee) DO UPDATE SET activity_id = excluded.activity_id, state = excluded.state,
inbox = excluded.inbox, shared_inbox = excluded.shared_inbox`,
		f.Follower, f.Followee, f.ActivityID, int(f.State), f.Inbox, f.SharedInbox, ms(f.CreatedAt)).Exec(ctx); err != nil {
		return fmt.Errorf("bunstore: put follow %s → %s: %w", f.Follower, f.Followee, err)
	}
	return nil
}

func (s *FederationStore) oneFollow(ctx context.Context, where string, args ...any) (pub.Follow, error) {
	var rows []followRow
	if err := s.db.NewRaw("SELECT "+followColumns+" FROM pub_follows WHERE "+where+" ORDER BY seq DESC LIMIT 1", args...).Scan(ctx, &rows); err != nil {
		return pub.Follow{}, err
	}
	if len(rows) == 0 {
		return pub.Follow{}, pub.ErrNotFound
	}
	return rows[0].follow(), nil
}

// GetFollow implements [pub.FollowStore].
func (s *FederationStore) GetFollow(ctx context.Context, follower, followee string) (pub.Follow, error) {
	f, err := s.oneFollow(ctx, "follower = ? AND followee = ?", follower, followee)
	if err != nil {
		return f, fmt.Errorf("bunstore: follow %s → %s: %w", follower, followee, err)
	}
	return f, nil
}

// FollowByActivity implements [pub.FollowStore].
func (s *FederationStore) FollowByActivity(ctx context.Context, activityID string) (pub.Follow, error) {
	f, err := s.oneFollow(ctx, "activity_id = ?", activityID)
	if err != nil {
		return f, fmt.Errorf("bunstore: follow %s: %w", activityID, err)
	}
	return f, nil
}

// DeleteFollow implements [pub.FollowStore].
func (s *FederationStore) DeleteFollow(ctx context.Context, follower, followee string) (bool, error) {
	res, err := s.db.NewRaw("DELETE FROM pub_follows WHERE follower = ? AND followee = ?", follower, followee).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("bunstore: delete follow %s → %s: %w", follower, followee, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// Follows implements [pub.FollowStore].
func (s *FederationStore) Follows(ctx context.Context, q pub.FollowQuery) ([]pub.Follow, int, error) {
	if (q.Follower == "") == (q.Followee == "") {
		return nil, 0, errors.New("bunstore: follows: set exactly one of Follower and Followee")
	}
	where, args := "followee = ?", []any{q.Followee}
	if q.Follower != "" {
		where, args = "follower = ?", []any{q.Follower}
	}
	if q.State != 0 {
		where += " AND state = ?"
		args = append(args, int(q.State))
	}
	total := -1 // unpaged: the rows are the count
	if q.Offset > 0 || q.Limit > 0 {
		if err := s.db.NewRaw("SELECT COUNT(*) FROM pub_follows WHERE "+where, args...).Scan(ctx, &total); err != nil {
			return nil, 0, fmt.Errorf("bunstore: count follows: %w", err)
		}
	}
	query := "SELECT " + followColumns + " FROM pub_follows WHERE " + where + " ORDER BY seq DESC"
	query, args = limitOffset(query, args, q.Offset, q.Limit)
	var rows []followRow
	if err := s.db.NewRaw(query, args...).Scan(ctx, &rows); err != nil {
		return nil, 0, fmt.Errorf("bunstore: follows: %w", err)
	}
	out := make([]pub.Follow, len(rows))
	for i, r := range rows {
		out[i] = r.follow()
	}
	if total < 0 {
		total = len(out)
	}
	return out, total, nil
}

func limitOffset(query string, args []any, offset, limit int) (string, []any) {
	if limit > 0 {
		query += " LIMIT ?"
		args = append(args, limit)
	} else if offset > 0 {
		// SQLite needs a LIMIT before OFFSET; this one reads the same on
		// PostgreSQL.
		query += " LIMIT 9223372036854775807"
	}
	if offset > 0 {
		query += " OFFSET ?"
		args = append(args, offset)
	}
	return query, args
}

type itemRow struct {
	Item     string `bun:"item"`
	Public   bool   `bun:"public"`
	Audience string `bun:"audience"`
	AddedAt  int64  `bun:"added_at"`
}

// AddItem implements [pub.CollectionStore].
func (s *FederationStore) AddItem(ctx context.Context, collection string, it pub.CollectionItem) (bool, error) {
	res, err := s.db.NewRaw(`INSERT INTO pub_collection_items (collection, item, public, audience, added_at)
VALUES (?, ?, ?, ?, ?) ON CONFLICT (collection, item) DO NOTHING`,
		collection, it.Item, it.Public, audienceJSON(it.Audience), ms(it.AddedAt)).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("bunstore: add %s to %s: %w", it.Item, collection, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// RemoveItem implements [pub.CollectionStore].
func (s *FederationStore) RemoveItem(ctx context.Context, collection, item string) (bool, error) {
	res, err := s.db.NewRaw("DELETE FROM pub_collection_items WHERE collection = ? AND item = ?", collection, item).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("bunstore: remove %s from %s: %w", item, collection, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// Items implements [pub.CollectionStore].
func (s *FederationStore) Items(ctx context.Context, collection string, publicOnly bool, offset, limit int) ([]pub.CollectionItem, int, error) {
	where, args := "collection = ?", []any{collection}
	if publicOnly {
		where += " AND public = ?"
		args = append(args, true)
	}
	var total int
	if err := s.db.NewRaw("SELECT COUNT(*) FROM pub_collection_items WHERE "+where, args...).Scan(ctx, &total); err != nil {
		return nil, 0, fmt.Errorf("bunstore: count %s: %w", collection, err)
	}
	query, args := limitOffset("SELECT item, public, audience, added_at FROM pub_collection_items WHERE "+where+" ORDER BY seq DESC", args, offset, limit)
	var rows []itemRow
	if err := s.db.NewRaw(query, args...).Scan(ctx, &rows); err != nil {
		return nil, 0, fmt.Errorf("bunstore: items of %s: %w", collection, err)
	}
	out := make([]pub.CollectionItem, len(rows))
	for i, r := range rows {
		out[i] = pub.CollectionItem{Item: r.Item, Public: r.Public, AddedAt: time.UnixMilli(r.AddedAt)}
		if err := json.Unmarshal([]byte(r.Audience), &out[i].Audience); err != nil {
			return nil, 0, fmt.Errorf("bunstore: items of %s: audience: %w", collection, err)
		}
	}
	return out, total, nil
}

// HasItem implements [pub.CollectionStore].
func (s *FederationStore) HasItem(ctx context.Context, collection, item string) (bool, error) {
	var n int
	if err := s.db.NewRaw("SELECT COUNT(*) FROM pub_collection_items WHERE collection = ? AND item = ?", collection, item).Scan(ctx, &n); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("bunstore: has %s in %s: %w", item, collection, err)
	}
	return n > 0, nil
}
