package httpsig

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Algorithm names, in RFC 9421's spelling, of the signature algorithms this
// package verifies and produces. [Result.Algorithm] is one of them whatever
// the scheme (a draft-cavage "rsa-sha256" or hs2019-with-RSA signature is
// RSAv15SHA256).
const (
	RSAv15SHA256 = "rsa-v1_5-sha256"
	RSAPSSSHA512 = "rsa-pss-sha512"
	Ed25519      = "ed25519"
)

// KeyResolver returns the public key for a key id: an *rsa.PublicKey or an
// ed25519.PublicKey. The caller owns caching and may fetch; it is called at
// most once per [Verifier.Verify] call, and only after every check that needs
// no key has passed. Its error is wrapped together with [ErrKeyLookup].
type KeyResolver func(ctx context.Context, keyID string) (crypto.PublicKey, error)

// Config tunes a [Verifier]. The zero value of each field means its default.
type Config struct {
	// Window is how far the signature's creation time (the created
	// parameter, or the signed Date header) may lie from now, either way,
	// when the signature has no expiry. Default 1 h.
	Window time.Duration
	// MaxAge is the hard cap on a signature's age, even when its expires
	// parameter is later. Default 12 h.
	MaxAge time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// MinRSABits is the smallest RSA modulus accepted. Default 2048; tests
	// with the draft-cavage Appendix C key set 1024.
	MinRSABits int
	// Scheme is the URI scheme used for "@target-uri" and "@authority" when
	// a server request does not carry one (set "https" behind a
	// TLS-terminating proxy). Default: "https" when the request arrived over
	// TLS, otherwise "http".
	Scheme string
	// SHA256Only refuses a Content-Digest whose only accepted value is
	// sha-512; by default sha-256 and sha-512 are both accepted there (RFC
	// 9530 lists both as active). A Digest (RFC 3230) always needs a
	// SHA-256 value, as Mastodon requires. Other algorithms (MD5, SHA-1,
	// unixsum...) never count.
	SHA256Only bool
}

// maxRSABits bounds the cost of one verification: a remote party chooses
// its key size, and verifying grows with it.
const maxRSABits = 8192

// DefaultConfig returns the configuration a zero Config stands for.
func DefaultConfig() Config {
	return Config{Window: time.Hour, MaxAge: 12 * time.Hour, Now: time.Now, MinRSABits: 2048}
}

// Verifier checks signed requests under either scheme. It holds no mutable
// state, so one Verifier is safe for concurrent use.
type Verifier struct {
	cfg Config
}

// NewVerifier returns a Verifier for cfg, filling zero fields with defaults.
func NewVerifier(cfg Config) *Verifier {
	d := DefaultConfig()
	if cfg.Window <= 0 {
		cfg.Window = d.Window
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = d.MaxAge
	}
	if cfg.Now == nil {
		cfg.Now = d.Now
	}
	if cfg.MinRSABits <= 0 {
		cfg.MinRSABits = d.MinRSABits
	}
	return &Verifier{cfg: cfg}
}

// Signature is a parsed, not yet verified, request signature. Its exported
// fields say who claims to have signed and what; nothing in it is trusted
// until [Verifier.Verify] succeeds. It does not refer to the request: the
// request may be discarded after [Verifier.Parse]. Its methods only read it
// and may be called concurrently.
type Signature struct {
	// KeyID is the claimed key id (keyId or keyid), for example
	// "https://example.com/users/alice#main-key". Check it against block
	// lists before resolving it.
	KeyID string
	// Scheme is the standard the signature follows.
	Scheme Scheme
	// DeclaredAlgorithm is the algorithm the header names ("rsa-sha256",
	// "hs2019", "ed25519", "rsa-v1_5-sha256"...), or "" when it names none.
	DeclaredAlgorithm string
	// Components lists what the signature covers, in order: header names and
	// pseudo-headers for draft-cavage, component names for RFC 9421.
	Components []string
	// Label is the RFC 9421 signature label ("" for draft-cavage).
	Label string
	// Nonce and Tag are the RFC 9421 nonce and tag parameters, if any.
	Nonce, Tag string

	method         string
	hasQuery       bool
	base           string
	sig            []byte
	created        time.Time // zero when the signature carries no time
	expires        time.Time // zero when none
	timeErr        error     // set when the signed Date is unparsable
	digestHeader   string    // covered Digest value, if covered
	contentDigest  string    // covered Content-Digest value, if covered
	digestCovered  bool
	cdigestCovered bool
}

