package actors_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/commonroom/commonroom/actors"
	"github.com/commonroom/commonroom/internal/errkind"
	"github.com/commonroom/commonroom/streams"
)

func statusIDs(ss []actors.Status) []int64 {
	out := make([]int64, len(ss))
	for i, s := range ss {
		out[i] = s.ID
	}
	return out
}

func mustPost(tb testing.TB, e *env, author int64, ns actors.NewStatus) *actors.Status {
	tb.Helper()
	st, err := e.svc.Post(context.Background(), author, ns)
	if err != nil {
		tb.Fatalf("Post(%q): %v", ns.Text, err)
	}
	return st
}

func mustFollow(tb testing.TB, e *env, from, to int64) {
	tb.Helper()
	if _, err := e.svc.Follow(context.Background(), from, to); err != nil {
		tb.Fatalf("Follow: %v", err)
	}
}

func home(tb testing.TB, e *env, id int64) []int64 {
	tb.Helper()
	ss, err := e.svc.Home(context.Background(), id, actors.Page{})
	if err != nil {
		tb.Fatal(err)
	}
	return statusIDs(ss)
}

func TestPost(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		ada, bob, cal := e.local(t, "ada"), e.local(t, "bob"), e.local(t, "cal")
		zoe := e.remote(t, "far.example", "zoe", false)
		mustFollow(t, e, bob.ID, ada.ID)
		e.pub.reset()

		st := mustPost(t, e, ada.ID, actors.NewStatus{
			Text: "Hello @bob and @zoe@far.example, see https://ex.example/a?b=1&c=2 #Maths! @nobody", SpoilerText: "school", Language: "en",
		})
		wantHTML := `<p>Hello <span class="h-card"><a href="https://school.example/@bob" class="u-url mention" rel="nofollow noreferrer noopener">@<span>bob</span></a></span> and`
		if !strings.HasPrefix(st.Content, `<p>Hello <span class="h-card"><a href="https://school.example/@bob" class="u-url mention"`) {
			t.Errorf("content %s\nwant prefix %s", st.Content, wantHTML)
		}
		for _, want := range []string{`href="https://school.example/tags/maths"`, `#<span>Maths</span></a>!`, `href="https://ex.example/a?b=1&amp;c=2"`, "@nobody"} {
			if !strings.Contains(st.Content, want) {
				t.Errorf("content lacks %q: %s", want, st.Content)
			}
		}
		if !st.Sensitive || st.Visibility != actors.Public || st.IRI != ada.IRI+fmt.Sprintf("/statuses/%d", st.ID) {
			t.Errorf("status %+v", st)
		}
		create := e.pub.last(t)
		note := create.Object("object")
		if create.Type() != "Create" || note.Type() != "Note" || note.ID() != st.IRI || note.IRI("attributedTo") != ada.IRI ||
			note.String("summary") != "school" || note.LangMap("contentMap")["en"] != st.Content {
			t.Errorf("published %s of %s", create.Type(), note.ID())
		}
		if to, cc := note.IRIs("to"), note.IRIs("cc"); !slices.Equal(to, []string{streams.PublicIRI}) ||
			!slices.Equal(cc, []string{ada.Followers, bob.IRI, zoe.IRI}) || !slices.Equal(create.IRIs("cc"), cc) {
			t.Errorf("to %v cc %v", to, cc)
		}
		var tags []string
		for _, tag := range note.Objects("tag") {
			tags = append(tags, tag.Type()+" "+tag.String("name")+" "+tag.IRI("href"))
		}
		wantTags := []string{"Mention @bob@school.example " + bob.IRI, "Mention @zoe@far.example " + zoe.IRI, "Hashtag #maths https://school.example/tags/maths"}
		if !slices.Equal(tags, wantTags) {
			t.Errorf("tags %q\nwant %q", tags, wantTags)
		}
		if got := notificationTypes(t, e, bob.ID); !slices.Contains(got, actors.NotifyMention) {
			t.Errorf("bob not notified: %v", got)
		}
		if h := home(t, e, bob.ID); !slices.Equal(h, []int64{st.ID}) {
			t.Errorf("bob's home %v", h)
		}
		if h := home(t, e, ada.ID); !slices.Equal(h, []int64{st.ID}) {
			t.Errorf("ada's home %v", h)
		}
		if c, _ := e.svc.Counts(ctx, ada.ID); c.Statuses != 1 {
			t.Errorf("ada's counts %+v", c)
		}
		if h := home(t, e, cal.ID); len(h) != 0 {
			t.Errorf("cal's home %v", h)
		}
		for _, local := range []bool{true, false} {
			pub, err := e.svc.PublicTimeline(ctx, cal.ID, local, actors.Page{})
			if err != nil || !slices.Equal(statusIDs(pub), []int64{st.ID}) {
				t.Errorf("public(local=%t) %v, %v", local, statusIDs(pub), err)
			}
		}
		tagged, err := e.svc.TagTimeline(ctx, 0, "#MATHS", false, actors.Page{})
		if err != nil || !slices.Equal(statusIDs(tagged), []int64{st.ID}) {
			t.Errorf("tag timeline %v, %v", statusIDs(tagged), err)
		}
	})
}

