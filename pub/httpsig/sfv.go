package httpsig

// A small parser and serializer for the parts of RFC 8941 (Structured Field
// Values for HTTP) that RFC 9421 and RFC 9530 need: dictionaries whose
// members are items or inner lists, parameters, and the bare item types
// integer, decimal, string, token, byte sequence and boolean.

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Bounds that keep parsing of hostile input cheap. RFC 8941 asks for at least
// 1024 members and 256 parameters; a signature header never needs that many,
// so these are lower on purpose.
const (
	maxSFMembers   = 64
	maxSFParams    = 32
	maxSFInnerList = 64
)

// errSF is wrapped by every structured-field syntax error.
var errSF = errors.New("structured field syntax")

type bareKind uint8

const (
	kindInteger bareKind = iota + 1
	kindDecimal
	kindString
	kindToken
	kindBytes
	kindBoolean
)

// bareItem is one RFC 8941 bare item. Exactly one of the value fields is
// meaningful, chosen by kind.
type bareItem struct {
	kind bareKind
	i    int64  // integer, and decimal scaled by 1000
	s    string // string and token
	b    []byte // byte sequence
	t    bool   // boolean
}

type sfParam struct {
	key string
	val bareItem
}

type sfItem struct {
	val    bareItem
	params []sfParam
}

// sfMember is one dictionary member: either an item or an inner list (with the
// list's own parameters in params).
type sfMember struct {
	key    string
	inner  bool
	item   sfItem
	list   []sfItem
	params []sfParam
}

// param returns the parameter named key, if present.
func param(ps []sfParam, key string) (bareItem, bool) {
	for _, p := range ps {
		if p.key == key {
			return p.val, true
		}
	}
	return bareItem{}, false
}

type sfParser struct {
	s   string
	pos int
}

func sfErr(p *sfParser, msg string) error {
	return fmt.Errorf("%w: %s at offset %d", errSF, msg, p.pos)
}

// parseDictionary parses an RFC 8941 dictionary. Members keep the order of
// their first appearance; a repeated key overwrites the earlier value, as the
// RFC requires.
func parseDictionary(s string) ([]sfMember, error) {
	p := &sfParser{s: s}
	p.skipSP()
	var out []sfMember
	if p.eof() {
		return nil, nil
	}
	for {
		key, err := p.parseKey()
		if err != nil {
			return nil, err
		}
		m := sfMember{key: key}
		if p.peek() == '=' {
			p.pos++
			if p.peek() == '(' {
				m.inner = true
				m.list, m.params, err = p.parseInnerList()
			} else {
				m.item, err = p.parseItem()
			}
			if err != nil {
				return nil, err
			}
		} else {
			m.item.val = bareItem{kind: kindBoolean, t: true}
			if m.item.params, err = p.parseParams(); err != nil {
				return nil, err
			}
		}
		replaced := false
		for i := range out {
			if out[i].key == key {
				out[i] = m
				replaced = true
				break
			}
		}
		if !replaced {
			if len(out) >= maxSFMembers {
				return nil, sfErr(p, "too many dictionary members")
			}
			out = append(out, m)
		}
		p.skipOWS()
		if p.eof() {
			return out, nil
		}
		if p.peek() != ',' {
			return nil, sfErr(p, "expected ','")
		}
		p.pos++
		p.skipOWS()
		if p.eof() {
			return nil, sfErr(p, "trailing comma")
		}
	}
}

func (p *sfParser) eof() bool { return p.pos >= len(p.s) }

func (p *sfParser) peek() byte {
	if p.eof() {
		return 0
	}
	return p.s[p.pos]
}

func (p *sfParser) skipSP() {
	for !p.eof() && p.s[p.pos] == ' ' {
		p.pos++
	}
}

func (p *sfParser) skipOWS() {
	for !p.eof() && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t') {
		p.pos++
	}
}

func isLCAlpha(c byte) bool { return c >= 'a' && c <= 'z' }
func isAlpha(c byte) bool   { return isLCAlpha(c) || (c >= 'A' && c <= 'Z') }
func isDigit(c byte) bool   { return c >= '0' && c <= '9' }

