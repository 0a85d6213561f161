package streams_test

import (
	"slices"
	"testing"

	"github.com/commonroom/commonroom/streams"
)

// meaning is what a Note means, read through IRIs, whatever the form.
type meaning struct {
	id, author, content, inReplyTo string
	types, to                      []string
	sensitive                      bool
}

func readMeaning(o *streams.Object) meaning {
	s, _ := o.Bool("sensitive")
	return meaning{
		id: o.ID(), types: o.TypeIRIs(), author: o.IRI("attributedTo"),
		content: o.String("content"), to: o.IRIs("to"), inReplyTo: o.IRI("inReplyTo"),
		sensitive: s,
	}
}

// TestJSONLDForms parses one Note written in many JSON-LD forms and checks
// they all mean the same.
func TestJSONLDForms(t *testing.T) {
	want := meaning{
		id:        "https://a.example/notes/1",
		types:     []string{streams.ASNamespace + "Note"},
		author:    "https://a.example/users/ann",
		content:   "hello",
		to:        []string{streams.PublicIRI},
		inReplyTo: "https://b.example/notes/9",
		sensitive: true,
	}
	forms := []struct{ name, doc string }{
		{"compact", `{"@context":["https://www.w3.org/ns/activitystreams",{"sensitive":"as:sensitive"}],
			"id":"https://a.example/notes/1","type":"Note","attributedTo":"https://a.example/users/ann",
			"content":"hello","to":["https://www.w3.org/ns/activitystreams#Public"],
			"inReplyTo":"https://b.example/notes/9","sensitive":true}`},
		{"no context", `{"id":"https://a.example/notes/1","type":"Note","attributedTo":"https://a.example/users/ann",
			"content":"hello","to":"https://www.w3.org/ns/activitystreams#Public",
			"inReplyTo":{"type":"Note","id":"https://b.example/notes/9"},"sensitive":true}`},
		{"as: prefix", `{"@context":"https://www.w3.org/ns/activitystreams",
			"@id":"https://a.example/notes/1","@type":"as:Note","as:attributedTo":"https://a.example/users/ann",
			"as:content":"hello","as:to":"as:Public","as:inReplyTo":"https://b.example/notes/9","as:sensitive":true}`},
		{"expanded", `{"@id":"https://a.example/notes/1",
			"@type":["https://www.w3.org/ns/activitystreams#Note"],
			"https://www.w3.org/ns/activitystreams#attributedTo":[{"@id":"https://a.example/users/ann"}],
			"https://www.w3.org/ns/activitystreams#content":[{"@value":"hello"}],
			"https://www.w3.org/ns/activitystreams#to":[{"@id":"https://www.w3.org/ns/activitystreams#Public"}],
			"https://www.w3.org/ns/activitystreams#inReplyTo":[{"@id":"https://b.example/notes/9"}],
			"https://www.w3.org/ns/activitystreams#sensitive":[{"@value":true}]}`},
		{"http namespace", `{"@context":{"as":"http://www.w3.org/ns/activitystreams#"},
			"@id":"https://a.example/notes/1","@type":"as:Note",
			"http://www.w3.org/ns/activitystreams#attributedTo":"https://a.example/users/ann",
			"as:content":"hello","as:to":"https://www.w3.org/ns/activitystreams#Public",
			"as:inReplyTo":"https://b.example/notes/9","as:sensitive":true}`},
		{"own terms", `{"@context":["https://www.w3.org/ns/activitystreams",
			{"texte":"as:content","auteur":{"@id":"as:attributedTo","@type":"@id"},"Billet":"as:Note",
			 "pour":{"@id":"https://www.w3.org/ns/activitystreams#to","@type":"@id"},
			 "sensible":"https://www.w3.org/ns/activitystreams#sensitive","rep":"as:inReplyTo"}],
			"id":"https://a.example/notes/1","type":"Billet","auteur":"https://a.example/users/ann",
			"texte":"hello","pour":["as:Public"],"rep":"https://b.example/notes/9","sensible":true}`},
		{"prefix chain", `{"@context":[{"a":"https://www.w3.org/ns/","s":"a:activitystreams#","c":"s:content"},
			"https://www.w3.org/ns/activitystreams"],
			"id":"https://a.example/notes/1","type":"Note","attributedTo":"https://a.example/users/ann",
			"c":"hello","s:to":"https://www.w3.org/ns/activitystreams#Public",
			"inReplyTo":"https://b.example/notes/9","s:sensitive":true}`},
		{"jsonld alias", `{"@context":"https://www.w3.org/ns/activitystreams.jsonld",
			"id":"https://a.example/notes/1","type":"Note","attributedTo":"https://a.example/users/ann",
			"content":"hello","to":"https://www.w3.org/ns/activitystreams#Public",
			"inReplyTo":"https://b.example/notes/9","sensitive":"true"}`},
		{"unknown remote context", `{"@context":["https://unknown.example/ctx.jsonld",{"@language":"en"}],
			"id":"https://a.example/notes/1","type":"Note","attributedTo":"https://a.example/users/ann",
			"content":"hello","to":"https://www.w3.org/ns/activitystreams#Public",
			"inReplyTo":"https://b.example/notes/9","sensitive":true}`},
	}
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			o := MustParse(t, streams.Default(), []byte(f.doc))
			got := readMeaning(o)
			if got.id != want.id || got.author != want.author || got.content != want.content ||
				got.inReplyTo != want.inReplyTo || got.sensitive != want.sensitive ||
				!slices.Equal(got.types, want.types) || !slices.Equal(got.to, want.to) {
				t.Errorf("meaning\n got %+v\nwant %+v", got, want)
			}
			if !o.Is("Note") || !o.Is("Object") || o.IsActor() {
				t.Errorf("type checks failed for %v", o.TypeIRIs())
			}
			// Lossless: what was written comes back.
			back := MustParse(t, streams.Default(), MustMarshal(t, o))
			if !back.Equal(o) || !slices.Equal(readMeaning(back).to, want.to) {
				t.Error("round trip changed the document")
			}
		})
	}
}

