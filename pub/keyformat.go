package pub

import (
	"crypto"
	"errors"
	"fmt"

	"github.com/commonroom/commonroom/pub/httpsig"
	"github.com/commonroom/commonroom/streams"
)

// PublishedKey is a public key as a document publishes it.
type PublishedKey struct {
	// ID is the key id.
	ID string
	// Owner is the key's "owner" (publicKey) or "controller" (Multikey), or
	// "" when the document does not say.
	Owner string
	// PublicKey is an *rsa.PublicKey or ed25519.PublicKey.
	PublicKey crypto.PublicKey
	// Property is where the key was found: "publicKey", "assertionMethod",
	// or "" when the document is itself the key.
	Property string
}

// PublishedKeys returns the public keys doc publishes: every embedded
// publicKey (one object or an array, with publicKeyPem), every embedded
// assertionMethod Multikey (publicKeyMultibase, FEP-521a), and doc itself when
// it is a key document (top-level publicKeyPem or publicKeyMultibase, as
// GoToSocial serves at actor/main-key). Keys given only by IRI are skipped.
// Entries whose key cannot be decoded are skipped too; the error reports them
// only when nothing usable was found.
func PublishedKeys(doc *streams.Object) ([]PublishedKey, error) {
	if doc == nil {
		return nil, errors.New("pub: no document")
	}
	var (
		out  []PublishedKey
		errs []error
	)
	add := func(o *streams.Object, prop string) {
		id := o.ID()
		if id == "" {
			errs = append(errs, fmt.Errorf("%s without id", orSelf(prop)))
			return
		}
		var (
			pub   crypto.PublicKey
			err   error
			owner string
		)
		switch {
		case o.Has("publicKeyPem"):
			pub, err = httpsig.ParsePublicKeyPEM(o.String("publicKeyPem"))
			owner = o.IRI("owner")
			if owner == "" {
				owner = o.IRI("controller")
			}
		case o.Has("publicKeyMultibase"):
			pub, err = httpsig.ParseMultikey(o.String("publicKeyMultibase"))
			owner = o.IRI("controller")
			if owner == "" {
				owner = o.IRI("owner")
			}
		default:
			errs = append(errs, fmt.Errorf("%s %s carries no key material", orSelf(prop), id))
			return
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", orSelf(prop), id, err))
			return
		}
		out = append(out, PublishedKey{ID: id, Owner: owner, PublicKey: pub, Property: prop})
	}
	if doc.Has("publicKeyPem") || doc.Has("publicKeyMultibase") {
		add(doc, "")
	}
	for _, o := range doc.Objects("publicKey") {
		add(o, "publicKey")
	}
	for _, o := range doc.Objects("assertionMethod") {
		add(o, "assertionMethod")
	}
	if len(out) == 0 {
		if len(errs) > 0 {
			return nil, fmt.Errorf("pub: no usable key in %s: %w", doc.ID(), errors.Join(errs...))
		}
		return nil, fmt.Errorf("pub: %s publishes no key", doc.ID())
	}
	return out, nil
}

func orSelf(prop string) string {
	if prop == "" {
		return "key document"
	}
	return prop
}

// docID returns a document's id, or "" for nil.
func docID(doc *streams.Object) string {
	if doc == nil {
		return ""
	}
	return doc.ID()
}

// PublishKeys writes keys into a local actor document: publicKey with the RSA
// key as a PKIX PEM (id ActorID#main-key, owner ActorID), and assertionMethod
// with the Ed25519 key as a FEP-521a Multikey (id ActorID#ed25519-key,
// controller ActorID). Only public halves are written.
func PublishKeys(doc *streams.Object, keys *ActorKeys) error {
	if doc == nil || keys == nil {
		return errors.New("pub: publish keys: nil document or keys")
	}
	reg := doc.Registry()
	if !keys.RSA.IsZero() {
		pemText, err := httpsig.EncodePublicKeyPEM(keys.RSA.Public())
		if err != nil {
			return fmt.Errorf("pub: publish RSA key of %s: %w", keys.ActorID, err)
		}
		pk := reg.New("")
		pk.SetID(keys.RSAKeyID())
		if err := setAll(pk, member{"owner", streams.IRI(keys.ActorID)}, member{"publicKeyPem", streams.String(pemText)}); err != nil {
			return err
		}
		if err := doc.Set("publicKey", streams.ObjectValue(pk)); err != nil {
			return fmt.Errorf("pub: publish RSA key of %s: %w", keys.ActorID, err)
		}
	}
	if !keys.Ed25519.IsZero() {
		mb, err := httpsig.EncodeMultikey(keys.Ed25519.Public())
		if err != nil {
			return fmt.Errorf("pub: publish Ed25519 key of %s: %w", keys.ActorID, err)
		}
		mk := reg.New("Multikey")
		mk.SetID(keys.Ed25519KeyID())
		if err := setAll(mk, member{"controller", streams.IRI(keys.ActorID)}, member{"publicKeyMultibase", streams.String(mb)}); err != nil {
			return err
		}
		if err := doc.Set("assertionMethod", streams.Array(streams.ObjectValue(mk))); err != nil {
			return fmt.Errorf("pub: publish Ed25519 key of %s: %w", keys.ActorID, err)
		}
	}
	return nil
}

// member is a property to set.
type member struct {
	name  string
	value streams.Value
}

// setAll sets each member on o.
func setAll(o *streams.Object, ms ...member) error {
	for _, m := range ms {
		if err := o.Set(m.name, m.value); err != nil {
			return fmt.Errorf("pub: set %s: %w", m.name, err)
		}
	}
	return nil
}
