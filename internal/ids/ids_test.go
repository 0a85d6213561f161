package ids_test

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/commonroom/commonroom/internal/ids"
)

// frozenClock returns a clock stuck at t that tests can move.
type frozenClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *frozenClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *frozenClock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

func MustNext(tb testing.TB, g *ids.Generator) int64 {
	tb.Helper()
	id, err := g.Next()
	if err != nil {
		tb.Fatalf("Next: %v", err)
	}
	return id
}

func TestNextEncodesTime(t *testing.T) {
	at := time.Date(2026, 11, 21, 6, 0, 0, 123_000_000, time.UTC)
	clock := &frozenClock{t: at}
	g := ids.New(clock.Now, bytes.NewReader([]byte{0x00, 0x05, 0xff, 0xff}))
	id := MustNext(t, g)
	if got := ids.Time(id); !got.Equal(at) {
		t.Errorf("Time(id) = %v, want %v", got, at)
	}
	if want := at.UnixMilli()<<16 | 5; id != want {
		t.Errorf("id = %d, want %d", id, want)
	}
	if id2 := MustNext(t, g); id2 != id+1 {
		t.Errorf("second id in the same millisecond = %d, want %d", id2, id+1)
	}
}

func TestNextIsMonotonic(t *testing.T) {
	tests := []struct {
		name  string
		steps []time.Duration // clock offsets before each call
	}{
		{"same millisecond", []time.Duration{0, 0, 0, 0}},
		{"clock moves forward", []time.Duration{0, time.Millisecond, 2 * time.Millisecond}},
		{"clock goes backwards", []time.Duration{time.Second, 0, -time.Hour, time.Second}},
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &frozenClock{t: base}
			g := ids.New(clock.Now, nil)
			var last int64
			for i, step := range tt.steps {
				clock.Set(base.Add(step))
				id := MustNext(t, g)
				if id <= last {
					t.Fatalf("call %d: id %d not greater than previous %d", i, id, last)
				}
				last = id
			}
		})
	}
}

func TestNextBorrowsNextMillisecondWhenSequenceRunsOut(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := &frozenClock{t: at}
	// Start the sequence as high as it can start, so it runs out soonest.
	g := ids.New(clock.Now, bytes.NewReader(bytes.Repeat([]byte{0xff}, 64)))
	seen := make(map[int64]bool)
	var last int64
	for i := range 40_000 {
		id := MustNext(t, g)
		if seen[id] || id <= last {
			t.Fatalf("call %d: id %d repeated or not increasing", i, id)
		}
		seen[id] = true
		last = id
	}
	if got := ids.Time(last); !got.After(at) {
		t.Errorf("after 40,000 ids in one millisecond, last id time %v, want after %v", got, at)
	}
}

func TestNextConcurrentUnique(t *testing.T) {
	g := ids.New(nil, nil)
	const workers, each = 8, 2000
	out := make(chan int64, workers*each)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				out <- g.MustNext()
			}
		})
	}
	wg.Wait()
	close(out)
	seen := make(map[int64]bool, workers*each)
	for id := range out {
		if seen[id] {
			t.Fatalf("duplicate id %d", id)
		}
		seen[id] = true
	}
}

func TestNextRandomnessFailure(t *testing.T) {
	boom := errors.New("no entropy")
	g := ids.New(nil, iotest.ErrReader(boom))
	if _, err := g.Next(); !errors.Is(err, boom) {
		t.Fatalf("Next error = %v, want %v", err, boom)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"1", 1, false},
		{"113456789012345678", 113456789012345678, false},
		{"0", 0, true},
		{"-5", 0, true},
		{"", 0, true},
		{"12a", 0, true},
		{"99999999999999999999", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ids.Parse(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("Parse(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
			if err == nil && ids.Format(got) != tt.in {
				t.Errorf("Format(Parse(%q)) = %q", tt.in, ids.Format(got))
			}
		})
	}
}

func BenchmarkNext(b *testing.B) {
	g := ids.New(nil, nil)
	for b.Loop() {
		g.MustNext()
	}
}
