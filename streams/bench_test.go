package streams_test

import (
	"path/filepath"
	"testing"

	"github.com/commonroom/commonroom/streams"
)

// BenchmarkParse parses Mastodon's create_note.json (2.5 KB) to the light
// value. Compare with BenchmarkGoFedToType in streams/gofed, which runs
// go-fed's path on the same bytes.
func BenchmarkParse(b *testing.B) {
	data := MustRead(b, filepath.Join(fixturesDir(b), "mastodon/activities/create_note.json"))
	reg := streams.Default()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		o, err := reg.Parse(data)
		if err != nil || o.ID() == "" {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseAndRead parses create_note.json and reads what an inbox
// reads: id, type, actor, object, addressing.
func BenchmarkParseAndRead(b *testing.B) {
	data := MustRead(b, filepath.Join(fixturesDir(b), "mastodon/activities/create_note.json"))
	reg := streams.Default()
	b.ReportAllocs()
	for b.Loop() {
		o, err := reg.Parse(data)
		if err != nil {
			b.Fatal(err)
		}
		if !o.IsActivity() || o.IRI("actor") == "" || o.Object("object").ID() == "" || len(o.IRIs("cc")) != 2 {
			b.Fatal("wrong reading")
		}
	}
}

// BenchmarkMarshal serializes the parsed create_note.json.
func BenchmarkMarshal(b *testing.B) {
	data := MustRead(b, filepath.Join(fixturesDir(b), "mastodon/activities/create_note.json"))
	o := MustParse(b, streams.Default(), data)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := o.MarshalJSON(); err != nil {
			b.Fatal(err)
		}
	}
}
