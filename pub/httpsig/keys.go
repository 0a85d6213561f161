package httpsig

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
)

// Multicodec prefixes (unsigned varints) used by FEP-521a Multikey values.
const (
	multicodecEd25519Pub = "\xed\x01" // ed25519-pub, 0xed
	multicodecRSAPub     = "\x85\x24" // rsa-pub, 0x1205
)

// maxMultibaseLen bounds the base58 decoding work; an RSA-4096 Multikey is
// about 750 characters.
const maxMultibaseLen = 2048

// ParsePublicKeyPEM decodes the first PEM block of s as a public key: a PKIX
// "PUBLIC KEY" (RSA or Ed25519), or a PKCS#1 "RSA PUBLIC KEY". Text around the
// block is ignored. It returns *rsa.PublicKey or ed25519.PublicKey; other key
// types are an error wrapping [ErrKeyFormat].
func ParsePublicKeyPEM(s string) (crypto.PublicKey, error) {
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, fmt.Errorf("%w: no PEM block", ErrKeyFormat)
	}
	switch block.Type {
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: PKIX: %w", ErrKeyFormat, err)
		}
		switch k := k.(type) {
		case *rsa.PublicKey, ed25519.PublicKey:
			return k, nil
		default:
			return nil, fmt.Errorf("%w: unsupported key type %T", ErrKeyFormat, k)
		}
	case "RSA PUBLIC KEY":
		k, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: PKCS#1: %w", ErrKeyFormat, err)
		}
		return k, nil
	default:
		return nil, fmt.Errorf("%w: unexpected PEM block %q", ErrKeyFormat, block.Type)
	}
}

// EncodePublicKeyPEM encodes an *rsa.PublicKey or ed25519.PublicKey as a PKIX
// "PUBLIC KEY" PEM block, the form ActivityPub's publicKeyPem carries.
func EncodePublicKeyPEM(pub crypto.PublicKey) (string, error) {
	switch pub.(type) {
	case *rsa.PublicKey, ed25519.PublicKey:
	default:
		return "", fmt.Errorf("%w: unsupported key type %T", ErrKeyFormat, pub)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrKeyFormat, err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}

// ParseMultikey decodes a FEP-521a publicKeyMultibase value: "z" followed by
// the base58btc encoding of a multicodec-prefixed key, either ed25519-pub
// (0xed01, 32 raw bytes) or rsa-pub (0x1205, a PKCS#1 DER RSAPublicKey). It
// returns ed25519.PublicKey or *rsa.PublicKey.
func ParseMultikey(s string) (crypto.PublicKey, error) {
	if !strings.HasPrefix(s, "z") {
		return nil, fmt.Errorf("%w: multibase value does not start with 'z' (base58btc)", ErrKeyFormat)
	}
	if len(s) > maxMultibaseLen {
		return nil, fmt.Errorf("%w: multibase value too long", ErrKeyFormat)
	}
	raw, err := base58Decode(s[1:])
	if err != nil {
		return nil, err
	}
	switch {
	case strings.HasPrefix(string(raw), multicodecEd25519Pub):
		if len(raw) != 2+ed25519.PublicKeySize {
			return nil, fmt.Errorf("%w: ed25519 multikey has %d key bytes", ErrKeyFormat, len(raw)-2)
		}
		return ed25519.PublicKey(raw[2:]), nil
	case strings.HasPrefix(string(raw), multicodecRSAPub):
		k, err := x509.ParsePKCS1PublicKey(raw[2:])
		if err != nil {
			return nil, fmt.Errorf("%w: rsa multikey: %w", ErrKeyFormat, err)
		}
		return k, nil
	default:
		return nil, fmt.Errorf("%w: unsupported multicodec prefix", ErrKeyFormat)
	}
}

// EncodeMultikey encodes an ed25519.PublicKey or *rsa.PublicKey as a FEP-521a
// publicKeyMultibase value (base58btc, "z" prefix).
func EncodeMultikey(pub crypto.PublicKey) (string, error) {
	var raw []byte
	switch k := pub.(type) {
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return "", fmt.Errorf("%w: ed25519 key has %d bytes", ErrKeyFormat, len(k))
		}
		raw = append(append(raw, multicodecEd25519Pub...), k...)
	case *rsa.PublicKey:
		raw = append(append(raw, multicodecRSAPub...), x509.MarshalPKCS1PublicKey(k)...)
	default:
		return "", fmt.Errorf("%w: unsupported key type %T", ErrKeyFormat, pub)
	}
	return "z" + base58Encode(raw), nil
}

const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

func base58Encode(in []byte) string {
	zeros := 0
	for zeros < len(in) && in[zeros] == 0 {
		zeros++
	}
	// log(256)/log(58) < 1.37
	digits := make([]byte, 0, len(in)*137/100+1)
	for _, b := range in[zeros:] {
		carry := int(b)
		for i := range digits {
			carry += int(digits[i]) << 8
			digits[i] = byte(carry % 58)
			carry /= 58
		}
		for carry > 0 {
			digits = append(digits, byte(carry%58))
			carry /= 58
		}
	}
	out := make([]byte, zeros+len(digits))
	for i := range zeros {
		out[i] = '1'
	}
	for i, d := range digits {
		out[len(out)-1-i] = base58Alphabet[d]
	}
	return string(out)
}

func base58Decode(s string) ([]byte, error) {
	zeros := 0
	for zeros < len(s) && s[zeros] == '1' {
		zeros++
	}
	bytes := make([]byte, 0, len(s))
	for i := zeros; i < len(s); i++ {
		v := strings.IndexByte(base58Alphabet, s[i])
		if v < 0 {
			return nil, fmt.Errorf("%w: bad base58 character %q", ErrKeyFormat, s[i])
		}
		carry := v
		for j := range bytes {
			carry += int(bytes[j]) * 58
			bytes[j] = byte(carry)
			carry >>= 8
		}
		for carry > 0 {
			bytes = append(bytes, byte(carry))
			carry >>= 8
		}
	}
	out := make([]byte, zeros+len(bytes))
	for i, b := range bytes {
		out[len(out)-1-i] = b
	}
	return out, nil
}
