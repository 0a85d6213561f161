package oauth

import (
	"fmt"
	"slices"
	"strings"

	"github.com/commonroom/commonroom/internal/errkind"
)

// The top-level scopes, as Mastodon names them. Granular scopes are a
// top-level scope, a colon and a resource: "read:statuses".
const (
	ScopeRead       = "read"
	ScopeWrite      = "write"
	ScopeFollow     = "follow" // legacy: read and write of follows, blocks and mutes
	ScopePush       = "push"
	ScopeProfile    = "profile" // only the signed-in account's own profile
	ScopeAdminRead  = "admin:read"
	ScopeAdminWrite = "admin:write"
)

// DefaultScope is what an app or an authorization request gets when it asks
// for no scope, as in Mastodon.
const DefaultScope = ScopeRead

var (
	readScopes = []string{"accounts", "blocks", "bookmarks", "favourites", "filters", "follows", "lists", "mutes", "notifications", "search", "statuses"}
	// writeScopes are Mastodon's granular write scopes.
	writeScopes = []string{"accounts", "blocks", "bookmarks", "conversations", "favourites", "filters", "follows", "lists", "media", "mutes", "notifications", "reports", "statuses"}
	adminScopes = []string{"accounts", "reports", "domain_allows", "domain_blocks", "ip_blocks", "email_domain_blocks", "canonical_email_blocks"}
	// followScopes are what the legacy follow scope grants.
	followScopes = []string{"read:follows", "write:follows", "read:blocks", "write:blocks", "read:mutes", "write:mutes"}
)

// AllScopes returns every scope the server knows, top-level scopes first.
func AllScopes() []string {
	out := []string{ScopeRead, ScopeWrite, ScopeFollow, ScopePush, ScopeProfile, ScopeAdminRead, ScopeAdminWrite}
	for _, s := range readScopes {
		out = append(out, "read:"+s)
	}
	for _, s := range writeScopes {
		out = append(out, "write:"+s)
	}
	for _, s := range adminScopes {
		out = append(out, "admin:read:"+s)
	}
	for _, s := range adminScopes {
		out = append(out, "admin:write:"+s)
	}
	return out
}

// KnownScope reports whether s is a scope the server knows.
func KnownScope(s string) bool { return slices.Contains(AllScopes(), s) }

// Scopes is a set of granted scopes, in the order they were given, without
// duplicates. The zero value grants nothing.
type Scopes []string

// ParseScopes reads a space-separated scope list (a "+" from a query string
// is a space too). An empty list is DefaultScope. An unknown scope is an
// error of kind Invalid naming it.
func ParseScopes(s string) (Scopes, error) {
	fields := strings.Fields(strings.ReplaceAll(s, "+", " "))
	if len(fields) == 0 {
		return Scopes{DefaultScope}, nil
	}
	var out Scopes
	for _, f := range fields {
		if !KnownScope(f) {
			return nil, errkind.New(errkind.Invalid, fmt.Sprintf("unknown scope %q", f))
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out, nil
}

// String returns the scopes separated by spaces, as OAuth writes them.
func (s Scopes) String() string { return strings.Join(s, " ") }

// Has reports whether s grants required, following Mastodon's inclusion
// rules: a top-level scope grants its granular scopes (read grants
// read:statuses, admin:read grants admin:read:accounts), follow grants the
// follow, block and mute scopes, and read or read:accounts grants profile.
// A granular scope never grants its parent: read:statuses does not grant
// read.
func (s Scopes) Has(required string) bool {
	for _, g := range s {
		if grants(g, required) {
			return true
		}
	}
	return false
}

// Covers reports whether s grants every scope of other.
func (s Scopes) Covers(other Scopes) bool {
	for _, o := range other {
		if !s.Has(o) {
			return false
		}
	}
	return true
}

// grants reports whether the single scope granted covers required.
func grants(granted, required string) bool {
	switch {
	case granted == required:
		return true
	case granted == ScopeFollow:
		return slices.Contains(followScopes, required)
	case required == ScopeProfile:
		return granted == ScopeRead || granted == "read:accounts"
	}
	// A parent grants its children: "read" → "read:x", "admin:read" →
	// "admin:read:x". "admin:read" is not a child of "admin".
	parent, _, ok := cutLast(required)
	return ok && parent == granted && parent != "admin"
}

// cutLast splits s at its last colon.
func cutLast(s string) (before, after string, found bool) {
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

// scopeWords says in words what a scope lets an app do, for the consent page.
func scopeWords(s string) string {
	switch s {
	case ScopeRead:
		return "Read everything your account can see: posts, timelines, notifications, lists, follows and your profile"
	case ScopeWrite:
		return "Post, edit and delete on your behalf, and change your profile, follows, lists and settings"
	case ScopeFollow:
		return "See and change who you follow, block and mute"
	case ScopePush:
		return "Send you push notifications"
	case ScopeProfile:
		return "See your own profile (name, picture and bio) only"
	case ScopeAdminRead:
		return "Read moderation and administration data of this server"
	case ScopeAdminWrite:
		return "Take moderation and administration actions on this server"
	}
	parent, resource, _ := cutLast(s)
	resource = strings.ReplaceAll(resource, "_", " ")
	switch parent {
	case ScopeRead:
		return "Read your " + resource
	case ScopeWrite:
		return "Change your " + resource
	case ScopeAdminRead:
		return "Read the server's " + resource + " (administration)"
	case ScopeAdminWrite:
		return "Change the server's " + resource + " (administration)"
	}
	return s
}