// TestExpandedLists: {"@list": [...]} and {"@set": [...]} read as arrays.
func TestExpandedLists(t *testing.T) {
	o := MustParse(t, streams.Default(), []byte(`{"@type":"https://www.w3.org/ns/activitystreams#OrderedCollection",
		"https://www.w3.org/ns/activitystreams#items":[{"@list":[{"@id":"https://a.example/1"},{"@id":"https://a.example/2"}]}],
		"https://www.w3.org/ns/activitystreams#to":{"@set":["https://a.example/f"]}}`))
	if got := o.IRIs("orderedItems"); len(got) != 2 || got[1] != "https://a.example/2" {
		t.Errorf("items = %v", got)
	}
	if got := o.IRIs("to"); len(got) != 1 {
		t.Errorf("to = %v", got)
	}
	if !o.IsCollection() {
		t.Error("not a collection")
	}
}

// TestSchemaAliases: schema.org is written three ways; all read the same.
func TestSchemaAliases(t *testing.T) {
	for _, ns := range []string{"http://schema.org#", "http://schema.org/", "https://schema.org/"} {
		t.Run(ns, func(t *testing.T) {
			doc := `{"@context":["https://www.w3.org/ns/activitystreams",{"schema":"` + ns + `",
				"PropertyValue":"schema:PropertyValue","value":"schema:value"}],
				"type":"Person","attachment":[{"type":"PropertyValue","name":"Site","value":"<a>x</a>"}]}`
			o := MustParse(t, streams.Default(), []byte(doc))
			pv := o.Object("attachment")
			if pv.TypeIRIs()[0] != streams.SchemaNamespace+"PropertyValue" || !pv.Is("PropertyValue") {
				t.Errorf("type %v", pv.TypeIRIs())
			}
			if pv.String("value") != "<a>x</a>" || pv.String("http://schema.org#value") != "<a>x</a>" ||
				pv.String("https://schema.org/value") != "<a>x</a>" {
				t.Errorf("value not read under every spelling")
			}
			if pv.Members()[2].IRI != streams.SchemaNamespace+"value" {
				t.Errorf("IRI = %q", pv.Members()[2].IRI)
			}
		})
	}
}

