package actors_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/commonroom/commonroom/actors"
	"github.com/commonroom/commonroom/internal/errkind"
	"github.com/commonroom/commonroom/streams"
)

// The tests below check, at the actors layer, the SECURITY.md rules whose
// outcome this package decides. The signature and transport rules are
// pub's and are tested there.

// Rule 11: an inline object its origin did not confirm is never stored.
func TestSecurity11_InlineObjectNotTrusted(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		zoe := e.remote(t, "far.example", "zoe", false)
		// Not vouched for, and its origin does not serve it: dropped.
		act, _ := streams.Parse([]byte(fmt.Sprintf(`{"id":"https://far.example/c/1","type":"Create","actor":%q,
"object":{"id":"https://good.example/notes/1","type":"Note","attributedTo":"https://good.example/users/alice","content":"forged"}}`, zoe.IRI)))
		err := e.svc.Receive(ctx, actors.Incoming{Activity: act, Actor: zoe.IRI})
		if errkind.Of(err) != errkind.NotFound {
			t.Errorf("err = %v", err)
		}
		if n := count(t, e.db, "statuses"); n != 0 {
			t.Errorf("%d statuses stored", n)
		}
	})
}

// Rule 21: the same Create delivered several times at once is stored once,
// notifies once and is put into each home timeline once.
func TestSecurity21_DuplicateDelivery(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		ada := e.local(t, "ada")
		zoe := e.remote(t, "far.example", "zoe", false)
		f, _ := e.svc.Follow(ctx, ada.ID, zoe.ID)
		e.receive(t, zoe.IRI, fmt.Sprintf(`{"id":"https://far.example/a/1","type":"Accept","actor":%q,"object":%q}`, zoe.IRI, f.IRI))
		note := noteJSON("https://far.example/notes/1", zoe.IRI, "hi @ada", fmt.Sprintf(`,"tag":[{"type":"Mention","href":%q}]`, ada.IRI))
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for range 4 {
			wg.Go(func() { errs <- e.receiveCreate(t, zoe.IRI, note) })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("a delivery failed: %v", err)
			}
		}
		for table, want := range map[string]int{"statuses": 1, "notifications": 1, "home_feed": 1} {
			if n := count(t, e.db, table); n != want {
				t.Errorf("%s: %d rows, want %d", table, n, want)
			}
		}
	})
}

// Rule 22: Delete then Create of the same object: never visible, also not
// through a later fetch (a boost of it).
func TestSecurity22_DeleteBeforeCreate(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.local(t, "ada")
		zoe := e.remote(t, "far.example", "zoe", false)
		yan := e.remote(t, "other.example", "yan", false)
		id := "https://far.example/notes/1"
		e.fetch.put(id, noteJSON(id, zoe.IRI, "zombie", ""))
		e.receive(t, zoe.IRI, fmt.Sprintf(`{"id":"https://far.example/d/1","type":"Delete","actor":%q,"object":%q}`, zoe.IRI, id))
		if err := e.receiveCreate(t, zoe.IRI, noteJSON(id, zoe.IRI, "zombie", "")); errkind.Of(err) != errkind.Gone {
			t.Errorf("Create after Delete: %v", err)
		}
		e.receive(t, yan.IRI, fmt.Sprintf(`{"id":"https://other.example/b/1","type":"Announce","actor":%q,"object":%q}`, yan.IRI, id))
		if n := count(t, e.db, "statuses"); n != 0 {
			t.Errorf("%d statuses", n)
		}
		// A Delete by another origin does not tombstone someone else's IRI.
		other := "https://good.example/notes/2"
		e.receive(t, zoe.IRI, fmt.Sprintf(`{"id":"https://far.example/d/2","type":"Delete","actor":%q,"object":%q}`, zoe.IRI, other))
		if n, _ := e.db.NewSelect().Table("tombstones").Where("iri = ?", other).Count(ctx); n != 0 {
			t.Error("a foreign Delete tombstoned another server's object")
		}
	})
}

// Rule 23: illegal updates leave the note unchanged (also covered in
// TestReceiveUpdateDelete for attributedTo and published).
func TestSecurity23_UpdateBySomeoneElse(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		zoe := e.remote(t, "far.example", "zoe", false)
		mal := e.remote(t, "evil.example", "mal", false)
		id := "https://far.example/notes/1"
		if err := e.receiveCreate(t, zoe.IRI, noteJSON(id, zoe.IRI, "original", "")); err != nil {
			t.Fatal(err)
		}
		obj, _ := streams.Parse([]byte(noteJSON(id, zoe.IRI, "hijacked", "")))
		act := streams.Default().New("Update")
		act.SetID("https://evil.example/u/1")
		_ = act.Set("actor", streams.IRI(mal.IRI))
		_ = act.Set("object", streams.ObjectValue(obj))
		if err := e.svc.Receive(ctx, actors.Incoming{Activity: act, Actor: mal.IRI, Object: obj}); errkind.Of(err) != errkind.Forbidden {
			t.Errorf("err = %v", err)
		}
		if st, _ := e.svc.StatusByIRI(ctx, 0, id); !strings.Contains(st.Content, "original") {
			t.Errorf("content %q", st.Content)
		}
	})
}

// Rule 32: a suspended remote actor's activities are dropped except
// Delete, Undo, Update and Reject, and boosts of its posts never surface.
func TestSecurity32_SuspendedActor(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		ada, mod := e.local(t, "ada"), e.moderator(t, "mod")
		zoe := e.remote(t, "far.example", "zoe", false)
		if err := e.svc.Moderate(ctx, mod.ID, zoe.ID, actors.Suspend); err != nil {
			t.Fatal(err)
		}
		st := mustPost(t, e, ada.ID, actors.NewStatus{Text: "hello"})
		for _, body := range []string{
			fmt.Sprintf(`{"id":"https://far.example/f/1","type":"Follow","actor":%q,"object":%q}`, zoe.IRI, ada.IRI),
			fmt.Sprintf(`{"id":"https://far.example/l/1","type":"Like","actor":%q,"object":%q}`, zoe.IRI, st.IRI),
			fmt.Sprintf(`{"id":"https://far.example/b/1","type":"Announce","actor":%q,"object":%q}`, zoe.IRI, st.IRI),
			fmt.Sprintf(`{"id":"https://far.example/k/1","type":"Block","actor":%q,"object":%q}`, zoe.IRI, ada.IRI),
		} {
			e.receive(t, zoe.IRI, body)
		}
		if err := e.receiveCreate(t, zoe.IRI, noteJSON("https://far.example/n/1", zoe.IRI, "x", "")); err != nil {
			t.Fatal(err)
		}
		for _, table := range []string{"follows", "favourites", "blocks", "notifications"} {
			if n := count(t, e.db, table); n != 0 {
				t.Errorf("%s: %d rows from a suspended actor", table, n)
			}
		}
		if n := count(t, e.db, "statuses"); n != 1 {
			t.Errorf("%d statuses", n)
		}
	})
}
