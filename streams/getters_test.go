package streams_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/commonroom/commonroom/streams"
)

// TestActorGetters reads what the federation engine needs from real actor
// documents.
func TestActorGetters(t *testing.T) {
	dir := fixturesDir(t)
	tests := []struct {
		file                             string
		typ                              string
		inbox, outbox, followers, shared string
		keyID, keyOwner                  string
		manual, manualSet                bool
		publishedYear                    int
	}{
		{
			file: "mastodon/objects/person.json", typ: "Person",
			inbox:     "https://masto.qa.urbanwildlife.biz/users/mastodon/inbox",
			outbox:    "https://masto.qa.urbanwildlife.biz/users/mastodon/outbox",
			followers: "https://masto.qa.urbanwildlife.biz/users/mastodon/followers",
			shared:    "https://masto.qa.urbanwildlife.biz/inbox",
			keyID:     "https://masto.qa.urbanwildlife.biz/users/mastodon#main-key",
			keyOwner:  "https://masto.qa.urbanwildlife.biz/users/mastodon",
			manual:    false, manualSet: true, publishedYear: 2022,
		},
		{
			file: "lemmy/objects/group.json", typ: "Group",
			inbox:         "https://enterprise.lemmy.ml/c/tenforward/inbox",
			outbox:        "https://enterprise.lemmy.ml/c/tenforward/outbox",
			followers:     "https://enterprise.lemmy.ml/c/tenforward/followers",
			shared:        "https://enterprise.lemmy.ml/inbox",
			keyID:         "https://enterprise.lemmy.ml/c/tenforward#main-key",
			keyOwner:      "https://enterprise.lemmy.ml/c/tenforward",
			publishedYear: 2019,
		},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			o := MustParse(t, streams.Default(), MustRead(t, filepath.Join(dir, tc.file)))
			if o.Type() != tc.typ || !o.IsActor() || o.IsActivity() {
				t.Errorf("Type() = %q IsActor %v IsActivity %v", o.Type(), o.IsActor(), o.IsActivity())
			}
			for _, c := range []struct{ name, got, want string }{
				{"inbox", o.IRI("inbox"), tc.inbox},
				{"outbox", o.IRI("outbox"), tc.outbox},
				{"followers", o.IRI("followers"), tc.followers},
				{"sharedInbox", o.Object("endpoints").IRI("sharedInbox"), tc.shared},
			} {
				if c.got != c.want {
					t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
				}
			}
			keys := o.Objects("publicKey")
			if len(keys) != 1 || keys[0].ID() != tc.keyID || keys[0].IRI("owner") != tc.keyOwner {
				t.Fatalf("publicKey = %v", keys)
			}
			if pem := keys[0].String("publicKeyPem"); len(pem) < 100 {
				t.Errorf("publicKeyPem = %q", pem)
			}
			m, ok := o.Bool("manuallyApprovesFollowers")
			if ok != tc.manualSet || m != tc.manual {
				t.Errorf("manuallyApprovesFollowers = %v, %v", m, ok)
			}
			pub, ok := o.Time("published")
			if !ok || pub.Year() != tc.publishedYear {
				t.Errorf("published = %v, %v", pub, ok)
			}
		})
	}
}

// TestActivityGetters reads a Create with its embedded Note.
func TestActivityGetters(t *testing.T) {
	dir := fixturesDir(t)
	o := MustParse(t, streams.Default(), MustRead(t, filepath.Join(dir, "mastodon/activities/create_note.json")))
	if !o.Is("Create") || !o.IsActivity() || !o.Is("Object") || o.Is("Note") {
		t.Errorf("type hierarchy wrong for %v", o.Types())
	}
	note := o.Object("object")
	if note == nil || note.Type() != "Note" || o.IRI("object") != note.ID() {
		t.Fatalf("object = %v", note)
	}
	if got := note.IRIs("cc"); len(got) != 2 || !streams.IsPublic(got[0]) {
		t.Errorf("cc = %v", got)
	}
	if got := o.IRIs("to"); len(got) != 1 || got[0] != "https://mastodon.madrid/users/felix/followers" {
		t.Errorf("to = %v", got)
	}
	if got := note.IRI("attributedTo"); got != "https://mastodon.madrid/users/felix" {
		t.Errorf("attributedTo = %q", got)
	}
	if s, ok := note.Bool("sensitive"); !ok || s {
		t.Errorf("sensitive = %v %v", s, ok)
	}
	if lm := note.LangMap("content"); len(lm) < 1 || lm["en"] == "" {
		t.Errorf("LangMap(content) = %v", lm)
	}
	if c := note.String("content"); c == "" || c == note.LangMap("content")["en"] {
		t.Errorf("String(content) should be the plain form, got %q", c)
	}
	if got, _ := note.Time("published"); !got.Equal(time.Date(2021, 11, 5, 11, 46, 50, 0, time.UTC)) {
		t.Errorf("published = %v", got)
	}
	if got := note.Object("replies").Object("first").IRI("partOf"); got != "https://mastodon.madrid/users/felix/statuses/107224289116410645/replies" {
		t.Errorf("replies.first.partOf = %q", got)
	}
	if tags := note.Objects("tag"); len(tags) != 1 || !tags[0].IsLink() || tags[0].IRI("href") != "https://mamot.fr/users/retiolus" {
		t.Errorf("tag = %v", tags)
	}
	if got := note.String("atomUri"); got == "" {
		t.Errorf("context-defined unknown term atomUri not readable by key")
	}
	if got := note.String("http://ostatus.org#atomUri"); got == "" {
		t.Errorf("atomUri not readable by full IRI")
	}
}
