package streams_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/commonroom/commonroom/streams"
)

// checkAllKnown fails when a key or type anywhere in o is not expanded.
func checkAllKnown(t *testing.T, o *streams.Object, path string) {
	t.Helper()
	reg := o.Registry()
	for _, typ := range o.TypeIRIs() {
		// Examples also show extension types; AS2's own must be known.
		if _, ok := reg.Type(typ); !ok && strings.HasPrefix(typ, streams.ASNamespace) {
			t.Errorf("%s: type %q is not registered", path, typ)
		}
	}
	for _, m := range o.Members() {
		if m.IRI == "" && !strings.HasSuffix(path, "Map") {
			t.Errorf("%s: key %q did not expand", path, m.Key)
		}
		for _, v := range append([]streams.Value{m.Value}, m.Value.Elems()...) {
			if v.Object() != nil && m.IRI != "@context" {
				checkAllKnown(t, v.Object(), path+"."+m.Key)
			}
		}
	}
}

// TestSpecExamples parses the examples of the AS2 Core and Vocabulary
// specifications: every key and type must be known, the id and type read
// as written, the examples must validate and round-trip.
func TestSpecExamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "spec", "*", "ex*.json"))
	if err != nil || len(files) < 150 {
		t.Fatalf("spec examples missing: %d files, %v", len(files), err)
	}
	for _, path := range files {
		name := strings.TrimPrefix(path, filepath.Join("testdata", "spec")+string(filepath.Separator))
		t.Run(name, func(t *testing.T) {
			data := MustRead(t, path)
			if name == filepath.Join("vocabulary", "ex196-jsonld.json") {
				// This example has a raw tab inside a string, which JSON
				// forbids.
				if _, err := streams.Parse(data); !errors.Is(err, streams.ErrSyntax) {
					t.Fatalf("err = %v, want ErrSyntax", err)
				}
				return
			}
			o := MustParse(t, streams.Default(), data)
			var raw map[string]any
			if err := json.Unmarshal(data, &raw); err != nil {
				t.Fatal(err)
			}
			if id, _ := raw["id"].(string); o.ID() != id {
				t.Errorf("ID() = %q, want %q", o.ID(), id)
			}
			if typ, ok := raw["type"].(string); ok && !strings.Contains(typ, ":") && o.Type() != typ {
				t.Errorf("Type() = %q, want %q", o.Type(), typ)
			}
			checkAllKnown(t, o, "$")
			if err := o.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
			out := MustMarshal(t, o)
			var back map[string]any
			if err := json.Unmarshal(out, &back); err != nil || !reflect.DeepEqual(raw, back) {
				t.Errorf("round trip changed the example: %v\n%s", err, out)
			}
		})
	}
}

// TestSpecInvalid checks the W3C suite's invalid documents: the parser
// rejects what is not an AS2 object, and Validate reports wrong kinds.
func TestSpecInvalid(t *testing.T) {
	tests := []struct {
		file     string
		parseErr error // nil: parses, and Validate must fail
	}{
		{"array-at-top.json", streams.ErrNotObject},
		{"number-at-top.json", streams.ErrNotObject},
		{"string-at-top.json", streams.ErrNotObject},
		{"bad-character-set.json", streams.ErrInvalidUTF8},
		{"number-as-actor.json", nil},
		{"number-as-content.json", nil},
		{"number-as-context.json", nil},
		{"number-as-id.json", nil},
		{"number-as-name.json", nil},
		{"number-as-object.json", nil},
		{"number-as-type.json", nil},
		{"name-as-namemap.json", nil},
		{"namemap-as-name.json", nil},
		{"relative-uri-for-url.json", nil},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "spec", "fail", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			o, err := streams.Parse(data)
			if tc.parseErr != nil {
				if !errors.Is(err, tc.parseErr) {
					t.Fatalf("err = %v, want %v", err, tc.parseErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if err := o.Validate(); !errors.Is(err, streams.ErrInvalid) {
				t.Errorf("Validate = %v, want ErrInvalid", err)
			}
		})
	}
}
