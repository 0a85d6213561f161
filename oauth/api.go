package oauth

import (
	"net/http"
	"strings"

	"github.com/go-oauth2/oauth2/v4"

	"github.com/commonroom/commonroom/internal/errkind"
	"github.com/commonroom/commonroom/internal/ids"
)

// appJSON is Mastodon's Application entity; the credential fields are set
// only in the registration response (CredentialApplication).
type appJSON struct {
	ID                    string   `json:"id"`
	Name                  string   `json:"name"`
	Website               *string  `json:"website"`
	Scopes                []string `json:"scopes"`
	RedirectURI           string   `json:"redirect_uri"`
	RedirectURIs          []string `json:"redirect_uris"`
	ClientID              string   `json:"client_id,omitempty"`
	ClientSecret          string   `json:"client_secret,omitempty"`
	ClientSecretExpiresAt *int     `json:"client_secret_expires_at,omitempty"`
}

func appEntity(a *App) appJSON {
	out := appJSON{
		ID:           ids.Format(a.ID),
		Name:         a.Name,
		Scopes:       a.ScopeList(),
		RedirectURI:  a.RedirectURIs,
		RedirectURIs: a.RedirectURIList(),
	}
	if a.Website != "" {
		out.Website = &a.Website
	}
	return out
}

// registerApp is POST /api/v1/apps: client_name, redirect_uris (one string
// of whitespace-separated URIs, or an array), scopes, website; JSON or
// form body, or query parameters. Errors are Mastodon's {"error": "..."}: 422 for invalid fields,
// 400 for a malformed body, 413 for an oversized one.
func (h *Handler) registerApp(w http.ResponseWriter, r *http.Request) {
	p, err := readParams(w, r, h.svc.cfg.MaxBodyBytes)
	if err != nil {
		status, msg := h.statusOf(r, err)
		mastodonError(w, status, msg)
		return
	}
	// As in Mastodon (Rails merges them), query parameters count too; the
	// body wins. Registration carries no secret, so nothing leaks to logs.
	for k, v := range r.URL.Query() {
		if _, ok := p[k]; !ok {
			p[k] = v
		}
	}
	var uris []string
	for _, key := range []string{"redirect_uris", "redirect_uris[]"} {
		for _, v := range p[key] {
			uris = append(uris, strings.Fields(v)...)
		}
	}
	na := NewApp{Name: p.Get("client_name"), Website: p.Get("website"), RedirectURIs: uris, Scopes: p.Get("scopes")}
	app, secret, err := h.svc.RegisterApp(r.Context(), na)
	if err != nil {
		status, msg := h.statusOf(r, err)
		mastodonError(w, status, msg)
		return
	}
	out := appEntity(app)
	zero := 0
	out.ClientID, out.ClientSecret, out.ClientSecretExpiresAt = app.ClientID, secret, &zero
	writeJSON(w, http.StatusOK, out)
}

// verifyCredentials is GET /api/v1/apps/verify_credentials: the app of
// any valid token.
func (h *Handler) verifyCredentials(w http.ResponseWriter, r *http.Request) {
	app, err := h.svc.appByClientID(r.Context(), AuthFrom(r.Context()).ClientID)
	if err != nil {
		status, msg := h.statusOf(r, err)
		mastodonError(w, status, msg)
		return
	}
	writeJSON(w, http.StatusOK, appEntity(app))
}

