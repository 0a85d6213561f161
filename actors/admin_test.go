package actors_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/commonroom/commonroom/actors"
	"github.com/commonroom/commonroom/internal/errkind"
	"github.com/commonroom/commonroom/internal/users"
	"github.com/commonroom/commonroom/pub/webfinger"
)

// moderator creates a local person with the moderator role.
func (e *env) moderator(tb testing.TB, name string) *actors.Account {
	tb.Helper()
	ctx := context.Background()
	u, err := e.users.Create(ctx, users.NewUser{Username: name, Email: name + "@school.example", Password: "long enough password", Role: users.RoleModerator})
	if err != nil {
		tb.Fatal(err)
	}
	a, err := e.svc.CreateLocal(ctx, actors.NewLocal{Username: name, UserID: u.ID})
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

func TestReports(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		ada, bob, mod := e.local(t, "ada"), e.local(t, "bob"), e.moderator(t, "mod")
		zoe := e.remote(t, "far.example", "zoe", false)
		st := mustPost(t, e, bob.ID, actors.NewStatus{Text: "rude"})
		own := mustPost(t, e, ada.ID, actors.NewStatus{Text: "mine"})

		r, err := e.svc.Report(ctx, ada.ID, bob.ID, []int64{st.ID}, "spam")
		if err != nil || !slices.Equal(r.StatusIDs(), []int64{st.ID}) {
			t.Fatalf("Report = %+v, %v", r, err)
		}
		for name, tt := range map[string]struct {
			target   int64
			statuses []int64
			kind     errkind.Kind
		}{
			"oneself":             {ada.ID, nil, errkind.Invalid},
			"someone else's post": {bob.ID, []int64{own.ID}, errkind.Invalid},
			"nobody":              {4242, nil, errkind.NotFound},
		} {
			if _, err := e.svc.Report(ctx, ada.ID, tt.target, tt.statuses, ""); errkind.Of(err) != tt.kind {
				t.Errorf("%s: %v, want %v", name, err, tt.kind)
			}
		}
		// A Flag from another server files a report about a local account.
		for range 2 {
			e.receive(t, zoe.IRI, fmt.Sprintf(`{"id":"https://far.example/flag/1","type":"Flag","actor":%q,"object":[%q,%q],"content":"harassment"}`, zoe.IRI, bob.IRI, st.IRI))
		}
		if _, err := e.svc.Reports(ctx, ada.ID, false, actors.Page{}); errkind.Of(err) != errkind.Forbidden {
			t.Errorf("a non-moderator read the queue: %v", err)
		}
		open, err := e.svc.Reports(ctx, mod.ID, false, actors.Page{})
		if err != nil || len(open) != 2 || open[0].ReporterID != zoe.ID || open[0].Comment != "harassment" || !slices.Equal(open[0].StatusIDs(), []int64{st.ID}) {
			t.Fatalf("queue %+v, %v", open, err)
		}
		if err := e.svc.ResolveReport(ctx, mod.ID, r.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.ResolveReport(ctx, mod.ID, r.ID); errkind.Of(err) != errkind.NotFound {
			t.Errorf("resolved twice: %v", err)
		}
		if done, _ := e.svc.Reports(ctx, mod.ID, true, actors.Page{}); len(done) != 1 || done[0].ResolvedBy != mod.ID {
			t.Errorf("resolved %+v", done)
		}
	})
}

