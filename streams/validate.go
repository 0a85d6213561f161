package streams

import (
	"errors"
	"fmt"
	"strconv"
)

// maxValidationErrors bounds how many problems Validate reports.
const maxValidationErrors = 20

// Validate checks o and every object embedded in it against the registry:
// each registered property's values must match its Kind (null is allowed
// anywhere), and a functional property may have only one value, across all
// the keys that expand to it ("actor" and "as:actor" count together).
// Unknown properties and types are not errors. It returns nil, or up to 20
// problems joined, each wrapping ErrInvalid and naming its path.
//
// Parse does not validate: real servers send documents that break these
// rules in harmless ways. Call Validate where strictness matters.
func (o *Object) Validate() error {
	var errs []error
	o.validate("$", &errs, 0)
	return errors.Join(errs...)
}

func (o *Object) validate(path string, errs *[]error, depth int) {
	if o == nil || depth > 128 || len(*errs) >= maxValidationErrors {
		return
	}
	st := o.st()
	report := func(format string, args ...any) {
		if len(*errs) < maxValidationErrors {
			*errs = append(*errs, fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...)))
		}
	}
	counts := map[string]int{}
	for _, m := range o.members {
		switch {
		case m.IRI == "@id":
			if s, ok := m.Value.Str(); !ok || !isAbsoluteIRI(s) {
				report("%s.%s: id must be an absolute IRI", path, m.Key)
			}
			continue
		case m.IRI == "@type":
			m.Value.each(func(v Value) bool {
				if _, ok := v.Str(); !ok {
					report("%s.%s: type must be a string or an array of strings", path, m.Key)
					return false
				}
				return true
			})
			continue
		case m.IRI == "@context":
			m.Value.each(func(v Value) bool {
				if v.kind != JSONString && v.kind != JSONObject && v.kind != JSONNull {
					report("%s.%s: a context must be an IRI, an object or null", path, m.Key)
					return false
				}
				return true
			})
			continue
		case m.container == containerLanguage && m.IRI != "":
			if m.Value.kind != JSONObject {
				report("%s.%s: a language map must be an object", path, m.Key)
				continue
			}
			for _, e := range m.Value.o.members {
				e.Value.each(func(v Value) bool {
					if v.kind != JSONString && v.kind != JSONNull {
						report("%s.%s.%s: language map values must be strings", path, m.Key, e.Key)
						return false
					}
					return true
				})
			}
			continue
		case m.container == containerLanguage || m.IRI == "" || m.IRI[0] == '@':
			continue
		}
		t := st.byIRI[m.IRI]
		if t != nil && !t.isType {
			n := 0
			m.Value.each(func(v Value) bool {
				if v.kind != JSONNull {
					n++
				}
				if problem := o.checkKind(t.prop.Kind, v); problem != "" {
					report("%s.%s: %s", path, m.Key, problem)
				}
				return true
			})
			counts[m.IRI] += n
			if t.prop.Functional && counts[m.IRI] > 1 {
				report("%s.%s: functional property %q has %d values", path, m.Key, t.name, counts[m.IRI])
			}
		}
		m.Value.each(func(v Value) bool {
			if v.kind == JSONObject {
				v.o.validate(path+"."+m.Key, errs, depth+1)
			}
			return true
		})
	}
}

// checkKind returns what is wrong with v as a value of kind k, or "".
func (o *Object) checkKind(k Kind, v Value) string {
	if v.kind == JSONNull {
		return ""
	}
	lit := literal(v)
	switch k {
	case KindAny:
		return ""
	case KindReference, KindIRI:
		if v.kind == JSONString {
			// Terms count: "IsContact" stands for as:IsContact.
			if !isAbsoluteIRI(o.st().expandValueIRI(o.context(), v.s, true)) {
				return "not an absolute IRI: " + strconv.Quote(v.s)
			}
			return ""
		}
		if v.kind == JSONObject {
			return ""
		}
	case KindString, KindLangString:
		if lit.kind == JSONString {
			return ""
		}
	case KindInteger:
		if lit.kind == JSONString {
			// A typed literal in string form ("@type": "xsd:integer").
			lit = Value{kind: JSONNumber, s: lit.s}
			if _, ok := lit.Float(); !ok {
				return "not an integer: " + strconv.Quote(lit.s)
			}
		}
		if lit.kind == JSONNumber {
			if _, err := strconv.ParseInt(lit.s, 10, 64); err == nil {
				return ""
			}
			if f, ok := lit.Float(); ok && f == float64(int64(f)) {
				return ""
			}
			return "not an integer: " + lit.s
		}
	case KindNumber:
		if lit.kind == JSONNumber {
			return ""
		}
		if lit.kind == JSONString {
			// A typed literal in string form ("@type": "xsd:float").
			if _, err := strconv.ParseFloat(lit.s, 64); err == nil {
				return ""
			}
			return "not a number: " + strconv.Quote(lit.s)
		}
	case KindBool:
		if lit.kind == JSONBool {
			return ""
		}
	case KindDateTime:
		if lit.kind == JSONString {
			if _, ok := ParseDateTime(lit.s); ok {
				return ""
			}
			return "not an xsd:dateTime: " + strconv.Quote(lit.s)
		}
	case KindDuration:
		if lit.kind == JSONString {
			if _, ok := ParseDuration(lit.s); ok {
				return ""
			}
			return "not an xsd:duration: " + strconv.Quote(lit.s)
		}
	}
	return fmt.Sprintf("%s value where %s expected", v.kind, k)
}
