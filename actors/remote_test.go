package actors_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/commonroom/commonroom/actors"
	"github.com/commonroom/commonroom/internal/errkind"
)

func TestRemoteActor(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		iri := "https://Social.Example:8443/users/bea"
		e.fetch.put(iri, `{"@context":["https://www.w3.org/ns/activitystreams",{"toot":"http://joinmastodon.org/ns#","discoverable":"toot:discoverable","PropertyValue":"schema:PropertyValue","schema":"http://schema.org#","value":"schema:value"}],
"id":"https://Social.Example:8443/users/bea","type":"Service","preferredUsername":"Bea","name":"Bea\nB",
"summary":"<p>Hello <script>x()</script><a href=\"javascript:alert(1)\">click</a></p>",
"url":"https://social.example:8443/@bea","inbox":"https://social.example:8443/users/bea/inbox",
"endpoints":{"sharedInbox":"https://social.example:8443/inbox"},"manuallyApprovesFollowers":true,"discoverable":true,
"icon":{"type":"Image","url":"https://social.example:8443/a.png"},"image":"https://social.example:8443/h.png",
"attachment":[{"type":"PropertyValue","name":"Web","value":"<a href=\"https://bea.example\">bea.example</a>"},{"type":"Note","name":"not a field"}],
"published":"2020-01-02T03:04:05Z"}`)
		a, err := e.svc.RemoteActor(ctx, iri+"#main-key")
		if err != nil {
			t.Fatal(err)
		}
		if a.Domain != "social.example:8443" || a.Username != "Bea" || a.Acct() != "Bea@social.example:8443" || a.Local() {
			t.Errorf("name %q domain %q", a.Username, a.Domain)
		}
		if a.Kind != actors.KindService || !a.Bot || !a.Locked || !a.Discoverable || a.DisplayName != "Bea B" {
			t.Errorf("flags %+v", a)
		}
		if strings.Contains(a.Note, "script") || strings.Contains(a.Note, "javascript") {
			t.Errorf("note not sanitized: %q", a.Note)
		}
		if a.AvatarURL != "https://social.example:8443/a.png" || a.HeaderURL != "https://social.example:8443/h.png" || a.SharedInbox != "https://social.example:8443/inbox" {
			t.Errorf("urls %+v", a)
		}
		if fs := a.Fields(); len(fs) != 1 || fs[0].Name != "Web" || !strings.Contains(fs[0].Value, `href="https://bea.example"`) {
			t.Errorf("fields %+v", fs)
		}
		if a.CreatedAt.Year() != 2020 {
			t.Errorf("published %v", a.CreatedAt)
		}
		// Fresh: no second fetch.
		if _, err := e.svc.RemoteActor(ctx, iri); err != nil || e.fetch.count() != 1 {
			t.Errorf("second RemoteActor: %v, %d fetches", err, e.fetch.count())
		}
		// Stale: refetched and updated in place, same row.
		*e.now = e.now.Add(25 * 60 * 60 * 1e9)
		e.fetch.put(iri, remoteDoc(iri, "Bea", false))
		b, err := e.svc.RemoteActor(ctx, iri)
		if err != nil || b.ID != a.ID || b.Locked || e.fetch.count() != 2 || !b.CreatedAt.Equal(a.CreatedAt) {
			t.Errorf("refresh: %+v, %v, %d fetches", b, err, e.fetch.count())
		}
	})
}