func TestPostAddressing(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ada, bob := e.local(t, "ada"), e.local(t, "bob")
		tests := []struct {
			vis    actors.Visibility
			to, cc []string
		}{
			{actors.Public, []string{streams.PublicIRI}, []string{ada.Followers, bob.IRI}},
			{actors.Unlisted, []string{ada.Followers}, []string{streams.PublicIRI, bob.IRI}},
			{actors.Private, []string{ada.Followers}, []string{bob.IRI}},
			{actors.Direct, []string{bob.IRI}, nil},
		}
		for _, tt := range tests {
			t.Run(string(tt.vis), func(t *testing.T) {
				mustPost(t, e, ada.ID, actors.NewStatus{Text: "hi @bob", Visibility: tt.vis})
				note := e.pub.last(t).Object("object")
				if !slices.Equal(note.IRIs("to"), tt.to) || !slices.Equal(note.IRIs("cc"), tt.cc) {
					t.Errorf("to %v cc %v, want %v %v", note.IRIs("to"), note.IRIs("cc"), tt.to, tt.cc)
				}
			})
		}
	})
}

func TestPostRefusesBadInput(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		ada, bob := e.local(t, "ada"), e.local(t, "bob")
		secret := mustPost(t, e, bob.ID, actors.NewStatus{Text: "followers only", Visibility: actors.Private})
		e.pub.reset()
		tests := []struct {
			name string
			ns   actors.NewStatus
			kind errkind.Kind
		}{
			{"empty", actors.NewStatus{Text: "  \n "}, errkind.Invalid},
			{"oversized", actors.NewStatus{Text: strings.Repeat("é", 501)}, errkind.Invalid},
			{"oversized with warning", actors.NewStatus{Text: strings.Repeat("a", 490), SpoilerText: strings.Repeat("b", 11)}, errkind.Invalid},
			{"bad visibility", actors.NewStatus{Text: "x", Visibility: "friends"}, errkind.Invalid},
			{"bad language", actors.NewStatus{Text: "x", Language: "english!"}, errkind.Invalid},
			{"unknown reply target", actors.NewStatus{Text: "x", InReplyToID: 42}, errkind.NotFound},
			{"reply to a status one cannot see", actors.NewStatus{Text: "x", InReplyToID: secret.ID}, errkind.NotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := count(t, e.db, "statuses")
				_, err := e.svc.Post(ctx, ada.ID, tt.ns)
				if errkind.Of(err) != tt.kind {
					t.Fatalf("err = %v, want %v", err, tt.kind)
				}
				if count(t, e.db, "statuses") != before || len(e.pub.types()) != 0 {
					t.Error("something was stored or published")
				}
			})
		}
		if _, err := e.svc.Post(ctx, ada.ID, actors.NewStatus{Text: strings.Repeat("a", 500)}); err != nil {
			t.Errorf("500 characters refused: %v", err)
		}
	})
}

