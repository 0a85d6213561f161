package streams_test

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/commonroom/commonroom/streams"
)

func nested(depth int) []byte {
	return []byte(`{"a":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}`)
}

func bigArray(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"to":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"x"`)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

func manyMembers(n int) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"k`)
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString(string(rune('a' + i%26)))
		b.WriteString(strings.Repeat("y", i/182))
		b.WriteString(`":1`)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// TestParseErrors checks that each broken or hostile document fails with
// the right typed error.
func TestParseErrors(t *testing.T) {
	small := streams.Limits{MaxBytes: 1000, MaxStringBytes: 10, MaxValues: 50, MaxMembers: 20, MaxArrayLen: 30, MaxDepth: 5}
	tests := []struct {
		name string
		doc  []byte
		lim  streams.Limits
		want error
	}{
		{"too large", bytes.Repeat([]byte(" "), 1001), small, streams.ErrTooLarge},
		{"too large default", append(append([]byte(`{"a":"`), bytes.Repeat([]byte("x"), 1<<20)...), `"}`...), streams.Limits{}, streams.ErrTooLarge},
		{"depth 10000", nested(10000), streams.Limits{}, streams.ErrTooDeep},
		{"depth 65", nested(64), streams.Limits{}, streams.ErrTooDeep},
		{"depth small", []byte(`{"a":{"b":{"c":{"d":{"e":{}}}}}}`), small, streams.ErrTooDeep},
		{"array 100000", bigArray(100000), streams.Limits{}, streams.ErrArrayTooLong},
		{"array small", bigArray(31), streams.Limits{MaxArrayLen: 30}, streams.ErrArrayTooLong},
		{"members", manyMembers(21), small, streams.ErrTooManyMembers},
		{"members default", manyMembers(1001), streams.Limits{}, streams.ErrTooManyMembers},
		{"values", bigArray(29), streams.Limits{MaxValues: 20}, streams.ErrTooManyValues},
		{"string", []byte(`{"a":"12345678901"}`), small, streams.ErrStringTooLong},
		{"escaped string", []byte(`{"a":"\n2345678901"}`), small, streams.ErrStringTooLong},
		{"key", []byte(`{"12345678901":1}`), small, streams.ErrStringTooLong},
		{"array top", []byte(`[{"type":"Note"}]`), streams.Limits{}, streams.ErrNotObject},
		{"string top", []byte(`"Note"`), streams.Limits{}, streams.ErrNotObject},
		{"number top", []byte(`12`), streams.Limits{}, streams.ErrNotObject},
		{"null top", []byte(`null`), streams.Limits{}, streams.ErrNotObject},
		{"empty", []byte(``), streams.Limits{}, streams.ErrSyntax},
		{"bad utf8", []byte("{\"a\":\"\xff\"}"), streams.Limits{}, streams.ErrInvalidUTF8},
		{"unterminated", []byte(`{"a":1`), streams.Limits{}, streams.ErrSyntax},
		{"no colon", []byte(`{"a"}`), streams.Limits{}, streams.ErrSyntax},
		{"trailing comma", []byte(`{"a":1,}`), streams.Limits{}, streams.ErrSyntax},
		{"array trailing comma", []byte(`{"a":[1,]}`), streams.Limits{}, streams.ErrSyntax},
		{"leading zero", []byte(`{"a":01}`), streams.Limits{}, streams.ErrSyntax},
		{"bad fraction", []byte(`{"a":1.}`), streams.Limits{}, streams.ErrSyntax},
		{"bad exponent", []byte(`{"a":1e}`), streams.Limits{}, streams.ErrSyntax},
		{"bad literal", []byte(`{"a":tru}`), streams.Limits{}, streams.ErrSyntax},
		{"bad escape", []byte(`{"a":"\x"}`), streams.Limits{}, streams.ErrSyntax},
		{"bad unicode escape", []byte(`{"a":"\u12g4"}`), streams.Limits{}, streams.ErrSyntax},
		{"control char", []byte("{\"a\":\"\x01\"}"), streams.Limits{}, streams.ErrSyntax},
		{"unquoted key", []byte(`{a:1}`), streams.Limits{}, streams.ErrSyntax},
		{"two documents", []byte(`{} {}`), streams.Limits{}, streams.ErrSyntax},
		{"single quotes", []byte(`{'a':1}`), streams.Limits{}, streams.ErrSyntax},
		{"embedded contexts", []byte(`{"items":[` + strings.Repeat(`{"@context":{"x":"as:name"},"x":"n"},`, 32) + `{"@context":{}}]}`), streams.Limits{}, streams.ErrTooManyContexts},
		{"duplicate key", []byte(`{"actor":"a","actor":"b"}`), streams.Limits{}, streams.ErrDuplicateKey},
		{"id and @id", []byte(`{"id":"a","@id":"b"}`), streams.Limits{}, streams.ErrDuplicateKey},
		{"type and @type", []byte(`{"type":"Note","@type":"Article"}`), streams.Limits{}, streams.ErrDuplicateKey},
		{"aliased id", []byte(`{"@context":{"ident":"@id"},"id":"a","ident":"b"}`), streams.Limits{}, streams.ErrDuplicateKey},
		{"aliased type", []byte(`{"@context":["https://www.w3.org/ns/activitystreams",{"kind":"@type"}],"object":{"type":"Note","kind":"Article"}}`), streams.Limits{}, streams.ErrDuplicateKey},
		{"nested duplicate", []byte(`{"object":{"id":"a","id":"b"}}`), streams.Limits{}, streams.ErrDuplicateKey},
		{"many duplicates", append(manyMembers(60)[:len(manyMembers(60))-1], []byte(`,"ka":2}`)...), streams.Limits{}, streams.ErrDuplicateKey},
	}
	reg := streams.Default()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := reg.ParseLimits(tc.doc, tc.lim)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if o != nil {
				t.Error("a rejected document returned an object")
			}
			var se *streams.SyntaxError
			if tc.want != streams.ErrTooLarge && tc.want != streams.ErrTooManyContexts && !strings.Contains(tc.name, "aliased") && !errors.As(err, &se) {
				t.Errorf("error %v is not a *SyntaxError", err)
			}
		})
	}
}

