package streams

import (
	"errors"
	"fmt"
	"io"
	"unicode/utf16"
	"unicode/utf8"
)

// Limits bound what a parse accepts from the network. A zero field takes the
// default from DefaultLimits; a breach rejects the whole document with an
// error wrapping the matching Err* value. The scanner checks each limit as it
// goes, so a hostile body (depth 10,000, a 100,000-element array) fails
// after reading at most the limit's worth of input.
type Limits struct {
	// MaxBytes is the largest body accepted (default 1 MiB).
	MaxBytes int
	// MaxDepth is the deepest nesting of arrays and objects (default 64).
	MaxDepth int
	// MaxArrayLen is the most elements one array may hold (default 10,000).
	MaxArrayLen int
	// MaxMembers is the most members one object may hold (default 1,000).
	MaxMembers int
	// MaxValues is the most values, of any kind, in one document
	// (default 100,000).
	MaxValues int
	// MaxStringBytes is the longest string or key, in bytes as written
	// (default 512 KiB).
	MaxStringBytes int
	// MaxContexts is the most @context members a document may hold below
	// its top level (default 32). Real documents rarely have any.
	MaxContexts int
}

// DefaultLimits returns the limits used when none are given: 1 MiB body,
// depth 64, 10,000 array elements, 1,000 object members, 100,000 values,
// 512 KiB strings, 32 embedded @context values.
func DefaultLimits() Limits {
	return Limits{
		MaxBytes:       1 << 20,
		MaxDepth:       64,
		MaxArrayLen:    10000,
		MaxMembers:     1000,
		MaxValues:      100000,
		MaxStringBytes: 512 << 10,
		MaxContexts:    32,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxArrayLen <= 0 {
		l.MaxArrayLen = d.MaxArrayLen
	}
	if l.MaxMembers <= 0 {
		l.MaxMembers = d.MaxMembers
	}
	if l.MaxValues <= 0 {
		l.MaxValues = d.MaxValues
	}
	if l.MaxStringBytes <= 0 {
		l.MaxStringBytes = d.MaxStringBytes
	}
	if l.MaxContexts <= 0 {
		l.MaxContexts = d.MaxContexts
	}
	return l
}

// Parse parses one AS2 JSON or JSON-LD document with the default registry
// and default limits. See Registry.Parse.
func Parse(data []byte) (*Object, error) { return Default().Parse(data) }

// Parse parses one AS2 JSON or JSON-LD document under the registry's limits
// (DefaultLimits unless SetLimits changed them). The top level must be a
// JSON object. Keys are expanded to IRIs through the document's @context
// (well-known contexts are embedded, unknown context URLs are kept but never
// fetched; a missing @context means the AS2 context), falling back to the
// registry's terms for keys the context leaves undefined, as most servers
// do. Everything in the document is kept, known or not, so serializing the
// result writes the same members in the same order.
//
// The returned object keeps a private copy of data; the caller may reuse
// data afterwards. Parse is safe for concurrent use.
func (r *Registry) Parse(data []byte) (*Object, error) {
	return r.ParseLimits(data, r.Limits())
}

// ParseLimits is Parse with explicit limits (zero fields take defaults).
func (r *Registry) ParseLimits(data []byte, lim Limits) (*Object, error) {
	lim = lim.withDefaults()
	if len(data) > lim.MaxBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(data), lim.MaxBytes)
	}
	st := r.state()
	p := st.getParser()
	defer st.putParser(p)
	p.reset(string(data), lim)
	v, err := p.document()
	if err != nil {
		return nil, err
	}
	o := v.o
	e := expander{st: st, r: r, max: lim.MaxContexts}
	e.object(o, nil, true)
	if e.err != nil {
		return nil, e.err
	}
	return o, nil
}

// ParseReader reads at most the registry's Limits.MaxBytes (plus one byte to
// detect excess) from rd and parses it. A longer body fails with
// ErrTooLarge without being parsed.
func (r *Registry) ParseReader(rd io.Reader) (*Object, error) {
	lim := r.Limits().withDefaults()
	data, err := io.ReadAll(io.LimitReader(rd, int64(lim.MaxBytes)+1))
	if err != nil {
		return nil, fmt.Errorf("streams: reading document: %w", err)
	}
	if len(data) > lim.MaxBytes {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, lim.MaxBytes)
	}
	return r.ParseLimits(data, lim)
}

// parser is a single-pass scanner that builds Values directly from the
// input text. Strings without escapes are substrings of the one copy of the
// input, and each object's or array's members are gathered on a reusable
// stack and copied once, at their exact size, when the container closes.
type parser struct {
	src    string
	pos    int
	lim    Limits
	depth  int
	values int
	mstack []Member
	vstack []Value
	buf    []byte
}

func (p *parser) reset(src string, lim Limits) {
	p.src, p.pos, p.lim, p.depth, p.values = src, 0, lim, 0, 0
	p.mstack = p.mstack[:0]
	p.vstack = p.vstack[:0]
}

func (p *parser) fail(err error, msg string) error {
	return &SyntaxError{Offset: p.pos, Msg: msg, Err: err}
}

