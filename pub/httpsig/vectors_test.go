package httpsig_test

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/commonroom/commonroom/pub/httpsig"
)

// The RFC 9421 Appendix B.2 test request, with the signature headers added
// by each example.
const rfc9421Request = `POST /foo?param=Value&Pet=dog HTTP/1.1
Host: example.com
Date: Tue, 20 Apr 2021 02:07:55 GMT
Content-Type: application/json
Content-Digest: sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:
Content-Length: 18
%s

{"hello": "world"}`

func rfc9421With(sigHeaders string) string {
	return strings.Replace(rfc9421Request, "%s", sigHeaders, 1)
}

// TestRFC9421AppendixB verifies the published signatures of RFC 9421
// Appendix B.2 (and the rsa-v1_5-sha256 proxy signature of section 4.3) with
// the published keys. Their requests carry a sha-512 Content-Digest and most
// do not cover it, so only the cryptographic check is exercised here; the
// strength and digest rules are tested apart.
func TestRFC9421AppendixB(t *testing.T) {
	tests := []struct {
		name       string
		raw        string
		key        string
		wantAlg    string
		wantLabel  string
		wantBase   string // checked when set
		components []string
	}{
		{
			name: "B.2.1 minimal rsa-pss-sha512",
			raw: rfc9421With(`Signature-Input: sig-b21=();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd"
Signature: sig-b21=:d2pmTvmbncD3xQm8E9ZV2828BjQWGgiwAaw5bAkgibUopemLJcWDy/lkbbHAve4cRAtx31Iq786U7it++wgGxbtRxf8Udx7zFZsckzXaJMkA7ChG52eSkFxykJeNqsrWH5S+oxNFlD4dzVuwe8DhTSja8xxbR/Z2cOGdCbzR72rgFWhzx2VjBqJzsPLMIQKhO4DGezXehhWwE56YCE+O6c0mKZsfxVrogUvA4HELjVKWmAvtl6UnCh8jYzuVG5WSb/QEVPnP5TmcAnLH1g+s++v6d4s8m0gCw1fV5/SITLq9mhho8K3+7EPYTU8IU1bLhdxO5Nyt8C8ssinQ98Xw9Q==:`),
			key:       testKeyRSAPSSPublic,
			wantAlg:   httpsig.RSAPSSSHA512,
			wantLabel: "sig-b21",
			wantBase:  `"@signature-params": ();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd"`,
		},
		{
			name: "B.2.2 selective rsa-pss-sha512 with @query-param",
			raw: rfc9421With(`Signature-Input: sig-b22=("@authority" "content-digest" "@query-param";name="Pet");created=1618884473;keyid="test-key-rsa-pss";tag="header-example"
Signature: sig-b22=:LjbtqUbfmvjj5C5kr1Ugj4PmLYvx9wVjZvD9GsTT4F7GrcQEdJzgI9qHxICagShLRiLMlAJjtq6N4CDfKtjvuJyE5qH7KT8UCMkSowOB4+ECxCmT8rtAmj/0PIXxi0A0nxKyB09RNrCQibbUjsLS/2YyFYXEu4TRJQzRw1rLEuEfY17SARYhpTlaqwZVtR8NV7+4UKkjqpcAoFqWFQh62s7Cl+H2fjBSpqfZUJcsIk4N6wiKYd4je2U/lankenQ99PZfB4jY3I5rSV2DSBVkSFsURIjYErOs0tFTQosMTAoxk//0RoKUqiYY8Bh0aaUEb0rQl3/XaVe4bXTugEjHSw==:`),
			key:       testKeyRSAPSSPublic,
			wantAlg:   httpsig.RSAPSSSHA512,
			wantLabel: "sig-b22",
			wantBase: `"@authority": example.com
"content-digest": sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:
"@query-param";name="Pet": dog
"@signature-params": ("@authority" "content-digest" "@query-param";name="Pet");created=1618884473;keyid="test-key-rsa-pss";tag="header-example"`,
		},
		{
			name: "B.2.3 full coverage rsa-pss-sha512",
			raw: rfc9421With(`Signature-Input: sig-b23=("date" "@method" "@path" "@query" "@authority" "content-type" "content-digest" "content-length");created=1618884473;keyid="test-key-rsa-pss"
Signature: sig-b23=:bbN8oArOxYoyylQQUU6QYwrTuaxLwjAC9fbY2F6SVWvh0yBiMIRGOnMYwZ/5MR6fb0Kh1rIRASVxFkeGt683+qRpRRU5p2voTp768ZrCUb38K0fUxN0O0iC59DzYx8DFll5GmydPxSmme9v6ULbMFkl+V5B1TP/yPViV7KsLNmvKiLJH1pFkh/aYA2HXXZzNBXmIkoQoLd7YfW91kE9o/CCoC1xMy7JA1ipwvKvfrs65ldmlu9bpG6A9BmzhuzF8Eim5f8ui9eH8LZH896+QIF61ka39VBrohr9iyMUJpvRX2Zbhl5ZJzSRxpJyoEZAFL2FUo5fTIztsDZKEgM4cUA==:`),
			key:       testKeyRSAPSSPublic,
			wantAlg:   httpsig.RSAPSSSHA512,
			wantLabel: "sig-b23",
			wantBase: `"date": Tue, 20 Apr 2021 02:07:55 GMT
"@method": POST
"@path": /foo
"@query": ?param=Value&Pet=dog
"@authority": example.com
"content-type": application/json
"content-digest": sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:
"content-length": 18
"@signature-params": ("date" "@method" "@path" "@query" "@authority" "content-type" "content-digest" "content-length");created=1618884473;keyid="test-key-rsa-pss"`,
		},
		{
			name: "B.2.6 ed25519",
			raw: rfc9421With(`Signature-Input: sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"
Signature: sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:`),
			key:       testKeyEd25519Public,
			wantAlg:   httpsig.Ed25519,
			wantLabel: "sig-b26",
			wantBase: `"date": Tue, 20 Apr 2021 02:07:55 GMT
"@method": POST
"@path": /foo
"@authority": example.com
"content-type": application/json
"content-length": 18
"@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"`,
		},
		{
			// Section 4.3: the proxy's rsa-v1_5-sha256 signature (the
			// first signature there uses ECDSA, which we do not verify, so
			// only the proxy's label is kept).
			name: "4.3 proxy_sig rsa-v1_5-sha256",
			raw: `POST /foo?param=Value&Pet=dog HTTP/1.1
Host: origin.host.internal.example
Date: Tue, 20 Apr 2021 02:07:56 GMT
Content-Type: application/json
Content-Length: 18
Forwarded: for=192.0.2.123;host=example.com;proto=https
Content-Digest: sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:
Signature-Input: proxy_sig=("@method" "@authority" "@path" "content-digest" "content-type" "content-length" "forwarded");created=1618884480;keyid="test-key-rsa";alg="rsa-v1_5-sha256";expires=1618884540
Signature: proxy_sig=:S6ZzPXSdAMOPjN/6KXfXWNO/f7V6cHm7BXYUh3YD/fRad4BCaRZxP+JH+8XY1I6+8Cy+CM5g92iHgxtRPz+MjniOaYmdkDcnL9cCpXJleXsOckpURl49GwiyUpZ10KHgOEe11sx3G2gxI8S0jnxQB+Pu68U9vVcasqOWAEObtNKKZd8tSFu7LB5YAv0RAGhB8tmpv7sFnIm9y+7X5kXQfi8NMaZaA8i2ZHwpBdg7a6CMfwnnrtflzvZdXAsD3LH2TwevU+/PBPv0B6NMNk93wUs/vfJvye+YuI87HU38lZHowtznbLVdp770I6VHR6WfgS9ddzirrswsE1w5o0LV/g==:

{"hello": "world"}`,
			key:       testKeyRSAPublic,
			wantAlg:   httpsig.RSAv15SHA256,
			wantLabel: "proxy_sig",
			wantBase: `"@method": POST
"@authority": origin.host.internal.example
"@path": /foo
"content-digest": sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:
"content-type": application/json
"content-length": 18
"forwarded": for=192.0.2.123;host=example.com;proto=https
"@signature-params": ("@method" "@authority" "@path" "content-digest" "content-type" "content-length" "forwarded");created=1618884480;keyid="test-key-rsa";alg="rsa-v1_5-sha256";expires=1618884540`,
		},
	}
	v := httpsig.NewVerifier(httpsig.DefaultConfig())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := mustReadRequest(t, tt.raw)
			sig, err := v.Parse(req)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if sig.Scheme != httpsig.RFC9421 || sig.Label != tt.wantLabel {
				t.Errorf("scheme %v label %q, want rfc9421 %q", sig.Scheme, sig.Label, tt.wantLabel)
			}
			if tt.wantBase != "" && sig.Base() != tt.wantBase {
				t.Errorf("base:\n%s\nwant:\n%s", sig.Base(), tt.wantBase)
			}
			alg, err := sig.VerifyKey(mustPublic(t, tt.key))
			if err != nil {
				t.Fatalf("VerifyKey: %v", err)
			}
			if alg != tt.wantAlg {
				t.Errorf("algorithm %s, want %s", alg, tt.wantAlg)
			}
			// The same signature must fail once the request is altered.
			req.Header.Set("Content-Type", "text/plain")
			req.RequestURI = "/bar?param=Value&Pet=dog"
			req.Host = "evil.example"
			if tt.name == "B.2.1 minimal rsa-pss-sha512" {
				return // covers nothing, by design of the example
			}
			sig, err = v.Parse(req)
			if err != nil {
				t.Fatalf("Parse altered: %v", err)
			}
			if _, err := sig.VerifyKey(mustPublic(t, tt.key)); !errors.Is(err, httpsig.ErrBadSignature) {
				t.Errorf("altered request: err %v, want ErrBadSignature", err)
			}
		})
	}
}

