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

// noteJSON is a note by the remote actor author.
func noteJSON(id, author, content, extra string) string {
	return fmt.Sprintf(`{"@context":"https://www.w3.org/ns/activitystreams","id":%q,"type":"Note","attributedTo":%q,
"content":%q,"published":"2026-11-21T06:00:00Z","to":["https://www.w3.org/ns/activitystreams#Public"],"cc":["%s/followers"]%s}`,
		id, author, content, author, extra)
}

// receiveTrusted hands e.svc a Create whose object the engine vouched for.
func (e *env) receiveCreate(tb testing.TB, actor, note string) error {
	tb.Helper()
	obj, err := streams.Parse([]byte(note))
	if err != nil {
		tb.Fatal(err)
	}
	act := streams.Default().New("Create")
	act.SetID(obj.ID() + "/activity")
	_ = act.Set("actor", streams.IRI(actor))
	_ = act.Set("object", streams.ObjectValue(obj))
	return e.svc.Receive(context.Background(), actors.Incoming{Activity: act, Actor: actor, Object: obj})
}

func TestReceiveCreate(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		ada, bob := e.local(t, "ada"), e.local(t, "bob")
		zoe := e.remote(t, "far.example", "zoe", false)
		f, _ := e.svc.Follow(ctx, ada.ID, zoe.ID)
		e.receive(t, zoe.IRI, fmt.Sprintf(`{"id":"https://far.example/a/1","type":"Accept","actor":%q,"object":%q}`, zoe.IRI, f.IRI))

		noteID := "https://far.example/notes/1"
		note := noteJSON(noteID, zoe.IRI, `<p>Hi <a href="`+bob.URL+`">@bob</a> <script>x</script>#Biology</p>`,
			`,"tag":[{"type":"Mention","href":"`+bob.IRI+`","name":"@bob"},{"type":"Hashtag","name":"#Biology","href":"https://far.example/tags/biology"}],"contentMap":{"de":"x"},"summary":"cw"`)
		// Twice, as a duplicate or parallel delivery would (rule 21).
		for range 2 {
			if err := e.receiveCreate(t, zoe.IRI, note); err != nil {
				t.Fatal(err)
			}
		}
		st, err := e.svc.StatusByIRI(ctx, ada.ID, noteID)
		if err != nil {
			t.Fatal(err)
		}
		if st.Local || st.Visibility != actors.Public || strings.Contains(st.Content, "script") || st.SpoilerText != "cw" || !st.Sensitive || st.Language != "de" {
			t.Errorf("stored %+v", st)
		}
		if n := count(t, e.db, "statuses"); n != 1 {
			t.Errorf("%d statuses", n)
		}
		if h := home(t, e, ada.ID); !slices.Equal(h, []int64{st.ID}) {
			t.Errorf("ada's home %v", h)
		}
		if got := notificationTypes(t, e, bob.ID); !slices.Equal(got, []actors.NotificationType{actors.NotifyMention}) {
			t.Errorf("bob's notifications %v", got)
		}
		if tags, _ := e.svc.Tags(ctx, st.ID); !slices.Equal(tags, []string{"biology"}) {
			t.Errorf("tags %v", tags)
		}
		pub, _ := e.svc.PublicTimeline(ctx, 0, false, actors.Page{})
		loc, _ := e.svc.PublicTimeline(ctx, 0, true, actors.Page{})
		if len(pub) != 1 || len(loc) != 0 {
			t.Errorf("federated %v local %v", statusIDs(pub), statusIDs(loc))
		}
		// Replies link to their stored parent.
		if err := e.receiveCreate(t, zoe.IRI, noteJSON("https://far.example/notes/2", zoe.IRI, "reply", `,"inReplyTo":"`+noteID+`"`)); err != nil {
			t.Fatal(err)
		}
		th, err := e.svc.Context(ctx, ada.ID, st.ID)
		if err != nil || len(th.Descendants) != 1 {
			t.Errorf("context %+v, %v", th, err)
		}

		// Visibility from addressing, as Mastodon reads it.
		for i, tt := range []struct {
			to, cc string
			want   actors.Visibility
		}{
			{`["` + zoe.IRI + `/followers"]`, `["https://www.w3.org/ns/activitystreams#Public"]`, actors.Unlisted},
			{`["` + zoe.IRI + `/followers"]`, `[]`, actors.Private},
			{`["` + ada.IRI + `"]`, `[]`, actors.Direct},
		} {
			id := fmt.Sprintf("https://far.example/v/%d", i)
			doc := fmt.Sprintf(`{"id":%q,"type":"Note","attributedTo":%q,"content":"v","to":%s,"cc":%s}`, id, zoe.IRI, tt.to, tt.cc)
			if err := e.receiveCreate(t, zoe.IRI, doc); err != nil {
				t.Fatal(err)
			}
			if got, err := e.svc.StatusByIRI(ctx, zoe.ID, id); err != nil || got.Visibility != tt.want {
				t.Errorf("%s %s: %v, %v; want %s", tt.to, tt.cc, got, err, tt.want)
			}
		}
	})
}

