package pub_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/commonroom/commonroom/streams"
)

// TestUpdatePublishedPrecision: a Note published with sub-millisecond
// precision stays editable after a round trip through a store that keeps
// published to the millisecond (pub/bunstore), remote (inbox Update) and
// local (Publish of an Update); an update that changes published, even
// below the millisecond, is still refused (SECURITY rule 23).
func TestUpdatePublishedPrecision(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts nodeOptions
	}{
		{"memory", nodeOptions{}},
		{"sqlite", nodeOptions{sqliteStore: true}},
		{"postgres", nodeOptions{postgres: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			testUpdatePublishedPrecision(t, tt.opts)
		})
	}
}

func testUpdatePublishedPrecision(t *testing.T, opts nodeOptions) {
	const published = "2026-11-21T07:00:00.123456Z"
	f := newInboxFixture(t, opts)
	noteID := f.rex.id + "/statuses/1"
	noteOf := func(content, published string) map[string]any {
		return map[string]any{"id": noteID, "type": "Note", "attributedTo": f.rex.id, "to": []string{streams.PublicIRI},
			"content": content, "published": published}
	}
	send := func(id, typ string, obj map[string]any) {
		t.Helper()
		body := asDoc(t, map[string]any{"id": f.rex.id + "/activities/" + id, "type": typ, "actor": f.rex.id, "to": []string{streams.PublicIRI}, "object": obj})
		if got := f.post(f.rex, "/inbox", body); got != http.StatusAccepted {
			t.Fatalf("%s: %d", typ, got)
		}
		f.process(t)
	}
	content := func(id string) string {
		t.Helper()
		o, ok := f.n.object(id)
		if !ok {
			t.Fatalf("%s not stored", id)
		}
		return string(o.Body)
	}

	send("create", "Create", noteOf("original", published))
	for i, p := range []string{"2026-11-21T07:00:00.123457Z", "2026-11-21T07:00:00.123Z", "2026-11-21T07:00:01.123456Z", "not a time"} {
		send(fmt.Sprintf("bad-%d", i), "Update", noteOf("illegal", p))
		if c := content(noteID); strings.Contains(c, "illegal") {
			t.Errorf("an update changing published to %q was applied: %s", p, c)
		}
	}
	send("edit", "Update", noteOf("edited", published))
	if c := content(noteID); !strings.Contains(c, "edited") {
		t.Errorf("the author's edit with the same published was refused: %s", c)
	}
	send("edit-without-published", "Update", map[string]any{"id": noteID, "type": "Note", "attributedTo": f.rex.id, "content": "edited again"})
	if c := content(noteID); !strings.Contains(c, "edited again") {
		t.Errorf("the author's edit without published was refused: %s", c)
	}

	// The same through Publish, for a local actor's note.
	act := f.n.publish(f.ana.ID, `{"type":"Note","content":"mine","published":"`+published+`","to":["`+streams.PublicIRI+`"]}`)
	mine := act.Object("object").ID()
	update := func(content, published string) error {
		obj, err := streams.Parse([]byte(fmt.Sprintf(`{"type":"Update","object":{"id":%q,"type":"Note","attributedTo":%q,"content":%q,"published":%q,"to":[%q]},"to":[%q]}`,
			mine, f.ana.ID, content, published, streams.PublicIRI, streams.PublicIRI)))
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.n.fed.Publish(t.Context(), f.ana.ID, obj)
		return err
	}
	if err := update("mine, illegal", "2026-11-21T07:00:00.123457Z"); err == nil {
		t.Error("Publish of an Update changing published below the millisecond succeeded")
	}
	if err := update("mine, edited", published); err != nil {
		t.Errorf("Publish of an Update keeping published: %v", err)
	}
	if c := content(mine); !strings.Contains(c, "mine, edited") {
		t.Errorf("local note after the edit: %s", c)
	}
}
