package httpsig

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Signer signs outgoing requests with one key. It is immutable after
// [NewSigner] and safe for concurrent use as long as its crypto.Signer is
// (the standard library's RSA and Ed25519 keys are).
type Signer struct {
	key   crypto.Signer
	keyID string
	now   func() time.Time
	rsa   bool
}

// NewSigner returns a Signer for key (an *rsa.PrivateKey, ed25519.PrivateKey
// or any crypto.Signer whose Public is an *rsa.PublicKey or
// ed25519.PublicKey) published under keyID. now is the clock; nil means
// time.Now.
func NewSigner(key crypto.Signer, keyID string, now func() time.Time) (*Signer, error) {
	if key == nil || keyID == "" {
		return nil, fmt.Errorf("httpsig: NewSigner needs a key and a key id")
	}
	if !validString(keyID) {
		return nil, fmt.Errorf("httpsig: key id %q has characters a header cannot carry", keyID)
	}
	s := &Signer{key: key, keyID: keyID, now: now}
	if s.now == nil {
		s.now = time.Now
	}
	switch pub := key.Public().(type) {
	case *rsa.PublicKey:
		s.rsa = true
	case ed25519.PublicKey:
	default:
		return nil, fmt.Errorf("%w: cannot sign with a %T key", ErrUnsupportedAlgorithm, pub)
	}
	return s, nil
}

// KeyID returns the key id the Signer writes into signatures.
func (s *Signer) KeyID() string { return s.keyID }

// Sign signs req under scheme, adding headers to req.Header and leaving every
// other header as it is:
//
//   - draft-cavage: Date (now), Digest (SHA-256 of body) on any method other
//     than GET and HEAD, and Signature covering "(request-target) host date"
//     plus "digest" when there is one. RSA keys sign "rsa-sha256" (as
//     Mastodon does), Ed25519 keys "hs2019".
//   - RFC 9421: Content-Digest (SHA-256 of body) on any method other than GET
//     and HEAD, and Signature-Input/Signature labelled "sig1" covering
//     "@method" "@target-uri" (plus "content-digest") with created, keyid and
//     alg ("rsa-v1_5-sha256" or "ed25519").
//
// body must be the exact bytes that will be sent. Sign does not read
// req.Body; when req.Body is nil and body is not empty, it sets req.Body,
// req.GetBody and req.ContentLength from body. req.URL must be absolute; the
// Host signed is req.Host, or req.URL.Host when that is empty.
func (s *Signer) Sign(req *http.Request, body []byte, scheme Scheme) error {
	if req.URL == nil || req.URL.Host == "" && req.Host == "" {
		return fmt.Errorf("httpsig: sign: request has no host")
	}
	if req.Header == nil {
		req.Header = make(http.Header)
	}
	if req.Body == nil && len(body) > 0 {
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		req.ContentLength = int64(len(body))
	}
	m := newMessage(req, "")
	now := s.now()
	switch scheme {
	case Cavage:
		return s.signCavage(req, &m, body, now)
	case RFC9421:
		return s.sign9421(req, &m, body, now)
	}
	return fmt.Errorf("httpsig: sign: unknown scheme %v", scheme)
}

func (s *Signer) signCavage(req *http.Request, m *message, body []byte, now time.Time) error {
	// A request signed before under RFC 9421 (a retry with the other
	// scheme) must not keep its Signature-Input, or it would be read as
	// RFC 9421.
	req.Header.Del("Signature-Input")
	req.Header.Set("Date", now.UTC().Format(http.TimeFormat))
	headers := []string{"(request-target)", "host", "date"}
	if bodyMethod(m.method) || len(body) > 0 {
		req.Header.Set("Digest", DigestHeader(body))
		headers = append(headers, "digest")
	}
	p := cavageParams{headers: headers}
	base, err := cavageBase(m, &p)
	if err != nil {
		return fmt.Errorf("httpsig: sign: %w", err)
	}
	sig, err := s.sign([]byte(base))
	if err != nil {
		return err
	}
	alg := "hs2019"
	if s.rsa {
		alg = "rsa-sha256"
	}
	req.Header.Set("Signature", formatCavage(s.keyID, alg, headers, base64.StdEncoding.EncodeToString(sig)))
	return nil
}

// component returns a covered-component identifier without parameters.
func component(name string) sfItem { return sfItem{val: bareItem{kind: kindString, s: name}} }

func (s *Signer) sign9421(req *http.Request, m *message, body []byte, now time.Time) error {
	comps := []sfItem{component("@method"), component("@target-uri")}
	if bodyMethod(m.method) || len(body) > 0 {
		req.Header.Set("Content-Digest", ContentDigestHeader(body))
		comps = append(comps, component("content-digest"))
	}
	alg := Ed25519
	if s.rsa {
		alg = RSAv15SHA256
	}
	p := sig9421{
		components: comps,
		params: []sfParam{
			{key: "created", val: bareItem{kind: kindInteger, i: now.Unix()}},
			{key: "keyid", val: bareItem{kind: kindString, s: s.keyID}},
			{key: "alg", val: bareItem{kind: kindString, s: alg}},
		},
	}
	base, err := base9421(m, &p)
	if err != nil {
		return fmt.Errorf("httpsig: sign: %w", err)
	}
	sig, err := s.sign([]byte(base))
	if err != nil {
		return err
	}
	input := make([]byte, 0, 160)
	input = append(input, "sig1="...)
	input = appendInnerList(input, p.components, p.params)
	req.Header.Set("Signature-Input", string(input))
	req.Header.Set("Signature", "sig1=:"+base64.StdEncoding.EncodeToString(sig)+":")
	return nil
}

// sign signs msg: RSASSA-PKCS1-v1_5 over SHA-256 for RSA keys, pure Ed25519
// otherwise.
func (s *Signer) sign(msg []byte) ([]byte, error) {
	var (
		sig []byte
		err error
	)
	if s.rsa {
		sum := sha256.Sum256(msg)
		sig, err = s.key.Sign(rand.Reader, sum[:], crypto.SHA256)
	} else {
		sig, err = s.key.Sign(rand.Reader, msg, crypto.Hash(0))
	}
	if err != nil {
		return nil, fmt.Errorf("httpsig: sign with key %q: %w", s.keyID, err)
	}
	return sig, nil
}
