//go:build !linux

package httpsig_test

import "time"

var start = time.Now()

// threadCPU falls back to wall time where the thread CPU clock is not wired
// up.
func threadCPU() time.Duration { return time.Since(start) }