// TestHostileInputCheap checks SECURITY.md rule 19: depth 10,000 and a
// 100,000-element array are rejected without allocating much.
func TestHostileInputCheap(t *testing.T) {
	for _, tc := range []struct {
		name string
		doc  []byte
	}{
		{"deep", nested(10000)},
		{"wide", bigArray(100000)},
		{"deep objects", []byte(strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			if _, err := streams.Parse(tc.doc); err == nil {
				t.Fatal("accepted")
			}
			runtime.ReadMemStats(&after)
			// The input copy plus at most the limit's worth of values.
			if got := after.TotalAlloc - before.TotalAlloc; got > uint64(4*len(tc.doc))+2<<20 {
				t.Errorf("allocated %d bytes rejecting a %d-byte document", got, len(tc.doc))
			}
		})
	}
}

// TestParseAccepts checks documents at the limits and JSON corner cases.
func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name, doc, key, want string
	}{
		{"depth 63", string(nested(62)), "", ""},
		{"escapes", `{"content":"a\"b\\c\/d\n\u00e9\ud83d\ude00"}`, "content", "a\"b\\c/d\né😀"},
		{"lone surrogate", `{"content":"\ud800x"}`, "content", "\ufffdx"},
		{"utf8", `{"content":"héllo — ✓"}`, "content", "héllo — ✓"},
		{"whitespace", " \t\n{ \"content\" : \"x\" } \n", "content", "x"},
		{"numbers", `{"width":-0.5e+10,"height":0,"content":"n"}`, "content", "n"},
		{"empty containers", `{"to":[],"source":{},"content":"e"}`, "content", "e"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := MustParse(t, streams.Default(), []byte(tc.doc))
			if tc.key != "" && o.String(tc.key) != tc.want {
				t.Errorf("%s = %q, want %q", tc.key, o.String(tc.key), tc.want)
			}
			back := MustParse(t, streams.Default(), MustMarshal(t, o))
			if !back.Equal(o) {
				t.Errorf("round trip changed %s", tc.doc)
			}
		})
	}
}

// TestHostileContexts: cyclic and self-referencing term definitions, and
// a large context, resolve without looping; the cycle leaves terms
// undefined.
func TestHostileContexts(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"@context":{`)
	for i := 0; i < 900; i++ {
		fmt.Fprintf(&b, `"t%d":"t%d:x",`, i, (i+1)%900)
	}
	b.WriteString(`"a":"b:x","b":"a:y","c":{"@id":"c"}},"a":1,"t5":2,"content":"kept"}`)
	o := MustParse(t, streams.Default(), []byte(b.String()))
	if o.String("content") != "kept" {
		t.Error("document lost")
	}
	for _, m := range o.Members() {
		if m.Key == "a" && strings.Contains(m.IRI, "b:") && strings.Contains(m.IRI, "a:") {
			t.Errorf("cycle expanded to %q", m.IRI)
		}
	}
}

// TestParseReader checks the reader entry point's size cap.
func TestParseReader(t *testing.T) {
	reg := streams.NewStandardRegistry()
	if err := reg.SetLimits(streams.Limits{MaxBytes: 64}); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.ParseReader(strings.NewReader(`{"type":"Note","content":"` + strings.Repeat("x", 100) + `"}`)); !errors.Is(err, streams.ErrTooLarge) {
		t.Errorf("err = %v, want ErrTooLarge", err)
	}
	o, err := reg.ParseReader(strings.NewReader(`{"type":"Note"}`))
	if err != nil || o.Type() != "Note" {
		t.Errorf("got %v, %v", o, err)
	}
	if err := streams.Default().SetLimits(streams.Limits{}); !errors.Is(err, streams.ErrFrozen) {
		t.Errorf("SetLimits on Default: %v", err)
	}
}
