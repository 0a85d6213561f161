package pub

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// ErrGone: the object was deleted; its id is tombstoned and cannot be
// stored again (SECURITY rule 22).
var ErrGone = errors.New("pub: object is gone")

// InboundActivity is an activity accepted by an inbox: verified, recorded
// once by id, and processed in the background.
type InboundActivity struct {
	// ID is the activity's id, the deduplication key.
	ID string
	// Type is the activity's first type term, for logs.
	Type string
	// Actor is the verified actor (the signer's owner).
	Actor string
	// KeyID is the key the request was signed with.
	KeyID string
	// ForwardedBy is, for an activity forwarded by a third server (signed
	// by someone other than its actor), the key id it was signed with; the
	// activity is then fetched from its origin before it is processed.
	// "" when the actor signed it.
	ForwardedBy string
	// Recipient is the local actor whose personal inbox received the
	// activity; "" for the shared inbox.
	Recipient string
	// Body is the exact body received.
	Body []byte
	// ReceivedAt is when the inbox accepted it.
	ReceivedAt time.Time
	// ProcessedAt is when processing finished; zero while pending.
	ProcessedAt time.Time
	// Result says how processing ended ("ok", or why it was dropped).
	Result string
}

// InboxStore records inbound activities, deduplicated by id, and hands
// unprocessed ones to the background workers. Implementations must be safe
// for concurrent use and, for shared databases, across processes: the
// deduplication must rest on a unique key, not on process memory.
type InboxStore interface {
	// RecordInbound stores a unless an activity with its id is already
	// recorded; it reports whether a was stored. A copy signed by its actor
	// (ForwardedBy "") replaces a forwarded copy not yet processed.
	RecordInbound(ctx context.Context, a InboundActivity) (bool, error)
	// ForgetInbound removes a forwarded activity that its origin did not
	// confirm, so that a copy signed by its actor can be recorded later.
	// Activities signed by their actor are never removed.
	ForgetInbound(ctx context.Context, id string) error
	// ClaimInbound leases up to limit unprocessed activities whose lease
	// lapsed (or never existed), oldest first, until now+lease, so that
	// one worker processes each; an activity whose worker died is claimed
	// again after the lease.
	ClaimInbound(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]InboundActivity, error)
	// FinishInbound marks the activity processed with a result.
	FinishInbound(ctx context.Context, id string, at time.Time, result string) error
	// Inbound returns a recorded activity, or an error wrapping ErrNotFound.
	Inbound(ctx context.Context, id string) (InboundActivity, error)
}

// StoredObject is an object or activity kept by the engine: remote objects
// received in Create, Update and Announce, and everything local actors
// publish.
type StoredObject struct {
	// ID is the object's id.
	ID string
	// Type is its first type term.
	Type string
	// AttributedTo is its author (attributedTo, or actor for an activity).
	AttributedTo string
	// Published is its published time; zero when it has none.
	Published time.Time
	// Audience lists to, cc, bto, bcc and audience, public IRI included.
	Audience []string
	// Public is set when the audience includes the public collection.
	Public bool
	// Local is set for objects of local actors.
	Local bool
	// Body is the document as served (bto and bcc removed).
	Body []byte
	// UpdatedAt is when it was last stored.
	UpdatedAt time.Time
	// Deleted is when it was tombstoned; zero while it lives.
	Deleted time.Time
}

// ObjectStore keeps objects and their tombstones. Implementations must be
// safe for concurrent use.
type ObjectStore interface {
	// Object returns the object with id, tombstoned ones included
	// (Deleted set), or an error wrapping ErrNotFound.
	Object(ctx context.Context, id string) (StoredObject, error)
	// PutObject inserts or replaces o, atomically refusing with ErrGone
	// when its id is tombstoned.
	PutObject(ctx context.Context, o StoredObject) error
	// DeleteObject tombstones id at at, creating the tombstone when the id
	// is unknown, so that a later Create cannot bring it back. attributedTo
	// is recorded for a new tombstone.
	DeleteObject(ctx context.Context, id, attributedTo string, at time.Time) error
}

// FollowState is the state of a follow relation.
type FollowState uint8

