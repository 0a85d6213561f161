package streams_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/commonroom/commonroom/streams"
)

// checkStable asserts the round-trip properties on one input: if it
// parses, its serialization is valid JSON that parses to an equal object,
// and serialize∘parse is idempotent.
func checkStable(t *testing.T, reg *streams.Registry, data []byte) {
	t.Helper()
	o, err := reg.Parse(data)
	if err != nil {
		return
	}
	if !json.Valid(data) {
		t.Fatalf("accepted invalid JSON %q", data)
	}
	out, err := o.MarshalJSON()
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	if !json.Valid(out) {
		t.Fatalf("serialized invalid JSON %q from %q", out, data)
	}
	o2, err := reg.Parse(out)
	if err != nil {
		t.Fatalf("reparse of %q: %v", out, err)
	}
	if !o2.Equal(o) {
		t.Fatalf("parse(serialize(x)) != x for %q", data)
	}
	out2, err := o2.MarshalJSON()
	if err != nil || !bytes.Equal(out, out2) {
		t.Fatalf("serialize not stable:\n%s\n%s", out, out2)
	}
	// The getters never panic on anything that parsed.
	_ = o.Validate()
	for _, name := range []string{"id", "actor", "object", "to", "content", "published", "publicKey", "sensitive", "width", "duration"} {
		_ = o.IRI(name)
		_ = o.IRIs(name)
		_ = o.String(name)
		_ = o.LangMap(name)
		_, _ = o.Time(name)
		_, _ = o.Bool(name)
		_, _ = o.Int(name)
		_, _ = o.Duration(name)
		_ = o.Objects(name)
	}
	_ = o.Types()
	_ = o.IsActor()
}

// FuzzParse feeds arbitrary bytes to the parser: it must never panic, never
// accept what encoding/json rejects, and whatever it accepts must
// round-trip stably.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*", "*.json"))
	more, _ := filepath.Glob(filepath.Join("testdata", "as2", "*", "*.json"))
	for _, p := range append(seeds, more...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{`{}`, `{"@context":null}`, `{"a":[[[]]]}`, `{"@context":[{"x":{"@id":"x"}}],"x":1}`,
		`{"@context":{"a":"b:","b":"a:"},"a:c":1}`, `{"content":"\ud800"}`, `{"id":"a","type":["Note","as:Note"]}`} {
		f.Add([]byte(s))
	}
	reg := streams.Default()
	f.Fuzz(func(t *testing.T, data []byte) {
		checkStable(t, reg, data)
	})
}

// TestRoundTripProperty generates random documents (nested objects and
// arrays, terms, compact and full IRIs as keys, odd strings and numbers,
// inline contexts) and checks the round-trip properties on each.
func TestRoundTripProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	keys := []string{"id", "type", "actor", "object", "to", "content", "contentMap", "as:name", "toot:blurhash",
		"https://www.w3.org/ns/activitystreams#summary", "unknownThing", "@id", "@value", "publicKey",
		"sensitive", "http://schema.org#value", "orderedItems", "x"}
	var genValue func(depth int) any
	genValue = func(depth int) any {
		switch n := rng.IntN(9); {
		case n == 0 && depth < 5:
			m := map[string]any{}
			for i := rng.IntN(5); i > 0; i-- {
				m[keys[rng.IntN(len(keys))]] = genValue(depth + 1)
			}
			return m
		case n == 1 && depth < 5:
			a := make([]any, rng.IntN(4))
			for i := range a {
				a[i] = genValue(depth + 1)
			}
			return a
		case n == 2:
			return rng.Float64()*1e6 - 5e5
		case n == 3:
			return rng.IntN(2) == 0
		case n == 4:
			return nil
		case n == 5:
			return string([]rune{rune(rng.IntN(0x10ffff)), '"', '\\', '\n', 0x2028, rune(rng.IntN(128))})
		default:
			return fmt.Sprintf("https://h%d.example/%d", rng.IntN(3), rng.IntN(1000))
		}
	}
	contexts := []any{nil, streams.ASContextURL,
		[]any{streams.ASContextURL, map[string]any{"x": "as:content", "toot": "http://joinmastodon.org/ns#"}},
		[]any{"https://unknown.example/ctx", map[string]any{"@language": "fr"}}}
	reg := streams.Default()
	for i := 0; i < 2000; i++ {
		doc := map[string]any{}
		if c := contexts[rng.IntN(len(contexts))]; c != nil {
			doc["@context"] = c
		}
		for j := rng.IntN(8); j > 0; j-- {
			doc[keys[rng.IntN(len(keys))]] = genValue(1)
		}
		data, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		checkStable(t, reg, data)
	}
}
