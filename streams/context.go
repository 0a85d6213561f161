package streams

import (
	"fmt"
	"strings"
)

// Container kinds of a JSON-LD term definition.
const (
	containerNone uint8 = iota
	containerLanguage
	containerList
	containerSet
	containerIndex
)

// termDef is one term definition of an active context.
type termDef struct {
	iri       string // canonical IRI or keyword; "" for a term defined as null
	typeID    bool   // "@type": "@id" or "@vocab"
	container uint8
}

// activeContext is the result of processing an @context: the term
// definitions in effect, flattened into one map.
type activeContext struct {
	terms map[string]termDef
	vocab string
	lang  string
	// unknown lists context URLs that are not embedded: their terms are
	// not known, and the registry's terms stand in for them.
	unknown []string
}

func (c *activeContext) clone() *activeContext {
	n := &activeContext{terms: make(map[string]termDef, len(c.terms)+8), vocab: c.vocab, lang: c.lang}
	for k, v := range c.terms {
		n.terms[k] = v
	}
	n.unknown = append(n.unknown, c.unknown...)
	return n
}

// isKeyword reports whether s is a JSON-LD keyword a key or term may
// stand for.
func isKeyword(s string) bool {
	switch s {
	case "@id", "@type", "@value", "@language", "@list", "@set", "@graph", "@context", "@index",
		"@reverse", "@included", "@nest", "@none", "@direction", "@json":
		return true
	}
	return false
}

// vocabContext compiles the context a vocabulary's URL stands for: its
// embedded Context document, then the vocabulary's prefix and every term it
// defines (types and properties not marked Inline).
func (st *regState) vocabContext(vi *vocabInfo) (*activeContext, error) {
	c := &activeContext{terms: map[string]termDef{}}
	v := vi.def
	if v.Prefix != "" {
		c.terms[v.Prefix] = termDef{iri: v.Namespace}
	}
	if vi.def.Namespace == ASNamespace {
		c.terms["id"] = termDef{iri: "@id"}
		c.terms["type"] = termDef{iri: "@type"}
	}
	for _, t := range v.Types {
		if t.Inline {
			continue
		}
		c.terms[t.Name] = termDef{iri: st.termIRI(v, t.Name, t.IRI), typeID: true}
	}
	for _, p := range v.Properties {
		if p.Inline {
			continue
		}
		d := propTermDef(st.termIRI(v, p.Name, p.IRI), p)
		c.terms[p.Name] = d
		if p.Kind == KindLangString {
			c.terms[p.Name+"Map"] = termDef{iri: d.iri, container: containerLanguage}
		}
	}
	if len(v.Context) > 0 {
		p := &parser{}
		p.reset(string(v.Context), DefaultLimits())
		p.skipWS()
		val, err := p.value()
		if err != nil {
			return nil, err
		}
		st.applyContext(c, val, 0)
	}
	return c, nil
}

func propTermDef(iri string, p PropertyDef) termDef {
	d := termDef{iri: iri}
	switch p.Kind {
	case KindReference, KindIRI:
		d.typeID = true
	}
	switch p.Container {
	case "@list":
		d.container = containerList
	case "@set":
		d.container = containerSet
	}
	return d
}

// resolveContext returns the active context for v, the value of an
// @context member, on top of parent (nil: none). Results for the same raw
// text are cached.
func (st *regState) resolveContext(parent *activeContext, v Value) *activeContext {
	key := v.s // raw text for arrays and objects, the URL for strings
	cacheable := parent == nil && key != "" && len(key) <= maxCachedContextBytes
	if cacheable {
		st.ctxMu.RLock()
		c, ok := st.ctxCache[key]
		st.ctxMu.RUnlock()
		if ok {
			return c
		}
	}
	var c *activeContext
	if parent == nil {
		c = &activeContext{terms: map[string]termDef{}}
	} else {
		c = parent.clone()
	}
	c = st.applyContext(c, v, 0)
	if parent == nil && (len(c.unknown) > 0 || c.terms["type"].iri == "") {
		// The document names only contexts we do not embed (or none
		// defining "type"): keep the AS2 terms readable underneath.
		c = st.withBase(c)
	}
	if cacheable {
		st.ctxMu.Lock()
		if len(st.ctxCache) < maxCachedContexts {
			st.ctxCache[strings.Clone(key)] = c
		}
		st.ctxMu.Unlock()
	}
	return c
}

