package streams

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MarshalJSON serializes o as a JSON-LD document (see AppendJSON).
func (o *Object) MarshalJSON() ([]byte, error) {
	return o.AppendJSON(make([]byte, 0, 256+64*o.Len()))
}

// Marshal serializes o as a JSON-LD document (see Object.AppendJSON).
func Marshal(o *Object) ([]byte, error) { return o.MarshalJSON() }

// AppendJSON appends o, serialized as a top level JSON-LD document, to dst.
//
// A parsed object is written back as it came: same members, same order,
// same @context, unknown terms included, so parse∘serialize∘parse is the
// identity on meaning. Members that code added to a parsed object under
// terms its @context does not define get definitions appended to the
// @context. An object built with New gets the @context its terms need:
// the AS2 context URL, the context URLs of other vocabularies used, and an
// inline map for terms without a published context (the Mastodon way).
func (o *Object) AppendJSON(dst []byte) ([]byte, error) {
	if o == nil {
		return nil, fmt.Errorf("streams: marshal nil object: %w", ErrInvalid)
	}
	st := o.st()
	cb := &ctxBuilder{st: st}
	built := o.ctx == nil && o.Context().IsNull()
	cb.walk(o, built, 0)
	if built {
		dst = append(dst, '{')
		dst = appendString(dst, "@context")
		dst = append(dst, ':')
		dst = cb.appendContext(dst, nil)
		if len(o.members) > 0 {
			dst = append(dst, ',')
		}
		return appendMembers(dst, o.members, 0)
	}
	if len(cb.inline) == 0 {
		return appendObject(dst, o, 0)
	}
	// A parsed document with added terms: extend its @context.
	dst = append(dst, '{')
	wrote := false
	for i, m := range o.members {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, m.Key)
		dst = append(dst, ':')
		if m.IRI == "@context" && !wrote {
			old := m.Value
			dst = cb.appendContext(dst, &old)
			wrote = true
			continue
		}
		dst = appendValue(dst, m.Value, 1)
	}
	if !wrote {
		if len(o.members) > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, "@context")
		dst = append(dst, ':')
		dst = cb.appendContext(dst, nil)
	}
	return append(dst, '}'), nil
}

// ctxBuilder gathers what @context a document needs.
type ctxBuilder struct {
	st     *regState
	urls   []*vocabInfo
	inline []inlineDef
	seen   map[string]bool
}

type inlineDef struct {
	term string
	def  Value
}

func (cb *ctxBuilder) useVocab(vi *vocabInfo) {
	for _, u := range cb.urls {
		if u == vi {
			return
		}
	}
	cb.urls = append(cb.urls, vi)
}

func (cb *ctxBuilder) define(term string, def Value) {
	if cb.seen == nil {
		cb.seen = map[string]bool{}
	}
	if cb.seen[term] {
		return
	}
	cb.seen[term] = true
	cb.inline = append(cb.inline, inlineDef{term, def})
}

// need records that term t, written under key, must be defined.
func (cb *ctxBuilder) need(t *termInfo, key string, langMap bool) {
	v := t.vocab.def
	inline := t.prop.Inline
	if t.isType {
		inline = t.typ.Inline
	}
	if v.ContextURL != "" && !inline {
		cb.useVocab(t.vocab)
		return
	}
	// A compact "prefix:name" when we can be sure the prefix is defined:
	// we define it ourselves, or it is "as" from the AS2 context. Otherwise
	// the full IRI.
	ref := t.iri
	if v.Prefix != "" && t.iri == v.Namespace+t.name {
		switch {
		case v.ContextURL == "":
			ref = v.Prefix + ":" + t.name
			cb.define(v.Prefix, String(v.Namespace))
		case v.Namespace == ASNamespace:
			ref = v.Prefix + ":" + t.name
		}
	}
	var def Value
	switch {
	case langMap:
		def = ObjectValue(&Object{members: []Member{
			{Key: "@id", Value: String(ref)}, {Key: "@container", Value: String("@language")},
		}})
	case !t.isType && (t.prop.Kind == KindReference || t.prop.Kind == KindIRI || t.prop.Container != ""):
		d := &Object{members: []Member{{Key: "@id", Value: String(ref)}}}
		if t.prop.Kind == KindReference || t.prop.Kind == KindIRI {
			d.members = append(d.members, Member{Key: "@type", Value: String("@id")})
		}
		if t.prop.Container != "" {
			d.members = append(d.members, Member{Key: "@container", Value: String(t.prop.Container)})
		}
		def = ObjectValue(d)
	default:
		def = String(ref)
	}
	cb.define(key, def)
}

// needPrefix defines the prefix of a compact IRI key ("toot:blurhash")
// when the registry knows it and the document does not define it.
func (cb *ctxBuilder) needPrefix(o *Object, key string) {
	i := strings.IndexByte(key, ':')
	if i <= 0 || strings.HasPrefix(key[i+1:], "//") {
		return
	}
	prefix := key[:i]
	ns, ok := cb.st.prefixes[prefix]
	if !ok || prefix == "as" || cb.defined(o, prefix, ns) {
		return
	}
	cb.define(prefix, String(ns))
}