// Follow states.
const (
	// FollowPending: requested, waiting for the followee's Accept.
	FollowPending FollowState = iota + 1
	// FollowAccepted: in force.
	FollowAccepted
)

// String returns "pending" or "accepted".
func (s FollowState) String() string {
	switch s {
	case FollowPending:
		return "pending"
	case FollowAccepted:
		return "accepted"
	}
	return fmt.Sprintf("FollowState(%d)", uint8(s))
}

// Follow is one follow relation, in either direction (a remote actor
// following a local one, or a local actor following a remote one).
type Follow struct {
	// Follower follows Followee; one of them is a local actor.
	Follower string
	Followee string
	// ActivityID is the id of the Follow activity.
	ActivityID string
	// State is pending until the followee accepts.
	State FollowState
	// Inbox and SharedInbox are the follower's, recorded so that
	// delivering to followers needs no fetch.
	Inbox       string
	SharedInbox string
	// CreatedAt is when the relation was first recorded.
	CreatedAt time.Time
}

// FollowStore keeps follow relations, one per (follower, followee).
// Implementations must be safe for concurrent use.
type FollowStore interface {
	// PutFollow inserts or replaces the relation (follower, followee).
	PutFollow(ctx context.Context, f Follow) error
	// GetFollow returns the relation, or an error wrapping ErrNotFound.
	GetFollow(ctx context.Context, follower, followee string) (Follow, error)
	// FollowByActivity returns the relation made by the Follow activity
	// with this id, or an error wrapping ErrNotFound.
	FollowByActivity(ctx context.Context, activityID string) (Follow, error)
	// DeleteFollow removes the relation; it reports whether one existed.
	DeleteFollow(ctx context.Context, follower, followee string) (bool, error)
	// Follows lists relations, newest first: those of followee when
	// follower is "", or those of follower when followee is "", in state
	// (0: any), skipping offset and returning at most limit (<= 0: all),
	// with the total count matching.
	Follows(ctx context.Context, q FollowQuery) ([]Follow, int, error)
}

// FollowQuery selects relations for [FollowStore.Follows]: exactly one of
// Follower and Followee is set.
type FollowQuery struct {
	// Follower or Followee selects the relations of one actor.
	Follower, Followee string
	// State filters by state; 0 means any.
	State FollowState
	// Offset and Limit page the result (Limit <= 0: no limit).
	Offset, Limit int
}

// CollectionItem is one member of a stored collection (an outbox, liked,
// featured, likes, shares, replies).
type CollectionItem struct {
	// Item is the member's IRI.
	Item string
	// Public marks items anonymous readers may see.
	Public bool
	// Audience lists who may see a non-public item.
	Audience []string
	// AddedAt is when it was added.
	AddedAt time.Time
}

// CollectionStore keeps ordered collections of IRIs, each item at most
// once. Implementations must be safe for concurrent use.
type CollectionStore interface {
	// AddItem appends item to collection unless present; it reports
	// whether it was added.
	AddItem(ctx context.Context, collection string, item CollectionItem) (bool, error)
	// RemoveItem removes item; it reports whether it was present.
	RemoveItem(ctx context.Context, collection, item string) (bool, error)
	// Items returns items newest first, skipping offset, at most limit
	// (<= 0: all), only public ones when publicOnly, with the total count
	// under the same filter.
	Items(ctx context.Context, collection string, publicOnly bool, offset, limit int) ([]CollectionItem, int, error)
	// HasItem reports whether item is in collection.
	HasItem(ctx context.Context, collection, item string) (bool, error)
}

// Store is everything the federation layer stores. [MemoryStore] and
// pub/bunstore's FederationStore implement it.
type Store interface {
	InboxStore
	ObjectStore
	FollowStore
	CollectionStore
}

// MemoryStore is a concurrency-safe in-memory [Store], for tests, demos
// and single-process programs that need no durability. Its zero value is
// not usable; call NewMemoryStore.
type MemoryStore struct {
	mu          sync.Mutex
	seq         int64
	inbound     map[string]*memInbound
	objects     map[string]StoredObject
	follows     map[[2]string]memFollow
	collections map[string]map[string]memItem
}

type memInbound struct {
	a          InboundActivity
	seq        int64
	leaseUntil time.Time
}

type memFollow struct {
	f   Follow
	seq int64
}

