package streams_test

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/commonroom/commonroom/streams"
)

// TestFixturesRoundTrip parses every real document, checks its id, type,
// actor and object against a plain encoding/json reading, and checks that
// parse∘serialize∘parse keeps it unchanged.
func TestFixturesRoundTrip(t *testing.T) {
	dir, files := fixtureFiles(t)
	if len(files) < 124 {
		t.Fatalf("found %d fixtures, want 124", len(files))
	}
	reg := streams.Default()
	for _, name := range files {
		t.Run(name, func(t *testing.T) {
			data := MustRead(t, filepath.Join(dir, name))
			o := MustParse(t, reg, data)
			var raw map[string]any
			if err := json.Unmarshal(data, &raw); err != nil {
				t.Fatal(err)
			}
			if id, _ := raw["id"].(string); o.ID() != id {
				t.Errorf("ID() = %q, want %q", o.ID(), id)
			}
			if typ, _ := raw["type"].(string); typ != "" && o.Type() != typ {
				t.Errorf("Type() = %q, want %q", o.Type(), typ)
			}
			if a, ok := raw["actor"].(string); ok && o.IRI("actor") != a {
				t.Errorf("IRI(actor) = %q, want %q", o.IRI("actor"), a)
			}
			switch obj := raw["object"].(type) {
			case string:
				if o.IRI("object") != obj {
					t.Errorf("IRI(object) = %q, want %q", o.IRI("object"), obj)
				}
			case map[string]any:
				id, _ := obj["id"].(string)
				if got := o.Object("object").ID(); got != id {
					t.Errorf("Object(object).ID() = %q, want %q", got, id)
				}
			}
			// Addressing and attribution read as written when given as
			// IRI strings.
			for _, prop := range []string{"to", "cc", "audience", "attributedTo"} {
				var want []string
				switch v := raw[prop].(type) {
				case string:
					want = []string{v}
				case []any:
					for _, e := range v {
						switch e := e.(type) {
						case string:
							want = append(want, e)
						case map[string]any:
							if id, ok := e["id"].(string); ok {
								want = append(want, id)
							}
						}
					}
				default:
					continue
				}
				if got := o.IRIs(prop); !slices.Equal(got, want) {
					t.Errorf("IRIs(%s) = %v, want %v", prop, got, want)
				}
			}
			if o.IsActor() {
				if inbox, _ := raw["inbox"].(string); o.IRI("inbox") != inbox {
					t.Errorf("inbox = %q, want %q", o.IRI("inbox"), inbox)
				}
			}
			out := MustMarshal(t, o)
			var back map[string]any
			if err := json.Unmarshal(out, &back); err != nil {
				t.Fatalf("serialized document is not JSON: %v", err)
			}
			if !reflect.DeepEqual(raw, back) {
				t.Errorf("serialize changed the document:\n got %s\nwant %s", out, data)
			}
			o2 := MustParse(t, reg, out)
			if !o.Equal(o2) {
				t.Errorf("parse(serialize(x)) != x")
			}
			if out2 := MustMarshal(t, o2); string(out2) != string(out) {
				t.Errorf("serialize is not stable:\n%s\n%s", out, out2)
			}
		})
	}
}
