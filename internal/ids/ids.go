// Package ids generates the 64-bit, time-ordered identifiers Commonroom
// exposes to clients (as decimal strings, the way Mastodon does).
//
// An id is the Unix time in milliseconds shifted left by 16 bits, ORed with a
// 16-bit sequence. Each millisecond's sequence starts at a random value and
// counts up, so ids from one Generator are strictly increasing and ids from
// different processes collide only if two processes draw the same start in the
// same millisecond and then overlap; the database's primary key is the final
// guard against that rare case.
package ids

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"
)

// SequenceBits is the number of low bits that hold the per-millisecond sequence.
const SequenceBits = 16

const sequenceMask = 1<<SequenceBits - 1

// Generator hands out ids. The zero value is not usable; call New.
// A Generator is safe for concurrent use.
type Generator struct {
	now  func() time.Time
	rand io.Reader

	mu   sync.Mutex
	last int64  // millisecond of the last id
	seq  uint32 // sequence of the last id within last
}

// New returns a Generator that reads the time from now and randomness from
// random. A nil now means time.Now; a nil random means crypto/rand.Reader.
func New(now func() time.Time, random io.Reader) *Generator {
	if now == nil {
		now = time.Now
	}
	if random == nil {
		random = rand.Reader
	}
	return &Generator{now: now, rand: random}
}

// Next returns a new id, greater than every id this Generator returned before,
// even if the clock goes backwards or the sequence runs out within one
// millisecond (the generator then borrows the next millisecond).
func (g *Generator) Next() (int64, error) {
	g.mu.Lock()
	defer g.mu.Unlock()

	ms := g.now().UnixMilli()
	switch {
	case ms > g.last:
		g.last = ms
	case g.seq < sequenceMask:
		// Same millisecond, or the clock went back: keep counting.
		g.seq++
		return g.last<<SequenceBits | int64(g.seq), nil
	default:
		// The sequence is used up: borrow the next millisecond.
		g.last++
	}
	start, err := g.randomSequence()
	if err != nil {
		return 0, err
	}
	g.seq = start
	return g.last<<SequenceBits | int64(g.seq), nil
}

// MustNext is Next for generators whose randomness cannot fail (crypto/rand
// on a supported platform); it panics on a read error.
func (g *Generator) MustNext() int64 {
	id, err := g.Next()
	if err != nil {
		panic(err)
	}
	return id
}

func (g *Generator) randomSequence() (uint32, error) {
	var b [2]byte
	if _, err := io.ReadFull(g.rand, b[:]); err != nil {
		return 0, fmt.Errorf("ids: read random sequence: %w", err)
	}
	// Start in the lower half so a busy millisecond has room to count up
	// before it wraps.
	return uint32(binary.BigEndian.Uint16(b[:])) & (sequenceMask >> 1), nil
}

// Time returns the millisecond an id was generated in.
func Time(id int64) time.Time {
	return time.UnixMilli(id >> SequenceBits)
}

// Format writes id as the decimal string clients see.
func Format(id int64) string { return strconv.FormatInt(id, 10) }

// Parse reads a decimal id as clients send it. It rejects anything that is not
// a positive 64-bit decimal integer.
func Parse(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("ids: %q is not a valid id", s)
	}
	return id, nil
}
