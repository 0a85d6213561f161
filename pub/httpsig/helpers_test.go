package httpsig_test

import (
	"bufio"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/commonroom/commonroom/pub/httpsig"
)

// mustReadRequest parses a raw HTTP/1.1 request (LF line ends allowed) the
// way a server receives it, and returns it with its body bytes.
func mustReadRequest(tb testing.TB, raw string) (*http.Request, []byte) {
	tb.Helper()
	raw = strings.ReplaceAll(raw, "\r\n", "\n")
	head, body, _ := strings.Cut(raw, "\n\n")
	wire := strings.ReplaceAll(head, "\n", "\r\n") + "\r\n\r\n" + body
	req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(wire)))
	if err != nil {
		tb.Fatalf("read request: %v", err)
	}
	b, err := io.ReadAll(req.Body)
	if err != nil {
		tb.Fatalf("read body: %v", err)
	}
	return req, b
}

// mustRSAPrivate reads a PKCS#1 or PKCS#8 RSA private key from PEM text.
func mustRSAPrivate(tb testing.TB, pemText string) *rsa.PrivateKey {
	tb.Helper()
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		tb.Fatal("no PEM block")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		tb.Fatalf("parse private key: %v", err)
	}
	return k.(*rsa.PrivateKey)
}

// mustRSAFile reads a PEM private key from testdata.
func mustRSAFile(tb testing.TB, name string) *rsa.PrivateKey {
	tb.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	return mustRSAPrivate(tb, string(b))
}

func mustPublic(tb testing.TB, pemText string) crypto.PublicKey {
	tb.Helper()
	k, err := httpsig.ParsePublicKeyPEM(pemText)
	if err != nil {
		tb.Fatalf("parse public key: %v", err)
	}
	return k
}

// fixedClock returns a clock frozen at t.
func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

// keyFor returns a resolver that knows one key id, and counts its calls.
func keyFor(keyID string, pub crypto.PublicKey, calls *int) httpsig.KeyResolver {
	return func(_ context.Context, id string) (crypto.PublicKey, error) {
		if calls != nil {
			*calls++
		}
		if id != keyID {
			return nil, errUnknownKey
		}
		return pub, nil
	}
}

type testError string

func (e testError) Error() string { return string(e) }

const errUnknownKey = testError("unknown key id")
