package pub

import "time"

// Clock tells the time. Every time window, cache lifetime and cool-off in pub
// reads it, so tests move time forward instead of sleeping. Implementations
// must be safe for concurrent use.
type Clock interface {
	Now() time.Time
}

// SystemClock is the Clock that reads the wall clock.
type SystemClock struct{}

var _ Clock = SystemClock{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// ClockFunc adapts a function to Clock.
type ClockFunc func() time.Time

var _ Clock = ClockFunc(nil)

// Now calls f.
func (f ClockFunc) Now() time.Time { return f() }
