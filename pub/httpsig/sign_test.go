package httpsig_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/commonroom/commonroom/pub/httpsig"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// rfcEd25519Key is RFC 9421's test-key-ed25519 private key.
func rfcEd25519Key(tb testing.TB) ed25519.PrivateKey {
	tb.Helper()
	block, _ := pem.Decode([]byte(testKeyEd25519Private))
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		tb.Fatal(err)
	}
	return k.(ed25519.PrivateKey)
}

// TestSignGolden signs fixed requests with fixed keys at a frozen time and
// compares every header written with testdata/golden (go test -update
// rewrites them). RSASSA-PKCS1-v1_5 and Ed25519 are deterministic, so the
// signature values themselves are pinned.
func TestSignGolden(t *testing.T) {
	frozen := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	keys := map[string]crypto.Signer{"rsa": mustRSAFile(t, "rsa2048.pem"), "ed25519": rfcEd25519Key(t)}
	for _, keyName := range []string{"rsa", "ed25519"} {
		for _, scheme := range []httpsig.Scheme{httpsig.Cavage, httpsig.RFC9421} {
			for _, method := range []string{http.MethodPost, http.MethodGet} {
				name := fmt.Sprintf("%s-%s-%s", keyName, scheme, strings.ToLower(method))
				t.Run(name, func(t *testing.T) {
					s, err := httpsig.NewSigner(keys[keyName], "https://local.example/users/alice#main-key", fixedClock(frozen))
					if err != nil {
						t.Fatal(err)
					}
					body := ""
					if method == http.MethodPost {
						body = inboxBody
					}
					req := newClientRequest(t, method, "https://remote.example/users/bob/inbox", body)
					if err := s.Sign(req, []byte(body), scheme); err != nil {
						t.Fatal(err)
					}
					var lines []string
					for _, h := range []string{"Date", "Digest", "Content-Digest", "Signature-Input", "Signature"} {
						if v := req.Header.Get(h); v != "" {
							lines = append(lines, h+": "+v)
						}
					}
					got := strings.Join(lines, "\n") + "\n"
					path := filepath.Join("testdata", "golden", name+".txt")
					if *update {
						if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
							t.Fatal(err)
						}
						if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
							t.Fatal(err)
						}
					}
					want, err := os.ReadFile(path)
					if err != nil {
						t.Fatalf("%v (run go test -update once)", err)
					}
					if got != string(want) {
						t.Errorf("headers:\n%s\nwant:\n%s", got, want)
					}
				})
			}
		}
	}
}

var (
	cavageHeadersRE = regexp.MustCompile(`headers="([^"]*)"`)
	cavageSigRE     = regexp.MustCompile(`signature="([^"]*)"`)
	createdRE       = regexp.MustCompile(`;created=(\d+)`)
)

// TestSecurity29_OutgoingSignatures: every outgoing draft-cavage POST signs
// "(request-target) host date digest", with Digest the SHA-256 of the exact
// bytes sent and Date within 5 s of now; every GET signs "(request-target)
// host date"; an RFC 9421 POST covers @method, @target-uri, content-digest
// and created. The signature is checked here against a signing string built
// by hand, and by our Verifier at the receiving end of the wire.
func TestSecurity29_OutgoingSignatures(t *testing.T) {
	rsaKey := mustRSAFile(t, "rsa2048.pem")
	_, edKey, _ := ed25519.GenerateKey(nil)
	body := inboxBody + "\n" // the exact bytes, trailing newline included
	for _, key := range []crypto.Signer{rsaKey, edKey} {
		for _, method := range []string{http.MethodPost, http.MethodGet} {
			for _, scheme := range []httpsig.Scheme{httpsig.Cavage, httpsig.RFC9421} {
				t.Run(fmt.Sprintf("%T %s %s", key, method, scheme), func(t *testing.T) {
					s, err := httpsig.NewSigner(key, testKeyID, nil) // the real clock
					if err != nil {
						t.Fatal(err)
					}
					sent := ""
					if method == http.MethodPost {
						sent = body
					}
					req, err := http.NewRequest(method, "https://remote.example:8443/users/bob/inbox?page=1", nil)
					if err != nil {
						t.Fatal(err)
					}
					if err := s.Sign(req, []byte(sent), scheme); err != nil {
						t.Fatal(err)
					}
					if sent != "" {
						got, _ := io.ReadAll(req.Body)
						if string(got) != sent || req.ContentLength != int64(len(sent)) {
							t.Fatalf("request body %q (length %d), want the signed bytes", got, req.ContentLength)
						}
						if req.Body, err = req.GetBody(); err != nil {
							t.Fatal(err)
						}
					}
					now := time.Now()
					if scheme == httpsig.Cavage {
						checkCavageOutgoing(t, req, key.Public(), method, sent, now)
					} else {
						check9421Outgoing(t, req, method, sent, now)
					}
					// And the receiving end accepts it.
					srv, gotBody := onTheWire(t, req)
					v := httpsig.NewVerifier(httpsig.Config{Scheme: "https"})
					sig, err := v.Parse(srv)
					if err != nil {
						t.Fatal(err)
					}
					if _, err := v.Verify(t.Context(), sig, gotBody, keyFor(testKeyID, key.Public(), nil)); err != nil {
						t.Fatalf("our own verifier rejects it: %v", err)
					}
				})
			}
		}
	}
}