type memItem struct {
	it  CollectionItem
	seq int64
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{
		inbound:     map[string]*memInbound{},
		objects:     map[string]StoredObject{},
		follows:     map[[2]string]memFollow{},
		collections: map[string]map[string]memItem{},
	}
}

func (m *MemoryStore) next() int64 { m.seq++; return m.seq }

// RecordInbound implements InboxStore.
func (m *MemoryStore) RecordInbound(_ context.Context, a InboundActivity) (bool, error) {
	if a.ID == "" {
		return false, fmt.Errorf("pub: record inbound: %w: no id", ErrInvalidActivity)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	a.Body = append([]byte(nil), a.Body...)
	if old, ok := m.inbound[a.ID]; ok {
		if old.a.ForwardedBy == "" || a.ForwardedBy != "" || !old.a.ProcessedAt.IsZero() {
			return false, nil
		}
		old.a = a // the actor's own copy replaces a forwarded one
		return true, nil
	}
	m.inbound[a.ID] = &memInbound{a: a, seq: m.next()}
	return true, nil
}

// ForgetInbound implements InboxStore.
func (m *MemoryStore) ForgetInbound(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.inbound[id]; ok && r.a.ForwardedBy != "" {
		delete(m.inbound, id)
	}
	return nil
}

// ClaimInbound implements InboxStore.
func (m *MemoryStore) ClaimInbound(_ context.Context, now time.Time, lease time.Duration, limit int) ([]InboundActivity, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var due []*memInbound
	for _, r := range m.inbound {
		if r.a.ProcessedAt.IsZero() && !r.leaseUntil.After(now) {
			due = append(due, r)
		}
	}
	slices.SortFunc(due, func(a, b *memInbound) int { return cmp.Compare(a.seq, b.seq) })
	if limit > 0 && len(due) > limit {
		due = due[:limit]
	}
	out := make([]InboundActivity, len(due))
	for i, r := range due {
		r.leaseUntil = now.Add(lease)
		out[i] = r.a
	}
	return out, nil
}

// FinishInbound implements InboxStore.
func (m *MemoryStore) FinishInbound(_ context.Context, id string, at time.Time, result string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.inbound[id]
	if !ok {
		return fmt.Errorf("pub: finish inbound %s: %w", id, ErrNotFound)
	}
	r.a.ProcessedAt, r.a.Result = at, result
	return nil
}

// Inbound implements InboxStore.
func (m *MemoryStore) Inbound(_ context.Context, id string) (InboundActivity, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.inbound[id]
	if !ok {
		return InboundActivity{}, fmt.Errorf("pub: inbound %s: %w", id, ErrNotFound)
	}
	return r.a, nil
}

var _ InboxBacklogCounter = (*MemoryStore)(nil)

// PendingInbound implements InboxBacklogCounter.
func (m *MemoryStore) PendingInbound(_ context.Context, limit int) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, r := range m.inbound {
		if r.a.ProcessedAt.IsZero() {
			n++
			if n == limit {
				break
			}
		}
	}
	return n, nil
}

// InboundCount returns how many activities were recorded, for tests.
func (m *MemoryStore) InboundCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.inbound)
}

// Object implements ObjectStore.
func (m *MemoryStore) Object(_ context.Context, id string) (StoredObject, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.objects[id]
	if !ok {
		return StoredObject{}, fmt.Errorf("pub: object %s: %w", id, ErrNotFound)
	}
	return o, nil
}

// PutObject implements ObjectStore.
func (m *MemoryStore) PutObject(_ context.Context, o StoredObject) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.objects[o.ID]; ok && !old.Deleted.IsZero() {
		return fmt.Errorf("pub: put object %s: %w", o.ID, ErrGone)
	}
	o.Body = append([]byte(nil), o.Body...)
	o.Audience = slices.Clone(o.Audience)
	o.Deleted = time.Time{}
	m.objects[o.ID] = o
	return nil
}

// DeleteObject implements ObjectStore.
func (m *MemoryStore) DeleteObject(_ context.Context, id, attributedTo string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.objects[id]
	if !ok {
		o = StoredObject{ID: id, Type: "Tombstone", AttributedTo: attributedTo}
	}
	if o.Deleted.IsZero() {
		o.Deleted = at
	}
	o.Body, o.UpdatedAt = nil, at
	m.objects[id] = o
	return nil
}