func (p *parser) skipWS() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) document() (Value, error) {
	if !utf8.ValidString(p.src) {
		// Checked once up front: it keeps the string scanner simple and
		// every substring valid.
		return Value{}, p.fail(ErrInvalidUTF8, "document is not UTF-8")
	}
	p.skipWS()
	if p.pos < len(p.src) && p.src[p.pos] != '{' {
		if c := p.src[p.pos]; c == '[' || c == '"' || c == '-' || (c >= '0' && c <= '9') || c == 't' || c == 'f' || c == 'n' {
			return Value{}, p.fail(ErrNotObject, "document must be a JSON object")
		}
	}
	v, err := p.value()
	if err != nil {
		return Value{}, err
	}
	p.skipWS()
	if p.pos != len(p.src) {
		return Value{}, p.fail(ErrSyntax, "data after the top level value")
	}
	if v.kind != JSONObject {
		return Value{}, p.fail(ErrNotObject, "document must be a JSON object")
	}
	return v, nil
}

func (p *parser) value() (Value, error) {
	p.skipWS()
	if p.pos >= len(p.src) {
		return Value{}, p.fail(ErrSyntax, "unexpected end of input")
	}
	p.values++
	if p.values > p.lim.MaxValues {
		return Value{}, p.fail(ErrTooManyValues, fmt.Sprintf("more than %d values", p.lim.MaxValues))
	}
	switch c := p.src[p.pos]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		s, err := p.str()
		return Value{kind: JSONString, s: s}, err
	case c == 't':
		return Value{kind: JSONBool, b: true}, p.literal("true")
	case c == 'f':
		return Value{kind: JSONBool}, p.literal("false")
	case c == 'n':
		return Value{}, p.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		return Value{}, p.fail(ErrSyntax, fmt.Sprintf("unexpected character %q", c))
	}
}