func TestThreadsEditsDeletes(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		ada, bob, cal := e.local(t, "ada"), e.local(t, "bob"), e.local(t, "cal")
		root := mustPost(t, e, ada.ID, actors.NewStatus{Text: "root"})
		reply := mustPost(t, e, bob.ID, actors.NewStatus{Text: "@ada reply", InReplyToID: root.ID})
		leaf := mustPost(t, e, ada.ID, actors.NewStatus{Text: "@bob leaf", InReplyToID: reply.ID})
		hidden := mustPost(t, e, cal.ID, actors.NewStatus{Text: "@bob direct", InReplyToID: reply.ID, Visibility: actors.Direct})
		if reply.Conversation != root.Conversation || leaf.InReplyToIRI != reply.IRI {
			t.Errorf("thread links: %+v", leaf)
		}
		if n := e.pub.last(t).Object("object"); n.IRI("inReplyTo") != reply.IRI {
			t.Errorf("inReplyTo %q", n.IRI("inReplyTo"))
		}
		th, err := e.svc.Context(ctx, ada.ID, reply.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(statusIDs(th.Ancestors), []int64{root.ID}) || !slices.Equal(statusIDs(th.Descendants), []int64{leaf.ID}) {
			t.Errorf("context for ada: %v / %v", statusIDs(th.Ancestors), statusIDs(th.Descendants))
		}
		th, _ = e.svc.Context(ctx, bob.ID, reply.ID)
		if !slices.Equal(statusIDs(th.Descendants), []int64{leaf.ID, hidden.ID}) {
			t.Errorf("context for bob: %v", statusIDs(th.Descendants))
		}

		// Edits keep the history and announce an Update; boosters hear of it.
		if _, err := e.svc.Reblog(ctx, cal.ID, root.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Edit(ctx, ada.ID, root.ID, actors.EditStatus{Text: "root, edited #new"}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Edit(ctx, ada.ID, root.ID, actors.EditStatus{Text: "root, edited twice"}); err != nil {
			t.Fatal(err)
		}
		hist, err := e.svc.History(ctx, bob.ID, root.ID)
		if err != nil || len(hist) != 3 || !strings.Contains(hist[0].Content, "root") || !strings.Contains(hist[2].Content, "twice") {
			t.Errorf("history %+v, %v", hist, err)
		}
		upd := e.pub.last(t)
		if _, edited := upd.Object("object").Time("updated"); upd.Type() != "Update" || upd.Object("object").ID() != root.IRI || !edited {
			t.Errorf("published %s", upd.Type())
		}
		if got := notificationTypes(t, e, cal.ID); !slices.Contains(got, actors.NotifyUpdate) {
			t.Errorf("booster not told of the edit: %v", got)
		}
		if _, err := e.svc.Edit(ctx, bob.ID, root.ID, actors.EditStatus{Text: "hijack"}); errkind.Of(err) != errkind.NotFound {
			t.Errorf("edit of someone else's status: %v", err)
		}
		if _, err := e.svc.Edit(ctx, ada.ID, root.ID, actors.EditStatus{Text: ""}); errkind.Of(err) != errkind.Invalid {
			t.Errorf("empty edit: %v", err)
		}

		// Deletes tombstone and announce; replies stay, orphaned.
		if err := e.svc.DeleteStatus(ctx, bob.ID, root.ID); errkind.Of(err) != errkind.NotFound {
			t.Errorf("delete of someone else's status: %v", err)
		}
		if err := e.svc.DeleteStatus(ctx, ada.ID, root.ID); err != nil {
			t.Fatal(err)
		}
		del := e.pub.last(t)
		if del.Type() != "Delete" || !del.Object("object").Is("Tombstone") || del.Object("object").ID() != root.IRI ||
			!slices.Equal(del.IRIs("to"), []string{streams.PublicIRI}) {
			t.Errorf("published %s %v", del.Type(), del.Object("object"))
		}
		if _, err := e.svc.Status(ctx, ada.ID, root.ID); errkind.Of(err) != errkind.NotFound {
			t.Errorf("deleted status: %v", err)
		}
		if c, _ := e.svc.StatusCounts(ctx, reply.ID); c.Replies != 2 {
			t.Errorf("reply counts %+v", c)
		}
		if n := count(t, e.db, "tombstones"); n != 1 {
			t.Errorf("%d tombstones", n)
		}
		if got, _ := e.svc.Status(ctx, bob.ID, reply.ID); got == nil || got.InReplyToID != 0 || got.InReplyToIRI != root.IRI {
			t.Errorf("orphaned reply %+v", got)
		}
	})
}

func TestFavouritesBoostsBookmarksPins(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		ada, bob := e.local(t, "ada"), e.local(t, "bob")
		zoe := e.remote(t, "far.example", "zoe", false)
		st := mustPost(t, e, ada.ID, actors.NewStatus{Text: "like me"})
		priv := mustPost(t, e, ada.ID, actors.NewStatus{Text: "mine", Visibility: actors.Private})
		mustFollow(t, e, ada.ID, zoe.ID) // ada → zoe, pending; bob follows ada
		mustFollow(t, e, bob.ID, ada.ID)
		e.pub.reset()

		for range 2 {
			if err := e.svc.Favourite(ctx, bob.ID, st.ID); err != nil {
				t.Fatal(err)
			}
		}
		if c, _ := e.svc.StatusCounts(ctx, st.ID); c.Favourites != 1 {
			t.Errorf("counts %+v", c)
		}
		if got := notificationTypes(t, e, ada.ID); !slices.Equal(got, []actors.NotificationType{actors.NotifyFavourite, actors.NotifyFollow}) {
			t.Errorf("ada's notifications %v", got)
		}
		if len(e.pub.types()) != 0 {
			t.Errorf("a local favourite federated: %v", e.pub.types())
		}
		if err := e.svc.Unfavourite(ctx, bob.ID, st.ID); err != nil {
			t.Fatal(err)
		}

		boost, err := e.svc.Reblog(ctx, bob.ID, st.ID)
		if err != nil {
			t.Fatal(err)
		}
		again, err := e.svc.Reblog(ctx, bob.ID, st.ID)
		if err != nil || again.ID != boost.ID {
			t.Errorf("second reblog %v, %v", again, err)
		}
		ann := e.pub.last(t)
		if ann.Type() != "Announce" || ann.IRI("object") != st.IRI || ann.ID() != boost.IRI ||
			!slices.Equal(ann.IRIs("to"), []string{streams.PublicIRI}) || !slices.Equal(ann.IRIs("cc"), []string{ada.IRI, bob.Followers}) {
			t.Errorf("published %s to %v cc %v", ann.Type(), ann.IRIs("to"), ann.IRIs("cc"))
		}
		if got := notificationTypes(t, e, ada.ID); got[0] != actors.NotifyReblog {
			t.Errorf("ada's notifications %v", got)
		}
		if _, err := e.svc.Reblog(ctx, bob.ID, priv.ID); errkind.Of(err) != errkind.Forbidden {
			t.Errorf("boost of a private status: %v", err)
		}
		if err := e.svc.Unreblog(ctx, bob.ID, st.ID); err != nil {
			t.Fatal(err)
		}
		if u := e.pub.last(t); u.Type() != "Undo" || u.Object("object").ID() != boost.IRI {
			t.Errorf("published %s", u.Type())
		}
		if c, _ := e.svc.StatusCounts(ctx, st.ID); c.Reblogs != 0 {
			t.Errorf("counts %+v", c)
		}

		// Bookmarks are private; pins federate as Add and Remove.
		if err := e.svc.Bookmark(ctx, bob.ID, priv.ID); err != nil {
			t.Fatal(err)
		}
		if bms, _ := e.svc.Bookmarks(ctx, bob.ID, actors.Page{}); !slices.Equal(statusIDs(bms), []int64{priv.ID}) {
			t.Errorf("bookmarks %v", statusIDs(bms))
		}
		if err := e.svc.Pin(ctx, ada.ID, st.ID); err != nil {
			t.Fatal(err)
		}
		if add := e.pub.last(t); add.Type() != "Add" || add.IRI("target") != ada.Featured || add.IRI("object") != st.IRI {
			t.Errorf("published %s", add.Type())
		}
		if err := e.svc.Pin(ctx, ada.ID, priv.ID); errkind.Of(err) != errkind.Invalid {
			t.Errorf("pin of a private status: %v", err)
		}
		if err := e.svc.Pin(ctx, bob.ID, st.ID); errkind.Of(err) != errkind.NotFound {
			t.Errorf("pin of someone else's status: %v", err)
		}
		for range actors.MaxPins - 1 {
			if err := e.svc.Pin(ctx, ada.ID, mustPost(t, e, ada.ID, actors.NewStatus{Text: "x"}).ID); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.svc.Pin(ctx, ada.ID, mustPost(t, e, ada.ID, actors.NewStatus{Text: "x"}).ID); errkind.Of(err) != errkind.Invalid {
			t.Errorf("pin over the limit: %v", err)
		}
		if err := e.svc.Unpin(ctx, ada.ID, st.ID); err != nil {
			t.Fatal(err)
		}
		if rm := e.pub.last(t); rm.Type() != "Remove" {
			t.Errorf("published %s", rm.Type())
		}
		if pins, _ := e.svc.Pinned(ctx, ada.ID); len(pins) != actors.MaxPins-1 {
			t.Errorf("%d pins", len(pins))
		}
	})
}

