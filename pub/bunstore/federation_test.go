package bunstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/commonroom/commonroom/pub"
	"github.com/commonroom/commonroom/pub/bunstore"
	"github.com/commonroom/commonroom/pub/bunstore/bunstoretest"
)

// TestFederationStoreInboundDedupe: two processes (two connection pools)
// recording the same activity at once store it once.
func TestFederationStoreInboundDedupe(t *testing.T) {
	bunstoretest.ForEach(t, func(t *testing.T, d bunstoretest.Database) {
		ctx := context.Background()
		a, b := bunstore.NewFederationStore(d.Open(t)), bunstore.NewFederationStore(d.Open(t))
		var stored atomic.Int64
		var wg sync.WaitGroup
		for i := range 16 {
			s := a
			if i%2 == 1 {
				s = b
			}
			wg.Go(func() {
				ok, err := s.RecordInbound(ctx, pub.InboundActivity{ID: "https://r.example/a/1", Actor: "https://r.example/u", KeyID: "k", Body: []byte("{}"), ReceivedAt: t0})
				if err != nil {
					t.Error(err)
				}
				if ok {
					stored.Add(1)
				}
			})
		}
		wg.Wait()
		if stored.Load() != 1 {
			t.Fatalf("stored %d times", stored.Load())
		}
		if _, err := a.RecordInbound(ctx, pub.InboundActivity{}); !errors.Is(err, pub.ErrInvalidActivity) {
			t.Errorf("empty id: %v", err)
		}
		got, err := b.Inbound(ctx, "https://r.example/a/1")
		if err != nil || got.Actor != "https://r.example/u" || string(got.Body) != "{}" || !got.ReceivedAt.Equal(t0) {
			t.Errorf("Inbound = %+v, %v", got, err)
		}
		if _, err := a.Inbound(ctx, "https://r.example/none"); !errors.Is(err, pub.ErrNotFound) {
			t.Errorf("unknown inbound: %v", err)
		}
	})
}

