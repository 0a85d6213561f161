package httpsig_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"io"
	"net/http"
	"net/http/httputil"
	"strings"
	"testing"
	"time"

	gofed "github.com/go-fed/httpsig"
	"github.com/yaronf/httpsign"

	"github.com/commonroom/commonroom/pub/httpsig"
)

// These tests check our signatures with independent implementations
// (test-only dependencies, see docs/dependencies.md): go-fed/httpsig for
// draft-cavage (the library GoToSocial signs with) and yaronf/httpsign for
// RFC 9421. Each direction is tested: theirs verifies ours, ours verifies
// theirs.

// onTheWire turns a client request into the request a server reads, through
// the bytes the transport would send.
func onTheWire(tb testing.TB, req *http.Request) (*http.Request, []byte) {
	tb.Helper()
	dump, err := httputil.DumpRequestOut(req, true)
	if err != nil {
		tb.Fatal(err)
	}
	srv, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(dump)))
	if err != nil {
		tb.Fatal(err)
	}
	body, err := io.ReadAll(srv.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return srv, body
}

func newClientRequest(tb testing.TB, method, url, body string) *http.Request {
	tb.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		tb.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/activity+json")
	}
	return req
}

type interopKey struct {
	name  string
	priv  crypto.Signer
	gofed gofed.Algorithm
}

func interopKeys(t *testing.T) []interopKey {
	_, ed, _ := ed25519.GenerateKey(nil)
	return []interopKey{
		{"rsa", mustRSAFile(t, "rsa2048.pem"), gofed.RSA_SHA256},
		{"ed25519", ed, gofed.ED25519},
	}
}

func TestInteropCavageGoFedVerifiesOurs(t *testing.T) {
	for _, k := range interopKeys(t) {
		for _, method := range []string{http.MethodPost, http.MethodGet} {
			t.Run(k.name+" "+method, func(t *testing.T) {
				s, err := httpsig.NewSigner(k.priv, testKeyID, nil)
				if err != nil {
					t.Fatal(err)
				}
				body := ""
				if method == http.MethodPost {
					body = inboxBody
				}
				req := newClientRequest(t, method, "https://remote.example/users/bob/inbox?x=1", body)
				if err := s.Sign(req, []byte(body), httpsig.Cavage); err != nil {
					t.Fatal(err)
				}
				srv, _ := onTheWire(t, req)
				v, err := gofed.NewVerifier(srv)
				if err != nil {
					t.Fatal(err)
				}
				if v.KeyId() != testKeyID {
					t.Errorf("key id %q", v.KeyId())
				}
				if err := v.Verify(k.priv.Public(), k.gofed); err != nil {
					t.Errorf("go-fed/httpsig rejects our signature: %v\n%s", err, srv.Header.Get("Signature"))
				}
				srv.URL.Path = "/users/eve/inbox" // go-fed reads URL, not RequestURI
				if v, _ := gofed.NewVerifier(srv); v.Verify(k.priv.Public(), k.gofed) == nil {
					t.Error("go-fed/httpsig accepts our signature on another path: the check is void")
				}
			})
		}
	}
}

func TestInteropCavageOursVerifiesGoFed(t *testing.T) {
	for _, k := range interopKeys(t) {
		t.Run(k.name, func(t *testing.T) {
			signer, _, err := gofed.NewSigner([]gofed.Algorithm{k.gofed}, gofed.DigestSha256,
				[]string{gofed.RequestTarget, "host", "date", "digest"}, gofed.Signature, 0)
			if err != nil {
				t.Fatal(err)
			}
			req := newClientRequest(t, http.MethodPost, "https://local.example/users/bob/inbox", inboxBody)
			req.Header.Set("Host", "local.example")
			req.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
			if err := signer.SignRequest(k.priv, testKeyID, req, []byte(inboxBody)); err != nil {
				t.Fatal(err)
			}
			srv, body := onTheWire(t, req)
			v := httpsig.NewVerifier(httpsig.Config{Scheme: "https"})
			sig, err := v.Parse(srv)
			if err != nil {
				t.Fatal(err)
			}
			res, err := v.Verify(context.Background(), sig, body, keyFor(testKeyID, k.priv.Public(), nil))
			if err != nil {
				t.Fatalf("we reject go-fed/httpsig's signature: %v\n%s", err, srv.Header.Get("Signature"))
			}
			if res.Scheme != httpsig.Cavage {
				t.Errorf("scheme %v", res.Scheme)
			}
		})
	}
}