// Parse reads the signature headers of req and rebuilds the signature base
// from the request as it arrived (method, path and query, Host), so that a
// signature made for another target fails later. It reads neither req.Body
// nor any key, and does no strength, time or digest check: those happen in
// Verify, before the key is resolved.
//
// A request with a Signature-Input header is read as RFC 9421 (and must
// carry Signature too); otherwise a Signature header, or an Authorization
// header with the Signature scheme, is read as draft-cavage-12. A request with none of them gives an error
// wrapping [ErrMissingSignature]; any other failure wraps [ErrMalformed] or
// [ErrUnsupportedAlgorithm].
func (v *Verifier) Parse(req *http.Request) (*Signature, error) {
	m := newMessage(req, v.cfg.Scheme)
	sigInput, hasInput, err := headerValue(req.Header, "Signature-Input")
	if err != nil {
		return nil, err
	}
	sigHeader, hasSig, err := headerValue(req.Header, "Signature")
	if err != nil {
		return nil, err
	}
	if hasInput {
		if !hasSig {
			return nil, fmt.Errorf("%w: Signature-Input without Signature", ErrMalformed)
		}
		return v.parse9421(&m, sigInput, sigHeader)
	}
	if !hasSig {
		auth := req.Header.Get("Authorization")
		if len(auth) > 10 && strings.EqualFold(auth[:10], "Signature ") {
			sigHeader, hasSig = auth[10:], true
		}
	}
	if !hasSig {
		return nil, ErrMissingSignature
	}
	return v.parseCavage(&m, sigHeader)
}

func (v *Verifier) parseCavage(m *message, header string) (*Signature, error) {
	p, err := parseCavage(header)
	if err != nil {
		return nil, err
	}
	switch p.algorithm {
	case "", "hs2019":
	case "rsa-sha256", "ed25519":
		if slices.Contains(p.headers, "(created)") || slices.Contains(p.headers, "(expires)") {
			return nil, fmt.Errorf("%w: (created) and (expires) need algorithm hs2019, not %s", ErrMalformed, p.algorithm)
		}
	default:
		return nil, fmt.Errorf("%w: draft-cavage algorithm %q", ErrUnsupportedAlgorithm, p.algorithm)
	}
	sig, err := base64.StdEncoding.DecodeString(p.signature)
	if err != nil {
		return nil, fmt.Errorf("%w: signature is not base64: %w", ErrMalformed, err)
	}
	base, err := cavageBase(m, &p)
	if err != nil {
		return nil, err
	}
	s := &Signature{
		KeyID:             p.keyID,
		Scheme:            Cavage,
		DeclaredAlgorithm: p.algorithm,
		Components:        p.headers,
		method:            m.method,
		base:              base,
		sig:               sig,
	}
	_, s.hasQuery = m.query()
	if slices.Contains(p.headers, "(created)") {
		s.created = time.Unix(p.created, 0)
	} else if slices.Contains(p.headers, "date") {
		d, _ := m.field("date")
		t, err := http.ParseTime(d)
		if err != nil {
			s.timeErr = fmt.Errorf("%w: unparsable Date %q", ErrTimeWindow, d)
		} else {
			s.created = t
		}
	}
	if slices.Contains(p.headers, "(expires)") {
		s.expires = time.Unix(p.expires, 0)
	}
	if slices.Contains(p.headers, "digest") {
		s.digestCovered = true
		s.digestHeader, _ = m.field("digest")
	}
	return s, nil
}

func (v *Verifier) parse9421(m *message, input, header string) (*Signature, error) {
	p, err := parse9421(input, header)
	if err != nil {
		return nil, err
	}
	switch p.alg {
	case "", RSAv15SHA256, RSAPSSSHA512, Ed25519:
	default:
		return nil, fmt.Errorf("%w: RFC 9421 alg %q", ErrUnsupportedAlgorithm, p.alg)
	}
	base, err := base9421(m, &p)
	if err != nil {
		return nil, err
	}
	s := &Signature{
		KeyID:             p.keyID,
		Scheme:            RFC9421,
		DeclaredAlgorithm: p.alg,
		Components:        p.names,
		Label:             p.label,
		Nonce:             p.nonce,
		Tag:               p.tag,
		method:            m.method,
		base:              base,
		sig:               p.sig,
	}
	_, s.hasQuery = m.query()
	if p.hasCreated {
		s.created = time.Unix(p.created, 0)
	}
	if p.hasExpires {
		s.expires = time.Unix(p.expires, 0)
	}
	for i, c := range p.components {
		if len(c.params) > 0 {
			continue
		}
		switch p.names[i] {
		case "digest":
			s.digestCovered = true
			s.digestHeader, _ = m.field("digest")
		case "content-digest":
			s.cdigestCovered = true
			s.contentDigest, _ = m.field("content-digest")
		}
	}
	return s, nil
}

// Base returns the signing string (draft-cavage) or signature base (RFC 9421)
// rebuilt from the request, as the signature is checked against.
func (s *Signature) Base() string { return s.base }

