package streams

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
)

// Registry holds the vocabularies a program understands. Parsing, the typed
// getters, validation and serialization all read their terms from a
// Registry; new vocabularies are added while the program runs with
// Register. Several registries coexist independently.
//
// A Registry is safe for concurrent use: Register publishes a new immutable
// snapshot, so parses and reads in flight keep a consistent view.
type Registry struct {
	mu     sync.Mutex // serializes Register and SetLimits
	st     atomic.Pointer[regState]
	frozen bool
}

// NewRegistry returns a registry that knows the ActivityStreams 2.0 core
// vocabulary only. Add others with Register.
func NewRegistry() *Registry {
	r := &Registry{}
	st, err := newState(nil, DefaultLimits(), ActivityStreams())
	if err != nil {
		panic("streams: built-in AS2 vocabulary is invalid: " + err.Error())
	}
	r.st.Store(st)
	return r
}

// NewStandardRegistry returns a new registry with every vocabulary this
// package ships: AS2 core (with the as: extension terms), security v1,
// FEP-521a keys and data integrity, Mastodon's toot terms, the schema.org
// terms peers use, Lemmy / FEP-1b12 group terms, Pleroma/LitePub terms,
// Misskey and GoToSocial terms, and the education vocabulary.
func NewStandardRegistry() *Registry {
	// One snapshot with every vocabulary: registering them one by one
	// would rebuild every earlier vocabulary's terms and context each time.
	st, err := newState(nil, DefaultLimits(), StandardVocabularies()...)
	if err != nil {
		panic("streams: built-in vocabularies are invalid: " + err.Error())
	}
	r := &Registry{}
	r.st.Store(st)
	return r
}

// StandardVocabularies returns the vocabularies NewStandardRegistry
// registers, ActivityStreams first, as fresh values the caller may change.
func StandardVocabularies() []Vocabulary {
	return []Vocabulary{
		ActivityStreams(), Security(), DataIntegrity(), Mastodon(), Schema(),
		Lemmy(), LitePub(), Misskey(), GoToSocial(), Education(),
	}
}

var defaultRegistry = sync.OnceValue(func() *Registry {
	r := NewStandardRegistry()
	r.frozen = true
	return r
})

// Default returns the shared standard registry (see NewStandardRegistry).
// It is built once and frozen: Register and SetLimits on it fail with
// ErrFrozen. Use NewStandardRegistry or Clone for a registry of your own.
func Default() *Registry { return defaultRegistry() }

// Clone returns a new, unfrozen registry with the same vocabularies and
// limits as r.
func (r *Registry) Clone() *Registry {
	c := &Registry{}
	old := r.state()
	st, err := newState(old.vocabs, old.limits)
	if err != nil {
		panic("streams: cloning a valid registry failed: " + err.Error())
	}
	c.st.Store(st)
	return c
}

