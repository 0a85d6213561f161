package actors_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/commonroom/commonroom/actors"
	"github.com/commonroom/commonroom/streams"
)

// mentionIDs returns the ids of the accounts a status mentions.
func mentionIDs(tb testing.TB, e *env, statusID int64) []int64 {
	tb.Helper()
	ms, err := e.svc.Mentions(context.Background(), statusID)
	if err != nil {
		tb.Fatal(err)
	}
	var out []int64
	for _, m := range ms {
		out = append(out, m.ID)
	}
	slices.Sort(out)
	return out
}

// dismissAll dismisses every notification of account id.
func dismissAll(tb testing.TB, e *env, id int64) {
	tb.Helper()
	ctx := context.Background()
	ns, err := e.svc.Notifications(ctx, id, actors.NotificationFilter{})
	if err != nil {
		tb.Fatal(err)
	}
	for _, n := range ns {
		if err := e.svc.DismissNotification(ctx, id, n.ID); err != nil {
			tb.Fatal(err)
		}
	}
}

// tagHrefs returns the hrefs of an object's Mention tags.
func tagHrefs(o *streams.Object) []string {
	var out []string
	for _, t := range o.Objects("tag") {
		if t.Is("Mention") {
			out = append(out, t.IRI("href"))
		}
	}
	slices.Sort(out)
	return out
}

func TestEditAddsMentions(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		ada, bob, cal := e.local(t, "ada"), e.local(t, "bob"), e.local(t, "cal")
		zoe := e.remote(t, "far.example", "zoe", false)
		st := mustPost(t, e, ada.ID, actors.NewStatus{Text: "hello @bob"})
		if got := notificationTypes(t, e, bob.ID); !slices.Equal(got, []actors.NotificationType{actors.NotifyMention}) {
			t.Fatalf("bob after the post: %v", got)
		}
		// Dismissed, so that a second notification would show.
		dismissAll(t, e, bob.ID)

		if _, err := e.svc.Edit(ctx, ada.ID, st.ID, actors.EditStatus{Text: "hello @bob, @cal and @zoe@far.example"}); err != nil {
			t.Fatal(err)
		}
		want := []int64{bob.ID, cal.ID, zoe.ID}
		slices.Sort(want)
		if got := mentionIDs(t, e, st.ID); !slices.Equal(got, want) {
			t.Errorf("mentions %v, want %v", got, want)
		}
		if got := notificationTypes(t, e, cal.ID); !slices.Equal(got, []actors.NotificationType{actors.NotifyMention}) {
			t.Errorf("cal, newly mentioned: %v", got)
		}
		if got := notificationTypes(t, e, bob.ID); len(got) != 0 {
			t.Errorf("bob, mentioned before, notified again: %v", got)
		}
		upd := e.pub.last(t)
		note := upd.Object("object")
		wantTags := []string{bob.IRI, cal.IRI, zoe.IRI}
		slices.Sort(wantTags)
		if upd.Type() != "Update" || !slices.Equal(tagHrefs(note), wantTags) {
			t.Errorf("published %s with mentions %v", upd.Type(), tagHrefs(note))
		}
		for _, o := range []*streams.Object{upd, note} {
			if cc := o.IRIs("cc"); !slices.Contains(cc, zoe.IRI) || !slices.Contains(cc, cal.IRI) {
				t.Errorf("%s cc %v lacks the new mentions", o.Type(), cc)
			}
		}

		// An edit that drops the mentions keeps the audience and notifies
		// nobody.
		if _, err := e.svc.Edit(ctx, ada.ID, st.ID, actors.EditStatus{Text: "hello all"}); err != nil {
			t.Fatal(err)
		}
		if got := mentionIDs(t, e, st.ID); !slices.Equal(got, want) {
			t.Errorf("mentions after dropping them %v, want %v", got, want)
		}
		if cc := e.pub.last(t).IRIs("cc"); !slices.Contains(cc, zoe.IRI) {
			t.Errorf("cc %v: the audience shrank", cc)
		}
		if got := notificationTypes(t, e, cal.ID); len(got) != 1 {
			t.Errorf("cal's notifications after a second edit: %v", got)
		}
		if got := notificationTypes(t, e, bob.ID); len(got) != 0 {
			t.Errorf("bob's notifications after a second edit: %v", got)
		}

		// A direct status reaches whom an edit adds: addressed, in their
		// home, visible to them.
		dm := mustPost(t, e, ada.ID, actors.NewStatus{Text: "@bob secret", Visibility: actors.Direct})
		if _, err := e.svc.Status(ctx, cal.ID, dm.ID); err == nil {
			t.Fatal("cal sees a direct status before being mentioned")
		}
		if _, err := e.svc.Edit(ctx, ada.ID, dm.ID, actors.EditStatus{Text: "@bob @cal secret"}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Status(ctx, cal.ID, dm.ID); err != nil {
			t.Errorf("cal cannot see the direct status after being added: %v", err)
		}
		if h := home(t, e, cal.ID); !slices.Contains(h, dm.ID) {
			t.Errorf("cal's home %v lacks the direct status", h)
		}
		if to := e.pub.last(t).IRIs("to"); !slices.Contains(to, cal.IRI) || !slices.Contains(to, bob.IRI) {
			t.Errorf("direct Update to %v", to)
		}
		if got := notificationTypes(t, e, bob.ID); len(got) != 1 {
			t.Errorf("bob's notifications after the direct status and its edit: %v", got)
		}
	})
}