func TestHomeVisibility(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		ada, bob, cal := e.local(t, "ada"), e.local(t, "bob"), e.local(t, "cal")
		mustFollow(t, e, bob.ID, ada.ID)
		pub := mustPost(t, e, ada.ID, actors.NewStatus{Text: "public"})
		priv := mustPost(t, e, ada.ID, actors.NewStatus{Text: "private", Visibility: actors.Private})
		dm := mustPost(t, e, ada.ID, actors.NewStatus{Text: "@cal psst", Visibility: actors.Direct})
		if h := home(t, e, bob.ID); !slices.Equal(h, []int64{priv.ID, pub.ID}) {
			t.Errorf("bob's home %v", h)
		}
		if h := home(t, e, cal.ID); !slices.Equal(h, []int64{dm.ID}) {
			t.Errorf("cal's home %v", h)
		}
		for viewer, want := range map[int64][]int64{bob.ID: {priv.ID, pub.ID}, cal.ID: {dm.ID, pub.ID}, 0: {pub.ID}, ada.ID: {dm.ID, priv.ID, pub.ID}} {
			got, err := e.svc.AccountStatuses(ctx, viewer, ada.ID, actors.Page{})
			if err != nil || !slices.Equal(statusIDs(got), want) {
				t.Errorf("ada's statuses for %d: %v, %v; want %v", viewer, statusIDs(got), err, want)
			}
		}
		if _, err := e.svc.Status(ctx, cal.ID, priv.ID); errkind.Of(err) != errkind.NotFound {
			t.Errorf("cal sees a private status: %v", err)
		}
		// Muting hides what is already in the timeline.
		if err := e.svc.Mute(ctx, bob.ID, ada.ID, false); err != nil {
			t.Fatal(err)
		}
		if h := home(t, e, bob.ID); len(h) != 0 {
			t.Errorf("muted account in home: %v", h)
		}
		// Unfollowing takes the account's statuses out of home.
		if err := e.svc.Unmute(ctx, bob.ID, ada.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Unfollow(ctx, bob.ID, ada.ID); err != nil {
			t.Fatal(err)
		}
		if h := home(t, e, bob.ID); len(h) != 0 {
			t.Errorf("home after unfollow: %v", h)
		}
		// Page bounds.
		got, _ := e.svc.Home(ctx, ada.ID, actors.Page{MaxID: dm.ID, Limit: 1})
		if !slices.Equal(statusIDs(got), []int64{priv.ID}) {
			t.Errorf("page: %v", statusIDs(got))
		}
	})
}

