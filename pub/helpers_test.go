package pub_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/commonroom/commonroom/pub"
)

// testRSAKeys is how many RSA keys the test binary generates, once.
const testRSAKeys = 16

var (
	rsaOnce sync.Once
	rsaKeys []*rsa.PrivateKey
)

// pooledKeys returns the test binary's pre-generated RSA keys, generating
// them on first use.
func pooledKeys(tb testing.TB) []*rsa.PrivateKey {
	tb.Helper()
	rsaOnce.Do(func() {
		keys := make([]*rsa.PrivateKey, testRSAKeys)
		var wg sync.WaitGroup
		for i := range keys {
			wg.Go(func() {
				k, err := pub.GeneratingKeySource{}.RSAKey(context.Background())
				if err != nil {
					panic(err)
				}
				keys[i] = k
			})
		}
		wg.Wait()
		rsaKeys = keys
	})
	return rsaKeys
}

// poolNext and edNext count the keys handed out by every poolSource of the
// test binary, so that keys drawn one after another differ even when they
// come from different sources.
var poolNext, edNext atomic.Int64

// poolSource is a KeySource handing out the pre-generated RSA keys in turn
// (so any 16 consecutive calls give different keys) and deterministic
// Ed25519 keys.
type poolSource struct {
	keys []*rsa.PrivateKey
}

var _ pub.KeySource = (*poolSource)(nil)

func newPoolSource(tb testing.TB) *poolSource {
	tb.Helper()
	return &poolSource{keys: pooledKeys(tb)}
}

func (p *poolSource) RSAKey(ctx context.Context) (*rsa.PrivateKey, error) {
	n := poolNext.Add(1) - 1
	return p.keys[int(n)%len(p.keys)], nil
}

func (p *poolSource) Ed25519Key(ctx context.Context) (ed25519.PrivateKey, error) {
	n := edNext.Add(1)
	seed := make([]byte, ed25519.SeedSize)
	seed[0], seed[1] = byte(n), byte(n>>8)
	seed[31] = 0x5a
	return ed25519.NewKeyFromSeed(seed), nil
}

// fakeClock is a Clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

var _ pub.Clock = (*fakeClock)(nil)

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