func TestReceiveUpdateAddsMentions(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		ada, bob, cal := e.local(t, "ada"), e.local(t, "bob"), e.local(t, "cal")
		zoe := e.remote(t, "far.example", "zoe", false)
		update := func(doc string) error {
			obj, err := streams.Parse([]byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			act := streams.Default().New("Update")
			act.SetID(obj.ID() + "#updates/1")
			_ = act.Set("actor", streams.IRI(zoe.IRI))
			_ = act.Set("object", streams.ObjectValue(obj))
			return e.svc.Receive(ctx, actors.Incoming{Activity: act, Actor: zoe.IRI, Object: obj})
		}
		mention := func(a *actors.Account) string {
			return fmt.Sprintf(`{"type":"Mention","href":%q,"name":"@%s"}`, a.IRI, a.Username)
		}
		id := "https://far.example/notes/1"
		if err := e.receiveCreate(t, zoe.IRI, noteJSON(id, zoe.IRI, "hi @bob", `,"tag":[`+mention(bob)+`]`)); err != nil {
			t.Fatal(err)
		}
		st, err := e.svc.StatusByIRI(ctx, 0, id)
		if err != nil {
			t.Fatal(err)
		}
		dismissAll(t, e, bob.ID)
		if err := update(noteJSON(id, zoe.IRI, "hi @bob and @cal", `,"tag":[`+mention(bob)+`,`+mention(cal)+`]`)); err != nil {
			t.Fatal(err)
		}
		want := []int64{bob.ID, cal.ID}
		slices.Sort(want)
		if got := mentionIDs(t, e, st.ID); !slices.Equal(got, want) {
			t.Errorf("mentions %v, want %v", got, want)
		}
		if got := notificationTypes(t, e, cal.ID); !slices.Equal(got, []actors.NotificationType{actors.NotifyMention}) {
			t.Errorf("cal, newly mentioned: %v", got)
		}
		if got := notificationTypes(t, e, bob.ID); len(got) != 0 {
			t.Errorf("bob, mentioned before, notified again: %v", got)
		}
		// The same edit again changes nothing.
		if err := update(noteJSON(id, zoe.IRI, "hi @bob and @cal", `,"tag":[`+mention(bob)+`,`+mention(cal)+`]`)); err != nil {
			t.Fatal(err)
		}
		if got := notificationTypes(t, e, cal.ID); len(got) != 1 {
			t.Errorf("cal after a repeated edit: %v", got)
		}

		// An edit of a note never stored is ignored, unless it mentions
		// one of our people: then it is stored and they hear of it.
		calls := e.fetch.count()
		if err := update(noteJSON("https://far.example/notes/2", zoe.IRI, "nobody here", "")); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.StatusByIRI(ctx, 0, "https://far.example/notes/2"); err == nil || e.fetch.count() != calls {
			t.Errorf("an unrelated edit of an unknown note was stored or fetched (%d fetches)", e.fetch.count()-calls)
		}
		if err := update(noteJSON("https://far.example/notes/3", zoe.IRI, "now @ada", `,"tag":[`+mention(ada)+`]`)); err != nil {
			t.Fatal(err)
		}
		got, err := e.svc.StatusByIRI(ctx, ada.ID, "https://far.example/notes/3")
		if err != nil {
			t.Fatalf("the edit that mentions ada was not stored: %v", err)
		}
		if n := notificationTypes(t, e, ada.ID); !slices.Equal(n, []actors.NotificationType{actors.NotifyMention}) || !slices.Equal(mentionIDs(t, e, got.ID), []int64{ada.ID}) {
			t.Errorf("ada's notifications %v", n)
		}
	})
}