func TestBoostsInHome(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		ada, bob, cal := e.local(t, "ada"), e.local(t, "bob"), e.local(t, "cal")
		mustFollow(t, e, bob.ID, cal.ID)
		st := mustPost(t, e, ada.ID, actors.NewStatus{Text: "worth sharing"})
		boost, err := e.svc.Reblog(ctx, cal.ID, st.ID)
		if err != nil {
			t.Fatal(err)
		}
		if h := home(t, e, bob.ID); !slices.Equal(h, []int64{boost.ID}) {
			t.Fatalf("bob's home %v", h)
		}
		// Muting the original author hides the boost.
		if err := e.svc.Mute(ctx, bob.ID, ada.ID, false); err != nil {
			t.Fatal(err)
		}
		if h := home(t, e, bob.ID); len(h) != 0 {
			t.Errorf("boost of a muted account: %v", h)
		}
		if err := e.svc.Unmute(ctx, bob.ID, ada.ID); err != nil {
			t.Fatal(err)
		}
		// Unfollowing the booster takes the boost out.
		if err := e.svc.Unfollow(ctx, bob.ID, cal.ID); err != nil {
			t.Fatal(err)
		}
		if h := home(t, e, bob.ID); len(h) != 0 {
			t.Errorf("boost after unfollowing the booster: %v", h)
		}
	})
}
