package pub_test

import (
	"net/http"
	"testing"

	"github.com/commonroom/commonroom/pub"
)

// TestAuthorizedFetchCollectionsAndObjects: under authorized fetch every
// AS2 GET Federation.Routes serves (actors, collections, local objects and
// activities) needs a signed request, except the instance actor; without
// it they answer unsigned.
func TestAuthorizedFetchCollectionsAndObjects(t *testing.T) {
	for _, tt := range []struct {
		name       string
		authorized bool
		unsigned   int
	}{
		{"on", true, http.StatusUnauthorized},
		{"off", false, http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := newNode(t, "a", nodeOptions{})
			b := newNode(t, "b", nodeOptions{engine: func(c *pub.Config) { c.AuthorizedFetch = tt.authorized }})
			dumpLogs(t, a, b)
			bob := b.actor("bob", false)
			note := b.publish(bob.ID, `{"type":"Note","content":"hi","to":["https://www.w3.org/ns/activitystreams#Public"]}`)
			paths := []string{
				bob.ID,
				bob.ID + "/outbox", bob.ID + "/outbox?page=1",
				bob.ID + "/followers", bob.ID + "/following", bob.ID + "/liked", bob.ID + "/featured",
				note.ID(), note.Object("object").ID(),
			}
			signed := func(req *http.Request, body []byte) {
				if err := a.engine.InstanceActor().SignRequest(req, body); err != nil {
					t.Fatal(err)
				}
			}
			for _, url := range paths {
				if got, body := b.get(url, nil); got != tt.unsigned {
					t.Errorf("unsigned GET %s = %d, want %d\n%s", url, got, tt.unsigned, body)
				}
				if got, body := b.get(url, signed); got != http.StatusOK {
					t.Errorf("signed GET %s = %d, want 200\n%s", url, got, body)
				}
			}
			// A tombstone answers 410, to signed readers only.
			gone := b.publish(bob.ID, `{"type":"Note","content":"bye","to":["https://www.w3.org/ns/activitystreams#Public"]}`).Object("object").ID()
			b.publish(bob.ID, `{"type":"Delete","object":"`+gone+`","to":["https://www.w3.org/ns/activitystreams#Public"]}`)
			if tt.authorized {
				if got, _ := b.get(gone, nil); got != http.StatusUnauthorized {
					t.Errorf("unsigned GET of a tombstone = %d, want 401", got)
				}
			}
			if got, _ := b.get(gone, signed); got != http.StatusGone {
				t.Errorf("signed GET of a tombstone = %d, want 410", got)
			}
			if got, _ := b.get(b.base+"/actor", nil); got != http.StatusOK {
				t.Errorf("unsigned GET of the instance actor = %d, want 200", got)
			}
		})
	}
}