// isTChar reports whether c is an RFC 9110 tchar.
func isTChar(c byte) bool {
	if isAlpha(c) || isDigit(c) {
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func (p *sfParser) parseKey() (string, error) {
	c := p.peek()
	if !isLCAlpha(c) && c != '*' {
		return "", sfErr(p, "key must start with a lowercase letter or '*'")
	}
	start := p.pos
	for !p.eof() {
		c := p.s[p.pos]
		if !isLCAlpha(c) && !isDigit(c) && c != '_' && c != '-' && c != '.' && c != '*' {
			break
		}
		p.pos++
	}
	return p.s[start:p.pos], nil
}

func (p *sfParser) parseInnerList() ([]sfItem, []sfParam, error) {
	if p.peek() != '(' {
		return nil, nil, sfErr(p, "expected '('")
	}
	p.pos++
	var items []sfItem
	for !p.eof() {
		p.skipSP()
		if p.peek() == ')' {
			p.pos++
			params, err := p.parseParams()
			return items, params, err
		}
		if len(items) >= maxSFInnerList {
			return nil, nil, sfErr(p, "inner list too long")
		}
		it, err := p.parseItem()
		if err != nil {
			return nil, nil, err
		}
		items = append(items, it)
		if c := p.peek(); c != ' ' && c != ')' {
			return nil, nil, sfErr(p, "expected ' ' or ')' in inner list")
		}
	}
	return nil, nil, sfErr(p, "unterminated inner list")
}

func (p *sfParser) parseItem() (sfItem, error) {
	v, err := p.parseBare()
	if err != nil {
		return sfItem{}, err
	}
	params, err := p.parseParams()
	if err != nil {
		return sfItem{}, err
	}
	return sfItem{val: v, params: params}, nil
}

func (p *sfParser) parseParams() ([]sfParam, error) {
	var out []sfParam
	for p.peek() == ';' {
		p.pos++
		p.skipSP()
		key, err := p.parseKey()
		if err != nil {
			return nil, err
		}
		v := bareItem{kind: kindBoolean, t: true}
		if p.peek() == '=' {
			p.pos++
			if v, err = p.parseBare(); err != nil {
				return nil, err
			}
		}
		replaced := false
		for i := range out {
			if out[i].key == key {
				out[i].val = v
				replaced = true
			}
		}
		if !replaced {
			if len(out) >= maxSFParams {
				return nil, sfErr(p, "too many parameters")
			}
			out = append(out, sfParam{key: key, val: v})
		}
	}
	return out, nil
}

func (p *sfParser) parseBare() (bareItem, error) {
	c := p.peek()
	switch {
	case c == '-' || isDigit(c):
		return p.parseNumber()
	case c == '"':
		return p.parseString()
	case c == '*' || isAlpha(c):
		return p.parseToken(), nil
	case c == ':':
		return p.parseBytes()
	case c == '?':
		return p.parseBoolean()
	default:
		return bareItem{}, sfErr(p, "unexpected character for an item")
	}
}

func (p *sfParser) parseNumber() (bareItem, error) {
	neg := false
	if p.peek() == '-' {
		neg = true
		p.pos++
	}
	if !isDigit(p.peek()) {
		return bareItem{}, sfErr(p, "expected a digit")
	}
	start := p.pos
	dot := -1
	for !p.eof() {
		c := p.s[p.pos]
		if isDigit(c) {
			p.pos++
		} else if c == '.' && dot < 0 {
			if p.pos-start > 12 {
				return bareItem{}, sfErr(p, "decimal integer part too long")
			}
			dot = p.pos
			p.pos++
		} else {
			break
		}
		if dot < 0 && p.pos-start > 15 {
			return bareItem{}, sfErr(p, "integer too long")
		}
		if dot >= 0 && p.pos-start > 16 {
			return bareItem{}, sfErr(p, "decimal too long")
		}
	}
	num := p.s[start:p.pos]
	if dot < 0 {
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			return bareItem{}, sfErr(p, "bad integer")
		}
		if neg {
			n = -n
		}
		return bareItem{kind: kindInteger, i: n}, nil
	}
	intPart, frac := num[:dot-start], num[dot-start+1:]
	if len(frac) == 0 || len(frac) > 3 {
		return bareItem{}, sfErr(p, "decimal needs 1 to 3 fractional digits")
	}
	n, err := strconv.ParseInt(intPart, 10, 64)
	if err != nil {
		return bareItem{}, sfErr(p, "bad decimal")
	}
	f, _ := strconv.ParseInt((frac + "00")[:3], 10, 64)
	n = n*1000 + f
	if neg {
		n = -n
	}
	return bareItem{kind: kindDecimal, i: n}, nil
}

func (p *sfParser) parseString() (bareItem, error) {
	p.pos++ // opening quote
	var b strings.Builder
	for !p.eof() {
		c := p.s[p.pos]
		p.pos++
		switch {
		case c == '\\':
			if p.eof() {
				return bareItem{}, sfErr(p, "unterminated escape")
			}
			n := p.s[p.pos]
			if n != '"' && n != '\\' {
				return bareItem{}, sfErr(p, "bad escape")
			}
			p.pos++
			b.WriteByte(n)
		case c == '"':
			return bareItem{kind: kindString, s: b.String()}, nil
		case c < 0x20 || c > 0x7e:
			return bareItem{}, sfErr(p, "bad character in string")
		default:
			b.WriteByte(c)
		}
	}
	return bareItem{}, sfErr(p, "unterminated string")
}

func (p *sfParser) parseToken() bareItem {
	start := p.pos
	p.pos++
	for !p.eof() {
		c := p.s[p.pos]
		if !isTChar(c) && c != ':' && c != '/' {
			break
		}
		p.pos++
	}
	return bareItem{kind: kindToken, s: p.s[start:p.pos]}
}

func (p *sfParser) parseBytes() (bareItem, error) {
	p.pos++ // opening colon
	end := strings.IndexByte(p.s[p.pos:], ':')
	if end < 0 {
		return bareItem{}, sfErr(p, "unterminated byte sequence")
	}
	raw := p.s[p.pos : p.pos+end]
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if !isAlpha(c) && !isDigit(c) && c != '+' && c != '/' && c != '=' {
			return bareItem{}, sfErr(p, "bad character in byte sequence")
		}
	}
	b, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		// RFC 8941 lets parsers accept unpadded input.
		if b, err = base64.RawStdEncoding.DecodeString(raw); err != nil {
			return bareItem{}, sfErr(p, "bad base64 in byte sequence")
		}
	}
	p.pos += end + 1
	return bareItem{kind: kindBytes, b: b}, nil
}

