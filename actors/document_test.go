package actors_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/commonroom/commonroom/actors"
	"github.com/commonroom/commonroom/pub"
	"github.com/commonroom/commonroom/pub/webfinger"
	"github.com/commonroom/commonroom/streams"
)

func TestProfileHandler(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		ada := e.local(t, "ada", func(nl *actors.NewLocal) { nl.Note = "I teach <maths>"; nl.Locked = true; nl.Discoverable = true })
		fields := []actors.Field{{Name: "Site", Value: "https://ada.example"}}
		avatar := "https://cdn.school.example/ada.png"
		if _, err := e.svc.UpdateProfile(ctx, ada.ID, actors.ProfileUpdate{Fields: &fields, AvatarURL: &avatar}); err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		e.svc.Routes(mux)
		mux.Handle("GET /", e.svc.ProfileHandler()) // the /@{name} alias
		srv := httptest.NewServer(mux)
		defer srv.Close()
		get := func(t *testing.T, path, accept string) (*http.Response, string) {
			t.Helper()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+path, nil)
			if accept != "" {
				req.Header.Set("Accept", accept)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.Header.Get("Vary") != "Accept" {
				t.Errorf("%s %s: Vary = %q", path, accept, resp.Header.Get("Vary"))
			}
			return resp, string(body)
		}
		for _, accept := range []string{"application/activity+json", `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`, ""} {
			t.Run("AS2 "+accept, func(t *testing.T) {
				resp, body := get(t, "/users/ADA", accept)
				if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != actors.ContentTypeActivityJSON {
					t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
				}
				doc, err := streams.Parse([]byte(body))
				if err != nil {
					t.Fatal(err)
				}
				if doc.Type() != "Person" || doc.ID() != ada.IRI || doc.IRI("inbox") != ada.Inbox ||
					doc.Object("endpoints").IRI("sharedInbox") != testBase+"/inbox" || doc.IRI("featured") != ada.Featured ||
					doc.IRI("outbox") != ada.Outbox || doc.IRI("following") != ada.Following || doc.IRI("followers") != ada.Followers {
					t.Errorf("document %s", body)
				}
				if b, ok := doc.Bool("manuallyApprovesFollowers"); !ok || !b {
					t.Error("manuallyApprovesFollowers not true")
				}
				if b, ok := doc.Bool("discoverable"); !ok || !b {
					t.Error("discoverable not true")
				}
				if _, ok := doc.Time("published"); !ok {
					t.Error("no published")
				}
				if doc.Object("icon").IRI("url") != avatar {
					t.Errorf("icon %v", doc.Object("icon"))
				}
				att := doc.Objects("attachment")
				if len(att) != 1 || !att[0].Is("PropertyValue") || att[0].String("name") != "Site" {
					t.Errorf("attachment %v", att)
				}
				keys, err := pub.PublishedKeys(doc)
				if err != nil || len(keys) != 2 || keys[0].ID != ada.IRI+"#main-key" || keys[0].Owner != ada.IRI {
					t.Errorf("keys %+v, %v", keys, err)
				}
				if !strings.Contains(body, "BEGIN PUBLIC KEY") || strings.Contains(body, "PRIVATE") {
					t.Error("publicKeyPem missing or private key leaked")
				}
			})
		}
		t.Run("HTML", func(t *testing.T) {
			resp, body := get(t, "/@ada", "text/html,application/xhtml+xml,*/*;q=0.8")
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
				t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			for _, want := range []string{"The ada", "@ada@school.example", "I teach &lt;maths&gt;", `href="https://ada.example"`, `type="application/activity+json" href="` + ada.IRI + `"`} {
				if !strings.Contains(body, want) {
					t.Errorf("page lacks %q:\n%s", want, body)
				}
			}
		})
		t.Run("unknown", func(t *testing.T) {
			if resp, _ := get(t, "/users/nobody", "application/activity+json"); resp.StatusCode != 404 {
				t.Errorf("status %d", resp.StatusCode)
			}
		})
		t.Run("ActorDocument of a remote IRI", func(t *testing.T) {
			if _, err := e.svc.ActorDocument(ctx, "https://else.example/users/x"); err == nil {
				t.Error("no error")
			}
		})
	})
}

func TestLookupAccount(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		ada := e.local(t, "Ada")
		if _, err := e.svc.CreateLocal(ctx, actors.NewLocal{Username: "biology", Kind: actors.KindGroup}); err != nil {
			t.Fatal(err)
		}
		got, err := e.svc.LookupAccount(ctx, "ADA")
		if err != nil || got.Username != "Ada" || got.ActorIRI != ada.IRI || got.Kind != webfinger.KindPerson || got.ProfileURL != ada.URL {
			t.Errorf("LookupAccount = %+v, %v", got, err)
		}
		g, err := e.svc.LookupAccount(ctx, "biology")
		if err != nil || g.Kind != webfinger.KindGroup || g.ActorIRI != testBase+"/groups/biology" {
			t.Errorf("group = %+v, %v", g, err)
		}
		if _, err := e.svc.LookupAccount(ctx, "nobody"); !errors.Is(err, webfinger.ErrNotFound) {
			t.Errorf("unknown: %v", err)
		}
		h, err := webfinger.NewHandler(webfinger.Config{BaseURL: testBase, Resolver: e.svc})
		if err != nil {
			t.Fatal(err)
		}
		jrd, err := h.Lookup(ctx, "acct:ada@school.example")
		if err != nil || jrd.Subject != "acct:Ada@school.example" {
			t.Errorf("JRD %+v, %v", jrd, err)
		}
	})
}
