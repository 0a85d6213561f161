package streams

import (
	"fmt"
	"reflect"

	"github.com/go-ap/jsonld"
)

// Bind decodes o into a new T, a struct (or pointer to one) whose fields
// carry go-ap/jsonld "jsonld" tags naming terms: registry terms
// ("license"), compact IRIs ("toot:blurhash"), full IRIs, or keywords
// ("@id", or the aliases "id" and "type"). Members are matched by meaning,
// not spelling: a document writing "schema:license" or
// "http://schema.org#license" fills the field tagged `jsonld:"license"`.
// Nested structs are decoded by go-ap/jsonld from the members as written.
// Members no field names are ignored; o is not modified.
func Bind[T any](o *Object) (T, error) {
	var v T
	if o == nil {
		return v, fmt.Errorf("streams: bind nil object: %w", ErrInvalid)
	}
	rt := reflect.TypeOf(v)
	for rt != nil && rt.Kind() == reflect.Pointer {
		rt = rt.Elem()
	}
	if rt == nil || rt.Kind() != reflect.Struct {
		return v, fmt.Errorf("streams: bind to %T: %w: not a struct", v, ErrInvalid)
	}
	st := o.st()
	names := map[string]string{} // IRI or keyword → tag name
	for i := 0; i < rt.NumField(); i++ {
		tag, ok := jsonld.LoadTag(rt.Field(i).Tag)
		if !ok || tag.Ignore {
			continue
		}
		iri := st.resolveName(tag.Name)
		switch tag.Name {
		case "id":
			iri = "@id"
		case "type":
			iri = "@type"
		}
		if iri != "" {
			names[iri] = tag.Name
		}
	}
	view := &Object{reg: o.reg, ctx: o.ctx}
	for _, m := range o.members {
		if m.IRI == "@context" {
			continue
		}
		if name, ok := names[m.IRI]; ok && m.container == containerNone {
			m.Key = name
		}
		view.members = append(view.members, m)
	}
	data, err := appendObject(nil, view, 0)
	if err != nil {
		return v, err
	}
	if err := jsonld.Unmarshal(data, &v); err != nil {
		return v, fmt.Errorf("streams: bind %q to %T: %w", o.ID(), v, err)
	}
	return v, nil
}

// FromStruct encodes v, a struct with "jsonld" tags, with go-ap/jsonld and
// returns it as a new object bound to r (nil: Default). Its members get
// the registry's IRIs, and serializing the result writes the @context its
// terms need, as for an object built with New.
func FromStruct(r *Registry, v any) (*Object, error) {
	if r == nil {
		r = Default()
	}
	data, err := jsonld.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("streams: encoding %T: %w", v, err)
	}
	o, err := r.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("streams: reading encoded %T: %w", v, err)
	}
	o.detach(0)
	return o, nil
}

// detach makes a parsed tree behave as one built in code, so that
// serializing it computes its @context.
func (o *Object) detach(depth int) {
	if o == nil || depth > 256 {
		return
	}
	o.ctx = nil
	for i := range o.members {
		o.members[i].added = false
		o.members[i].Value.each(func(v Value) bool {
			if v.kind == JSONObject {
				v.o.detach(depth + 1)
			}
			return true
		})
	}
}
