package httpsig

import (
	"fmt"
	"net/url"
	"strings"
)

// sig9421 is one RFC 9421 signature picked from Signature-Input and
// Signature.
type sig9421 struct {
	label      string
	components []sfItem
	params     []sfParam
	names      []string // component names, for strength checks and results
	sig        []byte
	keyID      string
	alg        string
	nonce      string
	tag        string
	created    int64
	expires    int64
	hasCreated bool
	hasExpires bool
}

// parse9421 parses the Signature-Input and Signature dictionaries and picks
// the first label (in Signature-Input order) that has a signature value.
func parse9421(input, signature string) (sig9421, error) {
	var s sig9421
	inputs, err := parseDictionary(input)
	if err != nil {
		return s, fmt.Errorf("%w: Signature-Input: %w", ErrMalformed, err)
	}
	sigs, err := parseDictionary(signature)
	if err != nil {
		return s, fmt.Errorf("%w: Signature: %w", ErrMalformed, err)
	}
	var in *sfMember
	for i := range inputs {
		for j := range sigs {
			if sigs[j].key == inputs[i].key {
				in = &inputs[i]
				if sigs[j].inner || sigs[j].item.val.kind != kindBytes {
					return s, fmt.Errorf("%w: Signature %q is not a byte sequence", ErrMalformed, sigs[j].key)
				}
				s.sig = sigs[j].item.val.b
				break
			}
		}
		if in != nil {
			break
		}
	}
	if in == nil {
		return s, fmt.Errorf("%w: no Signature-Input label has a Signature", ErrMalformed)
	}
	if !in.inner {
		return s, fmt.Errorf("%w: Signature-Input %q is not an inner list", ErrMalformed, in.key)
	}
	if len(in.list) > maxCovered {
		return s, fmt.Errorf("%w: more than %d covered components", ErrMalformed, maxCovered)
	}
	s.label, s.components, s.params = in.key, in.list, in.params
	for _, c := range in.list {
		if c.val.kind != kindString {
			return s, fmt.Errorf("%w: component identifier is not a string", ErrMalformed)
		}
		s.names = append(s.names, c.val.s)
	}
	for _, p := range in.params {
		switch p.key {
		case "created", "expires":
			if p.val.kind != kindInteger || p.val.i < 0 {
				return s, fmt.Errorf("%w: %s is not a Unix time", ErrMalformed, p.key)
			}
			if p.key == "created" {
				s.created, s.hasCreated = p.val.i, true
			} else {
				s.expires, s.hasExpires = p.val.i, true
			}
		case "keyid", "alg", "nonce", "tag":
			if p.val.kind != kindString {
				return s, fmt.Errorf("%w: %s is not a string", ErrMalformed, p.key)
			}
			switch p.key {
			case "keyid":
				s.keyID = p.val.s
			case "alg":
				s.alg = p.val.s
			case "nonce":
				s.nonce = p.val.s
			case "tag":
				s.tag = p.val.s
			}
		}
	}
	if s.keyID == "" {
		return s, fmt.Errorf("%w: Signature-Input has no keyid", ErrMalformed)
	}
	return s, nil
}

// base9421 builds the RFC 9421 signature base for m (§2.5): one line per
// covered component, then the "@signature-params" line.
func base9421(m *message, s *sig9421) (string, error) {
	b := make([]byte, 0, 512)
	seen := make([]string, 0, len(s.components))
	for _, c := range s.components {
		name := c.val.s
		id := string(appendItem(nil, c))
		for _, prev := range seen {
			if prev == id {
				return "", fmt.Errorf("%w: component %s covered twice", ErrMalformed, id)
			}
		}
		seen = append(seen, id)
		if name == "" || strings.ToLower(name) != name {
			return "", fmt.Errorf("%w: component name %q is not lower case", ErrMalformed, name)
		}
		var value string
		var err error
		if strings.HasPrefix(name, "@") {
			value, err = derived(m, name, c.params)
		} else {
			if len(c.params) > 0 {
				return "", fmt.Errorf("%w: unsupported parameter on field %q", ErrMalformed, name)
			}
			var ok bool
			if value, ok = m.field(name); !ok {
				err = fmt.Errorf("%w: covered field %q is missing", ErrMalformed, name)
			}
		}
		if err != nil {
			return "", err
		}
		b = append(b, id...)
		b = append(b, ": "...)
		b = append(b, value...)
		b = append(b, '\n')
		if len(b) > maxBaseLen {
			return "", fmt.Errorf("%w: signature base longer than %d bytes", ErrMalformed, maxBaseLen)
		}
	}
	b = append(b, `"@signature-params": `...)
	b = appendInnerList(b, s.components, s.params)
	return string(b), nil
}

// derived returns the value of an RFC 9421 derived component (§2.2) for a
// request.
func derived(m *message, name string, params []sfParam) (string, error) {
	if name != "@query-param" && len(params) > 0 {
		return "", fmt.Errorf("%w: unsupported parameter on %s", ErrMalformed, name)
	}
	switch name {
	case "@method":
		return m.method, nil
	case "@target-uri":
		return m.targetURI(), nil
	case "@authority":
		return m.authority(), nil
	case "@scheme":
		return m.scheme, nil
	case "@request-target":
		return m.requestURI, nil
	case "@path":
		return m.path(), nil
	case "@query":
		q, _ := m.query()
		return "?" + q, nil
	case "@query-param":
		return queryParam(m, params)
	}
	return "", fmt.Errorf("%w: unsupported derived component %s", ErrMalformed, name)
}

// queryParam implements "@query-param";name="..." for a name that occurs
// exactly once in the query.
func queryParam(m *message, params []sfParam) (string, error) {
	nameParam, ok := param(params, "name")
	if !ok || nameParam.kind != kindString || len(params) != 1 {
		return "", fmt.Errorf("%w: @query-param needs exactly a name parameter", ErrMalformed)
	}
	q, _ := m.query()
	var value string
	found := 0
	for pair := range strings.SplitSeq(q, "&") {
		k, v, _ := strings.Cut(pair, "=")
		k, err1 := url.QueryUnescape(k)
		v, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			return "", fmt.Errorf("%w: bad query encoding", ErrMalformed)
		}
		if k == nameParam.s {
			value = v
			found++
		}
	}
	if found != 1 {
		return "", fmt.Errorf("%w: query parameter %q occurs %d times", ErrMalformed, nameParam.s, found)
	}
	return strings.ReplaceAll(url.QueryEscape(value), "+", "%20"), nil
}
