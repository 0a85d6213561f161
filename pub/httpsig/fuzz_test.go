package httpsig_test

import (
	"context"
	"crypto"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/commonroom/commonroom/pub/httpsig"
)

// The fuzz targets feed hostile header values to the parsers through Parse
// and Verify. They check that nothing panics, that every failure is one of
// the package's classified errors, and that a header cannot make parsing
// expensive (its size is capped before any work).

var fuzzNow = time.Unix(1618884473, 0)

func fuzzRequest(h map[string]string) *http.Request {
	req := &http.Request{
		Method: http.MethodPost, Host: "example.com", RequestURI: "/foo?param=Value&Pet=dog",
		Header: http.Header{}, ContentLength: 18,
	}
	req.Header.Set("Date", "Tue, 20 Apr 2021 02:07:55 GMT")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Digest", "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=")
	req.Header.Set("Content-Digest", "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:")
	for k, v := range h {
		req.Header.Set(k, v)
	}
	return req
}

var classified = []error{
	httpsig.ErrMissingSignature, httpsig.ErrMalformed, httpsig.ErrUnsupportedAlgorithm,
	httpsig.ErrWeakSignature, httpsig.ErrDigest, httpsig.ErrTimeWindow, httpsig.ErrKeyLookup,
	httpsig.ErrWeakKey, httpsig.ErrBadSignature,
}

func checkClassified(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, c := range classified {
		if errors.Is(err, c) {
			return
		}
	}
	t.Fatalf("unclassified error: %v", err)
}

func fuzzVerify(t *testing.T, req *http.Request) {
	v := httpsig.NewVerifier(httpsig.Config{Now: fixedClock(fuzzNow), MinRSABits: 1024})
	sig, err := v.Parse(req)
	checkClassified(t, err)
	if err != nil {
		return
	}
	if sig.KeyID == "" {
		t.Fatal("parsed signature without a key id")
	}
	pub := mustPublic(t, testKeyEd25519Public)
	_, err = v.Verify(context.Background(), sig, []byte(`{"hello": "world"}`), func(context.Context, string) (crypto.PublicKey, error) { return pub, nil })
	checkClassified(t, err)
}

func FuzzCavageSignature(f *testing.F) {
	f.Add(`keyId="Test",algorithm="rsa-sha256",headers="(request-target) host date digest",signature="qdx+H7PHHDZgy4y/Ahn9Tny9V3GP6YgBPyUXMmoxWtLbHpUnXS2mg2+SbrQDMCJypxBLSPQR2aAjn7ndmw2iicw3HMbe8VfEdKFYRqzic+efkb3nndiv/x1xSHDJWeSWkx3ButlYSuBskLu6kd9Fswtemr3lgdDEmn04swr2Os0="`)
	f.Add(`keyId="k",algorithm="hs2019",created=1618884473,expires=1618884480,headers="(request-target) (created) (expires) host digest",signature="AAAA"`)
	f.Add(`keyId="a\"b",signature="",headers=""`)
	f.Add(`keyId=,,,=,"`)
	f.Add(`KEYID="x", Signature="AAAA", headers="(request-target) host (created) digest", created=99999999999999999999`)
	f.Fuzz(func(t *testing.T, header string) {
		fuzzVerify(t, fuzzRequest(map[string]string{"Signature": header}))
		fuzzVerify(t, fuzzRequest(map[string]string{"Authorization": "Signature " + header}))
	})
}

func FuzzRFC9421Headers(f *testing.F) {
	f.Add(`sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"`,
		`sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:`)
	f.Add(`sig1=("@method" "@target-uri" "content-digest");created=1618884473;keyid="k";alg="ed25519";expires=1618884500`, `sig1=:AAAA:`)
	f.Add(`sig1=("@query-param";name="Pet" "@authority");created=-1;keyid="k";tag="t";nonce="n"`, `sig1=:AAAA:, sig2=:BBBB:`)
	f.Add(`a=(), b=?0;x=1.5;y=-0.001, c=tok/en:x, *d=("x";sf;bs;key="m")`, `a=:AAAA:;p="q"`)
	f.Add(`sig1=("@method"  "@path");created=1;keyid="k",`, `sig1=:%%%:`)
	f.Add(`sig1=("a" "a");keyid="k";created=123456789012345678`, `sig1=:=:`)
	f.Fuzz(func(t *testing.T, input, signature string) {
		fuzzVerify(t, fuzzRequest(map[string]string{"Signature-Input": input, "Signature": signature}))
	})
}

