package pub_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/commonroom/commonroom/pub"
	"github.com/commonroom/commonroom/pub/httpsig"
	"github.com/commonroom/commonroom/streams"
)

// TestInboxSurvivesRestart: an activity recorded but not processed (no
// worker ran), and one whose worker died holding its lease, are processed
// by the next process's Run.
func TestInboxSurvivesRestart(t *testing.T) {
	f := newInboxFixture(t, nodeOptions{sqliteStore: true})
	first, firstID := createNote(t, f.rex, 1, f.ana.ID)
	second, secondID := createNote(t, f.rex, 2, f.ana.ID)
	for _, body := range [][]byte{first, second} {
		if got := f.post(f.rex, "/inbox", body); got != http.StatusAccepted {
			t.Fatalf("POST = %d", got)
		}
	}
	// A worker claims the second activity with a short lease and dies.
	claimed, err := f.n.store.ClaimInbound(context.Background(), time.Now(), 100*time.Millisecond, 1)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	// "Restart": a new Federation over the same database.
	hooks := &hookLog{calls: map[string][]*pub.Inbound{}}
	fed, err := pub.NewFederation(f.n.engine, pub.FederationConfig{
		Store: f.n.store, Actors: f.n.dir, Queue: f.n.queue, PollInterval: 20 * time.Millisecond,
		Hooks: pub.Hooks{On: map[string]pub.Hook{"Create": hooks.hook}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = fed.Run(ctx) }()
	defer func() { cancel(); <-done }()
	eventually(t, "both activities processed after the restart", func() bool {
		_, ok1 := f.n.object(firstID)
		_, ok2 := f.n.object(secondID)
		return ok1 && ok2 && hooks.count("Create") == 2
	})
}

// TestInboxFixtures feeds real activities (Mastodon's Follow, Undo of a
// Follow, Like, Create, Delete), re-signed by test actors whose ids are
// rewritten onto a loopback origin, through the inbox.
func TestInboxFixtures(t *testing.T) {
	dir := fixturesDir(t)
	f := newInboxFixture(t, nodeOptions{sqliteStore: true})
	felix := f.peer.newActor("felix", pub.SystemClock{})
	asonix := f.peer.newActor("asonix", pub.SystemClock{})
	note := f.n.publish(f.ana.ID, `{"type":"Note","content":"Lesson plan","to":["https://www.w3.org/ns/activitystreams#Public"]}`)
	noteID := note.Object("object").ID()
	rewrite := strings.NewReplacer(
		"https://mastodon.madrid/users/felix", felix.id,
		"https://mastodon.madrid", f.peer.base,
		"https://masto.asonix.dog/users/asonix", asonix.id,
		"https://masto.asonix.dog", f.peer.base,
		"https://ds9.lemmy.ml/c/testcom", f.ana.ID,
		"https://ds9.lemmy.ml/post/147", noteID,
	)
	load := func(name string) []byte {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(dir, "mastodon", "activities", name))
		if err != nil {
			t.Fatal(err)
		}
		return []byte(rewrite.Replace(string(data)))
	}
	steps := []struct {
		file  string
		by    *remoteActor
		check func() bool
	}{
		{"follow.json", asonix, func() bool {
			fl, ok := f.n.follow(asonix.id, f.ana.ID)
			return ok && fl.State == pub.FollowAccepted
		}},
		{"undo_follow.json", asonix, func() bool { _, ok := f.n.follow(asonix.id, f.ana.ID); return !ok }},
		{"like_page.json", felix, func() bool { return f.n.hasItem(pub.Likes(noteID), felix.id) }},
		{"create_note.json", felix, func() bool {
			o, ok := f.n.object(felix.id + "/statuses/107224289116410645")
			return ok && o.AttributedTo == felix.id && strings.Contains(string(o.Body), "thinkpad")
		}},
		{"delete.json", felix, func() bool {
			o, ok := f.n.object(felix.id + "/statuses/107773559874184870")
			return ok && !o.Deleted.IsZero()
		}},
	}
	for _, s := range steps {
		if got := f.post(s.by, "/inbox", load(s.file)); got != http.StatusAccepted {
			t.Fatalf("%s: POST = %d", s.file, got)
		}
		f.process(t)
		if !s.check() {
			t.Errorf("%s: not applied", s.file)
		}
		if id, _ := streams.Parse(load(s.file)); id != nil {
			if rec, err := f.n.store.Inbound(context.Background(), id.ID()); err != nil || rec.Result != "ok" {
				t.Errorf("%s: result %q, %v", s.file, rec.Result, err)
			}
		}
	}
}

// TestInboxOrderPerActor: one actor's activities are processed in the
// order they arrived, so an Undo sent right after its Follow never leaves
// the follow in place, while other actors' activities run in parallel.
func TestInboxOrderPerActor(t *testing.T) {
	n := newNode(t, "home", nodeOptions{sqliteStore: true})
	dumpLogs(t, n)
	ana := n.actor("ana", false)
	p := newPeer(t, "remote.example")
	var actors []*remoteActor
	for i := range 12 {
		actors = append(actors, p.newActor(fmt.Sprintf("r%d", i), pub.SystemClock{}))
	}
	var wg sync.WaitGroup
	for _, a := range actors {
		wg.Go(func() {
			for round := range 3 {
				id := fmt.Sprintf("%s/follows/%d", a.id, round)
				follow := asDoc(t, map[string]any{"id": id, "type": "Follow", "actor": a.id, "object": ana.ID})
				undo := asDoc(t, map[string]any{"id": id + "/undo", "type": "Undo", "actor": a.id,
					"object": map[string]any{"id": id, "type": "Follow", "actor": a.id, "object": ana.ID}})
				for _, body := range [][]byte{follow, undo} {
					if got := postTo(t, n.base+"/inbox", body, a.sign(httpsig.Cavage)); got != http.StatusAccepted {
						t.Errorf("POST = %d", got)
					}
				}
			}
		})
	}
	wg.Wait()
	eventually(t, "everything processed", func() bool {
		var pending int
		if err := n.db.NewRaw("SELECT COUNT(*) FROM pub_inbound WHERE processed_at IS NULL").Scan(context.Background(), &pending); err != nil {
			t.Fatal(err)
		}
		return pending == 0
	})
	fs, _, err := n.store.Follows(context.Background(), pub.FollowQuery{Followee: ana.ID})
	if err != nil || len(fs) != 0 {
		t.Errorf("%d follows left after Follow+Undo pairs (%v)", len(fs), err)
	}
	if got := n.hooks.count("Undo"); got != 36 {
		t.Errorf("%d Undo hook calls, want 36", got)
	}
}

// TestInboxTwoProcessesProcessOnce: two Federations over one database (two
// server processes behind one name) both running: every activity, received
// by either, is processed exactly once.
func TestInboxTwoProcessesProcessOnce(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts nodeOptions
	}{{"sqlite", nodeOptions{sqliteStore: true}}, {"postgres", nodeOptions{postgres: true}}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newInboxFixture(t, tc.opts)
			hooks := &hookLog{calls: map[string][]*pub.Inbound{}}
			var feds []*pub.Federation
			for range 2 {
				fed, err := pub.NewFederation(f.n.engine, pub.FederationConfig{
					Store: f.n.store, Actors: f.n.dir, Queue: f.n.queue, PollInterval: 10 * time.Millisecond,
					Hooks: pub.Hooks{On: map[string]pub.Hook{"Create": hooks.hook}},
				})
				if err != nil {
					t.Fatal(err)
				}
				feds = append(feds, fed)
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan struct{})
				go func() { defer close(done); _ = fed.Run(ctx) }()
				t.Cleanup(func() { cancel(); <-done })
			}
			senders := []*remoteActor{f.rex}
			for i := range 4 {
				senders = append(senders, f.peer.newActor(fmt.Sprintf("s%d", i), pub.SystemClock{}))
			}
			var wg sync.WaitGroup
			for _, s := range senders {
				wg.Go(func() {
					for k := range 10 {
						body, _ := createNote(t, s, k, f.ana.ID)
						if got := f.post(s, "/inbox", body); got != http.StatusAccepted {
							t.Errorf("POST = %d", got)
						}
					}
				})
			}
			wg.Wait()
			eventually(t, "50 activities processed", func() bool { return hooks.count("Create") >= 50 })
			time.Sleep(100 * time.Millisecond) // a double processing would show now
			if got := hooks.count("Create"); got != 50 {
				t.Errorf("%d Create hook calls for 50 activities", got)
			}
		})
	}
}

