package gofed_test

import (
	"context"
	"fmt"

	"github.com/commonroom/commonroom/streams"
	"github.com/commonroom/commonroom/streams/gofed"
)

// Convert a document without @context, as Lemmy sends them, to go-fed's
// typed value; go-fed alone rejects it.
func ExampleToType() {
	o, err := streams.Parse([]byte(`{"id":"https://lemmy.example/activities/follow/1","type":"Follow",
		"actor":"https://lemmy.example/u/ann","object":"https://lemmy.example/c/maths"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	t, err := gofed.ToType(context.Background(), o)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(t.GetTypeName(), t.GetJSONLDId().Get())
	// Output: Follow https://lemmy.example/activities/follow/1
}
