package streams_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/commonroom/commonroom/streams"
)

// dump writes what o means: one line per value, with the IRI each key
// expanded to and the IRIs of types. It is what the golden files hold.
func dump(b *bytes.Buffer, o *streams.Object, path string) {
	if types := o.TypeIRIs(); len(types) > 0 {
		fmt.Fprintf(b, "%s @type %s\n", path, strings.Join(types, " "))
	}
	for _, m := range o.Members() {
		if m.IRI == "@context" || m.IRI == "@type" {
			continue
		}
		iri := m.IRI
		if iri == "" {
			iri = "?" + m.Key
		}
		dumpValue(b, m.Value, path+" "+iri)
	}
}

func dumpValue(b *bytes.Buffer, v streams.Value, path string) {
	switch v.Kind() {
	case streams.JSONArray:
		for i, e := range v.Elems() {
			dumpValue(b, e, fmt.Sprintf("%s[%d]", path, i))
		}
	case streams.JSONObject:
		dump(b, v.Object(), path)
	case streams.JSONString:
		s, _ := v.Str()
		if len(s) > 60 {
			s = s[:60] + "…"
		}
		fmt.Fprintf(b, "%s = %q\n", path, s)
	case streams.JSONNumber:
		n, _ := v.NumberText()
		fmt.Fprintf(b, "%s = %s\n", path, n)
	case streams.JSONBool:
		x, _ := v.BoolValue()
		fmt.Fprintf(b, "%s = %v\n", path, x)
	default:
		fmt.Fprintf(b, "%s = null\n", path)
	}
}

// compareGolden compares got with testdata/golden/name, or rewrites it
// under -update.
func compareGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file; got:\n%s", name, got)
	}
}

// TestGoldenDocuments reads documents written for GoToSocial, Misskey and
// the old MoodleNet, compares their expanded meaning with golden files,
// checks the key readings and the round trip.
func TestGoldenDocuments(t *testing.T) {
	checks := map[string]func(t *testing.T, o *streams.Object){
		"gotosocial_note.json": func(t *testing.T, o *streams.Object) {
			if o.Type() != "Note" || o.Objects("tag")[0].Type() != "Hashtag" || !o.Objects("tag")[0].IsLink() {
				t.Error("Note with Hashtag")
			}
			if got := o.Object("interactionPolicy").Object("canReply").IRIs("always"); len(got) != 2 {
				t.Errorf("interactionPolicy canReply always = %v", got)
			}
		},
		"gotosocial_person.json": func(t *testing.T, o *streams.Object) {
			if m, _ := o.Bool("manuallyApprovesFollowers"); !m || o.Objects("publicKey")[0].IRI("owner") != o.ID() {
				t.Error("person keys and flags")
			}
			if d, ok := o.Bool("discoverable"); !ok || !d || o.IRI("featured") == "" {
				t.Error("toot terms")
			}
		},
		"misskey_note.json": func(t *testing.T, o *streams.Object) {
			if o.String("_misskey_content") == "" || o.IRI("_misskey_quote") == "" || o.IRI("as:quoteUrl") == "" {
				t.Error("misskey terms")
			}
			if o.IRI("inReplyTo") != "" || !o.Objects("tag")[0].Is("Emoji") {
				t.Error("null inReplyTo or Emoji")
			}
			if ts, ok := o.Time("published"); !ok || ts.Nanosecond() != 123000000 {
				t.Errorf("published = %v", ts)
			}
		},
		"misskey_like.json": func(t *testing.T, o *streams.Object) {
			if !o.Is("Like") || o.String("_misskey_reaction") != ":abacus:" || o.String("content") != ":abacus:" {
				t.Error("reaction")
			}
		},
		"moodlenet_community.json": func(t *testing.T, o *streams.Object) {
			if !o.IsActor() || o.IRI("moderators") == "" {
				t.Error("community actor")
			}
			cols := o.Object("streams").Objects("orderedItems")
			if len(cols) != 2 || !cols[0].IsCollection() || cols[0].IRIs("items")[0] != "https://moodlenet.example/resources/fraction-wall" {
				t.Errorf("collections = %v", cols)
			}
			if got := o.Values("about"); len(got) != 2 || o.String("inLanguage") != "en" {
				t.Error("education terms with https://schema.org/")
			}
		},
		"moodlenet_resource.json": func(t *testing.T, o *streams.Object) {
			if !o.Is("Document") || o.IRI("license") != "https://creativecommons.org/licenses/by-sa/4.0/" {
				t.Error("license")
			}
			if lvl := o.Object("educationalLevel"); lvl.String("termCode") != "KS2-Y4" || !lvl.Is("DefinedTerm") {
				t.Error("educationalLevel DefinedTerm")
			}
			if free, _ := o.Bool("isAccessibleForFree"); !free || len(o.Values("learningResourceType")) != 2 {
				t.Error("isAccessibleForFree / learningResourceType")
			}
			if d, ok := o.Duration("timeRequired"); !ok || d.Minutes() != 40 {
				t.Errorf("timeRequired = %v", d)
			}
			if err := o.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
		},
	}
	for name, check := range checks {
		t.Run(name, func(t *testing.T) {
			data := MustRead(t, filepath.Join("testdata", "golden", name))
			o := MustParse(t, streams.Default(), data)
			check(t, o)
			var b bytes.Buffer
			dump(&b, o, "$")
			compareGolden(t, strings.TrimSuffix(name, ".json")+".golden", b.Bytes())
			back := MustParse(t, streams.Default(), MustMarshal(t, o))
			if !back.Equal(o) {
				t.Error("round trip changed the document")
			}
		})
	}
}

