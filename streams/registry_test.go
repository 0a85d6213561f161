package streams_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/commonroom/commonroom/streams"
)

// forge is a vocabulary defined in the test, as a third party would.
func forge() streams.Vocabulary {
	return streams.Vocabulary{
		Name:      "ForgeFed (test)",
		Namespace: "https://forge.example/ns#",
		Prefix:    "forge",
		Types: []streams.TypeDef{
			{Name: "Repository", Bases: []string{"Group"}},
			{Name: "Ticket", Bases: []string{"Object"}},
			{Name: "Push", Bases: []string{"as:Activity"}},
		},
		Properties: []streams.PropertyDef{
			{Name: "team", Kind: streams.KindReference, Functional: true},
			{Name: "isResolved", Kind: streams.KindBool, Functional: true},
			{Name: "resolvedAt", Kind: streams.KindDateTime, Functional: true},
			{Name: "estimate", Kind: streams.KindDuration, Functional: true},
			{Name: "forks", Kind: streams.KindInteger, Functional: true},
		},
	}
}

// TestRegisterAtRunTime registers a vocabulary and checks it parses, reads,
// validates and serializes, in this registry only.
func TestRegisterAtRunTime(t *testing.T) {
	reg := streams.NewStandardRegistry()
	doc := []byte(`{"@context":["https://www.w3.org/ns/activitystreams",{"forge":"https://forge.example/ns#","Ticket":"forge:Ticket","isResolved":"forge:isResolved"}],
		"type":"Ticket","id":"https://f.example/t/1","isResolved":true,"forge:estimate":"PT2H30M","forge:forks":3}`)
	before := MustParse(t, reg, doc)
	if before.Is("Object") {
		t.Error("unregistered Ticket is already an Object")
	}
	if err := reg.Register(forge()); err != nil {
		t.Fatal(err)
	}
	o := MustParse(t, reg, doc)
	if !o.Is("Ticket") || !o.Is("Object") || o.Type() != "Ticket" {
		t.Errorf("type %q", o.Type())
	}
	if b, ok := o.Bool("isResolved"); !ok || !b {
		t.Error("isResolved")
	}
	if d, ok := o.Duration("estimate"); !ok || d.Minutes() != 150 {
		t.Errorf("estimate = %v %v", d, ok)
	}
	if n, ok := o.Int("forks"); !ok || n != 3 {
		t.Errorf("forks = %v", n)
	}
	if err := o.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	// A type based on Group is an actor.
	repo := reg.New("Repository")
	if !repo.IsActor() || !repo.Is("Group") || repo.IsActivity() {
		t.Error("Repository should be a Group actor")
	}
	if !reg.IsSubtype("Push", "Activity") || reg.IsSubtype("Ticket", "Activity") {
		t.Error("IsSubtype")
	}
	// Serialization defines the new terms inline with the vocabulary prefix.
	_ = repo.Set("team", streams.IRI("https://f.example/teams/core"))
	_ = repo.Set("forks", streams.Int(2))
	out := string(MustMarshal(t, repo))
	for _, want := range []string{`"forge":"https://forge.example/ns#"`, `"Repository":"forge:Repository"`,
		`"team":{"@id":"forge:team","@type":"@id"}`, `"forks":"forge:forks"`, `"type":"Repository"`} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %s in %s", want, out)
		}
	}
	// Another registry, and the default one, are unaffected.
	if streams.Default().IsSubtype("Ticket", "Object") || streams.NewStandardRegistry().IsSubtype("Ticket", "Object") {
		t.Error("registration leaked into another registry")
	}
	if c := reg.Clone(); !c.IsSubtype("Ticket", "Object") {
		t.Error("Clone lost the vocabulary")
	}
}

