package pub_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/commonroom/commonroom/pub"
)

var storeT0 = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

// TestMemoryStore checks MemoryStore against the Store contract, the same
// cases pub/bunstore's FederationStore is tested with, under concurrency.
func TestMemoryStore(t *testing.T) {
	ctx := context.Background()
	t.Run("inbound dedupe and claims", func(t *testing.T) {
		s := pub.NewMemoryStore()
		var stored atomic.Int64
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				if ok, err := s.RecordInbound(ctx, pub.InboundActivity{ID: "https://r.example/a/x", Actor: "u", ReceivedAt: storeT0}); err == nil && ok {
					stored.Add(1)
				}
			})
		}
		wg.Wait()
		if stored.Load() != 1 {
			t.Fatalf("stored %d times", stored.Load())
		}
		if _, err := s.RecordInbound(ctx, pub.InboundActivity{}); !errors.Is(err, pub.ErrInvalidActivity) {
			t.Errorf("empty id: %v", err)
		}
		for i := range 20 {
			_, _ = s.RecordInbound(ctx, pub.InboundActivity{ID: fmt.Sprintf("https://r.example/a/%02d", i), Actor: "u", ReceivedAt: storeT0})
		}
		var mu sync.Mutex
		seen := map[string]int{}
		for range 4 {
			wg.Go(func() {
				for {
					got, err := s.ClaimInbound(ctx, storeT0, time.Minute, 3)
					if err != nil || len(got) == 0 {
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
		if len(seen) != 21 {
			t.Fatalf("%d claimed, want 21", len(seen))
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("%s claimed %d times", id, n)
			}
		}
		if err := s.FinishInbound(ctx, "https://r.example/a/x", storeT0, "ok"); err != nil {
			t.Fatal(err)
		}
		got, _ := s.ClaimInbound(ctx, storeT0.Add(time.Minute), time.Minute, 100)
		if len(got) != 20 || got[0].ID != "https://r.example/a/00" {
			t.Errorf("after the lease lapsed: %d claimed, first %v", len(got), got)
		}
		if err := s.FinishInbound(ctx, "https://r.example/none", storeT0, "ok"); !errors.Is(err, pub.ErrNotFound) {
			t.Errorf("finish unknown: %v", err)
		}
	})
	t.Run("forwarded copies", func(t *testing.T) {
		s := pub.NewMemoryStore()
		fwd := pub.InboundActivity{ID: "https://r.example/a/1", Actor: "u", ForwardedBy: "f#k", Body: []byte("fwd")}
		own := pub.InboundActivity{ID: fwd.ID, Actor: "u", KeyID: "u#k", Body: []byte("own")}
		if ok, _ := s.RecordInbound(ctx, fwd); !ok {
			t.Fatal("not stored")
		}
		if ok, _ := s.RecordInbound(ctx, own); !ok {
			t.Error("the actor's copy did not replace the forwarded one")
		}
		if ok, _ := s.RecordInbound(ctx, fwd); ok {
			t.Error("a forwarded copy replaced the actor's")
		}
		_ = s.ForgetInbound(ctx, fwd.ID)
		if got, err := s.Inbound(ctx, fwd.ID); err != nil || string(got.Body) != "own" {
			t.Errorf("after forget: %+v %v", got, err)
		}
		fwd.ID = "https://r.example/a/2"
		_, _ = s.RecordInbound(ctx, fwd)
		_ = s.ForgetInbound(ctx, fwd.ID)
		if _, err := s.Inbound(ctx, fwd.ID); !errors.Is(err, pub.ErrNotFound) {
			t.Errorf("forgotten: %v", err)
		}
	})
	t.Run("objects and tombstones", func(t *testing.T) {
		s := pub.NewMemoryStore()
		o := pub.StoredObject{ID: "https://r.example/n/1", AttributedTo: "u", Body: []byte("{}")}
		if err := s.PutObject(ctx, o); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteObject(ctx, o.ID, "u", storeT0); err != nil {
			t.Fatal(err)
		}
		if err := s.PutObject(ctx, o); !errors.Is(err, pub.ErrGone) {
			t.Errorf("put after delete: %v", err)
		}
		if err := s.DeleteObject(ctx, "https://r.example/n/2", "u", storeT0); err != nil {
			t.Fatal(err)
		}
		if err := s.PutObject(ctx, pub.StoredObject{ID: "https://r.example/n/2"}); !errors.Is(err, pub.ErrGone) {
			t.Errorf("put of an id deleted first: %v", err)
		}
		if got, _ := s.Object(ctx, o.ID); got.Deleted.IsZero() || got.Body != nil {
			t.Errorf("tombstone: %+v", got)
		}
		if _, err := s.Object(ctx, "https://r.example/none"); !errors.Is(err, pub.ErrNotFound) {
			t.Errorf("unknown: %v", err)
		}
	})
	t.Run("follows and items", func(t *testing.T) {
		s := pub.NewMemoryStore()
		for i := range 5 {
			if err := s.PutFollow(ctx, pub.Follow{Follower: fmt.Sprintf("f%d", i), Followee: "ana", ActivityID: fmt.Sprintf("a%d", i), State: pub.FollowPending}); err != nil {
				t.Fatal(err)
			}
		}
		fl, err := s.FollowByActivity(ctx, "a3")
		if err != nil || fl.Follower != "f3" {
			t.Fatalf("by activity: %+v %v", fl, err)
		}
		fl.State = pub.FollowAccepted
		_ = s.PutFollow(ctx, fl)
		if acc, n, _ := s.Follows(ctx, pub.FollowQuery{Followee: "ana", State: pub.FollowAccepted}); n != 1 || len(acc) != 1 {
			t.Errorf("accepted: %v %d", acc, n)
		}
		if page, n, _ := s.Follows(ctx, pub.FollowQuery{Followee: "ana", Offset: 1, Limit: 2}); n != 5 || len(page) != 2 || page[0].Follower != "f3" {
			t.Errorf("page: %v %d", page, n)
		}
		if _, _, err := s.Follows(ctx, pub.FollowQuery{}); err == nil {
			t.Error("query without actor accepted")
		}
		if ok, _ := s.DeleteFollow(ctx, "f3", "ana"); !ok {
			t.Error("delete found nothing")
		}
		if err := s.PutFollow(ctx, pub.Follow{}); err == nil {
			t.Error("empty follow accepted")
		}
		for i := range 5 {
			if ok, _ := s.AddItem(ctx, "c", pub.CollectionItem{Item: fmt.Sprint(i), Public: i%2 == 0}); !ok {
				t.Fatal("not added")
			}
		}
		if ok, _ := s.AddItem(ctx, "c", pub.CollectionItem{Item: "0"}); ok {
			t.Error("added twice")
		}
		if items, n, _ := s.Items(ctx, "c", true, 0, 2); n != 3 || len(items) != 2 || items[0].Item != "4" {
			t.Errorf("public page: %v %d", items, n)
		}
		if ok, _ := s.RemoveItem(ctx, "c", "1"); !ok {
			t.Error("remove found nothing")
		}
		if ok, _ := s.HasItem(ctx, "c", "1"); ok {
			t.Error("removed item present")
		}
	})
}
