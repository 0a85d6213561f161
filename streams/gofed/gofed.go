// Package gofed converts between streams' light values and go-fed's typed
// ActivityStreams values (github.com/go-fed/activity/streams/vocab), for
// code that wants go-fed's generated types for the core vocabulary.
//
// It is a separate package because go-fed's vocabulary is expensive to
// compile; only code importing this package pays for it.
package gofed

import (
	"context"
	"encoding/json"
	"fmt"

	gfstreams "github.com/go-fed/activity/streams"
	"github.com/go-fed/activity/streams/vocab"

	"github.com/commonroom/commonroom/streams"
)

// ToType converts o to go-fed's typed value. A document without @context
// (as Lemmy sends them) is read as AS2: the AS2 context is injected before
// go-fed resolves it, which go-fed itself refuses to do. Types go-fed does
// not know (extension types such as LitePub's ChatMessage) fail with
// go-fed's error wrapped; read those through *streams.Object instead.
func ToType(ctx context.Context, o *streams.Object) (vocab.Type, error) {
	if o == nil {
		return nil, fmt.Errorf("gofed: converting nil object: %w", streams.ErrInvalid)
	}
	data, err := o.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("gofed: serializing %q: %w", o.ID(), err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("gofed: decoding %q: %w", o.ID(), err)
	}
	if _, ok := m["@context"]; !ok {
		m["@context"] = streams.ASContextURL
	}
	t, err := gfstreams.ToType(ctx, m)
	if err != nil {
		return nil, fmt.Errorf("gofed: converting %q (type %q): %w", o.ID(), o.Type(), err)
	}
	return t, nil
}

// FromType converts go-fed's typed value t to a light value bound to reg
// (nil: streams.Default()). The result serializes with the @context go-fed
// wrote.
func FromType(t vocab.Type, reg *streams.Registry) (*streams.Object, error) {
	if t == nil {
		return nil, fmt.Errorf("gofed: converting nil type: %w", streams.ErrInvalid)
	}
	if reg == nil {
		reg = streams.Default()
	}
	m, err := gfstreams.Serialize(t)
	if err != nil {
		return nil, fmt.Errorf("gofed: serializing %s: %w", t.GetTypeName(), err)
	}
	data, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("gofed: encoding %s: %w", t.GetTypeName(), err)
	}
	o, err := reg.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("gofed: parsing %s: %w", t.GetTypeName(), err)
	}
	return o, nil
}