// TestRFC9421DeterministicVectors re-creates the deterministic published
// signatures (Ed25519 in B.2.6, RSASSA-PKCS1-v1_5 in section 4.3) from our
// signature bases and the published private keys, byte for byte.
func TestRFC9421DeterministicVectors(t *testing.T) {
	v := httpsig.NewVerifier(httpsig.DefaultConfig())

	req, _ := mustReadRequest(t, rfc9421With(`Signature-Input: sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"
Signature: sig-b26=:AAAA:`))
	sig, err := v.Parse(req)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode([]byte(testKeyEd25519Private))
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	got := base64.StdEncoding.EncodeToString(ed25519.Sign(k.(ed25519.PrivateKey), []byte(sig.Base())))
	if want := "wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw=="; got != want {
		t.Errorf("B.2.6 signature %s, want %s", got, want)
	}

	req, _ = mustReadRequest(t, `POST /foo?param=Value&Pet=dog HTTP/1.1
Host: origin.host.internal.example
Date: Tue, 20 Apr 2021 02:07:56 GMT
Content-Type: application/json
Content-Length: 18
Forwarded: for=192.0.2.123;host=example.com;proto=https
Content-Digest: sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:
Signature-Input: proxy_sig=("@method" "@authority" "@path" "content-digest" "content-type" "content-length" "forwarded");created=1618884480;keyid="test-key-rsa";alg="rsa-v1_5-sha256";expires=1618884540
Signature: proxy_sig=:AAAA:

{"hello": "world"}`)
	if sig, err = v.Parse(req); err != nil {
		t.Fatal(err)
	}
	rk := mustRSAPrivate(t, testKeyRSAPrivate)
	sum := sha256.Sum256([]byte(sig.Base()))
	raw, err := rsa.SignPKCS1v15(nil, rk, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	want := "S6ZzPXSdAMOPjN/6KXfXWNO/f7V6cHm7BXYUh3YD/fRad4BCaRZxP+JH+8XY1I6+8Cy+CM5g92iHgxtRPz+MjniOaYmdkDcnL9cCpXJleXsOckpURl49GwiyUpZ10KHgOEe11sx3G2gxI8S0jnxQB+Pu68U9vVcasqOWAEObtNKKZd8tSFu7LB5YAv0RAGhB8tmpv7sFnIm9y+7X5kXQfi8NMaZaA8i2ZHwpBdg7a6CMfwnnrtflzvZdXAsD3LH2TwevU+/PBPv0B6NMNk93wUs/vfJvye+YuI87HU38lZHowtznbLVdp770I6VHR6WfgS9ddzirrswsE1w5o0LV/g=="
	if got := base64.StdEncoding.EncodeToString(raw); got != want {
		t.Errorf("4.3 proxy_sig %s, want %s", got, want)
	}
}

// The draft-cavage-12 Appendix C test request.
const cavageRequest = `POST /foo?param=value&pet=dog HTTP/1.1
Host: example.com
Date: Sun, 05 Jan 2014 21:31:40 GMT
Content-Type: application/json
Digest: SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=
Content-Length: 18
%s

{"hello": "world"}`

// TestCavageAppendixC verifies the draft-cavage-12 Appendix C signatures
// (1024-bit test key), through both the Signature and the Authorization
// header, and re-creates them with our signing strings.
func TestCavageAppendixC(t *testing.T) {
	const (
		c1 = `keyId="Test",algorithm="rsa-sha256",signature="SjWJWbWN7i0wzBvtPl8rbASWz5xQW6mcJmn+ibttBqtifLN7Sazz6m79cNfwwb8DMJ5cou1s7uEGKKCs+FLEEaDV5lp7q25WqS+lavg7T8hc0GppauB6hbgEKTwblDHYGEtbGmtdHgVCk9SuS13F0hZ8FD0k/5OxEPXe5WozsbM="`
		c2 = `keyId="Test",algorithm="rsa-sha256",headers="(request-target) host date",signature="qdx+H7PHHDZgy4y/Ahn9Tny9V3GP6YgBPyUXMmoxWtLbHpUnXS2mg2+SbrQDMCJypxBLSPQR2aAjn7ndmw2iicw3HMbe8VfEdKFYRqzic+efkb3nndiv/x1xSHDJWeSWkx3ButlYSuBskLu6kd9Fswtemr3lgdDEmn04swr2Os0="`
		c3 = `keyId="Test",algorithm="rsa-sha256",headers="(request-target) host date content-type digest content-length",signature="vSdrb+dS3EceC9bcwHSo4MlyKS59iFIrhgYkz8+oVLEEzmYZZvRs8rgOp+63LEM3v+MFHB32NfpB2bEKBIvB1q52LaEUHFv120V01IL+TAD48XaERZFukWgHoBTLMhYS2Gb51gWxpeIq8knRmPnYePbF5MOkR0Zkly4zKH7s1dE="`
	)
	tests := []struct {
		name, header, wantBase string
		fullVerify             bool // passes our strength rules too
	}{
		{"C.1 default", "Signature: " + c1, "date: Sun, 05 Jan 2014 21:31:40 GMT", false},
		{"C.2 basic", "Signature: " + c2, "(request-target): post /foo?param=value&pet=dog\nhost: example.com\ndate: Sun, 05 Jan 2014 21:31:40 GMT", false},
		{"C.3 all headers", "Signature: " + c3, "(request-target): post /foo?param=value&pet=dog\nhost: example.com\ndate: Sun, 05 Jan 2014 21:31:40 GMT\ncontent-type: application/json\ndigest: SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=\ncontent-length: 18", true},
		{"C.3 in Authorization", "Authorization: Signature " + c3, "", true},
	}
	cfg := httpsig.DefaultConfig()
	cfg.MinRSABits = 1024 // the Appendix C key is 1024-bit
	cfg.Now = fixedClock(time.Date(2014, 1, 5, 21, 41, 40, 0, time.UTC))
	v := httpsig.NewVerifier(cfg)
	pub := mustPublic(t, cavageTestPublic)
	priv := mustRSAPrivate(t, cavageTestPrivate)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, body := mustReadRequest(t, strings.Replace(cavageRequest, "%s", tt.header, 1))
			sig, err := v.Parse(req)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if sig.KeyID != "Test" || sig.Scheme != httpsig.Cavage {
				t.Errorf("key %q scheme %v", sig.KeyID, sig.Scheme)
			}
			if tt.wantBase != "" && sig.Base() != tt.wantBase {
				t.Errorf("signing string:\n%s\nwant:\n%s", sig.Base(), tt.wantBase)
			}
			if alg, err := sig.VerifyKey(pub); err != nil || alg != httpsig.RSAv15SHA256 {
				t.Fatalf("VerifyKey: %s, %v", alg, err)
			}
			// RSASSA-PKCS1-v1_5 is deterministic: our string signs to the
			// published value.
			sum := sha256.Sum256([]byte(sig.Base()))
			raw, _ := rsa.SignPKCS1v15(nil, priv, crypto.SHA256, sum[:])
			if !strings.Contains(tt.header, base64.StdEncoding.EncodeToString(raw)) {
				t.Errorf("re-signed value %s not in %s", base64.StdEncoding.EncodeToString(raw), tt.header)
			}
			res, err := v.Verify(t.Context(), sig, body, keyFor("Test", pub, nil))
			if tt.fullVerify {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if !res.Created.Equal(time.Date(2014, 1, 5, 21, 31, 40, 0, time.UTC)) {
					t.Errorf("created %v", res.Created)
				}
			} else if !errors.Is(err, httpsig.ErrWeakSignature) {
				t.Errorf("Verify: %v, want ErrWeakSignature (a POST must sign digest)", err)
			}
		})
	}
}