// applyContext processes one @context value into c (modified in place) and
// returns the result. Malformed entries are ignored: the document keeps
// them verbatim, they only fail to define terms.
func (st *regState) applyContext(c *activeContext, v Value, depth int) *activeContext {
	if depth > 8 {
		return c
	}
	switch v.kind {
	case JSONNull:
		return &activeContext{terms: map[string]termDef{}}
	case JSONString:
		vi := st.ctxURLs[v.s]
		if vi == nil || vi.ctx == nil { // unknown, or not compiled yet
			c.unknown = append(c.unknown, v.s)
			return c
		}
		for k, d := range vi.ctx.terms {
			c.terms[k] = d
		}
		return c
	case JSONArray:
		for _, e := range v.a {
			c = st.applyContext(c, e, depth+1)
		}
		return c
	case JSONObject:
		local := v.o.members
		defining := map[string]uint8{}
		for _, m := range local {
			switch m.Key {
			case "@vocab":
				if s, ok := m.Value.Str(); ok {
					c.vocab = st.expandIRIIn(c, local, s, defining, 0)
				} else if m.Value.IsNull() {
					c.vocab = ""
				}
			case "@language":
				if s, ok := m.Value.Str(); ok {
					c.lang = s
				} else if m.Value.IsNull() {
					c.lang = ""
				}
			}
		}
		for _, m := range local {
			if m.Key == "" || m.Key[0] == '@' {
				continue
			}
			st.defineTerm(c, local, m.Key, defining, 0)
		}
	}
	return c
}

// States of a term while a local context is processed.
const (
	termInProgress uint8 = 1
	termDone       uint8 = 2
)

// defineTerm defines term from the local context map into c, once.
func (st *regState) defineTerm(c *activeContext, local []Member, term string, defining map[string]uint8, depth int) {
	if defining[term] != 0 || depth > 16 {
		return // done already, or a cyclic definition: leave undefined
	}
	var val Value
	found := false
	for _, m := range local {
		if m.Key == term {
			val, found = m.Value, true
			break
		}
	}
	if !found {
		return
	}
	defining[term] = termInProgress
	defer func() { defining[term] = termDone }()
	d := termDef{}
	switch val.kind {
	case JSONNull:
		c.terms[term] = termDef{}
		return
	case JSONString:
		d.iri = st.expandIRIIn(c, local, val.s, defining, depth+1)
	case JSONObject:
		idSet := false
		for _, m := range val.o.members {
			switch m.Key {
			case "@id":
				idSet = true
				if s, ok := m.Value.Str(); ok {
					d.iri = st.expandIRIIn(c, local, s, defining, depth+1)
				}
			case "@type":
				if s, ok := m.Value.Str(); ok && (s == "@id" || s == "@vocab") {
					d.typeID = true
				}
			case "@container":
				m.Value.each(func(x Value) bool {
					switch x.s {
					case "@language":
						d.container = containerLanguage
					case "@list":
						d.container = containerList
					case "@set":
						if d.container == containerNone {
							d.container = containerSet
						}
					case "@index":
						d.container = containerIndex
					}
					return true
				})
			}
		}
		if !idSet {
			d.iri = st.expandIRIIn(c, local, term, defining, depth+1)
			if d.iri == term && !strings.Contains(term, ":") {
				if c.vocab != "" {
					d.iri = c.vocab + term
				} else {
					d.iri = ""
				}
			}
		}
	default:
		return
	}
	if d.iri == "" {
		return
	}
	c.terms[term] = d
}

// expandIRIIn expands s as a term or compact IRI against the local context
// being processed and then c.
func (st *regState) expandIRIIn(c *activeContext, local []Member, s string, defining map[string]uint8, depth int) string {
	if s == "" || s[0] == '@' {
		if isKeyword(s) {
			return s
		}
		return ""
	}
	// A term defined in the same local context.
	for _, m := range local {
		if m.Key == s && s != "" {
			if defining[s] == termInProgress {
				break
			}
			st.defineTerm(c, local, s, defining, depth+1)
			if d, ok := c.terms[s]; ok {
				return d.iri
			}
			break
		}
	}
	if i := strings.IndexByte(s, ':'); i > 0 {
		prefix, suffix := s[:i], s[i+1:]
		if prefix == "_" || strings.HasPrefix(suffix, "//") {
			return st.canon(s)
		}
		for _, m := range local {
			if m.Key == prefix && defining[prefix] == 0 {
				st.defineTerm(c, local, prefix, defining, depth+1)
				break
			}
		}
		if d, ok := c.terms[prefix]; ok && d.iri != "" && d.iri[0] != '@' {
			return st.canon(d.iri + suffix)
		}
		// A prefix the context uses before defining it (Lemmy's context
		// says "as:endTime" and comes before the AS2 one): the
		// registry's prefixes stand in, as for keys.
		if ns, ok := st.prefixes[prefix]; ok {
			return ns + suffix
		}
		return st.canon(s)
	}
	if d, ok := c.terms[s]; ok {
		return d.iri
	}
	if c.vocab != "" {
		return st.canon(c.vocab + s)
	}
	return ""
}

