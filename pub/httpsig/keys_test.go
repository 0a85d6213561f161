package httpsig_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	"github.com/commonroom/commonroom/pub/httpsig"
)

func TestParsePublicKeyPEM(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	ecPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: ecDER}))
	tests := []struct {
		name    string
		in      string
		wantRSA int // modulus bits, 0 for Ed25519
		wantErr bool
	}{
		{name: "PKIX RSA", in: testKeyRSAPSSPublic, wantRSA: 2048},
		{name: "PKCS#1 RSA", in: testKeyRSAPublic, wantRSA: 2048},
		{name: "PKIX Ed25519", in: testKeyEd25519Public},
		{name: "text around the block", in: "publicKeyPem:\n" + cavageTestPublic + "trailer", wantRSA: 1024},
		{name: "no PEM", in: "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA", wantErr: true},
		{name: "private key block", in: testKeyEd25519Private, wantErr: true},
		{name: "ECDSA", in: ecPEM, wantErr: true},
		{name: "corrupt DER", in: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", wantErr: true},
		{name: "corrupt PKCS#1", in: "-----BEGIN RSA PUBLIC KEY-----\nAAAA\n-----END RSA PUBLIC KEY-----\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := httpsig.ParsePublicKeyPEM(tt.in)
			if tt.wantErr {
				if !errors.Is(err, httpsig.ErrKeyFormat) {
					t.Fatalf("got %v, want ErrKeyFormat", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			switch k := k.(type) {
			case *rsa.PublicKey:
				if k.N.BitLen() != tt.wantRSA {
					t.Errorf("%d bits, want %d", k.N.BitLen(), tt.wantRSA)
				}
			case ed25519.PublicKey:
				if tt.wantRSA != 0 {
					t.Error("got Ed25519, want RSA")
				}
			}
		})
	}
}

func TestPEMRoundTrip(t *testing.T) {
	ed := rfcEd25519Key(t).Public()
	for _, pub := range []crypto.PublicKey{&mustRSAFile(t, "rsa2048.pem").PublicKey, ed} {
		s, err := httpsig.EncodePublicKeyPEM(pub)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(s, "-----BEGIN PUBLIC KEY-----\n") {
			t.Errorf("PEM %q", s)
		}
		back, err := httpsig.ParsePublicKeyPEM(s)
		if err != nil {
			t.Fatal(err)
		}
		if !back.(interface{ Equal(crypto.PublicKey) bool }).Equal(pub) {
			t.Errorf("round trip changed the key")
		}
	}
	// The RFC's Ed25519 public key encodes to the published PEM.
	if s, _ := httpsig.EncodePublicKeyPEM(ed); s != testKeyEd25519Public {
		t.Errorf("PEM %q, want %q", s, testKeyEd25519Public)
	}
	if _, err := httpsig.EncodePublicKeyPEM("nope"); !errors.Is(err, httpsig.ErrKeyFormat) {
		t.Errorf("got %v", err)
	}
}

func TestMultikey(t *testing.T) {
	// did:key test vector: the Ed25519 key of the all-zero seed.
	zero := ed25519.NewKeyFromSeed(make([]byte, 32)).Public()
	const zeroMultikey = "z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
	got, err := httpsig.EncodeMultikey(zero)
	if err != nil {
		t.Fatal(err)
	}
	if got != zeroMultikey {
		t.Errorf("EncodeMultikey = %s, want %s", got, zeroMultikey)
	}
	back, err := httpsig.ParseMultikey(zeroMultikey)
	if err != nil {
		t.Fatal(err)
	}
	if !zero.(ed25519.PublicKey).Equal(back) {
		t.Error("ParseMultikey gave another key")
	}
	// RSA Multikeys (multicodec rsa-pub) round-trip too.
	rsaPub := &mustRSAFile(t, "rsa2048.pem").PublicKey
	s, err := httpsig.EncodeMultikey(rsaPub)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s, "z4MX") {
		t.Errorf("RSA-2048 multikey %q should start z4MX", s[:8])
	}
	if k, err := httpsig.ParseMultikey(s); err != nil || !rsaPub.Equal(k) {
		t.Errorf("RSA round trip: %v", err)
	}

	bad := []struct{ name, in string }{
		{"no multibase prefix", "6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"},
		{"base64 multibase", "mAAAA"},
		{"bad base58 character", "z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooW0"},
		{"truncated key", "z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDoo"},
		{"unknown codec", "z" + strings.Repeat("2", 40)},
		{"empty", "z"},
		{"too long", "z" + strings.Repeat("2", 5000)},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := httpsig.ParseMultikey(tt.in); !errors.Is(err, httpsig.ErrKeyFormat) {
				t.Errorf("got %v, want ErrKeyFormat", err)
			}
		})
	}
	if _, err := httpsig.EncodeMultikey(ed25519.PublicKey{1, 2}); err == nil {
		t.Error("short Ed25519 key encoded")
	}
}
