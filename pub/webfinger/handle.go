package webfinger

import (
	"strings"
)

// maxUserLength bounds the user part of a handle. Fediverse servers use far
// shorter names (Mastodon allows 30); the bound only keeps hostile input small.
const maxUserLength = 128

// Handle is a parsed account address, the user and host of
// acct:user@host (RFC 7565) as people write it: @user@host.
//
// Host is in the canonical form NormalizeHost returns. User keeps the case it
// was written in; account names are compared case-insensitively (Equal).
type Handle struct {
	User string
	Host string
}

// ParseHandle parses an account address written as "@user@host",
// "user@host" or "acct:user@host" (the scheme in any case) and returns it with
// the host normalized.
//
// Parsing is strict: the user part must be 1..128 characters from the RFC 3986
// unreserved set (letters, digits, "-", ".", "_", "~"); exactly one "@" must
// separate it from the host; the host must satisfy NormalizeHost, so paths,
// queries, fragments, user information, percent-encoding and whitespace are
// all refused. Errors wrap ErrInvalidResource.
func ParseHandle(s string) (Handle, error) {
	rest := s
	switch {
	case len(s) >= 5 && strings.EqualFold(s[:5], "acct:"):
		rest = s[5:]
	case strings.HasPrefix(s, "@"):
		rest = s[1:]
	}
	user, host, ok := strings.Cut(rest, "@")
	if !ok {
		return Handle{}, invalidf("%q is not an account address (user@host)", s)
	}
	if strings.Contains(host, "@") {
		return Handle{}, invalidf("%q has more than one @", s)
	}
	if err := checkUser(user); err != nil {
		return Handle{}, err
	}
	canon, err := NormalizeHost(host)
	if err != nil {
		return Handle{}, err
	}
	return Handle{User: user, Host: canon}, nil
}

// checkUser enforces the user-part rules of ParseHandle.
func checkUser(user string) error {
	if user == "" {
		return invalidf("empty user name")
	}
	if len(user) > maxUserLength {
		return invalidf("user name longer than %d bytes", maxUserLength)
	}
	for i := 0; i < len(user); i++ {
		if !isUnreserved(user[i]) {
			return invalidf("user name %q contains %q", user, user[i])
		}
	}
	return nil
}

func isUnreserved(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// String returns the handle as user@host, the canonical written form:
// ParseHandle(h.String()) returns h again.
func (h Handle) String() string { return h.User + "@" + h.Host }

// URI returns the handle as an acct: URI, the form WebFinger resources and
// subjects use.
func (h Handle) URI() string { return "acct:" + h.String() }

// Equal reports whether h and o name the same account: user names compared
// without regard to case, hosts (already normalized) exactly.
func (h Handle) Equal(o Handle) bool {
	return strings.EqualFold(h.User, o.User) && h.Host == o.Host
}
