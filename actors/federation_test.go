package actors_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/commonroom/commonroom/actors"
	"github.com/commonroom/commonroom/internal/dbtest"
	"github.com/commonroom/commonroom/internal/users"
	"github.com/commonroom/commonroom/pub"
	"github.com/commonroom/commonroom/pub/bunstore"
	"github.com/commonroom/commonroom/pub/webfinger"
	"github.com/commonroom/commonroom/streams"
)

// server is one loopback Commonroom: a pub engine and Federation over the
// same database as an actors.Service.
type server struct {
	base  string
	svc   *actors.Service
	users *users.Service
	fed   *pub.Federation
}

func startServer(t *testing.T, ctx context.Context, d *bun.DB) *server {
	t.Helper()
	if err := bunstore.Migrate(ctx, d); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	s := &server{base: "http://" + srv.Listener.Addr().String()}
	cfg := pub.DefaultConfig()
	cfg.BaseURL = s.base
	cfg.KeySource = keySource{}
	cfg.Transport.AllowHTTP = true
	cfg.Transport.AllowPrefixes = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	cfg.Blocker = pub.DomainBlockFunc(func(ctx context.Context, host string) (bool, error) { return s.svc.DomainBlocked(ctx, host) })
	engine, err := pub.NewEngine(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	wf := &webfinger.Client{HTTP: engine.Client(), Scheme: "http"}
	svc, err := actors.NewService(d, actors.Options{
		Config:  actors.DefaultConfig(s.base),
		Fetcher: engine.Fetcher(),
		Keys:    engine.Keys(),
		Handles: wf,
		Publisher: actors.PublisherFunc(func(ctx context.Context, actor string, act *streams.Object) error {
			return actors.FederationPublisher{Federation: s.fed}.Publish(ctx, actor, act)
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	s.svc = svc
	if s.users, err = users.NewService(d, users.Options{HashParams: fastHash}); err != nil {
		t.Fatal(err)
	}
	s.fed, err = pub.NewFederation(engine, pub.FederationConfig{
		Store: bunstore.NewFederationStore(d), Queue: bunstore.New(d), Actors: svc, Hooks: svc.Hooks(),
	})
	if err != nil {
		t.Fatal(err)
	}
	wh, err := webfinger.NewHandler(webfinger.Config{BaseURL: s.base, Resolver: svc})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	s.fed.Routes(mux)
	wh.Routes(mux)
	srv.Config.Handler = mux
	srv.Start()
	t.Cleanup(srv.Close)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = s.fed.Run(runCtx) }()
	t.Cleanup(func() { cancel(); <-done })
	return s
}

func (s *server) person(t *testing.T, name string, locked bool) *actors.Account {
	t.Helper()
	ctx := context.Background()
	u, err := s.users.Create(ctx, users.NewUser{Username: name, Email: name + "@example.org", Password: "long enough password"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.svc.CreateLocal(ctx, actors.NewLocal{Username: name, UserID: u.ID, Locked: locked, DisplayName: strings.ToUpper(name)})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// eventually polls cond until it holds or 10 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func hasNotification(ctx context.Context, s *server, id int64, typ actors.NotificationType) bool {
	ns, err := s.svc.Notifications(ctx, id, actors.NotificationFilter{Types: []actors.NotificationType{typ}})
	return err == nil && len(ns) > 0
}

// TestFederation runs two servers on loopback: ada (locked) on the school
// and bob on the library follow each other, post, reply, like, boost and
// delete, and both sides' timelines and notifications are checked.
func TestFederation(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			open := dbtest.SQLite
			if dialect == "postgres" {
				open = dbtest.Postgres
			}
			ctx := context.Background()
			school := startServer(t, ctx, open(t, sets()...))
			library := startServer(t, ctx, open(t, sets()...))
			ada := school.person(t, "ada", true)
			bob := library.person(t, "bob", false)

			// bob asks to follow ada; ada approves.
			adaAtLib, err := library.svc.RemoteActor(ctx, ada.IRI)
			if err != nil {
				t.Fatal(err)
			}
			if !adaAtLib.Locked || adaAtLib.DisplayName != "ADA" {
				t.Errorf("ada as the library sees her: %+v", adaAtLib)
			}
			if _, err := library.svc.Follow(ctx, bob.ID, adaAtLib.ID); err != nil {
				t.Fatal(err)
			}
			var bobAtSchool *actors.Account
			eventually(t, "the follow request at the school", func() bool {
				bobAtSchool, err = school.svc.AccountByIRI(ctx, bob.IRI)
				return err == nil && hasNotification(ctx, school, ada.ID, actors.NotifyFollowRequest)
			})
			if r, _ := school.svc.Relationship(ctx, ada.ID, bobAtSchool.ID); !r.RequestedBy {
				t.Fatalf("school: %+v", r)
			}
			if err := school.svc.AuthorizeFollow(ctx, ada.ID, bobAtSchool.ID); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the Accept at the library", func() bool {
				r, err := library.svc.Relationship(ctx, bob.ID, adaAtLib.ID)
				return err == nil && r.Following
			})

			// ada follows bob back; the library accepts at once.
			bobAtSchool, err = school.svc.RemoteActor(ctx, bob.IRI)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := school.svc.Follow(ctx, ada.ID, bobAtSchool.ID); err != nil {
				t.Fatal(err)
			}
			eventually(t, "ada following bob", func() bool {
				r, err := school.svc.Relationship(ctx, ada.ID, bobAtSchool.ID)
				return err == nil && r.Following
			})
			eventually(t, "bob's follow notification", func() bool { return hasNotification(ctx, library, bob.ID, actors.NotifyFollow) })

			// ada posts, mentioning bob; it reaches bob's home.
			libHost := strings.TrimPrefix(library.base, "http://")
			post, err := school.svc.Post(ctx, ada.ID, actors.NewStatus{Text: fmt.Sprintf("Fractions on Monday, @bob@%s #maths", libHost), Language: "en"})
			if err != nil {
				t.Fatal(err)
			}
			var postAtLib *actors.Status
			eventually(t, "ada's post at the library", func() bool {
				postAtLib, err = library.svc.StatusByIRI(ctx, bob.ID, post.IRI)
				return err == nil
			})
			if postAtLib.Visibility != actors.Public || !strings.Contains(postAtLib.Content, "Fractions") {
				t.Errorf("at the library: %+v", postAtLib)
			}
			if h := home(t, &env{svc: library.svc}, bob.ID); !slices.Contains(h, postAtLib.ID) {
				t.Errorf("bob's home %v", h)
			}
			eventually(t, "bob's mention", func() bool { return hasNotification(ctx, library, bob.ID, actors.NotifyMention) })
			if tl, _ := library.svc.TagTimeline(ctx, bob.ID, "maths", false, actors.Page{}); len(tl) != 1 {
				t.Errorf("library #maths: %v", statusIDs(tl))
			}

			// bob replies, likes and boosts.
			reply, err := library.svc.Post(ctx, bob.ID, actors.NewStatus{Text: "@ada@" + strings.TrimPrefix(school.base, "http://") + " I'll bring snacks", InReplyToID: postAtLib.ID})
			if err != nil {
				t.Fatal(err)
			}
			if err := library.svc.Favourite(ctx, bob.ID, postAtLib.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := library.svc.Reblog(ctx, bob.ID, postAtLib.ID); err != nil {
				t.Fatal(err)
			}
			for _, typ := range []actors.NotificationType{actors.NotifyMention, actors.NotifyFavourite, actors.NotifyReblog} {
				eventually(t, "ada's "+string(typ), func() bool { return hasNotification(ctx, school, ada.ID, typ) })
			}
			th, err := school.svc.Context(ctx, ada.ID, post.ID)
			if err != nil || len(th.Descendants) != 1 || th.Descendants[0].IRI != reply.IRI {
				t.Errorf("thread at the school: %+v, %v", th, err)
			}
			if c, _ := school.svc.StatusCounts(ctx, post.ID); c.Favourites != 1 || c.Reblogs != 1 || c.Replies != 1 {
				t.Errorf("counts at the school %+v", c)
			}
			if h := home(t, &env{svc: school.svc}, ada.ID); len(h) < 2 {
				t.Errorf("ada's home %v (her post and bob's reply)", h)
			}

			// ada edits her post and pins it.
			if _, err := school.svc.Edit(ctx, ada.ID, post.ID, actors.EditStatus{Text: "Fractions on Tuesday #maths"}); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the edit at the library", func() bool {
				st, err := library.svc.StatusByIRI(ctx, bob.ID, post.IRI)
				return err == nil && strings.Contains(st.Content, "Tuesday") && !st.EditedAt.IsZero()
			})
			if hist, err := library.svc.History(ctx, bob.ID, postAtLib.ID); err != nil || len(hist) != 2 {
				t.Errorf("history at the library: %d versions, %v", len(hist), err)
			}
			if err := school.svc.Pin(ctx, ada.ID, post.ID); err != nil {
				t.Fatal(err)
			}
			if n, _ := school.svc.PendingOutbox(ctx); n != 0 {
				t.Errorf("%d activities stuck in the school's outbox after edit and pin", n)
			}

			// ada renames herself; the library refetches her document.
			newName := "Ada Lovelace"
			if _, err := school.svc.UpdateProfile(ctx, ada.ID, actors.ProfileUpdate{DisplayName: &newName}); err != nil {
				t.Fatal(err)
			}
			eventually(t, "ada's new name at the library", func() bool {
				a, err := library.svc.AccountByIRI(ctx, ada.IRI)
				return err == nil && a.DisplayName == newName
			})

			// ada deletes her post: gone at the library, with bob's boost.
			if err := school.svc.DeleteStatus(ctx, ada.ID, post.ID); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the Delete at the library", func() bool {
				_, err := library.svc.StatusByIRI(ctx, bob.ID, post.IRI)
				return err != nil
			})
			for _, id := range home(t, &env{svc: library.svc}, bob.ID) {
				st, _ := library.svc.Status(ctx, bob.ID, id)
				if st != nil && (st.ID == postAtLib.ID || st.ReblogOfID == postAtLib.ID) {
					t.Errorf("deleted post still in bob's home: %+v", st)
				}
			}
			// bob blocks ada: the follows end on both sides.
			if _, err := library.svc.Block(ctx, bob.ID, adaAtLib.ID); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the Block at the school", func() bool {
				r, err := school.svc.Relationship(ctx, ada.ID, bobAtSchool.ID)
				return err == nil && r.BlockedBy && !r.Following && !r.FollowedBy
			})
			if r, _ := library.svc.Relationship(ctx, bob.ID, adaAtLib.ID); !r.Blocking || r.Following || r.FollowedBy {
				t.Errorf("library after the block: %+v", r)
			}
			for _, s := range []*server{school, library} {
				if n, _ := s.svc.PendingOutbox(ctx); n != 0 {
					t.Errorf("%s: %d activities stuck in the outbox", s.base, n)
				}
			}
		})
	}
}
