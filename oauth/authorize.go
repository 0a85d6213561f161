package oauth

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"time"

	"github.com/go-oauth2/oauth2/v4"
	"github.com/go-oauth2/oauth2/v4/server"

	"github.com/commonroom/commonroom/internal/errkind"
)

// authRequest is a validated authorization request.
type authRequest struct {
	app                 *App
	redirectURI         string
	scopes              Scopes
	state               string
	codeChallenge       string
	codeChallengeMethod string
}

// authError is an authorization request error. redirect is true once the
// client and redirect URI are known good: the error then goes back to the
// app (RFC 6749 section 4.1.2.1); otherwise it is shown to the person, and
// nothing is sent to an unverified redirect URI.
type authError struct {
	redirect bool
	code     string
	desc     string
}

func (e *authError) Error() string { return e.code + ": " + e.desc }

// S256 challenges are the unpadded base64url SHA-256 of the verifier.
var s256Challenge = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// parseAuthRequest validates an authorization request's parameters, in
// the order that decides where errors go.
func (h *Handler) parseAuthRequest(r *http.Request, p url.Values) (*authRequest, error) {
	clientID := p.Get("client_id")
	if clientID == "" {
		return nil, &authError{code: "invalid_request", desc: "The request has no client_id."}
	}
	app, err := h.svc.appByClientID(r.Context(), clientID)
	if errkind.Of(err) == errkind.NotFound {
		return nil, &authError{code: "invalid_client", desc: "No app is registered with this client_id."}
	}
	if err != nil {
		return nil, err
	}
	req := &authRequest{app: app, redirectURI: p.Get("redirect_uri"), state: p.Get("state")}
	if req.redirectURI == "" {
		if uris := app.RedirectURIList(); len(uris) == 1 {
			req.redirectURI = uris[0]
		} else {
			return nil, &authError{code: "invalid_request", desc: "The request has no redirect_uri."}
		}
	}
	if !app.HasRedirectURI(req.redirectURI) {
		return nil, &authError{code: "invalid_request", desc: "The redirect_uri is not one the app registered."}
	}
	// From here on errors go back to the app.
	if len(req.state) > 2000 {
		req.state = ""
		return req, &authError{redirect: true, code: "invalid_request", desc: "state is too long"}
	}
	if rt := p.Get("response_type"); rt != string(oauth2.Code) {
		return req, &authError{redirect: true, code: "unsupported_response_type", desc: "response_type must be code"}
	}
	scopes, err := ParseScopes(p.Get("scope"))
	if err != nil {
		return req, &authError{redirect: true, code: "invalid_scope", desc: errkind.Message(err)}
	}
	if !app.ScopeList().Covers(scopes) {
		return req, &authError{redirect: true, code: "invalid_scope", desc: "The requested scope is outside the scopes the app registered."}
	}
	req.scopes = scopes
	challenge, method := p.Get("code_challenge"), p.Get("code_challenge_method")
	switch {
	case challenge == "" && method == "":
	case challenge == "":
		return req, &authError{redirect: true, code: "invalid_request", desc: "code_challenge_method without code_challenge"}
	case method != string(oauth2.CodeChallengeS256):
		return req, &authError{redirect: true, code: "invalid_request", desc: "code_challenge_method must be S256"}
	case !s256Challenge.MatchString(challenge):
		return req, &authError{redirect: true, code: "invalid_request", desc: "code_challenge must be 43 base64url characters"}
	}
	req.codeChallenge, req.codeChallengeMethod = challenge, method
	return req, nil
}

// hidden carries a validated request through the consent form.
func (req *authRequest) hidden() []hiddenField {
	out := []hiddenField{
		{"client_id", req.app.ClientID},
		{"redirect_uri", req.redirectURI},
		{"response_type", "code"},
		{"scope", req.scopes.String()},
	}
	if req.state != "" {
		out = append(out, hiddenField{"state", req.state})
	}
	if req.codeChallenge != "" {
		out = append(out, hiddenField{"code_challenge", req.codeChallenge}, hiddenField{"code_challenge_method", req.codeChallengeMethod})
	}
	return out
}

// redirectTo sends the browser to the app's redirect URI with params (and
// the state) appended to its query.
func (h *Handler) redirectTo(w http.ResponseWriter, r *http.Request, req *authRequest, params url.Values) {
	u, err := url.Parse(req.redirectURI)
	if err != nil {
		h.internalError(w, r, fmt.Errorf("registered redirect URI does not parse: %w", err))
		return
	}
	if req.state != "" {
		params.Set("state", req.state)
	}
	// The registered query stays as registered; ours is appended.
	if u.RawQuery != "" {
		u.RawQuery += "&" + params.Encode()
	} else {
		u.RawQuery = params.Encode()
	}
	w.Header().Set("Location", u.String())
	w.WriteHeader(http.StatusFound)
}

