package actors_test

import (
	"context"
	"slices"
	"testing"

	"github.com/commonroom/commonroom/actors"
	"github.com/commonroom/commonroom/internal/errkind"
)

func TestResolveAccountAndLists(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		ada, bob := e.local(t, "ada"), e.local(t, "bob")
		zoe := e.remote(t, "far.example", "zoe", false)
		for handle, want := range map[string]int64{
			"ada": ada.ID, "@ADA@school.example": ada.ID, "acct:zoe@far.example": zoe.ID, "@zoe@FAR.example": zoe.ID,
		} {
			if a, err := e.svc.ResolveAccount(ctx, handle); err != nil || a.ID != want {
				t.Errorf("ResolveAccount(%q) = %v, %v", handle, a, err)
			}
		}
		for handle, kind := range map[string]errkind.Kind{
			"": errkind.Invalid, "@": errkind.Invalid, "nobody": errkind.NotFound, "zoe@bad host": errkind.Invalid,
			"unknown@elsewhere.example": errkind.NotFound, // no WebFinger client configured
		} {
			if _, err := e.svc.ResolveAccount(ctx, handle); errkind.Of(err) != kind {
				t.Errorf("ResolveAccount(%q): %v, want %v", handle, err, kind)
			}
		}

		if _, err := e.svc.Block(ctx, ada.ID, zoe.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Mute(ctx, ada.ID, bob.ID, false); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.BlockDomainForUser(ctx, ada.ID, "spam.example"); err != nil {
			t.Fatal(err)
		}
		if bs, _ := e.svc.Blocks(ctx, ada.ID, actors.Page{}); len(bs) != 1 || bs[0].ID != zoe.ID {
			t.Errorf("blocks %v", bs)
		}
		if ms, _ := e.svc.Mutes(ctx, ada.ID, actors.Page{}); len(ms) != 1 || ms[0].ID != bob.ID {
			t.Errorf("mutes %v", ms)
		}
		if ds, _ := e.svc.UserDomainBlocks(ctx, ada.ID); !slices.Equal(ds, []string{"spam.example"}) {
			t.Errorf("domain blocks %v", ds)
		}
		st := mustPost(t, e, bob.ID, actors.NewStatus{Text: "like this"})
		if err := e.svc.Favourite(ctx, ada.ID, st.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Unmute(ctx, ada.ID, bob.ID); err != nil {
			t.Fatal(err)
		}
		if fs, _ := e.svc.Favourites(ctx, ada.ID, actors.Page{}); !slices.Equal(statusIDs(fs), []int64{st.ID}) {
			t.Errorf("favourites %v", statusIDs(fs))
		}
	})
}
