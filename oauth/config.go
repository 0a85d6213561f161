package oauth

import (
	"fmt"
	"time"
)

// RegistrationMode says who may create an account through the sign-up page.
type RegistrationMode string

// The registration modes.
const (
	// RegistrationOpen lets anyone sign up and sign in at once.
	RegistrationOpen RegistrationMode = "open"
	// RegistrationApproval creates the account, which cannot sign in until
	// a moderator approves it (LocalAccounts.Approve).
	RegistrationApproval RegistrationMode = "approval"
	// RegistrationClosed turns sign-up off; accounts come from the admin CLI.
	RegistrationClosed RegistrationMode = "closed"
	// RegistrationInvite lets people with a valid invite code sign up
	// (Service.CreateInvite).
	RegistrationInvite RegistrationMode = "invite"
)

// Config tunes the provider. Start from DefaultConfig.
type Config struct {
	// Issuer is the server's base URL, such as https://school.example, with
	// no trailing slash. It is the RFC 8414 issuer and the prefix of every
	// endpoint in the metadata document.
	Issuer string
	// InsecureHTTP drops the Secure attribute from cookies, for plain-http
	// tests and local demos.
	InsecureHTTP bool
	// Registration is the sign-up mode.
	Registration RegistrationMode
	// CodeTTL is how long an authorization code can be exchanged.
	CodeTTL time.Duration
	// AccessTokenTTL is the lifetime of access tokens; zero means they do
	// not expire (Mastodon's behaviour, which clients rely on: they never
	// refresh).
	AccessTokenTTL time.Duration
	// RefreshTokenTTL is the lifetime of refresh tokens; zero means they do
	// not expire.
	RefreshTokenTTL time.Duration
	// SessionTTL is how long a browser stays signed in to the OAuth pages.
	SessionTTL time.Duration
	// PasswordGrant enables grant_type=password for legacy clients. Off by
	// default: it hands the user's password to the client.
	PasswordGrant bool
	// LoginLimit sign-in attempts (form posts and password grants) per
	// LoginWindow are allowed from one IP address (IPv6: one /64); the next
	// gets 429 with Retry-After.
	LoginLimit  int
	LoginWindow time.Duration
	// SignUpLimit sign-up attempts per SignUpWindow are allowed for one
	// email address (the endpoint would send it mail), and SignUpIPLimit
	// from one IP address (IPv6: one /64). The IP limit is higher: a whole
	// class may sign up from one school network.
	SignUpLimit   int
	SignUpIPLimit int
	SignUpWindow  time.Duration
	// MaxBodyBytes caps request bodies of every endpoint of the package.
	MaxBodyBytes int64
	// QueryToken lets Middleware also read the token from an access_token
	// query parameter, which browsers' WebSocket and EventSource clients
	// need for streaming. Off by default: query strings end up in logs.
	QueryToken bool
	// ServiceDocumentation is the URL of the human-readable API docs given
	// in the metadata document; empty leaves it out.
	ServiceDocumentation string
}

// DefaultConfig returns the production defaults for a server at issuer:
// open registration, 10-minute codes, tokens that do not expire, 30-day
// sessions, no password grant, 25 sign-in attempts per 5 minutes per IP,
// 5 sign-up attempts per hour per email address and 100 per IP address,
// 64 KiB bodies.
func DefaultConfig(issuer string) Config {
	return Config{
		Issuer:               issuer,
		Registration:         RegistrationOpen,
		CodeTTL:              10 * time.Minute,
		SessionTTL:           30 * 24 * time.Hour,
		LoginLimit:           25,
		LoginWindow:          5 * time.Minute,
		SignUpLimit:          5,
		SignUpIPLimit:        100,
		SignUpWindow:         time.Hour,
		MaxBodyBytes:         64 << 10,
		ServiceDocumentation: "https://docs.joinmastodon.org/client/intro/",
	}
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	switch c.Registration {
	case RegistrationOpen, RegistrationApproval, RegistrationClosed, RegistrationInvite:
	default:
		return fmt.Errorf("oauth: registration mode %q is not one of open, approval, closed, invite", c.Registration)
	}
	switch {
	case c.Issuer == "":
		return fmt.Errorf("oauth: issuer is required")
	case c.CodeTTL <= 0:
		return fmt.Errorf("oauth: code lifetime must be positive")
	case c.SessionTTL <= 0:
		return fmt.Errorf("oauth: session lifetime must be positive")
	case c.AccessTokenTTL < 0 || c.RefreshTokenTTL < 0:
		return fmt.Errorf("oauth: token lifetimes must not be negative")
	case c.LoginLimit <= 0 || c.LoginWindow <= 0:
		return fmt.Errorf("oauth: login limit and window must be positive")
	case c.SignUpLimit <= 0 || c.SignUpIPLimit <= 0 || c.SignUpWindow <= 0:
		return fmt.Errorf("oauth: sign-up limit and window must be positive")
	case c.MaxBodyBytes <= 0:
		return fmt.Errorf("oauth: body limit must be positive")
	}
	return nil
}