// Result describes a verified signature.
type Result struct {
	// KeyID is the key id the signature was verified with.
	KeyID string
	// Key is the public key the resolver returned.
	Key crypto.PublicKey
	// Scheme is the standard the signature follows.
	Scheme Scheme
	// Algorithm is the algorithm actually verified: RSAv15SHA256,
	// RSAPSSSHA512 or Ed25519.
	Algorithm string
	// Components lists what the signature covers, in order.
	Components []string
	// Created is when the signature was made (created, or the signed Date).
	Created time.Time
	// Expires is the signature's expiry, or zero when it has none.
	Expires time.Time
	// Label, Nonce and Tag are the RFC 9421 label and parameters.
	Label, Nonce, Tag string
}

// Verify checks a parsed signature against the request body and the signer's
// key, in this order: strength rules (what must be covered), time window,
// body digest, key lookup through resolve, key strength, and the signature
// itself. Nothing that needs the key runs before the cheap checks have
// passed, so a resolver that fetches is not called for requests that fail
// them.
//
// body must be the exact raw bytes of the request body (nil or empty for a
// bodiless GET); Verify does not read req.Body. Any method other than GET and
// HEAD, and any request with a body, must carry a covered Digest (RFC 3230)
// or Content-Digest (RFC 9530) that matches body.
//
// Errors wrap one of the package's Err values; see their documentation.
func (v *Verifier) Verify(ctx context.Context, s *Signature, body []byte, resolve KeyResolver) (*Result, error) {
	if s == nil || resolve == nil {
		return nil, fmt.Errorf("%w: Verify needs a parsed signature and a resolver", ErrMalformed)
	}
	if err := v.Check(s, body); err != nil {
		return nil, err
	}
	pub, err := resolve(ctx, s.KeyID)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %w", ErrKeyLookup, s.KeyID, err)
	}
	if err := v.checkKey(pub); err != nil {
		return nil, err
	}
	alg, err := s.VerifyKey(pub)
	if err != nil {
		return nil, err
	}
	return &Result{
		KeyID:      s.KeyID,
		Key:        pub,
		Scheme:     s.Scheme,
		Algorithm:  alg,
		Components: s.Components,
		Created:    s.created,
		Expires:    s.expires,
		Label:      s.Label,
		Nonce:      s.Nonce,
		Tag:        s.Tag,
	}, nil
}

// Check runs the checks of [Verifier.Verify] that need no key: strength
// rules, time window and body digest, with the same errors. Verify runs them
// itself; Check lets a caller whose key lookup has its own shape refuse a
// request before starting it.
func (v *Verifier) Check(s *Signature, body []byte) error {
	if s == nil {
		return fmt.Errorf("%w: Check needs a parsed signature", ErrMalformed)
	}
	if err := v.checkStrength(s, len(body) > 0); err != nil {
		return err
	}
	if err := v.checkTime(s); err != nil {
		return err
	}
	return v.checkDigests(s, body)
}

// bodyMethod reports whether requests with this method carry a body that
// must be digested.
func bodyMethod(method string) bool {
	return method != http.MethodGet && method != http.MethodHead
}

func (v *Verifier) checkStrength(s *Signature, hasBody bool) error {
	covers := func(c string) bool { return slices.Contains(s.Components, c) }
	needDigest := hasBody || bodyMethod(s.method)
	switch s.Scheme {
	case Cavage:
		if !covers("(request-target)") {
			return fmt.Errorf("%w: (request-target) is not signed", ErrWeakSignature)
		}
		if !covers("host") {
			return fmt.Errorf("%w: host is not signed", ErrWeakSignature)
		}
		if !covers("date") && !covers("(created)") {
			return fmt.Errorf("%w: neither date nor (created) is signed", ErrWeakSignature)
		}
		if needDigest && !covers("digest") {
			return fmt.Errorf("%w: digest is not signed on a %s request", ErrWeakSignature, s.method)
		}
	case RFC9421:
		if !covers("@method") {
			return fmt.Errorf("%w: @method is not covered", ErrWeakSignature)
		}
		target := covers("@target-uri") ||
			covers("@authority") && (covers("@request-target") ||
				covers("@path") && (!s.hasQuery || covers("@query")))
		if !target {
			return fmt.Errorf("%w: the target is not covered (@target-uri, or @authority with @path and @query)", ErrWeakSignature)
		}
		if s.created.IsZero() {
			return fmt.Errorf("%w: no created parameter", ErrWeakSignature)
		}
		if needDigest && !covers("content-digest") && !covers("digest") {
			return fmt.Errorf("%w: content-digest is not covered on a %s request", ErrWeakSignature, s.method)
		}
	}
	return nil
}

