package streams_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/commonroom/commonroom/streams"
)

// TestNilObjectGetters: getters on a nil object read as empty.
func TestNilObjectGetters(t *testing.T) {
	var o *streams.Object
	if o.ID() != "" || o.Type() != "" || o.IRI("actor") != "" || o.IRIs("to") != nil || o.Object("x") != nil ||
		o.String("content") != "" || o.LangMap("content") != nil || o.Has("id") || o.Len() != 0 || o.IsActor() {
		t.Error("nil object is not empty")
	}
	if _, ok := o.Bool("sensitive"); ok {
		t.Error("Bool on nil")
	}
	if _, ok := o.Time("published"); ok {
		t.Error("Time on nil")
	}
	if _, err := o.MarshalJSON(); !errors.Is(err, streams.ErrInvalid) {
		t.Errorf("MarshalJSON(nil) = %v", err)
	}
}

// TestEditParsedDocument adds terms to a parsed document: its @context is
// kept and extended with what the new terms need.
func TestEditParsedDocument(t *testing.T) {
	doc := `{"@context":["https://www.w3.org/ns/activitystreams",{"ostatus":"http://ostatus.org#","atomUri":"ostatus:atomUri"}],
		"id":"https://a.example/n/1","type":"Note","atomUri":"https://a.example/n/1","as:content":"old","contentMap":{"en":"old"}}`
	o := MustParse(t, streams.Default(), []byte(doc))
	steps := []struct {
		name string
		run  func() error
	}{
		{"replace aliased", func() error { return o.Set("content", streams.String("new")) }},
		{"add toot term", func() error { return o.Set("blurhash", streams.String("LEHV6n")) }},
		{"add as extension", func() error { return o.Set("sensitive", streams.Bool(true)) }},
		{"add compact", func() error { return o.Set("lemmy:stickied", streams.Bool(true)) }},
		{"add value", func() error { return o.Add("to", streams.IRI(streams.PublicIRI)) }},
		{"add second", func() error { return o.Add("to", streams.IRI("https://a.example/followers")) }},
		{"lang map", func() error { return o.SetLangMap("content", map[string]string{"en": "new", "de": "neu"}) }},
	}
	for _, s := range steps {
		if err := s.run(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
	}
	if err := o.Set("noSuchTerm", streams.String("x")); !errors.Is(err, streams.ErrUnknownTerm) {
		t.Errorf("Set(noSuchTerm) = %v", err)
	}
	out := string(MustMarshal(t, o))
	for _, want := range []string{`"ostatus":"http://ostatus.org#"`, `"as:content":"new"`, `"toot":"http://joinmastodon.org/ns#"`,
		`"blurhash":"toot:blurhash"`, `"sensitive":"as:sensitive"`, `"lemmy":"https://join-lemmy.org/ns#"`,
		`"contentMap":{"de":"neu","en":"new"}`} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %s in\n%s", want, out)
		}
	}
	back := MustParse(t, streams.Default(), []byte(out))
	if back.String("content") != "new" || back.String("blurhash") != "LEHV6n" || back.LangMap("content")["de"] != "neu" ||
		len(back.IRIs("to")) != 2 || back.String("atomUri") == "" {
		t.Errorf("edited document does not read back:\n%s", out)
	}
	if b, _ := back.Bool("lemmy:stickied"); !b {
		t.Error("stickied lost")
	}
	o.Delete("to")
	o.Delete("atomUri")
	if o.Has("to") || o.Has("atomUri") {
		t.Error("Delete")
	}
	if err := o.Set("blurhash", streams.Null()); err != nil || o.Has("blurhash") {
		t.Error("Set null should delete")
	}
	if err := o.SetLangMap("published", map[string]string{"en": "x"}); !errors.Is(err, streams.ErrUnknownTerm) {
		t.Errorf("SetLangMap on a non-language property = %v", err)
	}
}

