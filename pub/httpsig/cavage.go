package httpsig

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// cavageParams holds the parameters of a draft-cavage-12 Signature header.
type cavageParams struct {
	keyID      string
	algorithm  string
	headers    []string // lower-cased; "date" when the parameter is absent
	signature  string   // base64, decoded later
	created    int64
	expires    int64
	hasCreated bool
	hasExpires bool
}

// parseCavage parses the value of a draft-cavage-12 Signature header (or of
// an Authorization header after its "Signature " scheme). Parameter names
// are matched case-insensitively; unknown parameters are ignored; a repeated
// known parameter is an error. keyId and signature are required.
func parseCavage(v string) (cavageParams, error) {
	var p cavageParams
	if len(v) > maxHeaderLen {
		return p, fmt.Errorf("%w: Signature header longer than %d bytes", ErrMalformed, maxHeaderLen)
	}
	seen := map[string]bool{}
	headers := ""
	hasHeaders := false
	i := 0
	for {
		for i < len(v) && (v[i] == ' ' || v[i] == '\t' || v[i] == ',') {
			i++
		}
		if i >= len(v) {
			break
		}
		eq := strings.IndexByte(v[i:], '=')
		if eq <= 0 {
			return p, fmt.Errorf("%w: Signature parameter without a value at offset %d", ErrMalformed, i)
		}
		name := strings.ToLower(strings.TrimSpace(v[i : i+eq]))
		i += eq + 1
		for i < len(v) && (v[i] == ' ' || v[i] == '\t') {
			i++
		}
		var val string
		if i < len(v) && v[i] == '"' {
			i++
			var b strings.Builder
			closed := false
			for i < len(v) {
				c := v[i]
				i++
				if c == '\\' && i < len(v) {
					b.WriteByte(v[i])
					i++
					continue
				}
				if c == '"' {
					closed = true
					break
				}
				b.WriteByte(c)
			}
			if !closed {
				return p, fmt.Errorf("%w: unterminated quoted value for %q", ErrMalformed, name)
			}
			val = b.String()
		} else {
			end := strings.IndexByte(v[i:], ',')
			if end < 0 {
				end = len(v) - i
			}
			val = strings.TrimSpace(v[i : i+end])
			i += end
		}
		if i < len(v) && v[i] != ',' && v[i] != ' ' && v[i] != '\t' {
			return p, fmt.Errorf("%w: expected ',' after %q", ErrMalformed, name)
		}
		switch name {
		case "keyid", "algorithm", "headers", "signature", "created", "expires":
			if seen[name] {
				return p, fmt.Errorf("%w: repeated Signature parameter %q", ErrMalformed, name)
			}
			seen[name] = true
		default:
			continue
		}
		switch name {
		case "keyid":
			p.keyID = val
		case "algorithm":
			p.algorithm = strings.ToLower(val)
		case "headers":
			headers, hasHeaders = val, true
		case "signature":
			p.signature = val
		case "created", "expires":
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil || n < 0 {
				return p, fmt.Errorf("%w: %s is not a Unix time: %q", ErrMalformed, name, val)
			}
			if name == "created" {
				p.created, p.hasCreated = n, true
			} else {
				p.expires, p.hasExpires = n, true
			}
		}
	}
	if p.keyID == "" {
		return p, fmt.Errorf("%w: Signature has no keyId", ErrMalformed)
	}
	if p.signature == "" {
		return p, fmt.Errorf("%w: Signature has no signature value", ErrMalformed)
	}
	if !hasHeaders {
		// draft-cavage before -11 defaulted to "date", which is what
		// Mastodon still assumes; an explicit list is the norm.
		headers = "date"
	}
	for h := range strings.FieldsSeq(headers) {
		if len(p.headers) >= maxCovered {
			return p, fmt.Errorf("%w: more than %d signed headers", ErrMalformed, maxCovered)
		}
		h = strings.ToLower(h)
		if slices.Contains(p.headers, h) {
			return p, fmt.Errorf("%w: header %q signed twice", ErrMalformed, h)
		}
		p.headers = append(p.headers, h)
	}
	if len(p.headers) == 0 {
		return p, fmt.Errorf("%w: empty headers list", ErrMalformed)
	}
	return p, nil
}

// cavageBase builds the draft-cavage-12 signing string for m: one
// "name: value" line per signed header, joined by newlines.
func cavageBase(m *message, p *cavageParams) (string, error) {
	var b strings.Builder
	b.Grow(256)
	for i, h := range p.headers {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(h)
		b.WriteString(": ")
		switch h {
		case "(request-target)":
			b.WriteString(strings.ToLower(m.method))
			b.WriteByte(' ')
			b.WriteString(m.requestURI)
		case "(created)":
			if !p.hasCreated {
				return "", fmt.Errorf("%w: (created) is signed but created is missing", ErrMalformed)
			}
			b.WriteString(strconv.FormatInt(p.created, 10))
		case "(expires)":
			if !p.hasExpires {
				return "", fmt.Errorf("%w: (expires) is signed but expires is missing", ErrMalformed)
			}
			b.WriteString(strconv.FormatInt(p.expires, 10))
		default:
			if strings.HasPrefix(h, "(") {
				return "", fmt.Errorf("%w: unknown pseudo-header %q", ErrMalformed, h)
			}
			v, ok := m.field(h)
			if !ok {
				return "", fmt.Errorf("%w: signed header %q is missing", ErrMalformed, h)
			}
			b.WriteString(v)
		}
		if b.Len() > maxBaseLen {
			return "", fmt.Errorf("%w: signing string longer than %d bytes", ErrMalformed, maxBaseLen)
		}
	}
	return b.String(), nil
}

// formatCavage writes a draft-cavage-12 Signature header value.
func formatCavage(keyID, algorithm string, headers []string, sig string) string {
	var b strings.Builder
	b.Grow(len(keyID) + len(sig) + 96)
	b.WriteString(`keyId="`)
	b.WriteString(escapeQuoted(keyID))
	b.WriteString(`",algorithm="`)
	b.WriteString(algorithm)
	b.WriteString(`",headers="`)
	b.WriteString(strings.Join(headers, " "))
	b.WriteString(`",signature="`)
	b.WriteString(sig)
	b.WriteString(`"`)
	return b.String()
}

func escapeQuoted(s string) string {
	if !strings.ContainsAny(s, `"\`) {
		return s
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return r.Replace(s)
}
