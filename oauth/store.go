package oauth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-oauth2/oauth2/v4"
	oerrors "github.com/go-oauth2/oauth2/v4/errors"
	"github.com/go-oauth2/oauth2/v4/models"
	"github.com/uptrace/bun"
)

// hashSecret returns the hex SHA-256 of a secret: the only form in which
// client secrets, codes, tokens, session ids and invite codes are stored.
// The secrets are 256-bit random values, so a fast hash is enough.
func hashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// App is a registered client application.
type App struct {
	bun.BaseModel `bun:"table:oauth_apps,alias:a"`

	ID         int64  `bun:"id,pk"`
	ClientID   string `bun:"client_id,notnull"`
	SecretHash string `bun:"secret_hash,notnull"`
	Name       string `bun:"name,notnull"`
	Website    string `bun:"website,notnull"`
	// RedirectURIs holds the registered redirect URIs, one per line.
	RedirectURIs string    `bun:"redirect_uris,notnull"`
	Scopes       string    `bun:"scopes,notnull"`
	BuiltIn      string    `bun:"built_in,nullzero"`
	CreatedAt    time.Time `bun:"created_at,notnull"`
}

// RedirectURIList returns the registered redirect URIs.
func (a *App) RedirectURIList() []string { return strings.Split(a.RedirectURIs, "\n") }

// ScopeList returns the scopes the app registered.
func (a *App) ScopeList() Scopes { return Scopes(strings.Fields(a.Scopes)) }

// HasRedirectURI reports whether uri is byte-for-byte one of the registered
// redirect URIs. There is no normalisation, prefix or host matching.
func (a *App) HasRedirectURI(uri string) bool { return hasRedirectURI(a.RedirectURIs, uri) }

// hasRedirectURI reports whether uri is byte for byte one of the
// newline-separated registered URIs.
func hasRedirectURI(registered, uri string) bool {
	for r := range strings.SplitSeq(registered, "\n") {
		if subtle.ConstantTimeCompare([]byte(r), []byte(uri)) == 1 {
			return true
		}
	}
	return false
}

// CheckSecret reports whether secret is the app's client secret.
func (a *App) CheckSecret(secret string) bool {
	if secret == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(hashSecret(secret)), []byte(a.SecretHash)) == 1
}

// clientInfo is an App as go-oauth2 sees it. The secret is checked through
// VerifyPassword against its hash; GetDomain carries the redirect URI list
// to validateRedirectURI.
type clientInfo struct{ app *App }

var (
	_ oauth2.ClientInfo             = clientInfo{}
	_ oauth2.ClientPasswordVerifier = clientInfo{}
)

func (c clientInfo) GetID() string                     { return c.app.ClientID }
func (c clientInfo) GetSecret() string                 { return "" }
func (c clientInfo) GetDomain() string                 { return c.app.RedirectURIs }
func (c clientInfo) IsPublic() bool                    { return false }
func (c clientInfo) GetUserID() string                 { return "" }
func (c clientInfo) VerifyPassword(secret string) bool { return c.app.CheckSecret(secret) }

// validateRedirectURI replaces go-oauth2's host-suffix matching: the
// redirect URI must equal one of the registered ones byte for byte.
func validateRedirectURI(registered, redirectURI string) error {
	if hasRedirectURI(registered, redirectURI) {
		return nil
	}
	return oerrors.ErrInvalidRedirectURI
}

// codeRow is a stored authorization code.
type codeRow struct {
	bun.BaseModel `bun:"table:oauth_codes,alias:c"`

	ID                  int64     `bun:"id,pk"`
	CodeHash            string    `bun:"code_hash,notnull"`
	AppID               int64     `bun:"app_id,notnull"`
	AccountID           int64     `bun:"account_id,notnull"`
	RedirectURI         string    `bun:"redirect_uri,notnull"`
	Scopes              string    `bun:"scopes,notnull"`
	CodeChallenge       string    `bun:"code_challenge,notnull"`
	CodeChallengeMethod string    `bun:"code_challenge_method,notnull"`
	CreatedAt           time.Time `bun:"created_at,notnull"`
	ExpiresAt           time.Time `bun:"expires_at,notnull"`

	ClientID string `bun:"client_id,scanonly"`
}

// tokenRow is a stored access token with its refresh token.
type tokenRow struct {
	bun.BaseModel `bun:"table:oauth_tokens,alias:t"`

	ID               int64     `bun:"id,pk"`
	AccessHash       string    `bun:"access_hash,notnull"`
	RefreshHash      string    `bun:"refresh_hash,nullzero"`
	AppID            int64     `bun:"app_id,notnull"`
	AccountID        int64     `bun:"account_id,notnull"`
	Scopes           string    `bun:"scopes,notnull"`
	RedirectURI      string    `bun:"redirect_uri,notnull"`
	CreatedAt        time.Time `bun:"created_at,notnull"`
	ExpiresAt        time.Time `bun:"expires_at,nullzero"`
	RefreshExpiresAt time.Time `bun:"refresh_expires_at,nullzero"`

	ClientID string `bun:"client_id,scanonly"`
}

