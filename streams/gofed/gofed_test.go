package gofed_test

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gfstreams "github.com/go-fed/activity/streams"

	"github.com/commonroom/commonroom/streams"
	"github.com/commonroom/commonroom/streams/gofed"
)

func fixturesDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
	fx := filepath.Join(dir, "..", "shared", "fixtures", "activitypub")
	if _, err := os.Stat(fx); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("fixtures folder %s is missing (CI=true): %v", fx, err)
		}
		tb.Skipf("fixtures folder %s is missing; skipping (set CI=true to fail instead)", fx)
	}
	return fx
}

// MustRead reads a file or fails the test.
func MustRead(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestToTypeFixtures converts every real document whose type is an AS2 core
// type to go-fed's typed value, documents without @context included, and
// back, checking id and type survive.
func TestToTypeFixtures(t *testing.T) {
	dir := fixturesDir(t)
	var files []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".json") {
			files = append(files, p)
		}
		return err
	})
	reg := streams.Default()
	converted, noContext := 0, 0
	for _, p := range files {
		name, _ := filepath.Rel(dir, p)
		t.Run(name, func(t *testing.T) {
			o, err := reg.Parse(MustRead(t, p))
			if err != nil {
				t.Fatal(err)
			}
			typ := o.TypeIRIs()
			if len(typ) != 1 || !strings.HasPrefix(typ[0], streams.ASNamespace) {
				t.Skipf("type %v is not an AS2 core type", typ)
			}
			gt, err := gofed.ToType(context.Background(), o)
			if err != nil {
				t.Fatalf("ToType: %v", err)
			}
			if gt.GetTypeName() != o.Type() {
				t.Errorf("go-fed type %q, ours %q", gt.GetTypeName(), o.Type())
			}
			// go-fed stores ids as url.URL, which escapes a second '#'.
			wantID := o.ID()
			if u, err := url.Parse(wantID); err == nil {
				wantID = u.String()
			}
			if id := gt.GetJSONLDId(); id != nil && id.Get().String() != wantID {
				t.Errorf("go-fed id %q, ours %q", id.Get(), wantID)
			}
			back, err := gofed.FromType(gt, reg)
			if err != nil {
				t.Fatalf("FromType: %v", err)
			}
			if back.ID() != wantID || back.Type() != o.Type() || back.IRI("actor") != o.IRI("actor") {
				t.Errorf("FromType(ToType(x)) = %s %s, want %s %s", back.ID(), back.Type(), o.ID(), o.Type())
			}
			converted++
			if o.Context().IsNull() {
				noContext++
			}
		})
	}
	t.Logf("converted %d documents (%d without @context)", converted, noContext)
	if noContext == 0 {
		t.Error("no document without @context was converted")
	}
}

// TestFromTypeBuilt builds a Note with go-fed and reads it with streams.
func TestFromTypeBuilt(t *testing.T) {
	note := gfstreams.NewActivityStreamsNote()
	content := gfstreams.NewActivityStreamsContentProperty()
	content.AppendXMLSchemaString("hello")
	note.SetActivityStreamsContent(content)
	o, err := gofed.FromType(note, nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.Type() != "Note" || o.String("content") != "hello" {
		t.Errorf("got type %q content %q", o.Type(), o.String("content"))
	}
	if _, err := gofed.FromType(nil, nil); err == nil {
		t.Error("FromType(nil) succeeded")
	}
	if _, err := gofed.ToType(context.Background(), nil); err == nil {
		t.Error("ToType(nil) succeeded")
	}
}

// TestToTypeUnknownType: go-fed cannot type an extension type; the error
// says so, and the light value still reads it.
func TestToTypeUnknownType(t *testing.T) {
	o, err := streams.Parse([]byte(`{"@context":"https://www.w3.org/ns/activitystreams","type":"ChatMessage","id":"https://p.example/o/1","content":"hi"}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gofed.ToType(context.Background(), o); err == nil {
		t.Error("go-fed typed an unknown type")
	}
	if !o.Is("Object") || o.String("content") != "hi" {
		t.Error("light value lost the ChatMessage")
	}
}

// BenchmarkGoFedToType is the baseline: go-fed's path from bytes,
// json.Unmarshal into map[string]any then streams.ToType, on the same
// create_note.json as streams' BenchmarkParse.
func BenchmarkGoFedToType(b *testing.B) {
	data := MustRead(b, filepath.Join(fixturesDir(b), "mastodon/activities/create_note.json"))
	ctx := context.Background()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			b.Fatal(err)
		}
		if _, err := gfstreams.ToType(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStreamsParse is streams.Parse on the same bytes, so that one
// run of this package's benchmarks shows both sides.
func BenchmarkStreamsParse(b *testing.B) {
	data := MustRead(b, filepath.Join(fixturesDir(b), "mastodon/activities/create_note.json"))
	reg := streams.Default()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := reg.Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkToType measures ToType from an already parsed light value.
func BenchmarkToType(b *testing.B) {
	data := MustRead(b, filepath.Join(fixturesDir(b), "mastodon/activities/create_note.json"))
	o, err := streams.Parse(data)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := gofed.ToType(ctx, o); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSideBySide alternates streams.Parse and go-fed's path on
// create_note.json within each iteration, so that both see the same load
// on a shared machine, and reports each one's time per document and the
// ratio (go-fed / streams).
func BenchmarkSideBySide(b *testing.B) {
	data := MustRead(b, filepath.Join(fixturesDir(b), "mastodon/activities/create_note.json"))
	reg := streams.Default()
	ctx := context.Background()
	var ours, theirs time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := reg.Parse(data); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			b.Fatal(err)
		}
		if _, err := gfstreams.ToType(ctx, m); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		ours += t1.Sub(t0)
		theirs += t2.Sub(t1)
	}
	n := float64(b.N)
	b.ReportMetric(float64(ours.Nanoseconds())/n, "streams-ns/doc")
	b.ReportMetric(float64(theirs.Nanoseconds())/n, "gofed-ns/doc")
	b.ReportMetric(float64(theirs)/float64(ours), "speedup")
}