func httpsignVerifier(t *testing.T, pub crypto.PublicKey, fields httpsign.Fields) *httpsign.Verifier {
	t.Helper()
	cfg := httpsign.NewVerifyConfig().SetKeyID(testKeyID).SetNotOlderThan(time.Minute)
	var v *httpsign.Verifier
	var err error
	switch k := pub.(type) {
	case ed25519.PublicKey:
		v, err = httpsign.NewEd25519Verifier(k, cfg, fields)
	case *rsa.PublicKey:
		v, err = httpsign.NewRSAVerifier(*k, cfg, fields)
	default:
		t.Fatalf("key type %T", pub)
	}
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestInterop9421HttpsignVerifiesOurs(t *testing.T) {
	for _, k := range interopKeys(t) {
		for _, method := range []string{http.MethodPost, http.MethodGet} {
			t.Run(k.name+" "+method, func(t *testing.T) {
				s, err := httpsig.NewSigner(k.priv, testKeyID, nil)
				if err != nil {
					t.Fatal(err)
				}
				body := ""
				fields := httpsign.Headers("@method", "@target-uri")
				if method == http.MethodPost {
					body = inboxBody
					fields = httpsign.Headers("@method", "@target-uri", "content-digest")
				}
				req := newClientRequest(t, method, "https://remote.example/users/bob/inbox?x=1", body)
				if err := s.Sign(req, []byte(body), httpsig.RFC9421); err != nil {
					t.Fatal(err)
				}
				v := httpsignVerifier(t, k.priv.Public(), fields)
				if err := httpsign.VerifyRequest("sig1", *v, req); err != nil {
					t.Errorf("yaronf/httpsign rejects our signature: %v\n%s\n%s", err, req.Header.Get("Signature-Input"), req.Header.Get("Signature"))
				}
				if method == http.MethodPost {
					rc := io.NopCloser(strings.NewReader(body))
					if err := httpsign.ValidateContentDigestHeader(req.Header.Values("Content-Digest"), &rc, []string{httpsign.DigestSha256}); err != nil {
						t.Errorf("yaronf/httpsign rejects our Content-Digest: %v", err)
					}
				}
				req.URL.Path = "/users/eve/inbox"
				if httpsign.VerifyRequest("sig1", *v, req) == nil {
					t.Error("yaronf/httpsign accepts our signature on another path: the check is void")
				}
			})
		}
	}
}

func TestInterop9421OursVerifiesHttpsign(t *testing.T) {
	for _, k := range interopKeys(t) {
		t.Run(k.name, func(t *testing.T) {
			cfg := httpsign.NewSignConfig().SetKeyID(testKeyID)
			fields := httpsign.Headers("@method", "@target-uri", "content-digest")
			var signer *httpsign.Signer
			var err error
			switch p := k.priv.(type) {
			case ed25519.PrivateKey:
				signer, err = httpsign.NewEd25519Signer(p, cfg, fields)
			case *rsa.PrivateKey:
				signer, err = httpsign.NewRSASigner(*p, cfg, fields)
			}
			if err != nil {
				t.Fatal(err)
			}
			req := newClientRequest(t, http.MethodPost, "https://local.example/users/bob/inbox", inboxBody)
			rc := io.NopCloser(strings.NewReader(inboxBody))
			cd, err := httpsign.GenerateContentDigestHeader(&rc, []string{httpsign.DigestSha256})
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Digest", cd)
			input, sig, err := httpsign.SignRequest("sig1", *signer, req)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Signature-Input", input)
			req.Header.Set("Signature", sig)
			srv, body := onTheWire(t, req)
			v := httpsig.NewVerifier(httpsig.Config{Scheme: "https"})
			parsed, err := v.Parse(srv)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.Verify(context.Background(), parsed, body, keyFor(testKeyID, k.priv.Public(), nil)); err != nil {
				t.Fatalf("we reject yaronf/httpsign's signature: %v\n%s\n%s", err, input, parsed.Base())
			}
		})
	}
}
