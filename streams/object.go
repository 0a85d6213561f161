package streams

import (
	"strconv"
	"strings"
	"time"
)

// Member is one key/value pair of an object, in document order.
type Member struct {
	// Key is the key as written in the document ("content", "as:content",
	// a full IRI...), or the registry's term when set by code.
	Key string
	// IRI is what Key expands to: a canonical IRI, a keyword ("@id",
	// "@type", "@context"...), or "" when neither the document's context
	// nor the registry defines the key. Unknown members are kept all the
	// same.
	IRI string
	// Value is the member's value.
	Value Value

	container uint8
	added     bool // set by code on a parsed object: may need a definition
}

// Object is a JSON object of an ActivityStreams document: an object,
// activity, link, collection, or any node embedded in one. It keeps every
// member in document order, known or not, with the IRI each key expands to,
// and reads them through typed getters that take terms ("actor"), compact
// IRIs ("toot:discoverable") or full IRIs.
//
// Getters never fail: a missing or ill-typed value reads as the zero value
// (use Validate to report such values). They are safe on a nil *Object,
// which has no members, so o.Object("endpoints").IRI("sharedInbox") needs no
// nil checks. An Object is not safe for concurrent mutation; concurrent
// reads are fine.
type Object struct {
	members []Member
	reg     *Registry
	ctx     *activeContext // context in effect; nil for objects built in code
}

// New returns an empty object of the given type (a term such as "Note", a
// compact or full IRI), bound to r. Serializing it writes the @context its
// terms need.
func (r *Registry) New(typ string) *Object {
	o := &Object{reg: r}
	if typ != "" {
		o.members = append(o.members, Member{Key: "type", IRI: "@type", Value: String(r.typeTerm(typ))})
	}
	return o
}

// NewObject returns an empty object of the given type bound to the default
// registry. See Registry.New.
func NewObject(typ string) *Object { return Default().New(typ) }

func (r *Registry) typeTerm(typ string) string {
	st := r.state()
	if t := st.byIRI[st.resolveName(typ)]; t != nil && t.isType {
		return t.name
	}
	return typ
}

func (o *Object) st() *regState {
	if o == nil || o.reg == nil {
		return Default().state()
	}
	return o.reg.state()
}

func (o *Object) context() *activeContext {
	if o.ctx != nil {
		return o.ctx
	}
	return o.st().base
}

// Registry returns the registry o was parsed or built with.
func (o *Object) Registry() *Registry {
	if o == nil || o.reg == nil {
		return Default()
	}
	return o.reg
}

// Members returns o's members in order. The slice is o's own: do not
// modify it; use Set and Delete.
func (o *Object) Members() []Member {
	if o == nil {
		return nil
	}
	return o.members
}

// Len returns the number of members.
func (o *Object) Len() int {
	if o == nil {
		return 0
	}
	return len(o.members)
}

// Context returns the value of o's own "@context" member (null if none).
func (o *Object) Context() Value {
	if o == nil {
		return Value{}
	}
	for _, m := range o.members {
		if m.IRI == "@context" || m.Key == "@context" {
			return m.Value
		}
	}
	return Value{}
}

// iriOf resolves a getter's name to an IRI.
func (o *Object) iriOf(name string) string {
	return o.st().resolveName(name)
}

// lookup calls f with each member whose IRI is iri, in order.
func (o *Object) lookup(name string, f func(*Member) bool) {
	if o == nil || len(o.members) == 0 {
		return
	}
	iri := o.iriOf(name)
	if iri == "" {
		// Not a term we know: match the key as written.
		for i := range o.members {
			if o.members[i].Key == name && !f(&o.members[i]) {
				return
			}
		}
		return
	}
	for i := range o.members {
		if o.members[i].IRI == iri && !f(&o.members[i]) {
			return
		}
	}
}

// Has reports whether o has a member for name.
func (o *Object) Has(name string) bool {
	found := false
	o.lookup(name, func(*Member) bool { found = true; return false })
	return found
}

// Get returns the value of the first member for name, as written (an
// array stays an array). Language map members ("contentMap") are skipped:
// read them with LangMap.
func (o *Object) Get(name string) (Value, bool) {
	var v Value
	found := false
	o.lookup(name, func(m *Member) bool {
		if m.container == containerLanguage {
			return true
		}
		v, found = m.Value, true
		return false
	})
	return v, found
}