func TestReceiveCreateTrust(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		zoe := e.remote(t, "far.example", "zoe", false)
		mal := e.remote(t, "evil.example", "mal", false)

		// An inline copy the engine did not vouch for is refetched from
		// its origin; the origin's text wins (rule 11).
		id := "https://far.example/notes/9"
		e.fetch.put(id, noteJSON(id, zoe.IRI, "the real text", ""))
		e.receive(t, zoe.IRI, fmt.Sprintf(`{"id":"https://far.example/c/9","type":"Create","actor":%q,"object":{"id":%q,"type":"Note","attributedTo":%q,"content":"forged"}}`, zoe.IRI, id, zoe.IRI))
		st, err := e.svc.StatusByIRI(ctx, 0, id)
		if err != nil || !strings.Contains(st.Content, "the real text") {
			t.Fatalf("stored %+v, %v", st, err)
		}
		// A note attributed to someone else, or on another origin, is not stored.
		for _, doc := range []string{
			noteJSON("https://evil.example/notes/1", zoe.IRI, "x", ""),
			noteJSON("https://far.example/notes/10", zoe.IRI, "x", ""),
		} {
			err := e.receiveCreate(t, mal.IRI, doc)
			if errkind.Of(err) != errkind.Forbidden {
				t.Errorf("foreign note: %v", err)
			}
		}
		if n := count(t, e.db, "statuses"); n != 1 {
			t.Errorf("%d statuses", n)
		}
		// Delete before Create: the IRI is never seen (rule 22).
		gone := "https://far.example/notes/11"
		e.receive(t, zoe.IRI, fmt.Sprintf(`{"id":"https://far.example/d/11","type":"Delete","actor":%q,"object":%q}`, zoe.IRI, gone))
		if err := e.receiveCreate(t, zoe.IRI, noteJSON(gone, zoe.IRI, "zombie", "")); errkind.Of(err) != errkind.Gone {
			t.Errorf("create after delete: %v", err)
		}
		if _, err := e.svc.StatusByIRI(ctx, 0, gone); errkind.Of(err) != errkind.NotFound {
			t.Errorf("deleted note visible: %v", err)
		}
		// Field caps: 10,000 tags are read as at most MaxRemoteTags.
		var tags []string
		for i := range 10000 {
			tags = append(tags, fmt.Sprintf(`{"type":"Hashtag","name":"#t%d"}`, i))
		}
		if err := e.receiveCreate(t, zoe.IRI, noteJSON("https://far.example/notes/12", zoe.IRI, strings.Repeat("x", 200000), `,"tag":[`+strings.Join(tags, ",")+`]`)); err != nil {
			t.Fatal(err)
		}
		big, _ := e.svc.StatusByIRI(ctx, 0, "https://far.example/notes/12")
		if got, _ := e.svc.Tags(ctx, big.ID); len(got) != e.svc.Config().MaxRemoteTags {
			t.Errorf("%d tags stored", len(got))
		}
		if len([]rune(big.Content)) > e.svc.Config().MaxRemoteStatusChars {
			t.Errorf("content %d characters", len(big.Content))
		}
	})
}

