// Package httpsig signs and verifies HTTP requests under both standards the
// fediverse uses: draft-cavage-http-signatures-12 (with an RFC 3230 Digest)
// and RFC 9421 HTTP Message Signatures (with an RFC 9530 Content-Digest),
// for RSA and Ed25519 keys. It imports only the standard library.
//
// Verifying is two steps, so that the caller can look at the claimed key id
// (and refuse a blocked domain) before any key is fetched:
//
//	v := httpsig.NewVerifier(httpsig.DefaultConfig())
//	sig, err := v.Parse(req)              // headers only; no key, no body
//	if errors.Is(err, httpsig.ErrMissingSignature) { /* 401: unsigned */ }
//	// ... check sig.KeyID against block lists ...
//	res, err := v.Verify(ctx, sig, body, resolve) // rules, digest, key, crypto
//
// Signing uses a [Signer] per key and a [Scheme] per request; [HostSchemes]
// remembers which scheme each remote host accepts. [ParsePublicKeyPEM],
// [EncodePublicKeyPEM], [ParseMultikey] and [EncodeMultikey] read and write
// the public key forms actor documents publish.
//
// What is signed, and what verification requires, is described in
// docs/FEDERATION.md ("HTTP signatures").
package httpsig