func (p *sfParser) parseBoolean() (bareItem, error) {
	p.pos++ // '?'
	switch p.peek() {
	case '1':
		p.pos++
		return bareItem{kind: kindBoolean, t: true}, nil
	case '0':
		p.pos++
		return bareItem{kind: kindBoolean, t: false}, nil
	}
	return bareItem{}, sfErr(p, "bad boolean")
}

// Serialization (RFC 8941 §4.1), used to rebuild "@signature-params" and
// component identifiers canonically and to write headers.

func appendBare(b []byte, v bareItem) []byte {
	switch v.kind {
	case kindInteger:
		return strconv.AppendInt(b, v.i, 10)
	case kindDecimal:
		n := v.i
		if n < 0 {
			b = append(b, '-')
			n = -n
		}
		b = strconv.AppendInt(b, n/1000, 10)
		b = append(b, '.')
		frac := strconv.FormatInt(n%1000+1000, 10)[1:]
		frac = strings.TrimRight(frac, "0")
		if frac == "" {
			frac = "0"
		}
		return append(b, frac...)
	case kindString:
		b = append(b, '"')
		for i := 0; i < len(v.s); i++ {
			if c := v.s[i]; c == '"' || c == '\\' {
				b = append(b, '\\')
			}
			b = append(b, v.s[i])
		}
		return append(b, '"')
	case kindToken:
		return append(b, v.s...)
	case kindBytes:
		b = append(b, ':')
		b = base64.StdEncoding.AppendEncode(b, v.b)
		return append(b, ':')
	case kindBoolean:
		if v.t {
			return append(b, "?1"...)
		}
		return append(b, "?0"...)
	}
	return b
}

func appendParams(b []byte, ps []sfParam) []byte {
	for _, p := range ps {
		b = append(b, ';')
		b = append(b, p.key...)
		if p.val.kind == kindBoolean && p.val.t {
			continue
		}
		b = append(b, '=')
		b = appendBare(b, p.val)
	}
	return b
}

func appendItem(b []byte, it sfItem) []byte {
	return appendParams(appendBare(b, it.val), it.params)
}

func appendInnerList(b []byte, items []sfItem, ps []sfParam) []byte {
	b = append(b, '(')
	for i, it := range items {
		if i > 0 {
			b = append(b, ' ')
		}
		b = appendItem(b, it)
	}
	b = append(b, ')')
	return appendParams(b, ps)
}

// validString reports whether s can be serialized as an RFC 8941 string.
func validString(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
