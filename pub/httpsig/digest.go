package httpsig

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
)

// DigestHeader returns the RFC 3230 Digest header value for body:
// "SHA-256=" followed by the standard base64 of its SHA-256.
func DigestHeader(body []byte) string {
	sum := sha256.Sum256(body)
	return "SHA-256=" + base64.StdEncoding.EncodeToString(sum[:])
}

// ContentDigestHeader returns the RFC 9530 Content-Digest header value for
// body: "sha-256=:" followed by the base64 of its SHA-256 and ":".
func ContentDigestHeader(body []byte) string {
	sum := sha256.Sum256(body)
	return "sha-256=:" + base64.StdEncoding.EncodeToString(sum[:]) + ":"
}

// digestSum returns the digest of body for a lower-cased algorithm name, and
// whether the algorithm is one we accept. sha-512 is accepted only when
// allow512 is set.
func digestSum(alg string, body []byte, allow512 bool) ([]byte, bool) {
	switch alg {
	case "sha-256":
		s := sha256.Sum256(body)
		return s[:], true
	case "sha-512":
		if !allow512 {
			return nil, false
		}
		s := sha512.Sum512(body)
		return s[:], true
	}
	return nil, false
}

// checkDigest verifies an RFC 3230 Digest header against body. As Mastodon
// does, it requires a SHA-256 entry; a SHA-512 entry, if also present, must
// match too. Entries with other algorithms are ignored, so "MD5=..." or
// "SHA-512=..." alone fails.
func checkDigest(header string, body []byte) error {
	found := false
	for entry := range strings.SplitSeq(header, ",") {
		entry = strings.TrimSpace(entry)
		alg, val, ok := strings.Cut(entry, "=")
		if !ok {
			return fmt.Errorf("%w: Digest entry %q has no '='", ErrDigest, entry)
		}
		alg = strings.ToLower(strings.TrimSpace(alg))
		want, accepted := digestSum(alg, body, true)
		if !accepted {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(strings.TrimSpace(val))
		if err != nil {
			return fmt.Errorf("%w: Digest %s value is not base64: %v", ErrDigest, alg, err)
		}
		if subtle.ConstantTimeCompare(got, want) != 1 {
			return fmt.Errorf("%w: Digest %s does not match the body", ErrDigest, alg)
		}
		if alg == "sha-256" {
			found = true
		}
	}
	if !found {
		return fmt.Errorf("%w: Digest has no SHA-256 value", ErrDigest)
	}
	return nil
}

// checkContentDigest verifies an RFC 9530 Content-Digest header (an RFC 8941
// dictionary of byte sequences) against body. Every sha-256 (and, when
// allow512 is set, sha-512) member must match and at least one must be
// present; members with other algorithms are ignored.
func checkContentDigest(header string, body []byte, allow512 bool) error {
	members, err := parseDictionary(header)
	if err != nil {
		return fmt.Errorf("%w: Content-Digest: %w", ErrDigest, err)
	}
	found := false
	for _, m := range members {
		want, accepted := digestSum(m.key, body, allow512)
		if !accepted {
			continue
		}
		if m.inner || m.item.val.kind != kindBytes {
			return fmt.Errorf("%w: Content-Digest %s is not a byte sequence", ErrDigest, m.key)
		}
		if subtle.ConstantTimeCompare(m.item.val.b, want) != 1 {
			return fmt.Errorf("%w: Content-Digest %s does not match the body", ErrDigest, m.key)
		}
		found = true
	}
	if !found {
		accepted := "sha-256"
		if allow512 {
			accepted = "sha-256 or sha-512"
		}
		return fmt.Errorf("%w: Content-Digest has no %s value", ErrDigest, accepted)
	}
	return nil
}