// Values returns every value for name: arrays are flattened, and members
// that expand to the same IRI ("content" and "as:content") are merged in
// document order. Language map members are left out (see LangMap).
func (o *Object) Values(name string) []Value {
	var out []Value
	o.lookup(name, func(m *Member) bool {
		if m.container == containerLanguage {
			return true
		}
		m.Value.each(func(v Value) bool {
			switch {
			case v.kind == JSONArray:
				out = append(out, v.a...) // a list inside an array
			case v.kind == JSONObject && v.o.Len() == 1 && (v.o.members[0].IRI == "@list" || v.o.members[0].IRI == "@set"):
				// Expanded form: {"@list": [...]}.
				v.o.members[0].Value.each(func(e Value) bool {
					out = append(out, e)
					return true
				})
			default:
				out = append(out, v)
			}
			return true
		})
		return true
	})
	return out
}

// first returns the first non-null value for name (arrays looked into).
func (o *Object) first(name string) (Value, bool) {
	var out Value
	found := false
	o.lookup(name, func(m *Member) bool {
		if m.container == containerLanguage {
			return true
		}
		m.Value.each(func(v Value) bool {
			if v.kind == JSONNull {
				return true
			}
			out, found = v, true
			return false
		})
		return !found
	})
	return out, found
}

// ID returns o's "id" (or "@id"), or "".
func (o *Object) ID() string {
	if o == nil {
		return ""
	}
	for _, m := range o.members {
		if m.IRI == "@id" {
			s, _ := m.Value.Str()
			return s
		}
	}
	return ""
}

// rawTypes returns the type strings as written.
func (o *Object) rawTypes() []Value {
	if o == nil {
		return nil
	}
	for _, m := range o.members {
		if m.IRI == "@type" {
			if m.Value.kind == JSONArray {
				return m.Value.a
			}
			return []Value{m.Value}
		}
	}
	return nil
}

// TypeIRIs returns the full IRIs of o's types.
func (o *Object) TypeIRIs() []string {
	vs := o.rawTypes()
	if len(vs) == 0 {
		return nil
	}
	st, ctx := o.st(), o.context()
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		if s, ok := v.Str(); ok {
			out = append(out, st.expandValueIRI(ctx, s, true))
		}
	}
	return out
}

// Types returns o's types as the registry's terms ("Note", "ChatMessage"),
// or as full IRIs for types the registry does not know.
func (o *Object) Types() []string {
	iris := o.TypeIRIs()
	st := o.st()
	for i, iri := range iris {
		if t := st.byIRI[iri]; t != nil {
			iris[i] = t.name
		}
	}
	return iris
}

// Type returns o's first type as a registry term (or full IRI), or "".
func (o *Object) Type() string {
	vs := o.rawTypes()
	if len(vs) == 0 {
		return ""
	}
	s, _ := vs[0].Str()
	st := o.st()
	iri := st.expandValueIRI(o.context(), s, true)
	if t := st.byIRI[iri]; t != nil {
		return t.name
	}
	return iri
}

// Is reports whether one of o's types is typ or a registered subtype of it
// ("Create" is an "Activity"; a registered type based on "Group" is a
// "Group"). typ is a term, compact IRI or full IRI.
func (o *Object) Is(typ string) bool {
	vs := o.rawTypes()
	if len(vs) == 0 {
		return false
	}
	st := o.st()
	want := st.resolveName(typ)
	ctx := o.context()
	for _, v := range vs {
		if s, ok := v.Str(); ok && st.isA(st.expandValueIRI(ctx, s, true), want) {
			return true
		}
	}
	return false
}

// IsActivity reports whether o is an Activity (or IntransitiveActivity, or
// any subtype).
func (o *Object) IsActivity() bool { return o.Is(ASNamespace + "Activity") }

// IsActor reports whether o is one of the AS2 actor types (Application,
// Group, Organization, Person, Service) or a registered subtype of one.
func (o *Object) IsActor() bool {
	return o.Is(ASNamespace+"Person") || o.Is(ASNamespace+"Group") || o.Is(ASNamespace+"Service") ||
		o.Is(ASNamespace+"Application") || o.Is(ASNamespace+"Organization")
}

// IsCollection reports whether o is a Collection (ordered, page or not).
func (o *Object) IsCollection() bool { return o.Is(ASNamespace + "Collection") }

// IsLink reports whether o is a Link (or Mention, or a subtype).
func (o *Object) IsLink() bool { return o.Is(ASNamespace + "Link") }

// refIRI returns the IRI a reference value names: a string (compact IRIs
// expanded), or an object's id (or a Link's href).
func (o *Object) refIRI(v Value) string {
	switch v.kind {
	case JSONString:
		return o.st().expandValueIRI(o.context(), v.s, false)
	case JSONObject:
		if id := v.o.ID(); id != "" {
			return id
		}
		if v.o.IsLink() {
			return v.o.IRI("href")
		}
	}
	return ""
}