func (v *Verifier) checkTime(s *Signature) error {
	if s.timeErr != nil {
		return s.timeErr
	}
	if s.created.IsZero() {
		return fmt.Errorf("%w: the signature carries no signed time", ErrTimeWindow)
	}
	now := v.cfg.Now()
	if s.created.After(now.Add(v.cfg.Window)) {
		return fmt.Errorf("%w: created %s is in the future", ErrTimeWindow, s.created.UTC().Format(time.RFC3339))
	}
	age := now.Sub(s.created)
	if !s.expires.IsZero() {
		if s.expires.Before(s.created) {
			return fmt.Errorf("%w: expires before created", ErrTimeWindow)
		}
		if now.After(s.expires) {
			return fmt.Errorf("%w: expired at %s", ErrTimeWindow, s.expires.UTC().Format(time.RFC3339))
		}
		if age > v.cfg.MaxAge {
			return fmt.Errorf("%w: created %s ago, over the %s cap", ErrTimeWindow, age.Round(time.Second), v.cfg.MaxAge)
		}
		return nil
	}
	if age > v.cfg.Window {
		return fmt.Errorf("%w: created %s ago, over the %s window", ErrTimeWindow, age.Round(time.Second), v.cfg.Window)
	}
	return nil
}

func (v *Verifier) checkDigests(s *Signature, body []byte) error {
	allow512 := !v.cfg.SHA256Only
	if s.digestCovered {
		if err := checkDigest(s.digestHeader, body); err != nil {
			return err
		}
	}
	if s.cdigestCovered {
		if err := checkContentDigest(s.contentDigest, body, allow512); err != nil {
			return err
		}
	}
	return nil
}

func (v *Verifier) checkKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k == nil || k.N == nil {
			return fmt.Errorf("%w: nil RSA key", ErrWeakKey)
		}
		if k.N.BitLen() < v.cfg.MinRSABits {
			return fmt.Errorf("%w: RSA key of %d bits, under %d", ErrWeakKey, k.N.BitLen(), v.cfg.MinRSABits)
		}
		if k.N.BitLen() > maxRSABits {
			return fmt.Errorf("%w: RSA key of %d bits, over %d", ErrWeakKey, k.N.BitLen(), maxRSABits)
		}
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return fmt.Errorf("%w: Ed25519 key of %d bytes", ErrWeakKey, len(k))
		}
	default:
		return fmt.Errorf("%w: unsupported key type %T", ErrWeakKey, pub)
	}
	return nil
}

// VerifyKey checks only the cryptographic signature over [Signature.Base]
// with pub, choosing the algorithm from the declared one and the key's type.
// It applies no strength, time, digest or key-size rule: use
// [Verifier.Verify] for requests from the network. It returns the algorithm
// verified (RSAv15SHA256, RSAPSSSHA512 or Ed25519).
func (s *Signature) VerifyKey(pub crypto.PublicKey) (string, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		var algs []string
		switch s.DeclaredAlgorithm {
		case "rsa-sha256", "hs2019", RSAv15SHA256:
			algs = []string{RSAv15SHA256}
		case RSAPSSSHA512:
			algs = []string{RSAPSSSHA512}
		case "":
			if s.Scheme == RFC9421 {
				algs = []string{RSAv15SHA256, RSAPSSSHA512}
			} else {
				algs = []string{RSAv15SHA256}
			}
		default:
			return "", fmt.Errorf("%w: %s with an RSA key", ErrUnsupportedAlgorithm, s.DeclaredAlgorithm)
		}
		for _, alg := range algs {
			var err error
			if alg == RSAv15SHA256 {
				sum := sha256.Sum256([]byte(s.base))
				err = rsa.VerifyPKCS1v15(k, crypto.SHA256, sum[:], s.sig)
			} else {
				sum := sha512.Sum512([]byte(s.base))
				err = rsa.VerifyPSS(k, crypto.SHA512, sum[:], s.sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
			}
			if err == nil {
				return alg, nil
			}
		}
		return "", fmt.Errorf("%w: key %q", ErrBadSignature, s.KeyID)
	case ed25519.PublicKey:
		switch s.DeclaredAlgorithm {
		case "", "hs2019", Ed25519:
		default:
			return "", fmt.Errorf("%w: %s with an Ed25519 key", ErrUnsupportedAlgorithm, s.DeclaredAlgorithm)
		}
		if len(k) != ed25519.PublicKeySize || !ed25519.Verify(k, []byte(s.base), s.sig) {
			return "", fmt.Errorf("%w: key %q", ErrBadSignature, s.KeyID)
		}
		return Ed25519, nil
	}
	return "", fmt.Errorf("%w: unsupported key type %T", ErrWeakKey, pub)
}