func TestReceiveUpdateDelete(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		zoe := e.remote(t, "far.example", "zoe", false)
		mal := e.remote(t, "evil.example", "mal", false)
		id := "https://far.example/notes/1"
		if err := e.receiveCreate(t, zoe.IRI, noteJSON(id, zoe.IRI, "original", "")); err != nil {
			t.Fatal(err)
		}
		update := func(actor, doc string) error {
			obj, _ := streams.Parse([]byte(doc))
			act := streams.Default().New("Update")
			act.SetID(actor + "#updates/1")
			_ = act.Set("actor", streams.IRI(actor))
			_ = act.Set("object", streams.ObjectValue(obj))
			return e.svc.Receive(ctx, actors.Incoming{Activity: act, Actor: actor, Object: obj})
		}
		for name, tt := range map[string]struct{ actor, doc string }{
			"by someone else":     {mal.IRI, noteJSON(id, mal.IRI, "hijacked", "")},
			"changing the author": {zoe.IRI, noteJSON(id, mal.IRI, "hijacked", "")},
			"changing published":  {zoe.IRI, strings.Replace(noteJSON(id, zoe.IRI, "hijacked", ""), "2026-11-21T06:00:00Z", "2020-01-01T00:00:00Z", 1)},
		} {
			t.Run(name, func(t *testing.T) {
				if err := update(tt.actor, tt.doc); errkind.Of(err) != errkind.Forbidden {
					t.Errorf("err = %v, want Forbidden", err)
				}
				if st, _ := e.svc.StatusByIRI(ctx, 0, id); !strings.Contains(st.Content, "original") {
					t.Errorf("content %q", st.Content)
				}
			})
		}
		if err := update(zoe.IRI, noteJSON(id, zoe.IRI, "edited", `,"updated":"2026-11-21T06:30:00Z"`)); err != nil {
			t.Fatal(err)
		}
		st, _ := e.svc.StatusByIRI(ctx, 0, id)
		hist, _ := e.svc.History(ctx, 0, st.ID)
		if !strings.Contains(st.Content, "edited") || st.EditedAt.IsZero() || len(hist) != 2 {
			t.Errorf("after update %+v, %d versions", st, len(hist))
		}
		// Deletes by someone else are refused; by the author they stick.
		act, _ := streams.Parse([]byte(fmt.Sprintf(`{"id":"https://evil.example/d/1","type":"Delete","actor":%q,"object":%q}`, mal.IRI, id)))
		if err := e.svc.Receive(ctx, actors.Incoming{Activity: act, Actor: mal.IRI}); errkind.Of(err) != errkind.Forbidden {
			t.Errorf("foreign delete: %v", err)
		}
		e.receive(t, zoe.IRI, fmt.Sprintf(`{"id":"https://far.example/d/1","type":"Delete","actor":%q,"object":{"type":"Tombstone","id":%q}}`, zoe.IRI, id))
		if _, err := e.svc.StatusByIRI(ctx, 0, id); errkind.Of(err) != errkind.NotFound {
			t.Errorf("deleted: %v", err)
		}
		if err := e.receiveCreate(t, zoe.IRI, noteJSON(id, zoe.IRI, "again", "")); errkind.Of(err) != errkind.Gone {
			t.Errorf("re-create: %v", err)
		}

		// An actor's self-Delete removes it with its content (rule 25);
		// one we never saw costs no fetch.
		if err := e.receiveCreate(t, zoe.IRI, noteJSON("https://far.example/notes/2", zoe.IRI, "x", "")); err != nil {
			t.Fatal(err)
		}
		e.receive(t, zoe.IRI, fmt.Sprintf(`{"id":"https://far.example/d/2","type":"Delete","actor":%q,"object":%q}`, zoe.IRI, zoe.IRI))
		if _, err := e.svc.AccountByIRI(ctx, zoe.IRI); errkind.Of(err) != errkind.NotFound {
			t.Errorf("deleted actor: %v", err)
		}
		if n := count(t, e.db, "statuses"); n != 0 {
			t.Errorf("%d statuses left", n)
		}
		if _, err := e.svc.RemoteActor(ctx, zoe.IRI); errkind.Of(err) != errkind.Gone {
			t.Errorf("deleted actor refetched: %v", err)
		}
		calls := e.fetch.count()
		e.receive(t, "https://new.example/users/x", `{"id":"https://new.example/d/1","type":"Delete","actor":"https://new.example/users/x","object":"https://new.example/users/x"}`)
		if e.fetch.count() != calls || count(t, e.db, "actors") != 1 {
			t.Error("the Delete of an unknown actor fetched or stored something")
		}
	})
}