// TestInboxFixturesLemmyPleroma feeds Lemmy's Follow, Create of a comment,
// Like and Undo of a Like (documents without @context) and Pleroma's
// Follow (LitePub context), re-signed by loopback actors, through the inbox.
func TestInboxFixturesLemmyPleroma(t *testing.T) {
	dir := fixturesDir(t)
	f := newInboxFixture(t, nodeOptions{sqliteStore: true})
	alpha := f.peer.newActor("lemmy_alpha", pub.SystemClock{})
	kinetix := f.peer.newActor("kinetix", pub.SystemClock{})
	rewrite := strings.NewReplacer(
		"http://ds9.lemmy.ml/u/lemmy_alpha", alpha.id,
		"http://ds9.lemmy.ml", f.peer.base,
		"http://enterprise.lemmy.ml/c/main", f.ana.ID,
		"https://mycrowd.ca/users/kinetix", kinetix.id,
		"https://mycrowd.ca", f.peer.base,
		"https://lemmy.ca/u/kinetix", f.ana.ID,
	)
	load := func(path string) []byte {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(path)))
		if err != nil {
			t.Fatal(err)
		}
		return []byte(rewrite.Replace(string(data)))
	}
	comment := f.peer.base + "/comment/1"
	for _, s := range []struct {
		file, hook string
		by         *remoteActor
		check      func() bool
	}{
		{"lemmy/activities/following/follow.json", "Follow", alpha, func() bool {
			fl, ok := f.n.follow(alpha.id, f.ana.ID)
			return ok && fl.State == pub.FollowAccepted
		}},
		{"lemmy/activities/create_or_update/create_comment.json", "Create", alpha, func() bool {
			o, ok := f.n.object(comment)
			return ok && o.AttributedTo == alpha.id && o.Public
		}},
		{"lemmy/activities/voting/like_note.json", "Like", alpha, func() bool { return true }},
		{"lemmy/activities/voting/undo_like_note.json", "Undo", alpha, func() bool { return true }},
		{"pleroma/activities/follow.json", "Follow", kinetix, func() bool {
			fl, ok := f.n.follow(kinetix.id, f.ana.ID)
			return ok && fl.State == pub.FollowAccepted
		}},
	} {
		before := f.n.hooks.count(s.hook)
		if got := f.post(s.by, "/inbox", load(s.file)); got != http.StatusAccepted {
			t.Fatalf("%s: POST = %d", s.file, got)
		}
		f.process(t)
		if !s.check() || f.n.hooks.count(s.hook) != before+1 {
			t.Errorf("%s: not applied (hook %s ran %d times)", s.file, s.hook, f.n.hooks.count(s.hook)-before)
		}
	}
	in := f.n.hooks.last("Create")
	if in == nil || len(in.Recipients) != 1 || in.Recipients[0] != f.ana.ID {
		t.Errorf("the comment addressed to ana's community (cc) should concern ana: %v", in)
	}
}