func (p *parser) literal(word string) error {
	if len(p.src)-p.pos < len(word) || p.src[p.pos:p.pos+len(word)] != word {
		return p.fail(ErrSyntax, "invalid literal, expected "+word)
	}
	p.pos += len(word)
	return nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (p *parser) number() (Value, error) {
	start := p.pos
	s := p.src
	i := p.pos
	if s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	default:
		p.pos = i
		return Value{}, p.fail(ErrSyntax, "invalid number")
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || !isDigit(s[i]) {
			p.pos = i
			return Value{}, p.fail(ErrSyntax, "invalid number: digit expected after '.'")
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || !isDigit(s[i]) {
			p.pos = i
			return Value{}, p.fail(ErrSyntax, "invalid number: digit expected in exponent")
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i-start > p.lim.MaxStringBytes {
		return Value{}, p.fail(ErrStringTooLong, "number literal too long")
	}
	p.pos = i
	return Value{kind: JSONNumber, s: s[start:i]}, nil
}

// str scans a string starting at the opening quote.
func (p *parser) str() (string, error) {
	s := p.src
	start := p.pos + 1
	i := start
	for i < len(s) {
		c := s[i]
		if c == '"' {
			if i-start > p.lim.MaxStringBytes {
				return "", p.fail(ErrStringTooLong, fmt.Sprintf("string longer than %d bytes", p.lim.MaxStringBytes))
			}
			p.pos = i + 1
			return s[start:i], nil
		}
		if c == '\\' {
			return p.strEscaped(start, i)
		}
		if c < 0x20 {
			p.pos = i
			return "", p.fail(ErrSyntax, "control character in string")
		}
		i++
		if i-start > p.lim.MaxStringBytes {
			p.pos = i
			return "", p.fail(ErrStringTooLong, fmt.Sprintf("string longer than %d bytes", p.lim.MaxStringBytes))
		}
	}
	p.pos = i
	return "", p.fail(ErrSyntax, "unterminated string")
}

// strEscaped finishes a string that has escapes, starting from the first
// backslash at i.
func (p *parser) strEscaped(start, i int) (string, error) {
	s := p.src
	b := append(p.buf[:0], s[start:i]...)
	for i < len(s) {
		if i-start > p.lim.MaxStringBytes {
			p.pos = i
			return "", p.fail(ErrStringTooLong, fmt.Sprintf("string longer than %d bytes", p.lim.MaxStringBytes))
		}
		c := s[i]
		switch {
		case c == '"':
			p.pos = i + 1
			p.buf = b
			return string(b), nil
		case c < 0x20:
			p.pos = i
			return "", p.fail(ErrSyntax, "control character in string")
		case c != '\\':
			b = append(b, c)
			i++
			continue
		}
		// Escape sequence.
		if i+1 >= len(s) {
			p.pos = i
			return "", p.fail(ErrSyntax, "unterminated escape")
		}
		e := s[i+1]
		i += 2
		switch e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := hex4(s, i)
			if !ok {
				p.pos = i
				return "", p.fail(ErrSyntax, "invalid \\u escape")
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
					if x, ok := hex4(s, i+2); ok {
						r2 = x
					}
				}
				if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
					r = d
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			b = utf8.AppendRune(b, r)
		default:
			p.pos = i - 1
			return "", p.fail(ErrSyntax, fmt.Sprintf("invalid escape \\%c", e))
		}
	}
	p.pos = i
	return "", p.fail(ErrSyntax, "unterminated string")
}

func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > p.lim.MaxDepth {
		return p.fail(ErrTooDeep, fmt.Sprintf("deeper than %d levels", p.lim.MaxDepth))
	}
	return nil
}

func (p *parser) array() (Value, error) {
	if err := p.enter(); err != nil {
		return Value{}, err
	}
	p.pos++ // '['
	base := len(p.vstack)
	p.skipWS()
	if p.pos < len(p.src) && p.src[p.pos] == ']' {
		p.pos++
		p.depth--
		return Value{kind: JSONArray, a: []Value{}}, nil
	}
	for {
		v, err := p.value()
		if err != nil {
			return Value{}, err
		}
		p.vstack = append(p.vstack, v)
		if len(p.vstack)-base > p.lim.MaxArrayLen {
			return Value{}, p.fail(ErrArrayTooLong, fmt.Sprintf("more than %d elements", p.lim.MaxArrayLen))
		}
		p.skipWS()
		if p.pos >= len(p.src) {
			return Value{}, p.fail(ErrSyntax, "unterminated array")
		}
		c := p.src[p.pos]
		p.pos++
		if c == ']' {
			break
		}
		if c != ',' {
			p.pos--
			return Value{}, p.fail(ErrSyntax, "expected ',' or ']' in array")
		}
	}
	elems := make([]Value, len(p.vstack)-base)
	copy(elems, p.vstack[base:])
	clear(p.vstack[base:])
	p.vstack = p.vstack[:base]
	p.depth--
	return Value{kind: JSONArray, a: elems}, nil
}

func (p *parser) object() (Value, error) {
	if err := p.enter(); err != nil {
		return Value{}, err
	}
	p.pos++ // '{'
	base := len(p.mstack)
	p.skipWS()
	if p.pos < len(p.src) && p.src[p.pos] == '}' {
		p.pos++
		p.depth--
		return Value{kind: JSONObject, o: &Object{}}, nil
	}
	for {
		p.skipWS()
		if p.pos >= len(p.src) || p.src[p.pos] != '"' {
			return Value{}, p.fail(ErrSyntax, "expected a string key in object")
		}
		key, err := p.str()
		if err != nil {
			return Value{}, err
		}
		p.skipWS()
		if p.pos >= len(p.src) || p.src[p.pos] != ':' {
			return Value{}, p.fail(ErrSyntax, "expected ':' after object key")
		}
		p.pos++
		p.skipWS()
		vstart := p.pos
		v, err := p.value()
		if err != nil {
			return Value{}, err
		}
		if key == "@context" && (v.kind == JSONArray || v.kind == JSONObject) {
			// Keep the raw text: it is the context cache key.
			v.s = p.src[vstart:p.pos]
		}
		p.mstack = append(p.mstack, Member{Key: key, Value: v})
		if len(p.mstack)-base > p.lim.MaxMembers {
			return Value{}, p.fail(ErrTooManyMembers, fmt.Sprintf("more than %d members", p.lim.MaxMembers))
		}
		p.skipWS()
		if p.pos >= len(p.src) {
			return Value{}, p.fail(ErrSyntax, "unterminated object")
		}
		c := p.src[p.pos]
		p.pos++
		if c == '}' {
			break
		}
		if c != ',' {
			p.pos--
			return Value{}, p.fail(ErrSyntax, "expected ',' or '}' in object")
		}
	}
	ms := make([]Member, len(p.mstack)-base)
	copy(ms, p.mstack[base:])
	clear(p.mstack[base:])
	p.mstack = p.mstack[:base]
	if err := checkDuplicates(ms); err != nil {
		return Value{}, p.fail(ErrDuplicateKey, err.Error())
	}
	p.depth--
	return Value{kind: JSONObject, o: &Object{members: ms}}, nil
}

// checkDuplicates rejects repeated keys, and the keyword pairs id/@id and
// type/@type given together.
func checkDuplicates(ms []Member) error {
	if len(ms) <= 48 {
		for i := 1; i < len(ms); i++ {
			for j := 0; j < i; j++ {
				if ms[i].Key == ms[j].Key {
					return fmt.Errorf("key %q appears twice", ms[i].Key)
				}
			}
		}
	} else {
		seen := make(map[string]struct{}, len(ms))
		for _, m := range ms {
			if _, ok := seen[m.Key]; ok {
				return fmt.Errorf("key %q appears twice", m.Key)
			}
			seen[m.Key] = struct{}{}
		}
	}
	var id, aid, typ, atyp bool
	for _, m := range ms {
		switch m.Key {
		case "id":
			id = true
		case "@id":
			aid = true
		case "type":
			typ = true
		case "@type":
			atyp = true
		}
	}
	if id && aid {
		return errors.New(`both "id" and "@id"`)
	}
	if typ && atyp {
		return errors.New(`both "type" and "@type"`)
	}
	return nil
}