// expandKey returns the IRI (or keyword) a document key stands for under c,
// falling back to the registry's own terms, and the term's container.
func (st *regState) expandKey(c *activeContext, key string) (string, uint8) {
	if d, ok := c.terms[key]; ok {
		return d.iri, d.container
	}
	if key == "" {
		return "", containerNone
	}
	if key[0] == '@' {
		if isKeyword(key) {
			return key, containerNone
		}
		return "", containerNone
	}
	if i := strings.IndexByte(key, ':'); i > 0 {
		prefix, suffix := key[:i], key[i+1:]
		if !strings.HasPrefix(suffix, "//") && prefix != "_" {
			if d, ok := c.terms[prefix]; ok && d.iri != "" && d.iri[0] != '@' {
				return st.canon(d.iri + suffix), containerNone
			}
			if ns, ok := st.prefixes[prefix]; ok {
				return ns + suffix, containerNone
			}
		}
		return st.canon(key), containerNone
	}
	if c.vocab != "" && c.vocab != "_:" {
		return st.canon(c.vocab + key), containerNone
	}
	if t, ok := st.terms[key]; ok {
		if t.prop.Kind == KindLangString && key != t.name {
			return t.iri, containerLanguage
		}
		return t.iri, containerNone
	}
	return "", containerNone
}

// expandValueIRI expands a compact IRI or term used as an IRI value (an
// "@id" value or a type) under c. Absolute IRIs come back unchanged.
func (st *regState) expandValueIRI(c *activeContext, s string, vocabRelative bool) string {
	if strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://") {
		return s
	}
	if vocabRelative {
		if d, ok := c.terms[s]; ok && d.iri != "" {
			return d.iri
		}
	}
	if i := strings.IndexByte(s, ':'); i > 0 {
		prefix, suffix := s[:i], s[i+1:]
		if !strings.HasPrefix(suffix, "//") && prefix != "_" {
			if d, ok := c.terms[prefix]; ok && d.iri != "" && d.iri[0] != '@' {
				return st.canon(d.iri + suffix)
			}
			if ns, ok := st.prefixes[prefix]; ok {
				return ns + suffix
			}
		}
		return s
	}
	if vocabRelative {
		if t, ok := st.terms[s]; ok {
			return t.iri
		}
		if c.vocab != "" && c.vocab != "_:" {
			return c.vocab + s
		}
	}
	return s
}

// expander fills in the IRIs of a parsed tree's members.
type expander struct {
	st     *regState
	r      *Registry
	scoped int // embedded (non top level) @context members seen
	max    int
	err    error
}

// object expands o's members, and every object below o, under ctx (nil:
// the AS2 context).
func (e *expander) object(o *Object, ctx *activeContext, top bool) {
	st := e.st
	if ctx == nil {
		ctx = st.base
	}
	o.reg = e.r
	for i := range o.members {
		m := &o.members[i]
		if m.Key != "@context" {
			continue
		}
		m.IRI = "@context"
		if top {
			ctx = st.resolveContext(nil, m.Value)
			continue
		}
		// An embedded context copies its parent's definitions: bound how
		// many one document may hold, so that a hostile one cannot make
		// us copy them for each of thousands of objects.
		e.scoped++
		if e.scoped > e.max {
			if e.err == nil {
				e.err = fmt.Errorf("%w: more than %d embedded @context values", ErrTooManyContexts, e.max)
			}
			return
		}
		ctx = st.resolveContext(ctx, m.Value)
	}
	o.ctx = ctx
	ids, types := 0, 0
	for i := range o.members {
		m := &o.members[i]
		if m.Key == "@context" {
			continue
		}
		m.IRI, m.container = st.expandKey(ctx, m.Key)
		switch m.IRI {
		case "@id":
			ids++
		case "@type":
			types++
		}
		if (ids > 1 || types > 1) && e.err == nil {
			// Two keys aliased to @id (or @type): peers would disagree on
			// which one the object is.
			e.err = fmt.Errorf("%w: %q is a second %s", ErrDuplicateKey, m.Key, m.IRI)
		}
		if m.container == containerLanguage {
			markLangMap(m.Value, e.r, ctx)
			continue
		}
		e.value(m.Value, ctx)
	}
}

func (e *expander) value(v Value, ctx *activeContext) {
	switch v.kind {
	case JSONObject:
		e.object(v.o, ctx, false)
	case JSONArray:
		for _, x := range v.a {
			e.value(x, ctx)
		}
	}
}

// withBase returns ctx with the AS2 definitions under it (ctx wins).
func (st *regState) withBase(ctx *activeContext) *activeContext {
	n := st.base.clone()
	for k, d := range ctx.terms {
		n.terms[k] = d
	}
	n.vocab, n.lang, n.unknown = ctx.vocab, ctx.lang, ctx.unknown
	return n
}

func markLangMap(v Value, r *Registry, ctx *activeContext) {
	if o := v.Object(); o != nil {
		o.reg, o.ctx = r, ctx
		for i := range o.members {
			o.members[i].container = containerLanguage
		}
	}
}
