package actors_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/commonroom/commonroom/actors"
	"github.com/commonroom/commonroom/pub"
)

func TestOutboxRetriesAndDrops(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		ada := e.local(t, "ada")
		zoe := e.remote(t, "far.example", "zoe", false)
		yan := e.remote(t, "other.example", "yan", false)

		// The engine refuses the first activity for good and is down for
		// the second: the first is dropped, the second waits.
		e.pub.Err = fmt.Errorf("publish: %w", pub.ErrRejected)
		if _, err := e.svc.Follow(ctx, ada.ID, zoe.ID); err != nil {
			t.Fatal(err)
		}
		e.pub.Err = errors.New("connection refused")
		if _, err := e.svc.Follow(ctx, ada.ID, yan.ID); err != nil {
			t.Fatal(err)
		}
		if n, _ := e.svc.PendingOutbox(ctx); n != 1 {
			t.Fatalf("%d pending, want 1 (the refused one dropped)", n)
		}
		// A failing activity does not hold up later ones.
		e.pub.Err = nil
		if err := e.svc.Unfollow(ctx, ada.ID, zoe.ID); err != nil {
			t.Fatal(err)
		}
		if got := e.pub.types(); !slices.Equal(got, []string{"Undo"}) {
			t.Errorf("published %v", got)
		}
		if n, err := e.svc.FlushOutbox(ctx); n != 1 || err != nil {
			t.Errorf("FlushOutbox = %d, %v", n, err)
		}
		if got := e.pub.types(); !slices.Equal(got, []string{"Undo", "Follow"}) {
			t.Errorf("published %v", got)
		}
		// An activity that keeps failing is dropped after MaxOutboxAttempts.
		e.pub.Err = errors.New("still down")
		if err := e.svc.Unfollow(ctx, ada.ID, yan.ID); err != nil {
			t.Fatal(err)
		}
		for i := 1; i < actors.MaxOutboxAttempts; i++ {
			if _, err := e.svc.FlushOutbox(ctx); err == nil {
				t.Fatal("flush succeeded while the engine is down")
			}
		}
		if n, _ := e.svc.PendingOutbox(ctx); n != 0 {
			t.Errorf("%d pending after %d attempts", n, actors.MaxOutboxAttempts)
		}
	})
}
