package streams_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/commonroom/commonroom/streams"
)

// resource is an education extension type bound to a Go struct.
type resource struct {
	ID                   string   `jsonld:"id,omitempty"`
	Type                 string   `jsonld:"type,omitempty"`
	Name                 string   `jsonld:"name,omitempty"`
	License              string   `jsonld:"license,omitempty"`
	EducationalLevel     string   `jsonld:"educationalLevel,omitempty"`
	LearningResourceType []string `jsonld:"learningResourceType,omitempty"`
	InLanguage           string   `jsonld:"inLanguage,omitempty"`
	Free                 bool     `jsonld:"isAccessibleForFree,omitempty"`
	Blurhash             string   `jsonld:"toot:blurhash,omitempty"`
}

// TestBind decodes documents that spell the same terms differently into
// one struct, and encodes a struct back with its @context.
func TestBind(t *testing.T) {
	docs := []string{
		`{"@context":["https://www.w3.org/ns/activitystreams",{"schema":"http://schema.org/","license":{"@id":"schema:license","@type":"@id"},
		  "educationalLevel":"schema:educationalLevel","learningResourceType":"schema:learningResourceType","inLanguage":"schema:inLanguage",
		  "isAccessibleForFree":"schema:isAccessibleForFree","toot":"http://joinmastodon.org/ns#","blurhash":"toot:blurhash"}],
		  "id":"https://r.example/1","type":"Document","name":"Fractions","license":"https://creativecommons.org/licenses/by/4.0/",
		  "educationalLevel":"primary","learningResourceType":["worksheet"],"inLanguage":"en","isAccessibleForFree":true,"blurhash":"LEHV6n"}`,
		`{"@context":["https://www.w3.org/ns/activitystreams",{"sc":"http://schema.org#"}],
		  "@id":"https://r.example/1","@type":"Document","as:name":"Fractions","sc:license":"https://creativecommons.org/licenses/by/4.0/",
		  "sc:educationalLevel":"primary","sc:learningResourceType":["worksheet"],"https://schema.org/inLanguage":"en",
		  "sc:isAccessibleForFree":true,"http://joinmastodon.org/ns#blurhash":"LEHV6n"}`,
	}
	want := resource{ID: "https://r.example/1", Type: "Document", Name: "Fractions",
		License: "https://creativecommons.org/licenses/by/4.0/", EducationalLevel: "primary",
		LearningResourceType: []string{"worksheet"}, InLanguage: "en", Free: true, Blurhash: "LEHV6n"}
	for i, doc := range docs {
		o := MustParse(t, streams.Default(), []byte(doc))
		got, err := streams.Bind[resource](o)
		if err != nil {
			t.Fatalf("doc %d: %v", i, err)
		}
		if got.ID != want.ID || got.Type != want.Type || got.Name != want.Name || got.License != want.License ||
			got.EducationalLevel != want.EducationalLevel || len(got.LearningResourceType) != 1 ||
			got.InLanguage != want.InLanguage || got.Free != want.Free || got.Blurhash != want.Blurhash {
			t.Errorf("doc %d: got %+v", i, got)
		}
		if p, err := streams.Bind[*resource](o); err != nil || p.License != want.License {
			t.Errorf("doc %d: Bind to pointer: %+v %v", i, p, err)
		}
	}
	o, err := streams.FromStruct(nil, want)
	if err != nil {
		t.Fatal(err)
	}
	out := string(MustMarshal(t, o))
	for _, s := range []string{`"license":{"@id":"schema:license","@type":"@id"}`, `"toot:blurhash":"LEHV6n"`, `"toot":"http://joinmastodon.org/ns#"`, `"@context":["https://www.w3.org/ns/activitystreams"`} {
		if !strings.Contains(out, s) {
			t.Errorf("FromStruct output lacks %s: %s", s, out)
		}
	}
	back := MustParse(t, streams.Default(), []byte(out))
	if back.IRI("license") != want.License || back.String("blurhash") != "LEHV6n" || !back.Is("Document") {
		t.Errorf("FromStruct output does not read back: %s", out)
	}
	if _, err := streams.Bind[int](o); !errors.Is(err, streams.ErrInvalid) {
		t.Errorf("Bind[int] err = %v", err)
	}
	if _, err := streams.Bind[resource](nil); !errors.Is(err, streams.ErrInvalid) {
		t.Errorf("Bind(nil) err = %v", err)
	}
}