// token is POST /oauth/token, with a JSON or form body. The client is
// authenticated here first (HTTP Basic or client_id and client_secret),
// then go-oauth2 runs the grant.
func (h *Handler) token(w http.ResponseWriter, r *http.Request) {
	p, err := readParams(w, r, h.svc.cfg.MaxBodyBytes)
	if err != nil {
		status, msg := h.statusOf(r, err)
		oauthError(w, status, "invalid_request", msg)
		return
	}
	r.PostForm, r.Form = p, p
	switch gt := p.Get("grant_type"); gt {
	case "":
		oauthError(w, http.StatusBadRequest, "invalid_request", "grant_type is required")
		return
	case string(oauth2.AuthorizationCode), string(oauth2.ClientCredentials), string(oauth2.Refreshing):
	case string(oauth2.PasswordCredentials):
		if !h.svc.cfg.PasswordGrant {
			oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "the password grant is disabled on this server")
			return
		}
		if h.loginLimit.OnLimit(w, r, h.ipKey(r)) {
			oauthError(w, http.StatusTooManyRequests, "slow_down", "too many sign-in attempts; try again later")
			return
		}
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type must be authorization_code, client_credentials or refresh_token")
		return
	}
	app, ok := h.authenticateClient(w, r)
	if !ok {
		return
	}
	if p.Get("grant_type") == string(oauth2.Refreshing) {
		// go-oauth2 does not check that a refresh token belongs to the
		// client presenting it.
		row, err := tokenStore{h.svc}.loadToken(r.Context(), "refresh_hash", p.Get("refresh_token"))
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		if row != nil && row.AppID != app.ID {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "the refresh token was issued to another client")
			return
		}
		// Nor that its account may still use it.
		if row != nil && row.AccountID != 0 {
			a, err := h.svc.accounts.ByID(r.Context(), row.AccountID)
			if err != nil && errkind.Of(err) != errkind.NotFound {
				h.serverError(w, r, err)
				return
			}
			if a == nil || !a.Active() {
				oauthError(w, http.StatusBadRequest, "invalid_grant", "the account of this refresh token cannot use it")
				return
			}
		}
	}
	if err := h.svc.srv.HandleTokenRequest(w, r); err != nil {
		h.log.ErrorContext(r.Context(), "oauth: write token response", "err", err)
	}
}

// authenticateClient authenticates the client of a token or revocation
// request (HTTP Basic, or client_id and client_secret in the body). When it
// fails it has written the OAuth error and reports false.
func (h *Handler) authenticateClient(w http.ResponseWriter, r *http.Request) (*App, bool) {
	clientID, secret, err := clientCredentials(r)
	if err != nil {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return nil, false
	}
	app, err := h.svc.appByClientID(r.Context(), clientID)
	if err != nil && errkind.Of(err) != errkind.NotFound {
		h.serverError(w, r, err)
		return nil, false
	}
	if app == nil || !app.CheckSecret(secret) {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return nil, false
	}
	return app, true
}

// serverError logs err (when it is internal) and answers the OAuth
// "server_error", which carries no detail.
func (h *Handler) serverError(w http.ResponseWriter, r *http.Request, err error) {
	h.statusOf(r, err)
	oauthError(w, http.StatusInternalServerError, "server_error", "internal server error")
}

// revoke is POST /oauth/revoke (RFC 7009): the authenticated client
// revokes one of its access or refresh tokens. Unknown tokens succeed.
func (h *Handler) revoke(w http.ResponseWriter, r *http.Request) {
	p, err := readParams(w, r, h.svc.cfg.MaxBodyBytes)
	if err != nil {
		status, msg := h.statusOf(r, err)
		oauthError(w, status, "invalid_request", msg)
		return
	}
	r.PostForm, r.Form = p, p
	app, ok := h.authenticateClient(w, r)
	if !ok {
		return
	}
	token := p.Get("token")
	if token == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "token is required")
		return
	}
	if err := h.svc.RevokeToken(r.Context(), app.ClientID, token); err != nil {
		if errkind.Of(err) == errkind.Forbidden {
			oauthError(w, http.StatusForbidden, "unauthorized_client", errkind.Message(err))
			return
		}
		h.serverError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

// metadata is GET /.well-known/oauth-authorization-server (RFC 8414).
func (h *Handler) metadata(w http.ResponseWriter, r *http.Request) {
	cfg := h.svc.cfg
	grants := []string{"authorization_code", "client_credentials", "refresh_token"}
	if cfg.PasswordGrant {
		grants = append(grants, "password")
	}
	doc := map[string]any{
		"issuer":                                     cfg.Issuer,
		"authorization_endpoint":                     cfg.Issuer + "/oauth/authorize",
		"token_endpoint":                             cfg.Issuer + "/oauth/token",
		"revocation_endpoint":                        cfg.Issuer + "/oauth/revoke",
		"app_registration_endpoint":                  cfg.Issuer + "/api/v1/apps",
		"scopes_supported":                           AllScopes(),
		"response_types_supported":                   []string{"code"},
		"response_modes_supported":                   []string{"query"},
		"grant_types_supported":                      grants,
		"code_challenge_methods_supported":           []string{"S256"},
		"token_endpoint_auth_methods_supported":      []string{"client_secret_basic", "client_secret_post"},
		"revocation_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
	}
	if cfg.ServiceDocumentation != "" {
		doc["service_documentation"] = cfg.ServiceDocumentation
	}
	w.Header().Set("Access-Control-Allow-Origin", "*")
	writeJSON(w, http.StatusOK, doc)
}