// storedToken is a token loaded by its refresh token. When go-oauth2 saves
// it again (it does so only when rotating it on refresh), tokenStore.Create
// replaces the old row in one transaction, and fails if another request
// already did: a refresh token is single-use.
type storedToken struct {
	*models.Token
	rowID     int64
	accountID int64
	appID     int64
}

// tokenStore is go-oauth2's TokenStore over oauth_codes and oauth_tokens.
type tokenStore struct{ s *Service }

var _ oauth2.TokenStore = tokenStore{}

// clientStore is go-oauth2's ClientStore over oauth_apps.
type clientStore struct{ s *Service }

var _ oauth2.ClientStore = clientStore{}

// GetByID returns the app, or go-oauth2's invalid_client for an unknown id.
func (c clientStore) GetByID(ctx context.Context, id string) (oauth2.ClientInfo, error) {
	app, err := c.s.appByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	return clientInfo{app}, nil
}

func parseUserID(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 0 {
		return 0, fmt.Errorf("oauth: bad user id %q", s)
	}
	return id, nil
}

func formatUserID(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}

// Create stores a new code or token. Times come from the service's clock,
// not go-oauth2's.
func (t tokenStore) Create(ctx context.Context, info oauth2.TokenInfo) error {
	s := t.s
	now := s.now().UTC()
	app, err := s.appByClientID(ctx, info.GetClientID())
	if err != nil {
		return err
	}
	accountID, err := parseUserID(info.GetUserID())
	if err != nil {
		return err
	}
	id, err := s.ids.Next()
	if err != nil {
		return fmt.Errorf("oauth: %w", err)
	}
	if code := info.GetCode(); code != "" {
		method := string(info.GetCodeChallengeMethod())
		if info.GetCodeChallenge() == "" {
			method = ""
		}
		row := &codeRow{
			ID:                  id,
			CodeHash:            hashSecret(code),
			AppID:               app.ID,
			AccountID:           accountID,
			RedirectURI:         info.GetRedirectURI(),
			Scopes:              info.GetScope(),
			CodeChallenge:       info.GetCodeChallenge(),
			CodeChallengeMethod: method,
			CreatedAt:           now,
			ExpiresAt:           now.Add(s.cfg.CodeTTL),
		}
		if _, err := s.db.NewInsert().Model(row).Exec(ctx); err != nil {
			return fmt.Errorf("oauth: store code: %w", err)
		}
		return nil
	}
	row := &tokenRow{
		ID:          id,
		AccessHash:  hashSecret(info.GetAccess()),
		AppID:       app.ID,
		AccountID:   accountID,
		Scopes:      info.GetScope(),
		RedirectURI: info.GetRedirectURI(),
		CreatedAt:   now,
	}
	if exp := info.GetAccessExpiresIn(); exp > 0 {
		row.ExpiresAt = now.Add(exp)
	}
	if r := info.GetRefresh(); r != "" {
		row.RefreshHash = hashSecret(r)
		if exp := info.GetRefreshExpiresIn(); exp > 0 {
			row.RefreshExpiresAt = now.Add(exp)
		}
	}
	old, rotating := info.(*storedToken)
	if !rotating {
		if _, err := s.db.NewInsert().Model(row).Exec(ctx); err != nil {
			return fmt.Errorf("oauth: store token: %w", err)
		}
		return nil
	}
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewDelete().Model((*tokenRow)(nil)).Where("id = ?", old.rowID).Exec(ctx)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return oerrors.ErrInvalidRefreshToken
		}
		_, err = tx.NewInsert().Model(row).Exec(ctx)
		return err
	})
	if errors.Is(err, oerrors.ErrInvalidRefreshToken) {
		return oerrors.ErrInvalidRefreshToken // go-oauth2 compares with ==
	}
	if err != nil {
		return fmt.Errorf("oauth: rotate token: %w", err)
	}
	s.notifyRevoked(ctx, Revocation{TokenID: old.rowID, AccountID: old.accountID, AppID: old.appID})
	return nil
}

