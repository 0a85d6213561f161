package transport_test

import (
	"strings"
	"testing"

	"github.com/commonroom/commonroom/pub/transport"
)

// BenchmarkDocumentID measures id extraction from a typical note, and from
// a 1 MiB body that is one 100 000-element array (the worst a fetch can
// hand it).
func BenchmarkDocumentID(b *testing.B) {
	note := []byte(`{"@context":["https://www.w3.org/ns/activitystreams",{"toot":"http://joinmastodon.org/ns#"}],` +
		`"id":"https://a.example/users/alice/statuses/1","type":"Note","attributedTo":"https://a.example/users/alice",` +
		`"to":["https://www.w3.org/ns/activitystreams#Public"],"cc":["https://a.example/users/alice/followers"],` +
		`"content":"<p>` + strings.Repeat("A lesson plan on photosynthesis. ", 40) + `</p>",` +
		`"tag":[{"type":"Hashtag","name":"#biology","href":"https://a.example/tags/biology"}]}`)
	array := []byte(`{"id":"https://a.example/x","items":[` + strings.Repeat("1,", 100000) + `1]}`)
	for _, bc := range []struct {
		name string
		data []byte
	}{{"note", note}, {"100k-array", array}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := transport.DocumentID(bc.data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