func TestReceiveLikeAnnounce(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		ada, bob := e.local(t, "ada"), e.local(t, "bob")
		zoe := e.remote(t, "far.example", "zoe", false)
		yan := e.remote(t, "other.example", "yan", false)
		mustFollow(t, e, bob.ID, zoe.ID)
		e.receive(t, zoe.IRI, fmt.Sprintf(`{"id":"https://far.example/a/1","type":"Accept","actor":%q,"object":{"type":"Follow","actor":%q,"object":%q}}`, zoe.IRI, bob.IRI, zoe.IRI))
		st := mustPost(t, e, ada.ID, actors.NewStatus{Text: "hello"})
		priv := mustPost(t, e, ada.ID, actors.NewStatus{Text: "secret", Visibility: actors.Private})

		for range 2 {
			e.receive(t, zoe.IRI, fmt.Sprintf(`{"id":"https://far.example/l/1","type":"Like","actor":%q,"object":%q}`, zoe.IRI, st.IRI))
		}
		e.receive(t, zoe.IRI, fmt.Sprintf(`{"id":"https://far.example/l/2","type":"Like","actor":%q,"object":%q}`, zoe.IRI, priv.IRI))
		if c, _ := e.svc.StatusCounts(ctx, st.ID); c.Favourites != 1 {
			t.Errorf("counts %+v", c)
		}
		if c, _ := e.svc.StatusCounts(ctx, priv.ID); c.Favourites != 0 {
			t.Errorf("a like of a status the liker cannot see: %+v", c)
		}
		e.receive(t, zoe.IRI, fmt.Sprintf(`{"id":"https://far.example/b/1","type":"Announce","actor":%q,"object":%q,"to":["https://www.w3.org/ns/activitystreams#Public"]}`, zoe.IRI, st.IRI))
		if got := notificationTypes(t, e, ada.ID); !slices.Equal(got, []actors.NotificationType{actors.NotifyReblog, actors.NotifyFavourite}) {
			t.Errorf("ada's notifications %v", got)
		}
		if h := home(t, e, bob.ID); len(h) != 1 {
			t.Errorf("bob's home %v (zoe's boost)", h)
		}
		e.receive(t, zoe.IRI, fmt.Sprintf(`{"id":"https://far.example/u/1","type":"Undo","actor":%q,"object":"https://far.example/l/1"}`, zoe.IRI))
		e.receive(t, zoe.IRI, fmt.Sprintf(`{"id":"https://far.example/u/2","type":"Undo","actor":%q,"object":{"id":"https://far.example/b/1","type":"Announce","actor":%q}}`, zoe.IRI, zoe.IRI))
		if c, _ := e.svc.StatusCounts(ctx, st.ID); c.Favourites != 0 || c.Reblogs != 0 {
			t.Errorf("after Undo %+v", c)
		}
		if h := home(t, e, bob.ID); len(h) != 0 {
			t.Errorf("bob's home after Undo %v", h)
		}

		// A boost of a remote note we do not hold fetches it from its origin.
		yanNote := "https://other.example/notes/1"
		e.fetch.put(yanNote, noteJSON(yanNote, yan.IRI, "fetched", ""))
		e.receive(t, zoe.IRI, fmt.Sprintf(`{"id":"https://far.example/b/2","type":"Announce","actor":%q,"object":%q,"to":["https://www.w3.org/ns/activitystreams#Public"]}`, zoe.IRI, yanNote))
		orig, err := e.svc.StatusByIRI(ctx, bob.ID, yanNote)
		if err != nil {
			t.Fatal(err)
		}
		if h := home(t, e, bob.ID); len(h) != 1 {
			t.Errorf("bob's home %v", h)
		}
		// Suspending the original author hides the boost too (rule 32).
		mod := e.moderator(t, "mod")
		if err := e.svc.Moderate(ctx, mod.ID, yan.ID, actors.Suspend); err != nil {
			t.Fatal(err)
		}
		if h := home(t, e, bob.ID); len(h) != 0 {
			t.Errorf("boost of a suspended author in home: %v", h)
		}
		if _, err := e.svc.Status(ctx, bob.ID, orig.ID); errkind.Of(err) != errkind.NotFound {
			t.Errorf("suspended author's status: %v", err)
		}
		yanNote2 := "https://other.example/notes/2"
		e.fetch.put(yanNote2, noteJSON(yanNote2, yan.IRI, "more", ""))
		e.receive(t, zoe.IRI, fmt.Sprintf(`{"id":"https://far.example/b/3","type":"Announce","actor":%q,"object":%q}`, zoe.IRI, yanNote2))
		if _, err := e.svc.StatusByIRI(ctx, 0, yanNote2); errkind.Of(err) != errkind.NotFound {
			t.Errorf("boost of a suspended author stored: %v", err)
		}
	})
}