// PutFollow implements FollowStore.
func (m *MemoryStore) PutFollow(_ context.Context, f Follow) error {
	if f.Follower == "" || f.Followee == "" {
		return errors.New("pub: put follow: empty follower or followee")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	k := [2]string{f.Follower, f.Followee}
	old, ok := m.follows[k]
	seq := old.seq
	if !ok {
		seq = m.next()
	}
	m.follows[k] = memFollow{f: f, seq: seq}
	return nil
}

// GetFollow implements FollowStore.
func (m *MemoryStore) GetFollow(_ context.Context, follower, followee string) (Follow, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.follows[[2]string{follower, followee}]
	if !ok {
		return Follow{}, fmt.Errorf("pub: follow %s → %s: %w", follower, followee, ErrNotFound)
	}
	return r.f, nil
}

// FollowByActivity implements FollowStore.
func (m *MemoryStore) FollowByActivity(_ context.Context, activityID string) (Follow, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.follows {
		if r.f.ActivityID == activityID {
			return r.f, nil
		}
	}
	return Follow{}, fmt.Errorf("pub: follow %s: %w", activityID, ErrNotFound)
}

// DeleteFollow implements FollowStore.
func (m *MemoryStore) DeleteFollow(_ context.Context, follower, followee string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := [2]string{follower, followee}
	_, ok := m.follows[k]
	delete(m.follows, k)
	return ok, nil
}

// Follows implements FollowStore.
func (m *MemoryStore) Follows(_ context.Context, q FollowQuery) ([]Follow, int, error) {
	if (q.Follower == "") == (q.Followee == "") {
		return nil, 0, errors.New("pub: follows: set exactly one of Follower and Followee")
	}
	m.mu.Lock()
	var all []memFollow
	for _, r := range m.follows {
		if (q.Follower != "" && r.f.Follower != q.Follower) || (q.Followee != "" && r.f.Followee != q.Followee) {
			continue
		}
		if q.State != 0 && r.f.State != q.State {
			continue
		}
		all = append(all, r)
	}
	m.mu.Unlock()
	slices.SortFunc(all, func(a, b memFollow) int { return cmp.Compare(b.seq, a.seq) })
	out := make([]Follow, 0, len(all))
	for _, r := range page(all, q.Offset, q.Limit) {
		out = append(out, r.f)
	}
	return out, len(all), nil
}

func page[T any](s []T, offset, limit int) []T {
	if offset >= len(s) {
		return nil
	}
	s = s[max(offset, 0):]
	if limit > 0 && len(s) > limit {
		s = s[:limit]
	}
	return s
}

// AddItem implements CollectionStore.
func (m *MemoryStore) AddItem(_ context.Context, collection string, it CollectionItem) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.collections[collection]
	if c == nil {
		c = map[string]memItem{}
		m.collections[collection] = c
	}
	if _, ok := c[it.Item]; ok {
		return false, nil
	}
	it.Audience = slices.Clone(it.Audience)
	c[it.Item] = memItem{it: it, seq: m.next()}
	return true, nil
}

// RemoveItem implements CollectionStore.
func (m *MemoryStore) RemoveItem(_ context.Context, collection, item string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.collections[collection]
	_, ok := c[item]
	delete(c, item)
	return ok, nil
}

// Items implements CollectionStore.
func (m *MemoryStore) Items(_ context.Context, collection string, publicOnly bool, offset, limit int) ([]CollectionItem, int, error) {
	m.mu.Lock()
	var all []memItem
	for _, r := range m.collections[collection] {
		if !publicOnly || r.it.Public {
			all = append(all, r)
		}
	}
	m.mu.Unlock()
	slices.SortFunc(all, func(a, b memItem) int { return cmp.Compare(b.seq, a.seq) })
	out := make([]CollectionItem, 0, len(all))
	for _, r := range page(all, offset, limit) {
		out = append(out, r.it)
	}
	return out, len(all), nil
}

// HasItem implements CollectionStore.
func (m *MemoryStore) HasItem(_ context.Context, collection, item string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.collections[collection][item]
	return ok, nil
}
