package streams

import (
	"strconv"
	"time"
)

// JSONKind is the JSON shape of a Value: null, boolean, number, string,
// array or object.
type JSONKind uint8

// The JSON kinds a Value can hold. The zero Value is JSONNull.
const (
	JSONNull JSONKind = iota
	JSONBool
	JSONNumber
	JSONString
	JSONArray
	JSONObject
)

// String returns the lower-case JSON name of the kind ("null", "object"...).
func (k JSONKind) String() string {
	switch k {
	case JSONNull:
		return "null"
	case JSONBool:
		return "boolean"
	case JSONNumber:
		return "number"
	case JSONString:
		return "string"
	case JSONArray:
		return "array"
	case JSONObject:
		return "object"
	}
	return "invalid"
}

// Value is one JSON value of a document: a literal, an array of Values or an
// embedded *Object. Values are small and copied by value; the arrays and
// objects they point to are shared, so treat a Value taken from a parsed
// document as read-only and build new ones with the constructors below.
type Value struct {
	kind JSONKind
	b    bool
	// s holds a string's text or a number's literal. For the value of an
	// "@context" member it holds the raw JSON text the parser saw, which is
	// the key of the context cache.
	s string
	a []Value
	o *Object
}

// Null returns the JSON null value.
func Null() Value { return Value{} }

// String returns a JSON string value.
func String(s string) Value { return Value{kind: JSONString, s: s} }

// IRI returns a JSON string value holding an IRI. It is the same JSON as
// String; the name documents intent at call sites.
func IRI(iri string) Value { return Value{kind: JSONString, s: iri} }

// Bool returns a JSON boolean value.
func Bool(b bool) Value { return Value{kind: JSONBool, b: b} }

// Int returns a JSON number value holding an integer.
func Int(n int64) Value { return Value{kind: JSONNumber, s: strconv.FormatInt(n, 10)} }

// Number returns a JSON number value. NaN and infinities, which JSON cannot
// carry, become null.
func Number(f float64) Value {
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if s == "NaN" || s == "+Inf" || s == "-Inf" {
		return Value{}
	}
	return Value{kind: JSONNumber, s: s}
}

// Time returns a JSON string value with t in RFC 3339 form (UTC, second
// precision unless t has a fractional part), as xsd:dateTime expects.
func Time(t time.Time) Value {
	return Value{kind: JSONString, s: t.UTC().Format(time.RFC3339Nano)}
}

// Array returns a JSON array value holding vs (not copied).
func Array(vs ...Value) Value { return Value{kind: JSONArray, a: vs} }

// IRIList returns a JSON array of IRI strings.
func IRIList(iris ...string) Value {
	vs := make([]Value, len(iris))
	for i, s := range iris {
		vs[i] = IRI(s)
	}
	return Value{kind: JSONArray, a: vs}
}

// ObjectValue returns a Value embedding o. A nil o gives null.
func ObjectValue(o *Object) Value {
	if o == nil {
		return Value{}
	}
	return Value{kind: JSONObject, o: o}
}

// Kind reports the JSON kind of v.
func (v Value) Kind() JSONKind { return v.kind }

// IsNull reports whether v is JSON null (or the zero Value).
func (v Value) IsNull() bool { return v.kind == JSONNull }

// Str returns the text of a JSON string, and false for any other kind.
func (v Value) Str() (string, bool) { return v.s, v.kind == JSONString }

// BoolValue returns a JSON boolean, and false as second result for any other
// kind.
func (v Value) BoolValue() (b, ok bool) { return v.b, v.kind == JSONBool }

// NumberText returns the literal text of a JSON number exactly as written,
// and false for any other kind.
func (v Value) NumberText() (string, bool) { return v.s, v.kind == JSONNumber }

// Float returns a JSON number as a float64, and false for any other kind or
// a literal out of range.
func (v Value) Float() (float64, bool) {
	if v.kind != JSONNumber {
		return 0, false
	}
	f, err := strconv.ParseFloat(v.s, 64)
	return f, err == nil
}

// Elems returns the elements of a JSON array (shared, do not modify), or nil.
func (v Value) Elems() []Value {
	if v.kind != JSONArray {
		return nil
	}
	return v.a
}

// Object returns the embedded object of a JSON object value, or nil.
func (v Value) Object() *Object {
	if v.kind != JSONObject {
		return nil
	}
	return v.o
}

// each calls f for v itself or, when v is an array, for each element.
func (v Value) each(f func(Value) bool) {
	if v.kind == JSONArray {
		for _, e := range v.a {
			if !f(e) {
				return
			}
		}
		return
	}
	if v.kind != JSONNull {
		f(v)
	}
}

// Equal reports whether v and w are the same JSON value: same kinds, same
// string texts, same number literals compared numerically, same elements in
// order, and objects with the same members in the same order.
func (v Value) Equal(w Value) bool {
	if v.kind != w.kind {
		return false
	}
	switch v.kind {
	case JSONNull:
		return true
	case JSONBool:
		return v.b == w.b
	case JSONString:
		return v.s == w.s
	case JSONNumber:
		if v.s == w.s {
			return true
		}
		f, ok1 := v.Float()
		g, ok2 := w.Float()
		return ok1 && ok2 && f == g
	case JSONArray:
		if len(v.a) != len(w.a) {
			return false
		}
		for i := range v.a {
			if !v.a[i].Equal(w.a[i]) {
				return false
			}
		}
		return true
	case JSONObject:
		return v.o.Equal(w.o)
	}
	return false
}
