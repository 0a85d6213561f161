package oauth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/commonroom/commonroom/internal/db"
	"github.com/commonroom/commonroom/internal/errkind"
)

// OOBRedirectURI is the redirect URI of command-line apps: the code is
// shown on a page for the person to copy instead of being redirected.
const OOBRedirectURI = "urn:ietf:wg:oauth:2.0:oob"

// Limits on app registration.
const (
	MaxAppNameLength  = 100  // characters
	MaxURILength      = 2000 // bytes, for redirect URIs and the website
	MaxRedirectURIs   = 10
	cliAppBuiltInName = "cli"
)

// NewApp is an app registration request (POST /api/v1/apps).
type NewApp struct {
	Name         string
	Website      string
	RedirectURIs []string
	Scopes       string // space-separated; empty means DefaultScope
}

// dangerousSchemes can run code in the browser that follows the redirect.
var dangerousSchemes = map[string]bool{"javascript": true, "data": true, "vbscript": true, "file": true, "blob": true}

// CheckRedirectURI says why uri cannot be a registered redirect URI, or
// returns nil. It must be OOBRedirectURI or an absolute URI without a
// fragment, whose scheme is not javascript:, data:, vbscript:, file: or
// blob:, and, for http and https, with a host. Custom schemes
// (com.example.app:/callback) are allowed for native apps.
func CheckRedirectURI(uri string) error {
	if uri == OOBRedirectURI {
		return nil
	}
	invalid := func(why string) error {
		return errkind.New(errkind.Invalid, fmt.Sprintf("redirect URI %q %s", truncate(uri, 100), why))
	}
	switch {
	case uri == "":
		return errkind.New(errkind.Invalid, "redirect URI must not be empty")
	case len(uri) > MaxURILength:
		return invalid(fmt.Sprintf("is longer than %d bytes", MaxURILength))
	case !utf8.ValidString(uri) || strings.ContainsFunc(uri, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return invalid("contains spaces or control characters")
	}
	u, err := url.Parse(uri)
	if err != nil {
		return invalid("is not a valid URI")
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme == "":
		return invalid("must be an absolute URI")
	case dangerousSchemes[scheme]:
		return invalid(fmt.Sprintf("uses the %s: scheme, which is not allowed", scheme))
	case u.Fragment != "" || strings.Contains(uri, "#"):
		return invalid("must not contain a fragment")
	case (scheme == "http" || scheme == "https") && u.Host == "":
		return invalid("must name a host")
	}
	return nil
}

func checkWebsite(site string) error {
	if site == "" {
		return nil
	}
	if len(site) > MaxURILength {
		return errkind.New(errkind.Invalid, fmt.Sprintf("website is longer than %d bytes", MaxURILength))
	}
	u, err := url.Parse(site)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errkind.New(errkind.Invalid, "website must be an absolute http or https URL")
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Validate checks na the way RegisterApp does and returns its scopes.
func (na NewApp) Validate() (Scopes, error) {
	name := strings.TrimSpace(na.Name)
	switch {
	case name == "":
		return nil, errkind.New(errkind.Invalid, "client_name is required")
	case !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxAppNameLength:
		return nil, errkind.New(errkind.Invalid, fmt.Sprintf("client_name must be valid text of at most %d characters", MaxAppNameLength))
	case len(na.RedirectURIs) == 0:
		return nil, errkind.New(errkind.Invalid, "redirect_uris is required")
	case len(na.RedirectURIs) > MaxRedirectURIs:
		return nil, errkind.New(errkind.Invalid, fmt.Sprintf("at most %d redirect_uris may be registered", MaxRedirectURIs))
	}
	for _, u := range na.RedirectURIs {
		if err := CheckRedirectURI(u); err != nil {
			return nil, err
		}
	}
	if err := checkWebsite(na.Website); err != nil {
		return nil, err
	}
	return ParseScopes(na.Scopes)
}

// RegisterApp validates and stores a new app and returns it with its client
// secret, which is shown only this once (only its hash is stored). Bad
// input is Invalid and nothing is stored.
func (s *Service) RegisterApp(ctx context.Context, na NewApp) (*App, string, error) {
	scopes, err := na.Validate()
	if err != nil {
		return nil, "", fmt.Errorf("oauth: register app: %w", err)
	}
	return s.insertApp(ctx, na, scopes, "")
}

func (s *Service) insertApp(ctx context.Context, na NewApp, scopes Scopes, builtIn string) (*App, string, error) {
	id, err := s.ids.Next()
	if err != nil {
		return nil, "", fmt.Errorf("oauth: register app: %w", err)
	}
	clientID, err := s.newSecret()
	if err != nil {
		return nil, "", err
	}
	secret, err := s.newSecret()
	if err != nil {
		return nil, "", err
	}
	app := &App{
		ID:           id,
		ClientID:     clientID,
		SecretHash:   hashSecret(secret),
		Name:         strings.TrimSpace(na.Name),
		Website:      na.Website,
		RedirectURIs: strings.Join(na.RedirectURIs, "\n"),
		Scopes:       scopes.String(),
		BuiltIn:      builtIn,
		CreatedAt:    s.now().UTC(),
	}
	if _, err := s.db.NewInsert().Model(app).Exec(ctx); err != nil {
		return nil, "", fmt.Errorf("oauth: register app: %w", db.MapError(err, "app could not be stored"))
	}
	return app, secret, nil
}

// AppByClientID returns the app with that client id, or NotFound.
func (s *Service) AppByClientID(ctx context.Context, clientID string) (*App, error) {
	return s.appByClientID(ctx, clientID)
}

// cliApp returns the built-in "Commonroom CLI" app, creating it once.
func (s *Service) cliApp(ctx context.Context) (*App, error) {
	load := func() (*App, error) {
		app := new(App)
		err := s.db.NewSelect().Model(app).Where("built_in = ?", cliAppBuiltInName).Scan(ctx)
		if err != nil {
			return nil, err
		}
		return app, nil
	}
	app, err := load()
	if err == nil {
		return app, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("oauth: load CLI app: %w", err)
	}
	all := AllScopes()
	app, _, err = s.insertApp(ctx, NewApp{Name: "Commonroom CLI", RedirectURIs: []string{OOBRedirectURI}}, Scopes(all[:7]), cliAppBuiltInName)
	if errkind.Of(err) == errkind.Conflict {
		// Another process created it first.
		return load()
	}
	return app, err
}

// IssueToken returns a new bearer token for the account with the given
// space-separated scopes, issued to the built-in "Commonroom CLI" app
// (created on first use). It is what `commonroom admin token` prints. The
// account must exist and be active; unknown scopes are Invalid.
func (s *Service) IssueToken(ctx context.Context, accountID int64, scopes string) (string, error) {
	sc, err := ParseScopes(scopes)
	if err != nil {
		return "", fmt.Errorf("oauth: issue token: %w", err)
	}
	a, err := s.accounts.ByID(ctx, accountID)
	if err != nil {
		return "", fmt.Errorf("oauth: issue token: %w", err)
	}
	if !a.Active() {
		return "", fmt.Errorf("oauth: issue token: %w", errAccountInactive(a))
	}
	app, err := s.cliApp(ctx)
	if err != nil {
		return "", err
	}
	access, err := s.newSecret()
	if err != nil {
		return "", err
	}
	id, err := s.ids.Next()
	if err != nil {
		return "", fmt.Errorf("oauth: issue token: %w", err)
	}
	now := s.now().UTC()
	row := &tokenRow{ID: id, AccessHash: hashSecret(access), AppID: app.ID, AccountID: a.ID, Scopes: sc.String(), CreatedAt: now}
	if s.cfg.AccessTokenTTL > 0 {
		row.ExpiresAt = now.Add(s.cfg.AccessTokenTTL)
	}
	if _, err := s.db.NewInsert().Model(row).Exec(ctx); err != nil {
		return "", fmt.Errorf("oauth: issue token: %w", err)
	}
	return access, nil
}

// Auth is what a valid bearer token proves: which app holds it, for which
// account (nil for an app token from client_credentials), with which
// scopes.
type Auth struct {
	TokenID  int64
	AppID    int64
	ClientID string
	Account  *Account
	Scopes   Scopes
}

// AccountID returns the account's id, or 0 for an app token.
func (a *Auth) AccountID() int64 {
	if a.Account == nil {
		return 0
	}
	return a.Account.ID
}

var errInvalidToken = errkind.New(errkind.Unauthorized, "The access token is invalid")

// AuthenticateToken checks a bearer token on every call: it must exist,
// not be expired or revoked, and belong to an active account (or to no
// account). Anything else is Unauthorized.
func (s *Service) AuthenticateToken(ctx context.Context, token string) (*Auth, error) {
	if token == "" || len(token) > 512 {
		return nil, errInvalidToken
	}
	row, err := tokenStore{s}.loadToken(ctx, "access_hash", token)
	if err != nil {
		return nil, err
	}
	if row == nil || (!row.ExpiresAt.IsZero() && !s.now().Before(row.ExpiresAt)) {
		return nil, errInvalidToken
	}
	auth := &Auth{TokenID: row.ID, AppID: row.AppID, ClientID: row.ClientID, Scopes: Scopes(strings.Fields(row.Scopes))}
	if row.AccountID != 0 {
		a, err := s.accounts.ByID(ctx, row.AccountID)
		if errkind.Of(err) == errkind.NotFound {
			return nil, errInvalidToken
		}
		if err != nil {
			return nil, fmt.Errorf("oauth: token account: %w", err)
		}
		if !a.Active() {
			return nil, errInvalidToken
		}
		auth.Account = a
	}
	return auth, nil
}

// RevokeToken deletes the token whose access or refresh token is token, if
// it was issued to the app with clientID (RFC 7009). An unknown token is
// not an error; a token of another app is Forbidden.
func (s *Service) RevokeToken(ctx context.Context, clientID, token string) error {
	var row tokenRow
	hash := hashSecret(token)
	err := s.db.NewSelect().Model(&row).ColumnExpr("t.*").ColumnExpr("a.client_id").
		Join("JOIN oauth_apps AS a ON a.id = t.app_id").
		Where("t.access_hash = ? OR t.refresh_hash = ?", hash, hash).
		Limit(1).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("oauth: revoke: %w", err)
	}
	if row.ClientID != clientID {
		return errkind.New(errkind.Forbidden, "You are not authorized to revoke this token")
	}
	res, err := s.db.NewDelete().Model((*tokenRow)(nil)).Where("id = ?", row.ID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("oauth: revoke: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		s.notifyRevoked(ctx, Revocation{TokenID: row.ID, AccountID: row.AccountID, AppID: row.AppID})
	}
	return nil
}

// RevokeAccount ends everything the account holds: its tokens, unexchanged
// codes and browser sessions, and tells OnRevoke subscribers about each
// token. Suspension calls it (SECURITY.md rule 32).
func (s *Service) RevokeAccount(ctx context.Context, accountID int64) error {
	var revs []Revocation
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var rows []tokenRow
		if err := tx.NewSelect().Model(&rows).Column("id", "app_id", "account_id").Where("account_id = ?", accountID).Scan(ctx); err != nil {
			return err
		}
		for _, r := range rows {
			revs = append(revs, Revocation{TokenID: r.ID, AccountID: r.AccountID, AppID: r.AppID})
		}
		for _, model := range []any{(*tokenRow)(nil), (*codeRow)(nil), (*sessionRow)(nil)} {
			if _, err := tx.NewDelete().Model(model).Where("account_id = ?", accountID).Exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("oauth: revoke account %d: %w", accountID, err)
	}
	s.notifyRevoked(ctx, revs...)
	return nil
}

// SuspendAccount suspends the account in the account store (which must
// implement Suspender) and then revokes everything it holds, so it is
// locked out on every transport from the next request on.
func (s *Service) SuspendAccount(ctx context.Context, accountID int64) error {
	sus, ok := s.accounts.(Suspender)
	if !ok {
		return errors.New("oauth: suspend: the account store cannot suspend accounts")
	}
	if err := sus.Suspend(ctx, accountID); err != nil {
		return err
	}
	return s.RevokeAccount(ctx, accountID)
}