func TestModeration(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		ada, bob, mod := e.local(t, "ada"), e.local(t, "bob"), e.moderator(t, "mod")
		zoe := e.remote(t, "far.example", "zoe", false)
		mustFollow(t, e, ada.ID, bob.ID)
		st := mustPost(t, e, bob.ID, actors.NewStatus{Text: "hello"})
		if err := e.receiveCreate(t, zoe.IRI, noteJSON("https://far.example/n/1", zoe.IRI, "remote", "")); err != nil {
			t.Fatal(err)
		}

		if err := e.svc.Moderate(ctx, ada.ID, bob.ID, actors.Suspend); errkind.Of(err) != errkind.Forbidden {
			t.Errorf("a non-moderator suspended someone: %v", err)
		}
		if err := e.svc.Moderate(ctx, mod.ID, mod.ID, actors.Silence); errkind.Of(err) != errkind.Invalid {
			t.Errorf("self-moderation: %v", err)
		}
		if err := e.svc.Moderate(ctx, mod.ID, bob.ID, "ban"); errkind.Of(err) != errkind.Invalid {
			t.Errorf("unknown action: %v", err)
		}

		// Silence: out of public timelines, still visible to followers.
		if err := e.svc.Moderate(ctx, mod.ID, bob.ID, actors.Silence); err != nil {
			t.Fatal(err)
		}
		if pub, _ := e.svc.PublicTimeline(ctx, 0, true, actors.Page{}); len(pub) != 0 {
			t.Errorf("silenced account in public: %v", statusIDs(pub))
		}
		if h := home(t, e, ada.ID); !slices.Equal(h, []int64{st.ID}) {
			t.Errorf("follower's home %v", h)
		}
		// A silenced domain: the same for its accounts.
		if _, err := e.svc.BlockDomain(ctx, actors.DomainBlock{Domain: "far.example", Severity: actors.SeveritySilence}); err != nil {
			t.Fatal(err)
		}
		if pub, _ := e.svc.PublicTimeline(ctx, 0, false, actors.Page{}); len(pub) != 0 {
			t.Errorf("silenced domain in public: %v", statusIDs(pub))
		}
		if blocked, _ := e.svc.DomainBlocked(ctx, "far.example"); blocked {
			t.Error("a silence blocks requests")
		}

		// Suspension: gone everywhere, follows severed.
		if err := e.svc.Moderate(ctx, mod.ID, bob.ID, actors.Suspend); err != nil {
			t.Fatal(err)
		}
		if h := home(t, e, ada.ID); len(h) != 0 {
			t.Errorf("suspended account in home: %v", h)
		}
		if _, err := e.svc.Status(ctx, ada.ID, st.ID); errkind.Of(err) != errkind.NotFound {
			t.Errorf("suspended account's status: %v", err)
		}
		if _, err := e.svc.LookupAccount(ctx, "bob"); !errors.Is(err, webfinger.ErrNotFound) {
			t.Errorf("webfinger of a suspended account: %v", err)
		}
		if r := rel(t, e, ada.ID, bob.ID); r.Following {
			t.Errorf("follow survived the suspension")
		}
		if _, err := e.svc.Post(ctx, bob.ID, actors.NewStatus{Text: "still here"}); errkind.Of(err) != errkind.Forbidden {
			t.Errorf("a suspended account posted: %v", err)
		}
		mux := http.NewServeMux()
		e.svc.Routes(mux)
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/users/bob", nil)
		req.Header.Set("Accept", "application/activity+json")
		mux.ServeHTTP(rec, req)
		if rec.Code != http.StatusNotFound {
			t.Errorf("suspended actor document: %d", rec.Code)
		}
		// A suspended remote actor may still take things back (rule 32).
		if err := e.svc.Moderate(ctx, mod.ID, zoe.ID, actors.Suspend); err != nil {
			t.Fatal(err)
		}
		if err := e.receiveCreate(t, zoe.IRI, noteJSON("https://far.example/n/2", zoe.IRI, "more", "")); err != nil {
			t.Fatal(err)
		}
		if n := count(t, e.db, "statuses"); n != 2 {
			t.Errorf("%d statuses: a suspended actor's Create was stored", n)
		}
		e.receive(t, zoe.IRI, fmt.Sprintf(`{"id":"https://far.example/d/1","type":"Delete","actor":%q,"object":"https://far.example/n/1"}`, zoe.IRI))
		if n := count(t, e.db, "statuses"); n != 1 {
			t.Errorf("%d statuses: a suspended actor's Delete was dropped", n)
		}
		if err := e.svc.Moderate(ctx, mod.ID, bob.ID, actors.Unsuspend); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Status(ctx, ada.ID, st.ID); err != nil {
			t.Errorf("after unsuspend: %v", err)
		}
	})
}