// walk finds the terms o's tree needs defined: all of them for a built
// document, only members added by code for a parsed one.
func (cb *ctxBuilder) walk(o *Object, built bool, depth int) {
	if o == nil || depth > 256 {
		return
	}
	st := cb.st
	for _, m := range o.members {
		if m.container == containerLanguage && m.IRI == "" {
			continue // entries of a language map
		}
		if built || m.added {
			if m.IRI == "@type" {
				m.Value.each(func(v Value) bool {
					if s, ok := v.Str(); ok {
						if t := st.byIRI[st.resolveName(s)]; t != nil && t.isType && s == t.name {
							if built || !cb.defined(o, s, t.iri) {
								cb.need(t, s, false)
							}
						}
					}
					return true
				})
			} else if t := st.terms[m.Key]; t != nil && !t.isType && t.iri == m.IRI {
				if built || !cb.defined(o, m.Key, t.iri) {
					cb.need(t, m.Key, m.container == containerLanguage)
				}
			} else if strings.Contains(m.Key, ":") {
				cb.needPrefix(o, m.Key)
			} else if m.IRI != "" && m.IRI != m.Key && !isKeyword(m.IRI) && m.container == containerNone {
				// A term the registry does not know but whose meaning we
				// know (a parsed object moved into a built document).
				if built || !cb.defined(o, m.Key, m.IRI) {
					cb.define(m.Key, String(m.IRI))
				}
			}
		}
		if m.IRI == "@context" {
			continue
		}
		cb.walkValue(m.Value, built || m.added, depth+1)
	}
}

func (cb *ctxBuilder) walkValue(v Value, built bool, depth int) {
	switch v.kind {
	case JSONObject:
		if !v.o.Context().IsNull() {
			// An embedded document with its own @context needs nothing
			// from ours.
			built = false
		}
		cb.walk(v.o, built, depth)
	case JSONArray:
		for _, e := range v.a {
			cb.walkValue(e, built, depth)
		}
	}
}

// defined reports whether key already means iri in o's parsed context.
func (cb *ctxBuilder) defined(o *Object, key, iri string) bool {
	if o.ctx == nil {
		return false
	}
	d, ok := o.ctx.terms[key]
	return ok && d.iri == iri
}

// appendContext writes the @context value: old (if any) extended with what
// the walk found, or a fresh one.
func (cb *ctxBuilder) appendContext(dst []byte, old *Value) []byte {
	var items []Value
	if old != nil {
		if old.kind == JSONArray {
			items = append(items, old.a...)
		} else if old.kind != JSONNull {
			items = append(items, *old)
		}
		for _, vi := range cb.urls {
			if !containsString(items, vi.def.ContextURL) {
				items = append(items, String(vi.def.ContextURL))
			}
		}
	} else {
		items = append(items, String(ASContextURL))
		for _, vi := range sortedVocabs(cb.urls) {
			if vi.def.ContextURL != ASContextURL {
				items = append(items, String(vi.def.ContextURL))
			}
		}
	}
	if len(cb.inline) > 0 {
		m := &Object{}
		for _, d := range cb.inline {
			m.members = append(m.members, Member{Key: d.term, Value: d.def})
		}
		items = append(items, ObjectValue(m))
	}
	if len(items) == 1 {
		return appendValue(dst, items[0], 1)
	}
	return appendValue(dst, Array(items...), 1)
}

func containsString(vs []Value, s string) bool {
	for _, v := range vs {
		if x, ok := v.Str(); ok && x == s {
			return true
		}
	}
	return false
}

func sortedVocabs(vs []*vocabInfo) []*vocabInfo {
	out := append([]*vocabInfo(nil), vs...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].index < out[j-1].index; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func appendObject(dst []byte, o *Object, depth int) ([]byte, error) {
	dst = append(dst, '{')
	return appendMembers(dst, o.members, depth)
}

// appendMembers writes members and the closing brace.
func appendMembers(dst []byte, ms []Member, depth int) ([]byte, error) {
	for i, m := range ms {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, m.Key)
		dst = append(dst, ':')
		dst = appendValue(dst, m.Value, depth+1)
	}
	return append(dst, '}'), nil
}

func appendValue(dst []byte, v Value, depth int) []byte {
	switch v.kind {
	case JSONNull:
		return append(dst, "null"...)
	case JSONBool:
		if v.b {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	case JSONNumber:
		return append(dst, v.s...)
	case JSONString:
		return appendString(dst, v.s)
	case JSONArray:
		dst = append(dst, '[')
		for i, e := range v.a {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendValue(dst, e, depth+1)
		}
		return append(dst, ']')
	case JSONObject:
		if v.o == nil {
			return append(dst, "{}"...)
		}
		dst, _ = appendObject(dst, v.o, depth)
		return dst
	}
	return append(dst, "null"...)
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string. Invalid UTF-8 (possible only in
// strings built by code) becomes U+FFFD.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\ufffd"...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