// TestGoldenBuilt builds documents with the API, as the federation engine
// does, and compares the serialized JSON with golden files.
func TestGoldenBuilt(t *testing.T) {
	reg := streams.Default()
	t.Run("resource", func(t *testing.T) {
		res := reg.New("Document")
		res.SetID("https://commonroom.example/resources/1")
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(res.Set("name", streams.String("Fraction wall")))
		must(res.Set("attributedTo", streams.IRI("https://commonroom.example/users/mira")))
		must(res.Set("published", streams.Time(mustTime(t, "2026-01-02T03:04:05Z"))))
		must(res.Set("license", streams.IRI("https://creativecommons.org/licenses/by/4.0/")))
		must(res.Set("educationalLevel", streams.String("primary")))
		must(res.Set("learningResourceType", streams.Array(streams.String("worksheet"))))
		must(res.Set("inLanguage", streams.String("en")))
		must(res.Set("isAccessibleForFree", streams.Bool(true)))
		must(res.SetLangMap("summary", map[string]string{"en": "Halves and quarters", "fr": "Moitiés et quarts"}))
		create := reg.New("Create")
		create.SetID("https://commonroom.example/activities/1")
		must(create.Set("actor", streams.IRI("https://commonroom.example/users/mira")))
		must(create.Set("object", streams.ObjectValue(res)))
		must(create.Set("to", streams.IRIList(streams.PublicIRI)))
		must(create.Set("cc", streams.IRIList("https://commonroom.example/users/mira/followers")))
		out := MustMarshal(t, create)
		compareGolden(t, "built_create_resource.json", out)
		back := MustParse(t, reg, out)
		if back.Object("object").IRI("license") != "https://creativecommons.org/licenses/by/4.0/" ||
			back.Object("object").LangMap("summary")["fr"] != "Moitiés et quarts" {
			t.Error("built document does not read back")
		}
		if err := back.Validate(); err != nil {
			t.Error(err)
		}
	})
	t.Run("actor", func(t *testing.T) {
		p := reg.New("Group")
		p.SetID("https://commonroom.example/groups/maths")
		for name, v := range map[string]streams.Value{
			"preferredUsername":         streams.String("maths"),
			"inbox":                     streams.IRI("https://commonroom.example/groups/maths/inbox"),
			"outbox":                    streams.IRI("https://commonroom.example/groups/maths/outbox"),
			"followers":                 streams.IRI("https://commonroom.example/groups/maths/followers"),
			"moderators":                streams.IRI("https://commonroom.example/groups/maths/moderators"),
			"manuallyApprovesFollowers": streams.Bool(false),
			"discoverable":              streams.Bool(true),
			"postingRestrictedToMods":   streams.Bool(false),
		} {
			if err := p.Set(name, v); err != nil {
				t.Fatal(err)
			}
		}
		ep := reg.New("")
		_ = ep.Set("sharedInbox", streams.IRI("https://commonroom.example/inbox"))
		_ = p.Set("endpoints", streams.ObjectValue(ep))
		key := reg.New("")
		key.SetID("https://commonroom.example/groups/maths#main-key")
		_ = key.Set("owner", streams.IRI(p.ID()))
		_ = key.Set("publicKeyPem", streams.String("-----BEGIN PUBLIC KEY-----\n...\n-----END PUBLIC KEY-----\n"))
		_ = p.Set("publicKey", streams.ObjectValue(key))
		mk := reg.New("Multikey")
		mk.SetID("https://commonroom.example/groups/maths#ed25519-key")
		_ = mk.Set("controller", streams.IRI(p.ID()))
		_ = mk.Set("publicKeyMultibase", streams.String("z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"))
		_ = p.Set("assertionMethod", streams.Array(streams.ObjectValue(mk)))
		// Map iteration order varies: sort members for a stable file.
		out := MustMarshal(t, MustParse(t, reg, MustMarshal(t, p)))
		back := MustParse(t, reg, out)
		if back.Object("endpoints").IRI("sharedInbox") != "https://commonroom.example/inbox" ||
			back.Objects("assertionMethod")[0].IRI("controller") != p.ID() || !back.IsActor() {
			t.Error("actor does not read back")
		}
		var b bytes.Buffer
		dump(&b, back, "$")
		compareGolden(t, "built_group.golden", sortLines(b.Bytes()))
	})
}