// TestRegisterErrors checks that bad registrations fail and change nothing.
func TestRegisterErrors(t *testing.T) {
	tests := []struct {
		name string
		v    streams.Vocabulary
		want error
	}{
		{"no namespace", streams.Vocabulary{Name: "x"}, streams.ErrInvalid},
		{"unknown base", streams.Vocabulary{Name: "x", Namespace: "https://x.example/#",
			Types: []streams.TypeDef{{Name: "X", Bases: []string{"Nope"}}}}, streams.ErrInvalid},
		{"cyclic bases", streams.Vocabulary{Name: "x", Namespace: "https://x.example/#",
			Types: []streams.TypeDef{{Name: "A", Bases: []string{"B"}}, {Name: "B", Bases: []string{"A"}}}}, nil},
		{"term conflict", streams.Vocabulary{Name: "x", Namespace: "https://x.example/#",
			Properties: []streams.PropertyDef{{Name: "actor"}}}, streams.ErrConflict},
		{"prefix conflict", streams.Vocabulary{Name: "x", Namespace: "https://x.example/#", Prefix: "as"}, streams.ErrConflict},
		{"type and property", streams.Vocabulary{Name: "x", Namespace: "https://x.example/#",
			Types: []streams.TypeDef{{Name: "Thing", IRI: "as:content"}}}, streams.ErrConflict},
		{"context URL taken", streams.Vocabulary{Name: "x", Namespace: "https://x.example/#", ContextURL: streams.ASContextURL}, streams.ErrConflict},
		{"unnamed term", streams.Vocabulary{Name: "x", Namespace: "https://x.example/#",
			Properties: []streams.PropertyDef{{}}}, streams.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg := streams.NewStandardRegistry()
			n := len(reg.Vocabularies())
			err := reg.Register(tc.v)
			if tc.want == nil {
				// Cycles are tolerated: each type is its own ancestor set.
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if len(reg.Vocabularies()) != n {
				t.Error("failed registration changed the registry")
			}
		})
	}
	if err := streams.Default().Register(forge()); !errors.Is(err, streams.ErrFrozen) {
		t.Errorf("Register on Default: %v", err)
	}
}

// TestRegistryLookups covers ExpandTerm, CompactIRI, Property and Type.
func TestRegistryLookups(t *testing.T) {
	reg := streams.Default()
	for _, tc := range []struct{ name, want string }{
		{"actor", streams.ASNamespace + "actor"},
		{"inbox", "http://www.w3.org/ns/ldp#inbox"},
		{"contentMap", streams.ASNamespace + "content"},
		{"toot:discoverable", streams.TootNamespace + "discoverable"},
		{"http://schema.org#value", streams.SchemaNamespace + "value"},
		{"publicKeyMultibase", streams.SecurityNamespace + "publicKeyMultibase"},
		{"moderators", streams.LemmyNamespace + "moderators"},
		{"ChatMessage", streams.LitePubNamespace + "ChatMessage"},
		{"learningResourceType", streams.SchemaNamespace + "learningResourceType"},
		{"nonsense", ""},
	} {
		got, ok := reg.ExpandTerm(tc.name)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("ExpandTerm(%q) = %q, %v; want %q", tc.name, got, ok, tc.want)
		}
	}
	if reg.CompactIRI(streams.TootNamespace+"blurhash") != "blurhash" || reg.CompactIRI("https://x.example/y") != "https://x.example/y" {
		t.Error("CompactIRI")
	}
	if p, ok := reg.Property("published"); !ok || p.Kind != streams.KindDateTime || !p.Functional {
		t.Errorf("Property(published) = %+v", p)
	}
	if _, ok := reg.Property("Note"); ok {
		t.Error("Note is not a property")
	}
	if ty, ok := reg.Type("EmojiReact"); !ok || ty.Bases[0] != "Like" {
		t.Errorf("Type(EmojiReact) = %+v", ty)
	}
	if !reg.IsSubtype("EmojiReact", "Activity") || !reg.IsSubtype("LearningResource", "Document") ||
		!reg.IsSubtype("OrderedCollectionPage", "Collection") || !reg.IsSubtype("TentativeAccept", "Accept") {
		t.Error("IsSubtype on shipped vocabularies")
	}
}

