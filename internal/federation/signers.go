package federation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/commonroom/commonroom/pub"
	"github.com/commonroom/commonroom/pub/delivery"
	"github.com/commonroom/commonroom/pub/httpsig"
)

// Bounds of the signer cache: entries live signerTTL (so a key replaced in
// the database is picked up within it), and at most maxSigners are kept.
const (
	signerTTL  = 5 * time.Minute
	maxSigners = 1024
)

// signerCache is the delivery pool's delivery.SignerSource: it signs each
// job as the local actor whose key id the job names, with the actor's RSA
// key from the key store, in the scheme the host is known to accept (and
// the signer reports back what the host accepted). Parsing a stored key
// costs more than signing with it, and one activity fans out to many
// inboxes, so key signers are cached briefly. It is safe for concurrent use.
type signerCache struct {
	keys    *pub.Keys
	schemes *httpsig.HostSchemes
	now     func() time.Time

	mu      sync.Mutex
	signers map[string]cachedSigner
}

type cachedSigner struct {
	signer  *httpsig.Signer
	expires time.Time
}

var _ delivery.SignerSource = (*signerCache)(nil)

func newSignerCache(keys *pub.Keys, schemes *httpsig.HostSchemes, now func() time.Time) *signerCache {
	if now == nil {
		now = time.Now
	}
	return &signerCache{keys: keys, schemes: schemes, now: now, signers: make(map[string]cachedSigner)}
}

// Signer returns the signer of keyID, which must be a local actor's RSA key
// id (actor#main-key). A key id that is not, or whose actor has no keys,
// fails with delivery.ErrPermanent: the job is dropped.
func (c *signerCache) Signer(ctx context.Context, keyID string) (delivery.Signer, error) {
	now := c.now()
	c.mu.Lock()
	if s, ok := c.signers[keyID]; ok && now.Before(s.expires) {
		c.mu.Unlock()
		// A fresh HTTPSigSigner per job: it remembers what it signed, to
		// report the host's answer.
		return delivery.NewHTTPSigSigner(s.signer, c.schemes), nil
	}
	c.mu.Unlock()

	actorID, _, _ := strings.Cut(keyID, "#")
	if !c.keys.IsLocal(actorID) {
		return nil, fmt.Errorf("%w: key %s is not a local actor's", delivery.ErrPermanent, keyID)
	}
	keys, err := c.keys.Local(ctx, actorID)
	if errors.Is(err, pub.ErrNotFound) {
		return nil, fmt.Errorf("%w: %w", delivery.ErrPermanent, err)
	}
	if err != nil {
		return nil, fmt.Errorf("federation: signer for %s: %w", keyID, err)
	}
	if keys.RSAKeyID() != keyID {
		return nil, fmt.Errorf("%w: %s is not the signing key of %s", delivery.ErrPermanent, keyID, actorID)
	}
	rs, err := keys.RequestSigner(c.now)
	if err != nil {
		return nil, fmt.Errorf("federation: signer for %s: %w", keyID, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.signers) >= maxSigners {
		for id, e := range c.signers {
			if !now.Before(e.expires) {
				delete(c.signers, id)
			}
		}
		if len(c.signers) >= maxSigners {
			clear(c.signers)
		}
	}
	c.signers[keyID] = cachedSigner{signer: rs, expires: now.Add(signerTTL)}
	return delivery.NewHTTPSigSigner(rs, c.schemes), nil
}