// TestSecurity26_RemoteFieldCaps: an actor document with 500 fields, 1000
// alsoKnownAs entries and huge names and bios is cut to the configured
// limits (SECURITY.md rule 26; statuses: TestReceiveCreateTrust).
func TestSecurity26_RemoteFieldCaps(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		iri := "https://big.example/users/huge"
		var fields, aka []string
		for i := range 500 {
			fields = append(fields, fmt.Sprintf(`{"type":"PropertyValue","name":"f%d","value":"%s"}`, i, strings.Repeat("v", 1000)))
		}
		for i := range 1000 {
			aka = append(aka, fmt.Sprintf(`"https://big.example/users/alias%d"`, i))
		}
		e.fetch.put(iri, `{"@context":["https://www.w3.org/ns/activitystreams",{"schema":"http://schema.org#","PropertyValue":"schema:PropertyValue","value":"schema:value"}],
"id":"`+iri+`","type":"Person","preferredUsername":"huge","inbox":"`+iri+`/inbox",
"name":"`+strings.Repeat("n", 5000)+`","summary":"`+strings.Repeat("b", 200000)+`",
"attachment":[`+strings.Join(fields, ",")+`],"alsoKnownAs":[`+strings.Join(aka, ",")+`]}`)
		a, err := e.svc.RemoteActor(ctx, iri)
		if err != nil {
			t.Fatal(err)
		}
		cfg := e.svc.Config()
		if n := len([]rune(a.DisplayName)); n != cfg.MaxRemoteDisplayNameChars {
			t.Errorf("display name %d characters", n)
		}
		if n := len(a.Note); n > cfg.MaxRemoteNoteChars {
			t.Errorf("note %d bytes", n)
		}
		if n := len(a.Fields()); n != cfg.MaxRemoteFields {
			t.Errorf("%d fields", n)
		}
		if n := len(a.AlsoKnownAs()); n != cfg.MaxAlsoKnownAs {
			t.Errorf("%d aliases", n)
		}
	})
}

func TestRemoteActorRefusesBadDocuments(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.local(t, "ada")
		tests := []struct {
			name, iri, doc string
			kind           errkind.Kind
		}{
			{"not an actor", "https://x.example/notes/1", `{"id":"https://x.example/notes/1","type":"Note"}`, errkind.Invalid},
			{"no inbox", "https://x.example/u/a", `{"id":"https://x.example/u/a","type":"Person","preferredUsername":"a"}`, errkind.Invalid},
			{"no name", "https://x.example/u/b", `{"id":"https://x.example/u/b","type":"Person","inbox":"https://x.example/u/b/inbox"}`, errkind.Invalid},
			{"name with @", "https://x.example/u/c", `{"id":"https://x.example/u/c","type":"Person","preferredUsername":"c@d","inbox":"https://x.example/i"}`, errkind.Invalid},
			{"served under another id", "https://x.example/u/d", remoteDoc("https://x.example/u/other", "d", false), errkind.Invalid},
			{"unreachable", "https://x.example/u/none", "", errkind.NotFound},
			{"local and unknown", testBase + "/users/nobody", "", errkind.NotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if tt.doc != "" {
					e.fetch.put(tt.iri, tt.doc)
				}
				before, calls := count(t, e.db, "actors"), e.fetch.count()
				_, err := e.svc.RemoteActor(ctx, tt.iri)
				if errkind.Of(err) != tt.kind {
					t.Fatalf("err = %v (%v), want %v", err, errkind.Of(err), tt.kind)
				}
				if n := count(t, e.db, "actors"); n != before {
					t.Errorf("stored an actor")
				}
				if strings.HasPrefix(tt.iri, testBase) && e.fetch.count() != calls {
					t.Errorf("fetched a local IRI")
				}
			})
		}
		t.Run("suspended domain is never fetched", func(t *testing.T) {
			if _, err := e.svc.BlockDomain(ctx, actors.DomainBlock{Domain: "EVIL.example.", Severity: actors.SeveritySuspend}); err != nil {
				t.Fatal(err)
			}
			calls := e.fetch.count()
			_, err := e.svc.RemoteActor(ctx, "https://a.evil.example/users/eve")
			if errkind.Of(err) != errkind.Forbidden || e.fetch.count() != calls {
				t.Fatalf("err = %v, %d new fetches", err, e.fetch.count()-calls)
			}
		})
	})
}