// TestValidate reports kind and functional violations.
func TestValidate(t *testing.T) {
	tests := []struct {
		name, doc string
		bad       int
	}{
		{"good", `{"type":"Note","published":"2024-01-02T03:04:05Z","sensitive":false,"content":"x","summary":null,"to":["a:b"],"width":3,"duration":"PT1M"}`, 0},
		{"bad date", `{"type":"Note","published":"yesterday"}`, 1},
		{"bad bool", `{"type":"Note","sensitive":"no"}`, 1},
		{"bad integer", `{"type":"Image","width":1.5}`, 1},
		{"bad duration", `{"type":"Video","duration":"5 minutes"}`, 1},
		{"two actors", `{"type":"Create","actor":"https://a.example/u/1","as:actor":"https://a.example/u/2"}`, 0},
		{"two published", `{"type":"Note","published":"2024-01-02T03:04:05Z","as:published":"2024-01-02T03:04:05Z"}`, 1},
		{"functional array", `{"type":"Note","published":["2024-01-02T03:04:05Z","2024-01-02T03:04:05Z"]}`, 1},
		{"nested", `{"type":"Create","object":{"type":"Note","published":7}}`, 1},
		{"string as object", `{"type":"Note","content":{"a":1}}`, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := MustParse(t, streams.Default(), []byte(tc.doc)).Validate()
			n := 0
			if err != nil {
				n = len(strings.Split(err.Error(), "\n"))
				if !errors.Is(err, streams.ErrInvalid) {
					t.Errorf("error does not wrap ErrInvalid: %v", err)
				}
			}
			if n != tc.bad {
				t.Errorf("%d problems, want %d: %v", n, tc.bad, err)
			}
		})
	}
}

// TestConcurrentUse parses, reads and registers from several goroutines at
// once (run with -race).
func TestConcurrentUse(t *testing.T) {
	reg := streams.NewStandardRegistry()
	docs := [][]byte{
		[]byte(`{"@context":["https://www.w3.org/ns/activitystreams",{"a":"as:content"}],"type":"Note","a":"x"}`),
		[]byte(`{"@context":"https://www.w3.org/ns/activitystreams","type":"Ticket","forge:isResolved":true}`),
		[]byte(`{"type":"Group","moderators":"https://l.example/c/x/moderators"}`),
	}
	done := make(chan error)
	for g := 0; g < 4; g++ {
		go func(g int) {
			var err error
			for i := 0; i < 200 && err == nil; i++ {
				o, perr := reg.Parse(docs[(g+i)%len(docs)])
				if perr != nil {
					err = perr
					break
				}
				_ = o.Type()
				_ = o.IsActor()
				if _, merr := o.MarshalJSON(); merr != nil {
					err = merr
				}
			}
			done <- err
		}(g)
	}
	if err := reg.Register(forge()); err != nil {
		t.Error(err)
	}
	for g := 0; g < 4; g++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	o := MustParse(t, reg, docs[1])
	if !o.Is("Object") {
		t.Error("registration not visible after concurrent use")
	}
}

// TestEducationAsThirdParty registers the education vocabulary on a
// registry that knows only AS2, through Register like any third party's,
// and reads a learning resource with it.
func TestEducationAsThirdParty(t *testing.T) {
	reg := streams.NewRegistry()
	doc := MustRead(t, "testdata/golden/moodlenet_resource.json")
	if _, ok := reg.ExpandTerm("educationalLevel"); ok {
		t.Fatal("AS2-only registry knows education terms")
	}
	if err := reg.Register(streams.Education()); err != nil {
		t.Fatal(err)
	}
	o := MustParse(t, reg, doc)
	if o.IRI("license") == "" || o.Object("educationalLevel").String("termCode") != "KS2-Y4" || !reg.IsSubtype("LearningResource", "Object") {
		t.Error("education terms not read")
	}
	if err := o.Validate(); err != nil {
		t.Error(err)
	}
}
