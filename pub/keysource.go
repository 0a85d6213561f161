package pub

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
)

// KeySource makes new private keys for local actors. RSA generation takes
// 100-200 ms, so servers put a [KeyPool] in front of a [GeneratingKeySource],
// and tests hand out pre-generated keys. Implementations must be safe for
// concurrent use and must return a fresh key on every call.
type KeySource interface {
	// RSAKey returns a new RSA key of at least MinRSABits bits.
	RSAKey(ctx context.Context) (*rsa.PrivateKey, error)
	// Ed25519Key returns a new Ed25519 key.
	Ed25519Key(ctx context.Context) (ed25519.PrivateKey, error)
}

// GeneratingKeySource generates keys with crypto/rand on every call.
// Bits is the RSA modulus size; zero means 2048.
type GeneratingKeySource struct {
	Bits int
}

var _ KeySource = GeneratingKeySource{}

// RSAKey generates an RSA key. It checks ctx before starting; the
// generation itself is not interruptible.
func (g GeneratingKeySource) RSAKey(ctx context.Context) (*rsa.PrivateKey, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("pub: generate RSA key: %w", err)
	}
	bits := g.Bits
	if bits == 0 {
		bits = MinRSABits
	}
	if bits < MinRSABits {
		return nil, fmt.Errorf("pub: generate RSA key: %d bits is below %d", bits, MinRSABits)
	}
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, fmt.Errorf("pub: generate RSA key: %w", err)
	}
	return k, nil
}

// Ed25519Key generates an Ed25519 key.
func (g GeneratingKeySource) Ed25519Key(ctx context.Context) (ed25519.PrivateKey, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("pub: generate Ed25519 key: %w", err)
	}
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pub: generate Ed25519 key: %w", err)
	}
	return k, nil
}

// KeyPool keeps a number of RSA keys generated ahead of time, so that
// creating an actor does not wait for RSA generation. Run fills it in the
// background; RSAKey takes a ready key, or generates one on the spot when the
// pool is empty. Ed25519 keys are cheap and come straight from the source.
// A KeyPool is safe for concurrent use.
type KeyPool struct {
	src   KeySource
	ready chan *rsa.PrivateKey
}

var _ KeySource = (*KeyPool)(nil)

// NewKeyPool returns a pool over src holding up to size ready RSA keys
// (at least 1). Nothing is generated until Run is called.
func NewKeyPool(src KeySource, size int) *KeyPool {
	if size < 1 {
		size = 1
	}
	return &KeyPool{src: src, ready: make(chan *rsa.PrivateKey, size)}
}

// Run keeps the pool full until ctx is done, then returns ctx's error. It
// generates one key at a time, so it uses at most one core. A generation
// error stops Run and is returned.
func (p *KeyPool) Run(ctx context.Context) error {
	for {
		k, err := p.src.RSAKey(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("pub: key pool: %w", err)
		}
		select {
		case p.ready <- k:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Ready reports how many RSA keys are waiting in the pool.
func (p *KeyPool) Ready() int { return len(p.ready) }

// RSAKey returns a pre-generated key, or generates one when none is ready.
func (p *KeyPool) RSAKey(ctx context.Context) (*rsa.PrivateKey, error) {
	select {
	case k := <-p.ready:
		return k, nil
	default:
		return p.src.RSAKey(ctx)
	}
}

// Ed25519Key returns a key from the underlying source.
func (p *KeyPool) Ed25519Key(ctx context.Context) (ed25519.PrivateKey, error) {
	return p.src.Ed25519Key(ctx)
}