func sortLines(b []byte) []byte {
	lines := strings.SplitAfter(string(b), "\n")
	for i := 1; i < len(lines); i++ {
		for j := i; j > 0 && lines[j] < lines[j-1]; j-- {
			lines[j], lines[j-1] = lines[j-1], lines[j]
		}
	}
	return []byte(strings.Join(lines, ""))
}

// TestEmbedParsedInBuilt moves a parsed Note, whose terms its own
// document's @context defined, into a built Announce: the Announce's
// @context defines them, so the Note keeps its meaning.
func TestEmbedParsedInBuilt(t *testing.T) {
	reg := streams.Default()
	create := MustParse(t, reg, []byte(`{"@context":["https://www.w3.org/ns/activitystreams",
		{"ostatus":"http://ostatus.org#","atomUri":"ostatus:atomUri","sensitive":"as:sensitive",
		 "toot":"http://joinmastodon.org/ns#","blurhash":"toot:blurhash"}],
		"type":"Create","id":"https://m.example/a/1","object":{"type":"Note","id":"https://m.example/n/1",
		"atomUri":"https://m.example/n/1","sensitive":true,"attachment":{"type":"Image","blurhash":"LEHV6n"}}}`))
	ann := reg.New("Announce")
	ann.SetID("https://g.example/a/2")
	if err := ann.Set("object", streams.ObjectValue(create.Object("object"))); err != nil {
		t.Fatal(err)
	}
	out := MustMarshal(t, ann)
	back := MustParse(t, streams.NewRegistry(), out) // AS2 only: no fallback terms
	note := back.Object("object")
	if note.String("http://ostatus.org#atomUri") == "" || note.Object("attachment").String(streams.TootNamespace+"blurhash") != "LEHV6n" {
		t.Errorf("embedded note lost its meaning:\n%s", out)
	}
	if s, ok := note.Bool("sensitive"); !ok || !s {
		t.Errorf("sensitive lost:\n%s", out)
	}
}