// IRI returns the IRI of the first value of name: a string, or the id of
// an embedded object (the href of an embedded Link without id). It returns
// "" if there is none.
func (o *Object) IRI(name string) string {
	var out string
	o.lookup(name, func(m *Member) bool {
		if m.container == containerLanguage {
			return true
		}
		m.Value.each(func(v Value) bool {
			out = o.refIRI(v)
			return out == ""
		})
		return out == ""
	})
	return out
}

// IRIs returns the IRIs of every value of name, in order (see IRI); values
// that name no IRI are skipped. Use it for to, cc, bto, bcc, audience.
func (o *Object) IRIs(name string) []string {
	vs := o.Values(name)
	if len(vs) == 0 {
		return nil
	}
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		if s := o.refIRI(v); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Object returns the first embedded object for name, or nil when there is
// none (absent, or only IRIs).
func (o *Object) Object(name string) *Object {
	for _, v := range o.Values(name) {
		if v.kind == JSONObject {
			return v.o
		}
	}
	return nil
}

// Objects returns every embedded object for name, in order; IRIs are
// skipped. A property given as one object or as an array reads the same.
func (o *Object) Objects(name string) []*Object {
	var out []*Object
	for _, v := range o.Values(name) {
		if v.kind == JSONObject {
			out = append(out, v.o)
		}
	}
	return out
}

// String returns the first plain string value of name; a JSON-LD value
// object {"@value": "..."} counts. For natural language properties it is
// the untagged form ("content"), or, if there is none, the language map's
// value for the document's default language or else its first entry.
func (o *Object) String(name string) string {
	if v, ok := o.first(name); ok {
		if s, ok := literal(v).Str(); ok {
			return s
		}
	}
	var out string
	o.lookup(name, func(m *Member) bool {
		if m.container != containerLanguage || m.Value.kind != JSONObject {
			return true
		}
		lm := m.Value.o
		if lang := o.context().lang; lang != "" {
			if s, ok := lm.member(lang).Str(); ok {
				out = s
				return false
			}
		}
		for _, e := range lm.members {
			if s, ok := e.Value.Str(); ok {
				out = s
				return false
			}
		}
		return true
	})
	return out
}

func (o *Object) member(key string) Value {
	if o == nil {
		return Value{}
	}
	for _, m := range o.members {
		if m.Key == key {
			return m.Value
		}
	}
	return Value{}
}

// literal unwraps a JSON-LD value object {"@value": x}.
func literal(v Value) Value {
	if v.kind == JSONObject && v.o != nil {
		for _, m := range v.o.members {
			if m.Key == "@value" {
				return m.Value
			}
		}
	}
	return v
}

// LangMap returns the natural language values of name by language tag:
// the entries of its language map ("contentMap"), value objects with
// "@language", and the plain form under the document's default language
// (its @context "@language"), or "" when it declares none. It returns nil
// when name has no string values.
func (o *Object) LangMap(name string) map[string]string {
	var out map[string]string
	put := func(lang, s string) {
		if out == nil {
			out = map[string]string{}
		}
		if _, dup := out[lang]; !dup {
			out[lang] = s
		}
	}
	o.lookup(name, func(m *Member) bool {
		if m.container == containerLanguage {
			if m.Value.kind == JSONObject {
				for _, e := range m.Value.o.members {
					e.Value.each(func(x Value) bool {
						if s, ok := x.Str(); ok {
							put(e.Key, s)
						}
						return true
					})
				}
			}
			return true
		}
		m.Value.each(func(v Value) bool {
			if s, ok := v.Str(); ok {
				put(o.context().lang, s)
			} else if v.kind == JSONObject {
				if s, ok := literal(v).Str(); ok {
					lang, _ := v.o.member("@language").Str()
					put(lang, s)
				}
			}
			return true
		})
		return true
	})
	return out
}

// Bool returns the first value of name as a boolean; ok is false when it
// is absent or not a boolean (the strings "true" and "false" count, as
// some servers send them).
func (o *Object) Bool(name string) (b, ok bool) {
	v, found := o.first(name)
	if !found {
		return false, false
	}
	v = literal(v)
	switch v.kind {
	case JSONBool:
		return v.b, true
	case JSONString:
		switch v.s {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	return false, false
}

// Float returns the first value of name as a number.
func (o *Object) Float(name string) (float64, bool) {
	v, found := o.first(name)
	if !found {
		return 0, false
	}
	v = literal(v)
	if v.kind == JSONString {
		f, err := strconv.ParseFloat(v.s, 64)
		return f, err == nil
	}
	return v.Float()
}

// Int returns the first value of name as an integer; ok is false for
// fractions and values out of int64's range.
func (o *Object) Int(name string) (int64, bool) {
	v, found := o.first(name)
	if !found {
		return 0, false
	}
	v = literal(v)
	if v.kind != JSONNumber && v.kind != JSONString {
		return 0, false
	}
	n, err := strconv.ParseInt(v.s, 10, 64)
	if err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(v.s, 64)
	if err != nil || f != float64(int64(f)) || f > 9.2e18 || f < -9.2e18 {
		return 0, false
	}
	return int64(f), true
}

// Time returns the first value of name as an xsd:dateTime (RFC 3339, with
// or without fractional seconds; a missing time zone reads as UTC).
func (o *Object) Time(name string) (time.Time, bool) {
	v, found := o.first(name)
	if !found {
		return time.Time{}, false
	}
	s, ok := literal(v).Str()
	if !ok {
		return time.Time{}, false
	}
	return ParseDateTime(s)
}

// ParseDateTime parses an xsd:dateTime: RFC 3339 with optional fractional
// seconds, or without a time zone (read as UTC).
func ParseDateTime(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	if t, err := time.Parse("2006-01-02T15:04:05.999999999", s); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// Duration returns the first value of name as an xsd:duration ("PT5M",
// "P1DT2H", "-PT0.5S"). Years and months, which have no fixed length, are
// counted as 365 and 30 days.
func (o *Object) Duration(name string) (time.Duration, bool) {
	v, found := o.first(name)
	if !found {
		return 0, false
	}
	s, ok := literal(v).Str()
	if !ok {
		return 0, false
	}
	return ParseDuration(s)
}

// ParseDuration parses an xsd:duration (see Object.Duration).
func ParseDuration(s string) (time.Duration, bool) {
	neg := false
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	if !strings.HasPrefix(s, "P") || len(s) < 2 {
		return 0, false
	}
	s = s[1:]
	var total float64
	inTime := false
	units := 0
	for len(s) > 0 {
		if s[0] == 'T' {
			if inTime || len(s) == 1 {
				return 0, false
			}
			inTime = true
			s = s[1:]
			continue
		}
		i := 0
		for i < len(s) && (isDigit(s[i]) || s[i] == '.') {
			i++
		}
		if i == 0 || i == len(s) {
			return 0, false
		}
		n, err := strconv.ParseFloat(s[:i], 64)
		if err != nil {
			return 0, false
		}
		var unit float64
		switch u := s[i]; {
		case !inTime && u == 'Y':
			unit = 365 * 24 * 3600
		case !inTime && u == 'M':
			unit = 30 * 24 * 3600
		case !inTime && u == 'W':
			unit = 7 * 24 * 3600
		case !inTime && u == 'D':
			unit = 24 * 3600
		case inTime && u == 'H':
			unit = 3600
		case inTime && u == 'M':
			unit = 60
		case inTime && u == 'S':
			unit = 1
		default:
			return 0, false
		}
		total += n * unit
		units++
		s = s[i+1:]
	}
	if units == 0 || total > 9.2e9 {
		return 0, false
	}
	d := time.Duration(total * float64(time.Second))
	if neg {
		d = -d
	}
	return d, true
}

// Equal reports whether o and p have the same members (keys and values)
// in the same order.
func (o *Object) Equal(p *Object) bool {
	if o == nil || p == nil {
		return o.Len() == 0 && p.Len() == 0 && (o == nil) == (p == nil)
	}
	if len(o.members) != len(p.members) {
		return false
	}
	for i := range o.members {
		if o.members[i].Key != p.members[i].Key || !o.members[i].Value.Equal(p.members[i].Value) {
			return false
		}
	}
	return true
}

// Set replaces the values of name with v: the first member for name takes
// v, later ones (such as "as:content" beside "content") are removed, and if
// there is none a member is appended under the registry's term for name.
// Setting null removes the property. The language map form of a natural
// language property ("contentMap") is a separate member: set it with
// SetLangMap, or by passing its name ("contentMap") here. It fails with ErrUnknownTerm when name
// is neither a registered term, a compact IRI with a known prefix, nor an
// absolute IRI.
func (o *Object) Set(name string, v Value) error {
	if v.kind == JSONNull {
		o.Delete(name)
		return nil
	}
	st := o.st()
	iri := st.resolveName(name)
	if iri == "" {
		return &termError{name}
	}
	if v.kind == JSONObject && v.o != nil && v.o.reg == nil {
		v.o.reg = o.reg
	}
	// Write the caller's term when it is one (orderedItems rather than
	// items), else the registry's name for the IRI.
	key := name
	container := containerNone
	if t, ok := st.terms[name]; ok {
		if t.prop.Kind == KindLangString && name != t.name {
			container = containerLanguage // the "contentMap" form
		}
	} else if t := st.byIRI[iri]; t != nil {
		key = t.name
	} else if strings.HasPrefix(iri, "@") {
		key = iri
	}
	switch iri {
	case "@id":
		key = "id"
	case "@type":
		key = "type"
	}
	kept := false
	out := o.members[:0]
	for _, m := range o.members {
		if m.IRI == iri && m.container == container {
			if kept {
				continue
			}
			m.Value, kept = v, true
		}
		out = append(out, m)
	}
	o.members = out
	if !kept {
		m := Member{Key: key, IRI: iri, Value: v, container: container, added: o.ctx != nil}
		if iri == "@id" {
			// The id reads best first (after any @context and type).
			at := 0
			for at < len(o.members) && (o.members[at].IRI == "@context" || o.members[at].IRI == "@type") {
				at++
			}
			o.members = append(o.members, Member{})
			copy(o.members[at+1:], o.members[at:])
			o.members[at] = m
			return nil
		}
		o.members = append(o.members, m)
	}
	return nil
}

type termError struct{ name string }

func (e *termError) Error() string { return "streams: unknown term " + strconv.Quote(e.name) }
func (e *termError) Unwrap() error { return ErrUnknownTerm }

// Add appends v to the values of name, turning a single value into an
// array. See Set for the names accepted.
func (o *Object) Add(name string, v Value) error {
	if cur, ok := o.Get(name); ok && cur.kind != JSONNull {
		var vs []Value
		if cur.kind == JSONArray {
			vs = append(append(vs, cur.a...), v)
		} else {
			vs = []Value{cur, v}
		}
		return o.Set(name, Array(vs...))
	}
	return o.Set(name, v)
}

// Delete removes every member for name, language maps included.
func (o *Object) Delete(name string) {
	if o == nil {
		return
	}
	iri := o.iriOf(name)
	out := o.members[:0]
	for _, m := range o.members {
		if (iri != "" && m.IRI == iri) || (iri == "" && m.Key == name) {
			continue
		}
		out = append(out, m)
	}
	clear(o.members[len(out):])
	o.members = out
}

// SetID sets o's id.
func (o *Object) SetID(id string) { _ = o.Set("@id", IRI(id)) }

// SetLangMap sets name's language map form ("contentMap") to m; an empty
// map removes it. It fails with ErrUnknownTerm unless name is a registered
// natural language property.
func (o *Object) SetLangMap(name string, m map[string]string) error {
	st := o.st()
	t := st.byIRI[st.resolveName(name)]
	if t == nil || t.isType || t.prop.Kind != KindLangString {
		return &termError{name + " (as a language map)"}
	}
	out := o.members[:0]
	for _, x := range o.members {
		if x.IRI == t.iri && x.container == containerLanguage {
			continue
		}
		out = append(out, x)
	}
	o.members = out
	if len(m) == 0 {
		return nil
	}
	lm := &Object{reg: o.reg}
	for _, lang := range sortedKeys(m) {
		lm.members = append(lm.members, Member{Key: lang, Value: String(m[lang]), container: containerLanguage})
	}
	o.members = append(o.members, Member{Key: t.name + "Map", IRI: t.iri, Value: ObjectValue(lm), container: containerLanguage, added: o.ctx != nil})
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

// Clone returns a deep copy of o: changing the copy (Set, Delete) leaves o
// as it was. Strings are shared, being immutable. A parsed object stays a
// parsed one (same registry and context).
func (o *Object) Clone() *Object {
	return o.clone(0)
}

func (o *Object) clone(depth int) *Object {
	if o == nil {
		return nil
	}
	c := &Object{reg: o.reg, ctx: o.ctx, members: make([]Member, len(o.members))}
	copy(c.members, o.members)
	if depth > 256 {
		return c // deeper than any parse allows; shallow below
	}
	for i := range c.members {
		c.members[i].Value = c.members[i].Value.clone(depth + 1)
	}
	return c
}

func (v Value) clone(depth int) Value {
	switch v.kind {
	case JSONArray:
		a := make([]Value, len(v.a))
		for i, e := range v.a {
			a[i] = e.clone(depth)
		}
		v.a = a
	case JSONObject:
		v.o = v.o.clone(depth)
	}
	return v
}