// authFailed answers an invalid authorization request.
func (h *Handler) authFailed(w http.ResponseWriter, r *http.Request, req *authRequest, err error) {
	ae, ok := err.(*authError)
	if !ok {
		h.internalError(w, r, err)
		return
	}
	if ae.redirect && req != nil && req.redirectURI != OOBRedirectURI {
		h.redirectTo(w, r, req, url.Values{"error": {ae.code}, "error_description": {ae.desc}})
		return
	}
	h.renderMessage(w, r, http.StatusBadRequest, "This authorization request cannot be used", ae.desc, "Error code: "+ae.code+". Go back to the app and try again, or tell its developer.")
}

// authorizePage is GET /oauth/authorize: validate, make sure someone is
// signed in, and show the consent page.
func (h *Handler) authorizePage(w http.ResponseWriter, r *http.Request) {
	req, err := h.parseAuthRequest(r, r.URL.Query())
	if err != nil {
		h.authFailed(w, r, req, err)
		return
	}
	p, _, err := h.formPage(w, r, "Authorize "+req.app.Name)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	if p.Account == nil {
		http.Redirect(w, r, "/oauth/sign_in?"+url.Values{"return_to": {r.URL.RequestURI()}}.Encode(), http.StatusSeeOther)
		return
	}
	if force, _ := strconv.ParseBool(r.URL.Query().Get("force_login")); force {
		// Mastodon's force_login: let the person pick the account (apps
		// use it to add a second one). The sign-in form comes back here
		// without the flag.
		q := r.URL.Query()
		q.Del("force_login")
		back := r.URL.Path + "?" + q.Encode()
		http.Redirect(w, r, "/oauth/sign_in?"+url.Values{"return_to": {back}, "force": {"1"}}.Encode(), http.StatusSeeOther)
		return
	}
	p.App = req.app
	p.RedirectURI = req.redirectURI
	p.OOB = req.redirectURI == OOBRedirectURI
	p.Hidden = req.hidden()
	for _, s := range req.scopes {
		p.Scopes = append(p.Scopes, scopeItem{Name: s, Words: scopeWords(s)})
	}
	h.render(w, r, http.StatusOK, "authorize", p)
}

// authorizeDecision is POST /oauth/authorize from the consent page:
// Authorize issues a code through go-oauth2, Deny sends access_denied.
func (h *Handler) authorizeDecision(w http.ResponseWriter, r *http.Request) {
	sess, err := h.svc.loadSession(r)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	if !h.readForm(w, r, sess) {
		return
	}
	if sess == nil {
		h.renderMessage(w, r, http.StatusForbidden, "You are signed out", "Go back to the app and start again.")
		return
	}
	req, err := h.parseAuthRequest(r, r.PostForm)
	if err != nil {
		h.authFailed(w, r, req, err)
		return
	}
	if r.PostForm.Get("decision") != "approve" {
		if req.redirectURI == OOBRedirectURI {
			h.renderMessage(w, r, http.StatusOK, "Authorization denied", req.app.Name+" was not given access to your account.")
			return
		}
		h.redirectTo(w, r, req, url.Values{"error": {"access_denied"}, "error_description": {"The person denied the request."}})
		return
	}
	ti, err := h.svc.srv.GetAuthorizeToken(r.Context(), &server.AuthorizeRequest{
		ResponseType:        oauth2.Code,
		ClientID:            req.app.ClientID,
		Scope:               req.scopes.String(),
		RedirectURI:         req.redirectURI,
		State:               req.state,
		UserID:              strconv.FormatInt(sess.account.ID, 10),
		CodeChallenge:       req.codeChallenge,
		CodeChallengeMethod: oauth2.CodeChallengeMethod(req.codeChallengeMethod),
		Request:             r,
	})
	if err != nil {
		h.internalError(w, r, fmt.Errorf("issue code: %w", err))
		return
	}
	if req.redirectURI == OOBRedirectURI {
		h.render(w, r, http.StatusOK, "code", &pageData{Title: "Your authorization code", App: req.app, Code: ti.GetCode(), CodeMinutes: int(h.svc.cfg.CodeTTL / time.Minute)})
		return
	}
	h.redirectTo(w, r, req, url.Values{"code": {ti.GetCode()}})
}