func checkCavageOutgoing(t *testing.T, req *http.Request, pub crypto.PublicKey, method, body string, now time.Time) {
	t.Helper()
	date, err := http.ParseTime(req.Header.Get("Date"))
	if err != nil {
		t.Fatalf("Date %q: %v", req.Header.Get("Date"), err)
	}
	if d := now.Sub(date); d < -5*time.Second || d > 5*time.Second {
		t.Errorf("Date %v is %v from now", date, d)
	}
	sigHeader := req.Header.Get("Signature")
	m := cavageHeadersRE.FindStringSubmatch(sigHeader)
	if m == nil {
		t.Fatalf("no headers in %q", sigHeader)
	}
	lines := []string{
		"(request-target): " + strings.ToLower(method) + " /users/bob/inbox?page=1",
		"host: remote.example:8443",
		"date: " + req.Header.Get("Date"),
	}
	want := "(request-target) host date"
	if method == http.MethodPost {
		want += " digest"
		if got := req.Header.Get("Digest"); got != sha256Digest(body) {
			t.Errorf("Digest %q, want %q", got, sha256Digest(body))
		}
		lines = append(lines, "digest: "+sha256Digest(body))
	} else if req.Header.Get("Digest") != "" {
		t.Errorf("GET carries a Digest")
	}
	if m[1] != want {
		t.Errorf("headers=%q, want %q", m[1], want)
	}
	raw, err := base64.StdEncoding.DecodeString(cavageSigRE.FindStringSubmatch(sigHeader)[1])
	if err != nil {
		t.Fatal(err)
	}
	base := strings.Join(lines, "\n")
	switch k := pub.(type) {
	case *rsa.PublicKey:
		sum := sha256.Sum256([]byte(base))
		err = rsa.VerifyPKCS1v15(k, crypto.SHA256, sum[:], raw)
		if !strings.Contains(sigHeader, `algorithm="rsa-sha256"`) {
			t.Errorf("RSA signature does not say rsa-sha256: %s", sigHeader)
		}
	case ed25519.PublicKey:
		if !ed25519.Verify(k, []byte(base), raw) {
			err = fmt.Errorf("ed25519 verification failed")
		}
	}
	if err != nil {
		t.Errorf("signature over the hand-built string: %v", err)
	}
}

func check9421Outgoing(t *testing.T, req *http.Request, method, body string, now time.Time) {
	t.Helper()
	input := req.Header.Get("Signature-Input")
	wantComps := `sig1=("@method" "@target-uri")`
	if method == http.MethodPost {
		wantComps = `sig1=("@method" "@target-uri" "content-digest")`
		if got := req.Header.Get("Content-Digest"); got != sha256ContentDigest(body) {
			t.Errorf("Content-Digest %q, want %q", got, sha256ContentDigest(body))
		}
	}
	if !strings.HasPrefix(input, wantComps+";") {
		t.Errorf("Signature-Input %q, want it to start %s", input, wantComps)
	}
	if !strings.Contains(input, `;keyid="`+testKeyID+`"`) {
		t.Errorf("Signature-Input %q has no keyid", input)
	}
	m := createdRE.FindStringSubmatch(input)
	if m == nil {
		t.Fatalf("no created in %q", input)
	}
	created, _ := strconv.ParseInt(m[1], 10, 64)
	if d := now.Unix() - created; d < -5 || d > 5 {
		t.Errorf("created is %d s from now", d)
	}
	if !slices.Contains([]string{"sig1"}, strings.SplitN(req.Header.Get("Signature"), "=", 2)[0]) {
		t.Errorf("Signature %q", req.Header.Get("Signature"))
	}
}

func TestNewSignerErrors(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsaKey := mustRSAFile(t, "rsa2048.pem")
	tests := []struct {
		name  string
		key   crypto.Signer
		keyID string
	}{
		{"nil key", nil, testKeyID},
		{"empty key id", rsaKey, ""},
		{"key id with a newline", rsaKey, "https://a.example/k\nX-Evil: 1"},
		{"ECDSA key", ec, testKeyID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := httpsig.NewSigner(tt.key, tt.keyID, nil); err == nil {
				t.Error("want an error")
			}
		})
	}
	s, err := httpsig.NewSigner(rsaKey, testKeyID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.KeyID() != testKeyID {
		t.Errorf("KeyID %q", s.KeyID())
	}
	req := &http.Request{Method: http.MethodGet, Header: http.Header{}}
	if err := s.Sign(req, nil, httpsig.Cavage); err == nil {
		t.Error("signing a request without a URL: want an error")
	}
	req = newClientRequest(t, http.MethodGet, "https://remote.example/", "")
	if err := s.Sign(req, nil, httpsig.Scheme(9)); err == nil {
		t.Error("unknown scheme: want an error")
	}
}

// TestSignRetryWithOtherScheme: a request signed under RFC 9421 and then,
// after the host refused it, under draft-cavage, is read as draft-cavage.
func TestSignRetryWithOtherScheme(t *testing.T) {
	key := mustRSAFile(t, "rsa2048.pem")
	s, err := httpsig.NewSigner(key, testKeyID, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, order := range [][2]httpsig.Scheme{{httpsig.RFC9421, httpsig.Cavage}, {httpsig.Cavage, httpsig.RFC9421}} {
		req := newClientRequest(t, http.MethodPost, "https://remote.example/users/bob/inbox", "")
		for _, scheme := range order {
			req.Body = nil
			if err := s.Sign(req, []byte(inboxBody), scheme); err != nil {
				t.Fatal(err)
			}
		}
		srv, body := onTheWire(t, req)
		v := httpsig.NewVerifier(httpsig.Config{Scheme: "https"})
		sig, err := v.Parse(srv)
		if err != nil {
			t.Fatal(err)
		}
		if sig.Scheme != order[1] {
			t.Errorf("signed %v then %v, read as %v", order[0], order[1], sig.Scheme)
		}
		if _, err := v.Verify(t.Context(), sig, body, keyFor(testKeyID, &key.PublicKey, nil)); err != nil {
			t.Errorf("signed %v then %v: %v", order[0], order[1], err)
		}
	}
}