// TestValueConstructors checks the JSON each constructor writes.
func TestValueConstructors(t *testing.T) {
	o := streams.NewObject("Note")
	tests := []struct {
		name string
		v    streams.Value
		want string
	}{
		{"string", streams.String("a\"b<\u2028"), `"a\"b<\u2028"`},
		{"bool", streams.Bool(true), `true`},
		{"int", streams.Int(-42), `-42`},
		{"number", streams.Number(0.25), `0.25`},
		{"nan", streams.Number(math.NaN()), `null`},
		{"time", streams.Time(time.Date(2024, 5, 6, 7, 8, 9, 0, time.FixedZone("x", 3600))), `"2024-05-06T06:08:09Z"`},
		{"iris", streams.IRIList("a:b", "c:d"), `["a:b","c:d"]`},
		{"array", streams.Array(streams.Null(), streams.ObjectValue(nil)), `[null,null]`},
		{"control", streams.String("\x01\t"), `"\u0001\t"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := o.Set("https://x.example/ns#v", tc.v); err != nil {
				t.Fatal(err)
			}
			out := string(MustMarshal(t, o))
			if !strings.Contains(out, `"https://x.example/ns#v":`+tc.want) && !(tc.want == "null" && !strings.Contains(out, "ns#v")) {
				t.Errorf("got %s, want value %s", out, tc.want)
			}
		})
	}
}

// TestTypedGetters covers the conversions and their failures.
func TestTypedGetters(t *testing.T) {
	o := MustParse(t, streams.Default(), []byte(`{"type":"Video",
		"width":640,"height":"480","startIndex":1.5,"accuracy":95.5,"latitude":"x",
		"duration":"PT1H2M3.5S","endTime":"2024-01-02T03:04:05","startTime":"2024-01-02T03:04:05.5+02:00",
		"sensitive":"true","manuallyApprovesFollowers":1,"updated":"soon","radius":{"@value":3}}`))
	if n, ok := o.Int("width"); !ok || n != 640 {
		t.Error("width")
	}
	if n, ok := o.Int("height"); !ok || n != 480 {
		t.Error("height as string")
	}
	if _, ok := o.Int("startIndex"); ok {
		t.Error("fraction read as integer")
	}
	if f, ok := o.Float("accuracy"); !ok || f != 95.5 {
		t.Error("accuracy")
	}
	if _, ok := o.Float("latitude"); ok {
		t.Error("latitude x")
	}
	if f, ok := o.Float("radius"); !ok || f != 3 {
		t.Error("value object")
	}
	if d, ok := o.Duration("duration"); !ok || d != time.Hour+2*time.Minute+3500*time.Millisecond {
		t.Errorf("duration = %v", d)
	}
	if ts, ok := o.Time("endTime"); !ok || ts.Hour() != 3 {
		t.Error("dateTime without zone")
	}
	if ts, ok := o.Time("startTime"); !ok || ts.UTC().Hour() != 1 {
		t.Error("dateTime with zone")
	}
	if _, ok := o.Time("updated"); ok {
		t.Error("bad dateTime accepted")
	}
	if b, ok := o.Bool("sensitive"); !ok || !b {
		t.Error("boolean as string")
	}
	if _, ok := o.Bool("manuallyApprovesFollowers"); ok {
		t.Error("number read as boolean")
	}
	for _, tc := range []struct {
		in string
		ok bool
		d  time.Duration
	}{
		{"P1D", true, 24 * time.Hour}, {"-PT5M", true, -5 * time.Minute}, {"P1W", true, 7 * 24 * time.Hour},
		{"PT", false, 0}, {"P", false, 0}, {"5M", false, 0}, {"PT5X", false, 0}, {"P5H", false, 0}, {"PT1M1", false, 0},
	} {
		d, ok := streams.ParseDuration(tc.in)
		if ok != tc.ok || d != tc.d {
			t.Errorf("ParseDuration(%q) = %v, %v", tc.in, d, ok)
		}
	}
}

// TestClone: editing a clone leaves the original unchanged.
func TestClone(t *testing.T) {
	o := MustParse(t, streams.Default(), []byte(`{"@context":"https://www.w3.org/ns/activitystreams","type":"Create",
		"to":["https://a.example/f"],"object":{"type":"Note","content":"hi"}}`))
	before := string(MustMarshal(t, o))
	c := o.Clone()
	if !c.Equal(o) {
		t.Fatal("clone differs")
	}
	_ = c.Object("object").Set("content", streams.String("changed"))
	_ = c.Add("to", streams.IRI("https://a.example/g"))
	c.Delete("type")
	if got := string(MustMarshal(t, o)); got != before {
		t.Errorf("original changed:\n%s\n%s", before, got)
	}
	if c.Object("object").String("content") != "changed" || len(c.IRIs("to")) != 2 {
		t.Error("clone not changed")
	}
	if (*streams.Object)(nil).Clone() != nil {
		t.Error("nil clone")
	}
}