// TestFederationStoreClaimInbound: claims lease each activity to one
// claimer, in order, until it is finished or its lease lapses.
func TestFederationStoreClaimInbound(t *testing.T) {
	bunstoretest.ForEach(t, func(t *testing.T, d bunstoretest.Database) {
		ctx := context.Background()
		a, b := bunstore.NewFederationStore(d.Open(t)), bunstore.NewFederationStore(d.Open(t))
		for i := range 40 {
			if _, err := a.RecordInbound(ctx, pub.InboundActivity{ID: fmt.Sprintf("https://r.example/a/%02d", i), Actor: "u", KeyID: "k", Body: []byte("{}"), ReceivedAt: t0.Add(time.Duration(i) * time.Millisecond)}); err != nil {
				t.Fatal(err)
			}
		}
		var mu sync.Mutex
		seen := map[string]int{}
		var wg sync.WaitGroup
		for i := range 8 {
			s := a
			if i%2 == 1 {
				s = b
			}
			wg.Go(func() {
				for {
					got, err := s.ClaimInbound(ctx, t0, time.Minute, 3)
					if err != nil {
						t.Error(err)
						return
					}
					if len(got) == 0 {
						return
					}
					mu.Lock()
					for _, g := range got {
						seen[g.ID]++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(seen) != 40 {
			t.Fatalf("%d activities claimed, want 40", len(seen))
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("%s claimed %d times", id, n)
			}
		}
		// Leases lapse: everything is claimable again a minute later,
		// oldest first; finished ones are not.
		if err := a.FinishInbound(ctx, "https://r.example/a/00", t0, "ok"); err != nil {
			t.Fatal(err)
		}
		got, err := b.ClaimInbound(ctx, t0.Add(time.Minute), time.Minute, 2)
		if err != nil || len(got) != 2 || got[0].ID != "https://r.example/a/01" || got[1].ID != "https://r.example/a/02" {
			t.Fatalf("claim after lapse: %v, %v", got, err)
		}
		if err := a.FinishInbound(ctx, "https://r.example/none", t0, "ok"); !errors.Is(err, pub.ErrNotFound) {
			t.Errorf("finish unknown: %v", err)
		}
		done, _ := a.Inbound(ctx, "https://r.example/a/00")
		if done.Result != "ok" || !done.ProcessedAt.Equal(t0) {
			t.Errorf("finished activity: %+v", done)
		}
	})
}

// TestFederationStoreObjects: objects are replaced by PutObject until
// tombstoned; a tombstone refuses every later PutObject (rule 22), also for
// an id first seen in a Delete.
func TestFederationStoreObjects(t *testing.T) {
	bunstoretest.ForEach(t, func(t *testing.T, d bunstoretest.Database) {
		ctx := context.Background()
		s := bunstore.NewFederationStore(d.Open(t))
		o := pub.StoredObject{ID: "https://r.example/n/1", Type: "Note", AttributedTo: "https://r.example/u", Published: t0,
			Audience: []string{"https://www.w3.org/ns/activitystreams#Public"}, Public: true, Body: []byte(`{"v":1}`), UpdatedAt: t0}
		if err := s.PutObject(ctx, o); err != nil {
			t.Fatal(err)
		}
		o.Body = []byte(`{"v":2}`)
		if err := s.PutObject(ctx, o); err != nil {
			t.Fatal(err)
		}
		got, err := s.Object(ctx, o.ID)
		if err != nil || string(got.Body) != `{"v":2}` || !got.Published.Equal(t0) || !got.Public || !slices.Equal(got.Audience, o.Audience) || got.Local {
			t.Fatalf("Object = %+v, %v", got, err)
		}
		if err := s.DeleteObject(ctx, o.ID, o.AttributedTo, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.PutObject(ctx, o); !errors.Is(err, pub.ErrGone) {
			t.Fatalf("PutObject after delete: %v, want ErrGone", err)
		}
		got, _ = s.Object(ctx, o.ID)
		if got.Deleted.IsZero() || got.Body != nil {
			t.Errorf("tombstone: %+v", got)
		}
		if err := s.DeleteObject(ctx, "https://r.example/n/2", "https://r.example/u", t0); err != nil {
			t.Fatal(err)
		}
		o.ID = "https://r.example/n/2"
		if err := s.PutObject(ctx, o); !errors.Is(err, pub.ErrGone) {
			t.Errorf("PutObject of an id deleted before it was seen: %v", err)
		}
		if _, err := s.Object(ctx, "https://r.example/none"); !errors.Is(err, pub.ErrNotFound) {
			t.Errorf("unknown object: %v", err)
		}
	})
}

// TestFederationStoreFollowsAndItems: follow upserts, lookups and paged
// listings; collection items are unique, ordered newest first, filtered
// by visibility.
func TestFederationStoreFollowsAndItems(t *testing.T) {
	bunstoretest.ForEach(t, func(t *testing.T, d bunstoretest.Database) {
		ctx := context.Background()
		s := bunstore.NewFederationStore(d.Open(t))
		const ana = "https://home.example/users/ana"
		for i := range 5 {
			if err := s.PutFollow(ctx, pub.Follow{Follower: fmt.Sprintf("https://r.example/u/%d", i), Followee: ana,
				ActivityID: fmt.Sprintf("https://r.example/f/%d", i), State: pub.FollowPending, SharedInbox: "https://r.example/inbox", CreatedAt: t0}); err != nil {
				t.Fatal(err)
			}
		}
		f, err := s.FollowByActivity(ctx, "https://r.example/f/3")
		if err != nil || f.Follower != "https://r.example/u/3" || f.State != pub.FollowPending {
			t.Fatalf("FollowByActivity = %+v, %v", f, err)
		}
		f.State = pub.FollowAccepted
		if err := s.PutFollow(ctx, f); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.GetFollow(ctx, f.Follower, ana); got.State != pub.FollowAccepted || got.SharedInbox != "https://r.example/inbox" {
			t.Errorf("after accept: %+v", got)
		}
		acc, n, err := s.Follows(ctx, pub.FollowQuery{Followee: ana, State: pub.FollowAccepted})
		if err != nil || n != 1 || len(acc) != 1 {
			t.Errorf("accepted followers: %v %d %v", acc, n, err)
		}
		all, n, err := s.Follows(ctx, pub.FollowQuery{Followee: ana, Offset: 1, Limit: 2})
		if err != nil || n != 5 || len(all) != 2 || all[0].Follower != "https://r.example/u/3" {
			t.Errorf("page of followers: %v %d %v", all, n, err)
		}
		rest, _, _ := s.Follows(ctx, pub.FollowQuery{Followee: ana, Offset: 3})
		if len(rest) != 2 {
			t.Errorf("offset without limit: %d", len(rest))
		}
		if ok, _ := s.DeleteFollow(ctx, f.Follower, ana); !ok {
			t.Error("DeleteFollow found nothing")
		}
		if _, err := s.GetFollow(ctx, f.Follower, ana); !errors.Is(err, pub.ErrNotFound) {
			t.Errorf("deleted follow: %v", err)
		}
		if _, _, err := s.Follows(ctx, pub.FollowQuery{}); err == nil {
			t.Error("a query without follower or followee succeeded")
		}

		const c = ana + "/outbox"
		for i := range 5 {
			added, err := s.AddItem(ctx, c, pub.CollectionItem{Item: fmt.Sprintf("https://home.example/a/%d", i), Public: i%2 == 0, Audience: []string{ana + "/followers"}, AddedAt: t0})
			if err != nil || !added {
				t.Fatal(added, err)
			}
		}
		if added, _ := s.AddItem(ctx, c, pub.CollectionItem{Item: "https://home.example/a/0"}); added {
			t.Error("an item was added twice")
		}
		items, total, err := s.Items(ctx, c, true, 0, 2)
		if err != nil || total != 3 || len(items) != 2 || items[0].Item != "https://home.example/a/4" || !items[0].Public {
			t.Errorf("public items: %+v %d %v", items, total, err)
		}
		items, total, _ = s.Items(ctx, c, false, 4, 10)
		if total != 5 || len(items) != 1 || items[0].Item != "https://home.example/a/0" || !slices.Equal(items[0].Audience, []string{ana + "/followers"}) {
			t.Errorf("last page: %+v %d", items, total)
		}
		if ok, _ := s.HasItem(ctx, c, "https://home.example/a/1"); !ok {
			t.Error("HasItem false")
		}
		if ok, _ := s.RemoveItem(ctx, c, "https://home.example/a/1"); !ok {
			t.Error("RemoveItem found nothing")
		}
		if ok, _ := s.HasItem(ctx, c, "https://home.example/a/1"); ok {
			t.Error("removed item still there")
		}
	})
}

// TestFederationStoreClaimOrder: activities recorded in the same
// millisecond are claimed in the order they were recorded, not by id.
func TestFederationStoreClaimOrder(t *testing.T) {
	bunstoretest.ForEach(t, func(t *testing.T, d bunstoretest.Database) {
		ctx := context.Background()
		s := bunstore.NewFederationStore(d.Open(t))
		ids := []string{"https://r.example/z", "https://r.example/m", "https://r.example/a"}
		for _, id := range ids {
			if _, err := s.RecordInbound(ctx, pub.InboundActivity{ID: id, Actor: "u", KeyID: "k", ReceivedAt: t0}); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.ClaimInbound(ctx, t0, time.Minute, 10)
		if err != nil || len(got) != 3 {
			t.Fatalf("claim: %v %v", got, err)
		}
		for i, a := range got {
			if a.ID != ids[i] {
				t.Errorf("claim %d = %s, want %s", i, a.ID, ids[i])
			}
		}
	})
}

// TestFederationStoreForwarded: a copy signed by its actor replaces a
// pending forwarded copy, never the reverse, and only forwarded copies can
// be forgotten.
func TestFederationStoreForwarded(t *testing.T) {
	bunstoretest.ForEach(t, func(t *testing.T, d bunstoretest.Database) {
		ctx := context.Background()
		s := bunstore.NewFederationStore(d.Open(t))
		fwd := pub.InboundActivity{ID: "https://r.example/a/1", Actor: "https://r.example/u", ForwardedBy: "https://f.example/u#k", Body: []byte(`{"v":"forwarded"}`), ReceivedAt: t0}
		own := pub.InboundActivity{ID: fwd.ID, Actor: fwd.Actor, KeyID: "https://r.example/u#k", Body: []byte(`{"v":"own"}`), ReceivedAt: t0}
		if ok, err := s.RecordInbound(ctx, fwd); !ok || err != nil {
			t.Fatal(ok, err)
		}
		if ok, _ := s.RecordInbound(ctx, fwd); ok {
			t.Error("a second forwarded copy was stored")
		}
		if ok, err := s.RecordInbound(ctx, own); !ok || err != nil {
			t.Fatalf("the actor's copy did not replace the forwarded one: %v %v", ok, err)
		}
		if ok, _ := s.RecordInbound(ctx, fwd); ok {
			t.Error("a forwarded copy replaced the actor's")
		}
		got, _ := s.Inbound(ctx, fwd.ID)
		if got.ForwardedBy != "" || string(got.Body) != `{"v":"own"}` || got.KeyID != own.KeyID {
			t.Errorf("record: %+v", got)
		}
		if err := s.ForgetInbound(ctx, fwd.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Inbound(ctx, fwd.ID); err != nil {
			t.Error("the actor's own copy was forgotten")
		}
		fwd.ID = "https://r.example/a/2"
		_, _ = s.RecordInbound(ctx, fwd)
		if err := s.ForgetInbound(ctx, fwd.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Inbound(ctx, fwd.ID); !errors.Is(err, pub.ErrNotFound) {
			t.Errorf("forgotten forwarded copy: %v", err)
		}
		if ok, _ := s.RecordInbound(ctx, fwd); !ok {
			t.Error("a forgotten id could not be recorded again")
		}
	})
}

// TestFederationStorePendingInbound: the backlog the inboxes bound
// (SECURITY rule 31) counts unprocessed activities only, up to the limit.
func TestFederationStorePendingInbound(t *testing.T) {
	bunstoretest.ForEach(t, func(t *testing.T, d bunstoretest.Database) {
		ctx := context.Background()
		s := bunstore.NewFederationStore(d.Open(t))
		count := func(limit int) int {
			t.Helper()
			n, err := s.PendingInbound(ctx, limit)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := count(0); n != 0 {
			t.Fatalf("empty store: %d pending", n)
		}
		for i := range 5 {
			if _, err := s.RecordInbound(ctx, pub.InboundActivity{ID: fmt.Sprintf("https://r.example/a/%d", i), Actor: "https://r.example/u", KeyID: "k", Body: []byte("{}"), ReceivedAt: t0}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.FinishInbound(ctx, "https://r.example/a/0", t0, "ok"); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct{ limit, want int }{{0, 4}, {-1, 4}, {10, 4}, {4, 4}, {3, 3}, {1, 1}} {
			if n := count(tt.limit); n != tt.want {
				t.Errorf("PendingInbound(limit %d) = %d, want %d", tt.limit, n, tt.want)
			}
		}
	})
}
