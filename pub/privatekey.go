package pub

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"log/slog"
)

// redacted is what a PrivateKey prints, logs and marshals as.
const redacted = "[redacted private key]"

// MinRSABits is the smallest RSA modulus pub accepts for a local key.
const MinRSABits = 2048

// PrivateKey holds a local actor's private signing key (RSA or Ed25519).
//
// The key material never leaves the server through it: String, GoString,
// Format (every fmt verb), MarshalJSON, MarshalText and LogValue all yield a
// fixed redaction marker. The only ways to reach the material are Signer,
// for signing, and MarshalPKCS8, for a key store that persists it. The zero
// value holds no key. PrivateKey is immutable and safe for concurrent use.
type PrivateKey struct {
	signer crypto.Signer
}

var (
	_ fmt.Stringer   = PrivateKey{}
	_ fmt.GoStringer = PrivateKey{}
	_ fmt.Formatter  = PrivateKey{}
	_ slog.LogValuer = PrivateKey{}
)

// NewPrivateKey wraps an *rsa.PrivateKey of at least MinRSABits bits or an
// ed25519.PrivateKey. Any other key is an error.
func NewPrivateKey(s crypto.Signer) (PrivateKey, error) {
	switch k := s.(type) {
	case *rsa.PrivateKey:
		if k == nil || k.N == nil {
			return PrivateKey{}, fmt.Errorf("pub: nil RSA key")
		}
		if k.N.BitLen() < MinRSABits {
			return PrivateKey{}, fmt.Errorf("pub: RSA key has %d bits, want at least %d", k.N.BitLen(), MinRSABits)
		}
		return PrivateKey{signer: k}, nil
	case ed25519.PrivateKey:
		if len(k) != ed25519.PrivateKeySize {
			return PrivateKey{}, fmt.Errorf("pub: Ed25519 key has %d bytes, want %d", len(k), ed25519.PrivateKeySize)
		}
		return PrivateKey{signer: k}, nil
	default:
		return PrivateKey{}, fmt.Errorf("pub: unsupported private key type %T", s)
	}
}

// ParsePrivateKeyPKCS8 reads a key written by MarshalPKCS8.
func ParsePrivateKeyPKCS8(der []byte) (PrivateKey, error) {
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return PrivateKey{}, fmt.Errorf("pub: parse PKCS#8 private key: %w", err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return PrivateKey{}, fmt.Errorf("pub: PKCS#8 key of type %T cannot sign", k)
	}
	return NewPrivateKey(s)
}

// IsZero reports whether p holds no key.
func (p PrivateKey) IsZero() bool { return p.signer == nil }

// Signer returns the key for signing. Callers must not print, log or
// serialize what it returns.
func (p PrivateKey) Signer() crypto.Signer { return p.signer }

// Public returns the public half, or nil for the zero value.
func (p PrivateKey) Public() crypto.PublicKey {
	if p.signer == nil {
		return nil
	}
	return p.signer.Public()
}

// Algorithm returns "rsa", "ed25519", or "" for the zero value.
func (p PrivateKey) Algorithm() string {
	switch p.signer.(type) {
	case *rsa.PrivateKey:
		return "rsa"
	case ed25519.PrivateKey:
		return "ed25519"
	default:
		return ""
	}
}

// MarshalPKCS8 returns the key as PKCS#8 DER. It exists for key stores that
// persist keys (for example pub/bunstore) and for nothing else.
func (p PrivateKey) MarshalPKCS8() ([]byte, error) {
	if p.signer == nil {
		return nil, fmt.Errorf("pub: marshal empty private key")
	}
	der, err := x509.MarshalPKCS8PrivateKey(p.signer)
	if err != nil {
		return nil, fmt.Errorf("pub: marshal private key: %w", err)
	}
	return der, nil
}

// String returns a redaction marker.
func (p PrivateKey) String() string { return redacted }

// GoString returns a redaction marker, so %#v hides the key too.
func (p PrivateKey) GoString() string { return redacted }

// Format prints a redaction marker for every verb.
func (p PrivateKey) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// LogValue makes slog record a redaction marker.
func (p PrivateKey) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON encodes a redaction marker as a JSON string.
func (p PrivateKey) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText encodes a redaction marker.
func (p PrivateKey) MarshalText() ([]byte, error) { return []byte(redacted), nil }