// RemoveByCode deletes a code, and fails with go-oauth2's invalid-code
// error unless it deleted exactly one row: of two concurrent exchanges of
// one code, only one gets a token.
func (t tokenStore) RemoveByCode(ctx context.Context, code string) error {
	res, err := t.s.db.NewDelete().Model((*codeRow)(nil)).Where("code_hash = ?", hashSecret(code)).Exec(ctx)
	if err != nil {
		return fmt.Errorf("oauth: delete code: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return oerrors.ErrInvalidAuthorizeCode
	}
	return nil
}

// RemoveByAccess deletes the token with that access token, if any.
func (t tokenStore) RemoveByAccess(ctx context.Context, access string) error {
	_, err := t.s.db.NewDelete().Model((*tokenRow)(nil)).Where("access_hash = ?", hashSecret(access)).Exec(ctx)
	if err != nil {
		return fmt.Errorf("oauth: delete token: %w", err)
	}
	return nil
}

// RemoveByRefresh deletes the token with that refresh token, if any.
func (t tokenStore) RemoveByRefresh(ctx context.Context, refresh string) error {
	_, err := t.s.db.NewDelete().Model((*tokenRow)(nil)).Where("refresh_hash = ?", hashSecret(refresh)).Exec(ctx)
	if err != nil {
		return fmt.Errorf("oauth: delete token: %w", err)
	}
	return nil
}

// GetByCode returns an unexpired code, or nil (which go-oauth2 turns into
// invalid_grant).
func (t tokenStore) GetByCode(ctx context.Context, code string) (oauth2.TokenInfo, error) {
	var row codeRow
	err := t.s.db.NewSelect().Model(&row).
		ColumnExpr("c.*").ColumnExpr("a.client_id").
		Join("JOIN oauth_apps AS a ON a.id = c.app_id").
		Where("c.code_hash = ?", hashSecret(code)).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("oauth: load code: %w", err)
	}
	if !t.s.now().Before(row.ExpiresAt) {
		return nil, nil
	}
	ti := models.NewToken()
	ti.ClientID = row.ClientID
	ti.UserID = formatUserID(row.AccountID)
	ti.RedirectURI = row.RedirectURI
	ti.Scope = row.Scopes
	ti.Code = code
	ti.CodeChallenge = row.CodeChallenge
	ti.CodeChallengeMethod = row.CodeChallengeMethod
	ti.CodeCreateAt = row.CreatedAt
	ti.CodeExpiresIn = row.ExpiresAt.Sub(row.CreatedAt)
	return ti, nil
}

func (t tokenStore) loadToken(ctx context.Context, column, value string) (*tokenRow, error) {
	var row tokenRow
	err := t.s.db.NewSelect().Model(&row).
		ColumnExpr("t.*").ColumnExpr("a.client_id").
		Join("JOIN oauth_apps AS a ON a.id = t.app_id").
		Where("t."+column+" = ?", hashSecret(value)).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("oauth: load token: %w", err)
	}
	return &row, nil
}

func (row *tokenRow) info(access, refresh string) *storedToken {
	ti := models.NewToken()
	ti.ClientID = row.ClientID
	ti.UserID = formatUserID(row.AccountID)
	ti.RedirectURI = row.RedirectURI
	ti.Scope = row.Scopes
	ti.Access = access
	ti.AccessCreateAt = row.CreatedAt
	if !row.ExpiresAt.IsZero() {
		ti.AccessExpiresIn = row.ExpiresAt.Sub(row.CreatedAt)
	}
	ti.Refresh = refresh
	ti.RefreshCreateAt = row.CreatedAt
	if !row.RefreshExpiresAt.IsZero() {
		ti.RefreshExpiresIn = row.RefreshExpiresAt.Sub(row.CreatedAt)
	}
	return &storedToken{Token: ti, rowID: row.ID, accountID: row.AccountID, appID: row.AppID}
}

// GetByAccess returns an unexpired token by its access token, or nil.
func (t tokenStore) GetByAccess(ctx context.Context, access string) (oauth2.TokenInfo, error) {
	row, err := t.loadToken(ctx, "access_hash", access)
	if err != nil || row == nil {
		return nil, err
	}
	if !row.ExpiresAt.IsZero() && !t.s.now().Before(row.ExpiresAt) {
		return nil, nil
	}
	return row.info(access, ""), nil
}

// GetByRefresh returns a token by its unexpired refresh token, or nil. The
// access token is not known (only its hash is stored); go-oauth2 needs it
// only to delete the old token, which Create has done already.
func (t tokenStore) GetByRefresh(ctx context.Context, refresh string) (oauth2.TokenInfo, error) {
	row, err := t.loadToken(ctx, "refresh_hash", refresh)
	if err != nil || row == nil {
		return nil, err
	}
	if !row.RefreshExpiresAt.IsZero() && !t.s.now().Before(row.RefreshExpiresAt) {
		return nil, nil
	}
	return row.info("", refresh), nil
}
