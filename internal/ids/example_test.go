package ids_test

import (
	"bytes"
	"fmt"
	"time"

	"github.com/commonroom/commonroom/internal/ids"
)

func ExampleGenerator() {
	// A frozen clock and fixed randomness make ids predictable; production
	// code passes nil, nil for the system clock and crypto/rand.
	at := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	g := ids.New(func() time.Time { return at }, bytes.NewReader([]byte{0, 7}))
	a, _ := g.Next()
	b, _ := g.Next()
	fmt.Println(ids.Format(a), ids.Format(b), ids.Time(a).UTC())
	// Output: 117653372928000007 117653372928000008 2026-11-21 08:00:00 +0000 UTC
}