// TestContextOverrides: a document's own context beats the registry's
// terms (Mobilizon redefines "location" and "members").
func TestContextOverrides(t *testing.T) {
	doc := `{"@context":["https://www.w3.org/ns/activitystreams",{"sc":"http://schema.org#",
		"location":{"@id":"sc:location","@type":"sc:Place"},"members":{"@id":"https://joinmobilizon.org/ns#members","@type":"@id"}}],
		"type":"Group","location":{"type":"Place","name":"Paris"},"members":"https://m.example/g/members"}`
	o := MustParse(t, streams.Default(), []byte(doc))
	if o.Has("as:location") || !o.Has("http://schema.org/location") {
		t.Error("location should be schema.org's here")
	}
	if got := o.IRI("https://joinmobilizon.org/ns#members"); got != "https://m.example/g/members" {
		t.Errorf("members = %q", got)
	}
	// Unknown terms are readable by their key.
	if got := o.IRI("members"); got != "https://m.example/g/members" {
		t.Errorf("members by key = %q", got)
	}
}

// TestContextCacheShared: documents with the same @context share one
// resolution, and differing ones do not interfere.
func TestContextCacheShared(t *testing.T) {
	reg := streams.NewStandardRegistry()
	a := `{"@context":["https://www.w3.org/ns/activitystreams",{"x":"as:content"}],"x":"one"}`
	b := `{"@context":["https://www.w3.org/ns/activitystreams",{"x":"as:summary"}],"x":"two"}`
	for i := 0; i < 3; i++ {
		oa, ob := MustParse(t, reg, []byte(a)), MustParse(t, reg, []byte(b))
		if oa.String("content") != "one" || ob.String("summary") != "two" || ob.String("content") != "" {
			t.Fatalf("iteration %d: cache mixed contexts", i)
		}
	}
}

// TestScopedContext: an embedded object's own @context applies to it only.
func TestScopedContext(t *testing.T) {
	doc := `{"@context":"https://www.w3.org/ns/activitystreams","type":"Create","content":"outer",
		"object":{"@context":{"content":"http://other.example/ns#text"},"type":"Note","content":"inner"}}`
	o := MustParse(t, streams.Default(), []byte(doc))
	if o.String("content") != "outer" {
		t.Error("outer content")
	}
	in := o.Object("object")
	if in.String("content") != "" || in.String("http://other.example/ns#text") != "inner" || in.Type() != "Note" {
		t.Errorf("inner: content %q text %q type %q", in.String("content"), in.String("http://other.example/ns#text"), in.Type())
	}
}

// TestLemmyContext: Lemmy's published context is embedded, security v1
// included, so a document naming only it reads Lemmy, security and AS
// extension terms.
func TestLemmyContext(t *testing.T) {
	doc := `{"@context":["https://join-lemmy.org/context.json","https://www.w3.org/ns/activitystreams"],
		"type":"Group","id":"https://l.example/c/maths","moderators":"https://l.example/c/maths/moderators",
		"postingRestrictedToMods":true,"sensitive":false,"expires":"2030-01-01T00:00:00Z",
		"publicKey":{"id":"https://l.example/c/maths#main-key","owner":"https://l.example/c/maths","publicKeyPem":"PEM"}}`
	o := MustParse(t, streams.Default(), []byte(doc))
	if o.IRI("moderators") != "https://l.example/c/maths/moderators" || o.Objects("publicKey")[0].String("publicKeyPem") != "PEM" {
		t.Error("lemmy or security terms")
	}
	if ts, ok := o.Time("endTime"); !ok || ts.Year() != 2030 {
		t.Error(`Lemmy's "expires" is as:endTime`)
	}
	if b, ok := o.Bool("postingRestrictedToMods"); !ok || !b {
		t.Error("postingRestrictedToMods")
	}
}
