package actors_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/commonroom/commonroom/actors"
	"github.com/commonroom/commonroom/internal/dbtest"
	"github.com/commonroom/commonroom/streams"
)

func TestReportForward(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		ada, bob := e.local(t, "ada"), e.local(t, "bob")
		zoe := e.remote(t, "far.example", "zoe", false)
		noteID := "https://far.example/notes/1"
		if err := e.receiveCreate(t, zoe.IRI, noteJSON(noteID, zoe.IRI, "rude", "")); err != nil {
			t.Fatal(err)
		}
		st, err := e.svc.StatusByIRI(ctx, ada.ID, noteID)
		if err != nil {
			t.Fatal(err)
		}

		e.pub.reset()
		if _, err := e.svc.FileReport(ctx, ada.ID, actors.NewReport{TargetID: zoe.ID, StatusIDs: []int64{st.ID}, Comment: "spam", Forward: true}); err != nil {
			t.Fatal(err)
		}
		flag := e.pub.last(t)
		if flag.Type() != "Flag" || flag.IRI("actor") != testBase+"/actor" || e.svc.InstanceActorIRI() != testBase+"/actor" {
			t.Errorf("published %s by %s", flag.Type(), flag.IRI("actor"))
		}
		if got := flag.IRIs("object"); !slices.Equal(got, []string{zoe.IRI, noteID}) {
			t.Errorf("object %v", got)
		}
		if flag.String("content") != "spam" || !slices.Equal(flag.IRIs("to"), []string{zoe.IRI}) {
			t.Errorf("content %q, to %v", flag.String("content"), flag.IRIs("to"))
		}
		if b, _ := flag.MarshalJSON(); strings.Contains(string(b), ada.IRI) || strings.Contains(string(b), "/users/ada") {
			t.Errorf("the forwarded Flag names the reporter: %s", b)
		}

		// Not forwarded: without Forward, and for local targets.
		e.pub.reset()
		if _, err := e.svc.FileReport(ctx, ada.ID, actors.NewReport{TargetID: zoe.ID, Comment: "again"}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.FileReport(ctx, ada.ID, actors.NewReport{TargetID: bob.ID, Comment: "local", Forward: true}); err != nil {
			t.Fatal(err)
		}
		if got := e.pub.types(); len(got) != 0 {
			t.Errorf("published %v", got)
		}
		// A refused report sends nothing either.
		if _, err := e.svc.FileReport(ctx, ada.ID, actors.NewReport{TargetID: zoe.ID, StatusIDs: []int64{st.ID + 1000}, Forward: true}); err == nil {
			t.Error("a report naming a status that is not the target's was filed")
		}
		if got := e.pub.types(); len(got) != 0 {
			t.Errorf("published %v", got)
		}
		if n := count(t, e.db, "reports"); n != 3 {
			t.Errorf("%d reports, want 3", n)
		}
	})
}

// TestReportForwardFederation forwards a report about a remote account
// over loopback: the peer's inbox receives a Flag signed by the instance
// actor, naming the account and the status.
func TestReportForwardFederation(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			open := dbtest.SQLite
			if dialect == "postgres" {
				open = dbtest.Postgres
			}
			ctx := context.Background()
			school := startServer(t, ctx, open(t, sets()...))
			ada := school.person(t, "ada", false)
			peer := newThreadPeer(t)
			peer.parents["/notes/1"] = ""
			zoe, err := school.svc.RemoteActor(ctx, peer.zoe())
			if err != nil {
				t.Fatal(err)
			}
			obj, err := streams.Parse([]byte(peer.note("/notes/1", "")))
			if err != nil {
				t.Fatal(err)
			}
			act := streams.Default().New("Create")
			act.SetID(obj.ID() + "/activity")
			_ = act.Set("actor", streams.IRI(zoe.IRI))
			_ = act.Set("object", streams.ObjectValue(obj))
			if err := school.svc.Receive(ctx, actors.Incoming{Activity: act, Actor: zoe.IRI, Object: obj}); err != nil {
				t.Fatal(err)
			}
			st, err := school.svc.StatusByIRI(ctx, ada.ID, obj.ID())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := school.svc.FileReport(ctx, ada.ID, actors.NewReport{TargetID: zoe.ID, StatusIDs: []int64{st.ID}, Comment: "harassment", Forward: true}); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the Flag at zoe's inbox", func() bool {
				peer.mu.Lock()
				defer peer.mu.Unlock()
				return len(peer.bodies) > 0
			})
			peer.mu.Lock()
			body, req := peer.bodies[0], peer.posts[0]
			peer.mu.Unlock()
			var flag struct {
				Type    string   `json:"type"`
				Actor   string   `json:"actor"`
				Object  []string `json:"object"`
				Content string   `json:"content"`
			}
			if err := json.Unmarshal([]byte(body), &flag); err != nil {
				t.Fatalf("%v: %s", err, body)
			}
			if flag.Type != "Flag" || flag.Actor != school.base+"/actor" || flag.Content != "harassment" ||
				!slices.Equal(flag.Object, []string{zoe.IRI, st.IRI}) {
				t.Errorf("delivered %s", body)
			}
			sig := req.Header.Get("Signature") + req.Header.Get("Signature-Input")
			if !strings.Contains(sig, school.base+"/actor") {
				t.Errorf("not signed by the instance actor: %q", sig)
			}
			if strings.Contains(body, ada.IRI) {
				t.Errorf("the Flag names the reporter: %s", body)
			}
		})
	}
}