// Register adds v to the registry. From then on documents using v's
// namespace, context URL or terms parse to v's IRIs, getters accept v's
// terms, and serialization writes them with v's context. It fails with
// ErrConflict if v's namespace or a term name is already bound to another
// IRI, with ErrInvalid if v is malformed (no namespace, unknown base type),
// and with ErrFrozen on a frozen registry. On failure the registry is
// unchanged.
func (r *Registry) Register(v Vocabulary) error {
	if r.frozen {
		return fmt.Errorf("registering %q: %w", v.Name, ErrFrozen)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.state()
	st, err := newState(old.vocabs, old.limits, v)
	if err != nil {
		return fmt.Errorf("registering vocabulary %q: %w", v.Name, err)
	}
	r.st.Store(st)
	return nil
}

// Limits returns the limits Parse applies.
func (r *Registry) Limits() Limits { return r.state().limits }

// SetLimits changes the limits Parse applies (zero fields take defaults).
// It fails with ErrFrozen on a frozen registry.
func (r *Registry) SetLimits(l Limits) error {
	if r.frozen {
		return fmt.Errorf("setting limits: %w", ErrFrozen)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.state()
	st, err := newState(old.vocabs, l.withDefaults())
	if err != nil {
		return err
	}
	r.st.Store(st)
	return nil
}

// Vocabularies returns the registered vocabularies in registration order.
func (r *Registry) Vocabularies() []Vocabulary {
	st := r.state()
	out := make([]Vocabulary, len(st.vocabs))
	for i, v := range st.vocabs {
		out[i] = v.def
	}
	return out
}

func (r *Registry) state() *regState { return r.st.Load() }

// ExpandTerm returns the full IRI for name: a term of the registry
// ("actor", "discoverable"), a compact IRI with a registered prefix
// ("toot:discoverable", "as:Public") or an absolute IRI (returned as is,
// with namespace aliases made canonical). It returns false for anything
// else.
func (r *Registry) ExpandTerm(name string) (string, bool) {
	iri := r.state().resolveName(name)
	return iri, iri != ""
}

// CompactIRI returns the term the registry writes for iri ("Note" for
// AS2's Note), or iri itself when no registered term names it.
func (r *Registry) CompactIRI(iri string) string {
	st := r.state()
	if t := st.byIRI[st.canon(iri)]; t != nil {
		return t.name
	}
	return iri
}

// IsSubtype reports whether the type named typ (term, compact or full
// IRI) is base or descends from it through registered base types.
func (r *Registry) IsSubtype(typ, base string) bool {
	st := r.state()
	return st.isA(st.resolveName(typ), st.resolveName(base))
}

// Property describes a registered property; ok is false if name is not one.
func (r *Registry) Property(name string) (def PropertyDef, ok bool) {
	st := r.state()
	t := st.byIRI[st.resolveName(name)]
	if t == nil || t.isType {
		return PropertyDef{}, false
	}
	return t.prop, true
}

// Type describes a registered type; ok is false if name is not one.
func (r *Registry) Type(name string) (def TypeDef, ok bool) {
	st := r.state()
	t := st.byIRI[st.resolveName(name)]
	if t == nil || !t.isType {
		return TypeDef{}, false
	}
	return t.typ, true
}

// vocabInfo is a registered vocabulary with its compiled context.
type vocabInfo struct {
	def   Vocabulary
	index int
	ctx   *activeContext // the terms its context URL defines
}

// termInfo is a registered term.
type termInfo struct {
	name      string
	iri       string
	isType    bool
	typ       TypeDef
	prop      PropertyDef
	vocab     *vocabInfo
	ancestors map[string]struct{} // types: own IRI and all bases'
}

// regState is one immutable snapshot of a registry, with its caches.
type regState struct {
	limits   Limits
	vocabs   []*vocabInfo
	terms    map[string]*termInfo // compact name (and "xMap" names) → term
	byIRI    map[string]*termInfo // canonical IRI → term
	prefixes map[string]string    // prefix → canonical namespace
	aliases  []nsAlias            // namespace spellings → canonical
	ctxURLs  map[string]*vocabInfo
	base     *activeContext // the AS2 context, for documents without one

	ctxMu    sync.RWMutex
	ctxCache map[string]*activeContext

	pool sync.Pool // *parser
}

type nsAlias struct{ from, to string }

// maxCachedContexts bounds the context cache of one registry snapshot, and
// maxCachedContextBytes the raw @context text it keeps per entry: a
// Mastodon actor's is about 2 KB.
const (
	maxCachedContexts     = 256
	maxCachedContextBytes = 16 << 10
)

func newState(prev []*vocabInfo, lim Limits, add ...Vocabulary) (*regState, error) {
	st := &regState{
		limits:   lim.withDefaults(),
		terms:    map[string]*termInfo{},
		byIRI:    map[string]*termInfo{},
		prefixes: map[string]string{},
		ctxURLs:  map[string]*vocabInfo{},
		ctxCache: map[string]*activeContext{},
	}
	defs := make([]Vocabulary, 0, len(prev)+len(add))
	for _, v := range prev {
		defs = append(defs, v.def)
	}
	defs = append(defs, add...)
	// Namespaces and prefixes first, so names resolve across vocabularies.
	for i, v := range defs {
		if v.Namespace == "" {
			return nil, fmt.Errorf("%w: vocabulary %q has no namespace", ErrInvalid, v.Name)
		}
		vi := &vocabInfo{def: v, index: i}
		st.vocabs = append(st.vocabs, vi)
		for _, a := range v.NamespaceAliases {
			if a == v.Namespace {
				continue
			}
			for _, x := range st.aliases {
				if x.from == a && x.to != v.Namespace {
					return nil, fmt.Errorf("%w: namespace alias %q already maps to %q", ErrConflict, a, x.to)
				}
			}
			st.aliases = append(st.aliases, nsAlias{a, v.Namespace})
		}
		if v.Prefix != "" {
			if ns, ok := st.prefixes[v.Prefix]; ok && ns != v.Namespace {
				return nil, fmt.Errorf("%w: prefix %q already bound to %q", ErrConflict, v.Prefix, ns)
			}
			st.prefixes[v.Prefix] = v.Namespace
		}
		for _, u := range append([]string{v.ContextURL}, v.ContextAliases...) {
			if u == "" {
				continue
			}
			if o, ok := st.ctxURLs[u]; ok && o.def.Namespace != v.Namespace {
				return nil, fmt.Errorf("%w: context URL %q already belongs to %q", ErrConflict, u, o.def.Name)
			}
			if _, ok := st.ctxURLs[u]; !ok {
				st.ctxURLs[u] = vi
			}
		}
	}
	for _, vi := range st.vocabs {
		v := vi.def
		for _, t := range v.Types {
			if err := st.addTerm(&termInfo{name: t.Name, iri: st.termIRI(v, t.Name, t.IRI), isType: true, typ: t, vocab: vi}); err != nil {
				return nil, err
			}
		}
		for _, p := range v.Properties {
			ti := &termInfo{name: p.Name, iri: st.termIRI(v, p.Name, p.IRI), prop: p, vocab: vi}
			if err := st.addTerm(ti); err != nil {
				return nil, err
			}
			if p.Kind == KindLangString {
				if o, ok := st.terms[p.Name+"Map"]; ok && o.iri != ti.iri {
					return nil, fmt.Errorf("%w: term %q already bound to %q", ErrConflict, p.Name+"Map", o.iri)
				}
				st.terms[p.Name+"Map"] = ti
			}
		}
	}
	// Type hierarchy.
	for _, t := range st.byIRI {
		if !t.isType {
			continue
		}
		anc := map[string]struct{}{}
		if err := st.collectAncestors(t, anc, 0); err != nil {
			return nil, err
		}
		t.ancestors = anc
	}
	// Compiled contexts.
	for _, vi := range st.vocabs {
		c, err := st.vocabContext(vi)
		if err != nil {
			return nil, fmt.Errorf("vocabulary %q: %w", vi.def.Name, err)
		}
		vi.ctx = c
	}
	as := st.ctxURLs[ASContextURL]
	if as == nil {
		return nil, fmt.Errorf("%w: the ActivityStreams vocabulary is missing", ErrInvalid)
	}
	st.base = as.ctx
	return st, nil
}

func (st *regState) termIRI(v Vocabulary, name, iri string) string {
	if iri == "" {
		return v.Namespace + name
	}
	if full := st.expandCompact(iri); full != "" {
		return full
	}
	return st.canon(iri)
}

func (st *regState) addTerm(t *termInfo) error {
	if t.name == "" {
		return fmt.Errorf("%w: a term of %q has no name", ErrInvalid, t.vocab.def.Name)
	}
	if o, ok := st.terms[t.name]; ok && o.iri != t.iri {
		return fmt.Errorf("%w: term %q is %q in %q, not %q", ErrConflict, t.name, o.iri, o.vocab.def.Name, t.iri)
	}
	if o, ok := st.byIRI[t.iri]; ok {
		if o.isType != t.isType {
			return fmt.Errorf("%w: %q defined both as a type and a property", ErrConflict, t.iri)
		}
		// The same IRI under a second name (an alias term such as
		// orderedItems for as:items): the alias keeps its own definition,
		// and the first name stays the one written for the IRI.
		if _, ok := st.terms[t.name]; !ok {
			st.terms[t.name] = t
		}
		return nil
	}
	st.terms[t.name] = t
	st.byIRI[t.iri] = t
	return nil
}

func (st *regState) collectAncestors(t *termInfo, anc map[string]struct{}, depth int) error {
	if depth > 64 {
		return fmt.Errorf("%w: type hierarchy of %q is cyclic or too deep", ErrInvalid, t.name)
	}
	anc[t.iri] = struct{}{}
	for _, b := range t.typ.Bases {
		iri := st.resolveName(b)
		bt := st.byIRI[iri]
		if bt == nil || !bt.isType {
			return fmt.Errorf("%w: base type %q of %q is not registered", ErrInvalid, b, t.name)
		}
		if _, seen := anc[iri]; seen {
			continue
		}
		if err := st.collectAncestors(bt, anc, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// canon rewrites a namespace alias at the start of iri to its canonical
// namespace.
func (st *regState) canon(iri string) string {
	for _, a := range st.aliases {
		if strings.HasPrefix(iri, a.from) {
			return a.to + iri[len(a.from):]
		}
	}
	return iri
}

// expandCompact expands prefix:suffix with a registered prefix, or returns "".
func (st *regState) expandCompact(name string) string {
	i := strings.IndexByte(name, ':')
	if i <= 0 || strings.HasPrefix(name[i+1:], "//") {
		return ""
	}
	if ns, ok := st.prefixes[name[:i]]; ok {
		return ns + name[i+1:]
	}
	return ""
}

// resolveName turns a getter's or builder's name into a canonical IRI, or "".
func (st *regState) resolveName(name string) string {
	if t, ok := st.terms[name]; ok {
		return t.iri
	}
	if len(name) > 0 && name[0] == '@' {
		return name
	}
	if full := st.expandCompact(name); full != "" {
		return full
	}
	if isAbsoluteIRI(name) {
		return st.canon(name)
	}
	return ""
}

// isAbsoluteIRI reports whether s starts with a URI scheme followed by ':'.
func isAbsoluteIRI(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ':':
			return i > 0
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return false
}

// isA reports whether type IRI t is base or a subtype of it.
func (st *regState) isA(t, base string) bool {
	if t == "" || base == "" {
		return false
	}
	if t == base {
		return true
	}
	ti := st.byIRI[t]
	if ti == nil || !ti.isType {
		return false
	}
	_, ok := ti.ancestors[base]
	return ok
}

func (st *regState) getParser() *parser {
	if p, ok := st.pool.Get().(*parser); ok {
		return p
	}
	return &parser{}
}

func (st *regState) putParser(p *parser) {
	if cap(p.mstack) > 4096 || cap(p.vstack) > 4096 || cap(p.buf) > 64<<10 {
		return // do not keep what a hostile document grew
	}
	p.src = ""
	st.pool.Put(p)
}
