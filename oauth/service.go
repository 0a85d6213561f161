package oauth

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-oauth2/oauth2/v4"
	oerrors "github.com/go-oauth2/oauth2/v4/errors"
	"github.com/go-oauth2/oauth2/v4/manage"
	"github.com/go-oauth2/oauth2/v4/server"
	"github.com/uptrace/bun"

	"github.com/commonroom/commonroom/internal/db"
	"github.com/commonroom/commonroom/internal/errkind"
	"github.com/commonroom/commonroom/internal/ids"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the migration set that creates the provider's tables.
func Migrations() db.MigrationSet {
	return db.EmbeddedMigrations("oauth", migrationFiles, "migrations")
}

// Options are the Service's collaborators; nil fields get working defaults.
type Options struct {
	Logger *slog.Logger     // nil discards
	Now    func() time.Time // nil: time.Now
	Random io.Reader        // nil: crypto/rand.Reader; secrets and ids come from it
	IDs    *ids.Generator   // nil: a generator on Now and Random
}

// Revocation says that a token stopped working: revoked by its owner or
// client, rotated by a refresh, or ended with its account.
type Revocation struct {
	TokenID   int64
	AccountID int64 // 0 for app tokens
	AppID     int64
}

// Service is the OAuth 2 provider: apps, codes, tokens, sessions and the
// go-oauth2 server configured the way Mastodon clients expect. It is safe
// for concurrent use. Its HTTP side is Handler; adapters use Middleware and
// RequireScope.
type Service struct {
	db       bun.IDB
	accounts Accounts
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
	random   io.Reader
	ids      *ids.Generator

	srv *server.Server

	mu       sync.Mutex
	onRevoke []func(context.Context, Revocation)
}

// NewService returns the provider over database d (with Migrations applied)
// signing people in against accounts.
func NewService(d bun.IDB, accounts Accounts, cfg Config, opts Options) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if accounts == nil {
		return nil, errors.New("oauth: accounts are required")
	}
	s := &Service{db: d, accounts: accounts, cfg: cfg, log: opts.Logger, now: opts.Now, random: opts.Random, ids: opts.IDs}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.random == nil {
		s.random = rand.Reader
	}
	if s.ids == nil {
		s.ids = ids.New(s.now, s.random)
	}
	s.srv = s.newProvider()
	return s, nil
}

// Config returns the configuration the service runs with.
func (s *Service) Config() Config { return s.cfg }

// Accounts returns the account store the service signs people in against.
func (s *Service) Accounts() Accounts { return s.accounts }

