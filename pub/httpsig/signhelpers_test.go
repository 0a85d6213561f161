package httpsig_test

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// These helpers sign requests the way a remote server would, with signing
// strings built here independently of the package, so that tests can make
// validly signed requests that our Signer would never produce (weak,
// stale, tampered).

// rawSign signs base with key: RSASSA-PKCS1-v1_5 SHA-256 for RSA, Ed25519
// otherwise.
func rawSign(tb testing.TB, key crypto.Signer, base string) string {
	tb.Helper()
	var sig []byte
	var err error
	switch k := key.(type) {
	case *rsa.PrivateKey:
		sum := sha256.Sum256([]byte(base))
		sig, err = rsa.SignPKCS1v15(nil, k, crypto.SHA256, sum[:])
	case ed25519.PrivateKey:
		sig = ed25519.Sign(k, []byte(base))
	default:
		tb.Fatalf("unsupported key %T", key)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// cavageOpts describes a draft-cavage signature to make.
type cavageOpts struct {
	keyID     string
	algorithm string // written as is; "" leaves the parameter out
	headers   []string
	created   int64 // 0: no created parameter
	expires   int64 // 0: no expires parameter
}

// signCavageTest adds a draft-cavage Signature header to a server-side
// request (RequestURI and Host set as received).
func signCavageTest(tb testing.TB, req *http.Request, key crypto.Signer, o cavageOpts) {
	tb.Helper()
	var lines []string
	for _, h := range o.headers {
		var v string
		switch h {
		case "(request-target)":
			v = strings.ToLower(req.Method) + " " + req.RequestURI
		case "(created)":
			v = strconv.FormatInt(o.created, 10)
		case "(expires)":
			v = strconv.FormatInt(o.expires, 10)
		case "host":
			v = req.Host
		default:
			v = strings.Join(req.Header.Values(h), ", ")
		}
		lines = append(lines, h+": "+v)
	}
	sig := rawSign(tb, key, strings.Join(lines, "\n"))
	var params []string
	params = append(params, fmt.Sprintf("keyId=%q", o.keyID))
	if o.algorithm != "" {
		params = append(params, fmt.Sprintf("algorithm=%q", o.algorithm))
	}
	if o.created != 0 {
		params = append(params, fmt.Sprintf("created=%d", o.created))
	}
	if o.expires != 0 {
		params = append(params, fmt.Sprintf("expires=%d", o.expires))
	}
	params = append(params, fmt.Sprintf("headers=%q", strings.Join(o.headers, " ")), fmt.Sprintf("signature=%q", sig))
	req.Header.Set("Signature", strings.Join(params, ","))
}

// rfcOpts describes an RFC 9421 signature to make.
type rfcOpts struct {
	keyID      string
	components []string
	created    int64 // 0: no created parameter
	expires    int64 // 0: no expires parameter
	alg        string
	scheme     string // for @target-uri; "https" when empty
}

// sign9421Test adds Signature-Input and Signature (label "sig1") to a
// server-side request.
func sign9421Test(tb testing.TB, req *http.Request, key crypto.Signer, o rfcOpts) {
	tb.Helper()
	scheme := o.scheme
	if scheme == "" {
		scheme = "https"
	}
	path, query, hasQuery := strings.Cut(req.RequestURI, "?")
	var lines, quoted []string
	for _, c := range o.components {
		var v string
		switch c {
		case "@method":
			v = req.Method
		case "@target-uri":
			v = scheme + "://" + req.Host + req.RequestURI
		case "@authority":
			v = req.Host
		case "@path":
			v = path
		case "@query":
			v = "?" + query
			_ = hasQuery
		case "@request-target":
			v = req.RequestURI
		default:
			v = strings.Join(req.Header.Values(c), ", ")
		}
		lines = append(lines, fmt.Sprintf("%q: %s", c, v))
		quoted = append(quoted, strconv.Quote(c))
	}
	params := "(" + strings.Join(quoted, " ") + ")"
	if o.created != 0 {
		params += ";created=" + strconv.FormatInt(o.created, 10)
	}
	if o.expires != 0 {
		params += ";expires=" + strconv.FormatInt(o.expires, 10)
	}
	params += ";keyid=" + strconv.Quote(o.keyID)
	if o.alg != "" {
		params += ";alg=" + strconv.Quote(o.alg)
	}
	lines = append(lines, `"@signature-params": `+params)
	var sig string
	if o.alg == "rsa-pss-sha512" {
		sum := sha512.Sum512([]byte(strings.Join(lines, "\n")))
		raw, err := rsa.SignPSS(rand.Reader, key.(*rsa.PrivateKey), crypto.SHA512, sum[:], &rsa.PSSOptions{SaltLength: 64})
		if err != nil {
			tb.Fatal(err)
		}
		sig = base64.StdEncoding.EncodeToString(raw)
	} else {
		sig = rawSign(tb, key, strings.Join(lines, "\n"))
	}
	req.Header.Set("Signature-Input", "sig1="+params)
	req.Header.Set("Signature", "sig1=:"+sig+":")
}

func sha256Digest(body string) string {
	s := sha256.Sum256([]byte(body))
	return "SHA-256=" + base64.StdEncoding.EncodeToString(s[:])
}

func sha256ContentDigest(body string) string {
	s := sha256.Sum256([]byte(body))
	return "sha-256=:" + base64.StdEncoding.EncodeToString(s[:]) + ":"
}

func sha512ContentDigest(body string) string {
	s := sha512.Sum512([]byte(body))
	return "sha-512=:" + base64.StdEncoding.EncodeToString(s[:]) + ":"
}

func sha512B64(body string) string {
	s := sha512.Sum512([]byte(body))
	return base64.StdEncoding.EncodeToString(s[:])
}