func FuzzContentDigest(f *testing.F) {
	f.Add(`sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:`)
	f.Add(`sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:, md5=:AAAA:`)
	f.Add(`sha-256="x", sha-256=:`)
	f.Fuzz(func(t *testing.T, digest string) {
		// A signature over a fixed base cannot verify, but the digest is
		// checked first and must fail or pass cleanly.
		req := fuzzRequest(map[string]string{
			"Content-Digest":  digest,
			"Signature-Input": `sig1=("@method" "@target-uri" "content-digest");created=1618884473;keyid="k"`,
			"Signature":       `sig1=:AAAA:`,
		})
		fuzzVerify(t, req)
	})
}

// TestHugeHeadersRefused: oversized signature headers, or too many covered
// components, are refused before any base is built.
func TestHugeHeadersRefused(t *testing.T) {
	huge := strings.Repeat("a", 1<<20)
	v := httpsig.NewVerifier(httpsig.Config{Now: fixedClock(fuzzNow)})
	for _, h := range []map[string]string{
		{"Signature": `keyId="` + huge + `"`},
		{"Signature-Input": `sig1=("` + huge + `");keyid="k"`, "Signature": "sig1=:AAAA:"},
		{"Signature-Input": `sig1=();keyid="k"`, "Signature": "sig1=:" + huge + ":"},
		{"Signature-Input": "sig1=(" + strings.Repeat(`"a" `, 1000) + `);keyid="k"`, "Signature": "sig1=:AAAA:"},
		{"Signature": `keyId="k",signature="AAAA",headers="` + strings.Repeat("date ", 40) + `"`},
		{"Signature": `keyId="k",signature="AAAA",headers="date date"`},
		{"Signature": `keyId="k",signature="AAAA",headers="x-big date"`, "X-Big": strings.Repeat("b", 100<<10)},
		{"Signature-Input": `sig1=("x-big");keyid="k"`, "Signature": "sig1=:AAAA:", "X-Big": strings.Repeat("b", 100<<10)},
	} {
		if _, err := v.Parse(fuzzRequest(h)); !errors.Is(err, httpsig.ErrMalformed) {
			t.Errorf("got %v, want ErrMalformed", err)
		}
	}
}

// FuzzPublicKeys feeds remote key material (publicKeyPem and
// publicKeyMultibase values) to the key parsers: no panics, errors wrap
// ErrKeyFormat, and whatever parses re-encodes to the same key.
func FuzzPublicKeys(f *testing.F) {
	f.Add(testKeyRSAPublic)
	f.Add(testKeyEd25519Public)
	f.Add("z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp")
	f.Add("z111")
	f.Fuzz(func(t *testing.T, s string) {
		for _, parse := range []func(string) (crypto.PublicKey, error){httpsig.ParsePublicKeyPEM, httpsig.ParseMultikey} {
			k, err := parse(s)
			if err != nil {
				if !errors.Is(err, httpsig.ErrKeyFormat) {
					t.Fatalf("unclassified error: %v", err)
				}
				continue
			}
			for _, enc := range []func(crypto.PublicKey) (string, error){httpsig.EncodePublicKeyPEM, httpsig.EncodeMultikey} {
				text, err := enc(k)
				if err != nil {
					t.Fatalf("encode %T: %v", k, err)
				}
				back, err := httpsig.ParsePublicKeyPEM(text)
				if strings.HasPrefix(text, "z") {
					back, err = httpsig.ParseMultikey(text)
				}
				if err != nil || !back.(interface{ Equal(crypto.PublicKey) bool }).Equal(k) {
					t.Fatalf("round trip of %T failed: %v", k, err)
				}
			}
		}
	})
}

// FuzzAcceptSignature: the Accept-Signature reader never panics.
func FuzzAcceptSignature(f *testing.F) {
	f.Add(`sig1=("@method" "@target-uri" "content-digest");keyid="k"`)
	f.Add(`a, b=?0, c=(1 2.5 "x" tok :AA==:);p`)
	f.Fuzz(func(t *testing.T, v string) {
		_ = httpsig.AdvertisesRFC9421(http.Header{"Accept-Signature": {v}})
	})
}