// newSecret returns 256 random bits, base64url without padding.
func (s *Service) newSecret() (string, error) {
	var b [32]byte
	if _, err := io.ReadFull(s.random, b[:]); err != nil {
		return "", fmt.Errorf("oauth: read random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// codeGenerator and accessGenerator make codes and tokens from the
// service's randomness (256 bits each), replacing go-oauth2's UUID-based
// generators.
type codeGenerator struct{ s *Service }

func (g codeGenerator) Token(ctx context.Context, data *oauth2.GenerateBasic) (string, error) {
	return g.s.newSecret()
}

type accessGenerator struct{ s *Service }

func (g accessGenerator) Token(ctx context.Context, data *oauth2.GenerateBasic, isGenRefresh bool) (string, string, error) {
	access, err := g.s.newSecret()
	if err != nil || !isGenRefresh {
		return access, "", err
	}
	refresh, err := g.s.newSecret()
	return access, refresh, err
}

// newProvider configures go-oauth2, overriding each default that Mastodon
// clients or our security rules disagree with:
//   - redirect URIs match byte for byte (not by host suffix);
//   - only response_type=code (no implicit flow) and only S256 PKCE;
//   - tokens do not expire unless configured, codes live CodeTTL;
//   - the password grant is off unless configured;
//   - clients authenticate with HTTP Basic or client_id/client_secret in
//     the body (JSON bodies are turned into form values before);
//   - errors carry RFC 6749 status codes (400, 401 for invalid_client);
//   - a requested scope must be known and within the app's scopes.
func (s *Service) newProvider() *server.Server {
	m := manage.NewManager()
	m.MapClientStorage(clientStore{s})
	m.MapTokenStorage(tokenStore{s})
	m.MapAuthorizeGenerate(codeGenerator{s})
	m.MapAccessGenerate(accessGenerator{s})
	m.SetValidateURIHandler(validateRedirectURI)
	m.SetAuthorizeCodeExp(s.cfg.CodeTTL)
	userTokens := &manage.Config{AccessTokenExp: s.cfg.AccessTokenTTL, RefreshTokenExp: s.cfg.RefreshTokenTTL, IsGenerateRefresh: true}
	m.SetAuthorizeCodeTokenCfg(userTokens)
	m.SetPasswordTokenCfg(userTokens)
	m.SetClientTokenCfg(&manage.Config{AccessTokenExp: s.cfg.AccessTokenTTL})
	m.SetRefreshTokenCfg(&manage.RefreshingConfig{
		AccessTokenExp:     s.cfg.AccessTokenTTL,
		RefreshTokenExp:    s.cfg.RefreshTokenTTL,
		IsGenerateRefresh:  true,
		IsResetRefreshTime: true,
		IsRemoveAccess:     true,
		IsRemoveRefreshing: true,
	})

	grants := []oauth2.GrantType{oauth2.AuthorizationCode, oauth2.ClientCredentials, oauth2.Refreshing}
	if s.cfg.PasswordGrant {
		grants = append(grants, oauth2.PasswordCredentials)
	}
	srv := server.NewServer(&server.Config{
		TokenType:                   "Bearer",
		AllowedResponseTypes:        []oauth2.ResponseType{oauth2.Code},
		AllowedGrantTypes:           grants,
		AllowedCodeChallengeMethods: []oauth2.CodeChallengeMethod{oauth2.CodeChallengeS256},
	}, m)
	srv.SetClientInfoHandler(clientCredentials)
	srv.SetClientScopeHandler(s.clientScopeAllowed)
	srv.SetRefreshingScopeHandler(refreshScopeAllowed)
	srv.SetPasswordAuthorizationHandler(s.passwordGrant)
	srv.SetInternalErrorHandler(s.internalError)
	srv.SetResponseErrorHandler(rfcStatus)
	srv.SetExtensionFieldsHandler(func(oauth2.TokenInfo) map[string]any {
		// Mastodon's Token entity has created_at, in Unix seconds.
		return map[string]any{"created_at": s.now().Unix()}
	})
	srv.SetResponseTokenHandler(writeTokenResponse)
	// Authorization requests are handled by Handler, which shows the
	// sign-in and consent pages; go-oauth2 only issues the code.
	srv.SetUserAuthorizationHandler(func(http.ResponseWriter, *http.Request) (string, error) {
		return "", oerrors.ErrAccessDenied
	})
	return srv
}

// clientCredentials reads the client's id and secret from HTTP Basic
// authentication or, as Mastodon clients send them, from the body.
func clientCredentials(r *http.Request) (string, string, error) {
	if id, secret, ok := r.BasicAuth(); ok {
		return id, secret, nil
	}
	id := r.PostForm.Get("client_id")
	if id == "" {
		return "", "", oerrors.ErrInvalidClient
	}
	return id, r.PostForm.Get("client_secret"), nil
}

// clientScopeAllowed checks a requested scope against the app's registered
// scopes (granular scopes of registered ones are fine) and normalises it.
func (s *Service) clientScopeAllowed(tgr *oauth2.TokenGenerateRequest) (bool, error) {
	ctx := context.Background()
	if tgr.Request != nil {
		ctx = tgr.Request.Context()
	}
	app, err := s.appByClientID(ctx, tgr.ClientID)
	if err != nil {
		return false, err
	}
	requested, err := ParseScopes(tgr.Scope)
	if err != nil {
		return false, nil
	}
	tgr.Scope = requested.String()
	return app.ScopeList().Covers(requested), nil
}

// refreshScopeAllowed lets a refresh narrow the scopes, never widen them.
func refreshScopeAllowed(tgr *oauth2.TokenGenerateRequest, oldScope string) (bool, error) {
	requested, err := ParseScopes(tgr.Scope)
	if err != nil {
		return false, nil
	}
	tgr.Scope = requested.String()
	return Scopes(strings.Fields(oldScope)).Covers(requested), nil
}

// passwordGrant signs a person in for grant_type=password (when enabled).
func (s *Service) passwordGrant(ctx context.Context, clientID, username, password string) (string, error) {
	a, err := s.accounts.Authenticate(ctx, username, password)
	if err != nil {
		if k := errkind.Of(err); k == errkind.Unauthorized || k == errkind.NotFound || k == errkind.Invalid {
			return "", oerrors.ErrInvalidGrant
		}
		return "", err
	}
	if !a.Active() {
		return "", oerrors.ErrInvalidGrant
	}
	return strconv.FormatInt(a.ID, 10), nil
}

// internalError maps go-oauth2 errors that have no RFC description, and
// logs real faults.
func (s *Service) internalError(err error) *oerrors.Response {
	switch {
	case errors.Is(err, oerrors.ErrMissingCodeVerifier), errors.Is(err, oerrors.ErrInvalidRedirectURI),
		errors.Is(err, oerrors.ErrInvalidAuthorizeCode), errors.Is(err, oerrors.ErrInvalidCodeChallenge),
		errors.Is(err, oerrors.ErrInvalidRefreshToken), errors.Is(err, oerrors.ErrExpiredRefreshToken):
		return &oerrors.Response{Error: oerrors.ErrInvalidGrant, Description: oerrors.Descriptions[oerrors.ErrInvalidGrant], StatusCode: http.StatusBadRequest}
	case errkind.Of(err) == errkind.NotFound:
		return &oerrors.Response{Error: oerrors.ErrInvalidClient, Description: oerrors.Descriptions[oerrors.ErrInvalidClient], StatusCode: http.StatusUnauthorized}
	}
	s.log.Error("oauth: token endpoint failed", "err", err)
	return nil
}

// rfcStatus sets RFC 6749 section 5.2 status codes: 401 for invalid_client,
// 400 for the other errors, 5xx as they are.
func rfcStatus(re *oerrors.Response) {
	switch {
	case re.StatusCode >= 500:
	case re.Error == oerrors.ErrInvalidClient:
		re.StatusCode = http.StatusUnauthorized
		re.SetHeader("WWW-Authenticate", `Basic realm="oauth"`)
	default:
		re.StatusCode = http.StatusBadRequest
	}
}

// writeTokenResponse writes a token or error response. A token that does
// not expire has no expires_in (go-oauth2 would say 0, which clients read
// as "already expired").
func writeTokenResponse(w http.ResponseWriter, data map[string]any, header http.Header, statusCode ...int) error {
	if v, ok := data["expires_in"].(int64); ok && v == 0 {
		delete(data, "expires_in")
	}
	for k := range header {
		w.Header().Set(k, header.Get(k))
	}
	status := http.StatusOK
	if len(statusCode) > 0 && statusCode[0] > 0 {
		status = statusCode[0]
	}
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, status, data)
	return nil
}

// appByClientID returns the app, or NotFound.
func (s *Service) appByClientID(ctx context.Context, clientID string) (*App, error) {
	app := new(App)
	err := s.db.NewSelect().Model(app).Where("client_id = ?", clientID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errkind.Wrap(errkind.NotFound, "unknown client", err)
	}
	if err != nil {
		return nil, fmt.Errorf("oauth: load app: %w", err)
	}
	return app, nil
}

// OnRevoke registers fn to be called after a token stops working (revoked,
// rotated by a refresh, or ended with its account or app). fn runs
// synchronously on the revoking request's goroutine and must not block; the
// streaming layer uses it to close connections opened with that token.
func (s *Service) OnRevoke(fn func(ctx context.Context, r Revocation)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onRevoke = append(s.onRevoke, fn)
}

func (s *Service) notifyRevoked(ctx context.Context, revs ...Revocation) {
	s.mu.Lock()
	fns := append([]func(context.Context, Revocation){}, s.onRevoke...)
	s.mu.Unlock()
	for _, r := range revs {
		for _, fn := range fns {
			fn(ctx, r)
		}
	}
}
