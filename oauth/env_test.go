package oauth_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"
	"github.com/go-chi/chi/v5"
	"github.com/uptrace/bun"

	"github.com/commonroom/commonroom/internal/dbtest"
	"github.com/commonroom/commonroom/internal/users"
	"github.com/commonroom/commonroom/oauth"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is one provider on a real HTTP server over a real database, with
// guarded test endpoints at /test/{scope}.
type env struct {
	t        *testing.T
	db       *bun.DB
	svc      *oauth.Service
	accounts *oauth.LocalAccounts
	clock    *clock
	srv      *httptest.Server
	mux      *chi.Mux

	mu      sync.Mutex
	revoked []oauth.Revocation
}

// forEachDB runs fn on SQLite and (with COMMONROOM_TEST_POSTGRES) PostgreSQL.
func forEachDB(t *testing.T, fn func(t *testing.T, db *bun.DB)) {
	t.Helper()
	dbtest.ForEach(t, fn, users.Migrations(), oauth.Migrations())
}

var cheapHash = &argon2id.Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

func newEnv(t *testing.T, db *bun.DB, configure ...func(*oauth.Config)) *env {
	t.Helper()
	e := &env{t: t, db: db, clock: &clock{t: time.Now().UTC()}}
	accounts, err := oauth.NewLocalAccounts(db, users.Options{Now: e.clock.Now, HashParams: cheapHash})
	if err != nil {
		t.Fatal(err)
	}
	e.accounts = accounts
	mux := chi.NewRouter()
	e.mux = mux
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	cfg := oauth.DefaultConfig(e.srv.URL)
	cfg.InsecureHTTP = true
	for _, f := range configure {
		f(&cfg)
	}
	svc, err := oauth.NewService(db, accounts, cfg, oauth.Options{Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	svc.OnRevoke(func(_ context.Context, r oauth.Revocation) {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.revoked = append(e.revoked, r)
	})
	h, err := oauth.NewHandler(svc, oauth.HandlerOptions{ClientIP: func(r *http.Request) string {
		if ip := r.Header.Get("X-Test-IP"); ip != "" {
			return ip
		}
		return "192.0.2.1"
	}})
	if err != nil {
		t.Fatal(err)
	}
	h.Routes(mux)
	mux.Group(func(r chi.Router) {
		r.Use(svc.Middleware)
		for _, scope := range []string{"read", "write", "read:statuses", "profile", "admin:read"} {
			r.With(oauth.RequireScope(scope)).Get("/test/"+scope, func(w http.ResponseWriter, r *http.Request) {
				a := oauth.AuthFrom(r.Context())
				_ = json.NewEncoder(w).Encode(map[string]any{"account": a.AccountID(), "scopes": a.Scopes.String()})
			})
		}
		r.With(oauth.RequireUser).Get("/test/user", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNoContent)
		})
	})
	return e
}

// browser returns an HTTP client with a cookie jar that does not follow
// redirects.
func (e *env) browser() *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type response struct {
	Status int
	Header http.Header
	Body   string
}

func (r response) JSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.Body), &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.Body)
	}
	return m
}

func (e *env) do(c *http.Client, method, path, contentType string, body io.Reader, header ...string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if c == nil {
		c = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
}

func (e *env) postForm(c *http.Client, path string, v url.Values, header ...string) response {
	e.t.Helper()
	return e.do(c, http.MethodPost, path, "application/x-www-form-urlencoded", strings.NewReader(v.Encode()), header...)
}

func (e *env) postJSON(c *http.Client, path string, v any, header ...string) response {
	e.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.do(c, http.MethodPost, path, "application/json", bytes.NewReader(b), header...)
}

func (e *env) get(c *http.Client, path string, header ...string) response {
	e.t.Helper()
	return e.do(c, http.MethodGet, path, "", nil, header...)
}

// app is a registered client.
type app struct{ ID, Secret, Redirect string }

func (e *env) registerApp(scopes string, redirects ...string) app {
	e.t.Helper()
	if len(redirects) == 0 {
		redirects = []string{"https://app.example/callback"}
	}
	r := e.postJSON(nil, "/api/v1/apps", map[string]any{"client_name": "Test App", "redirect_uris": redirects, "scopes": scopes, "website": "https://app.example"})
	if r.Status != http.StatusOK {
		e.t.Fatalf("register app: %d %s", r.Status, r.Body)
	}
	m := r.JSON(e.t)
	return app{ID: m["client_id"].(string), Secret: m["client_secret"].(string), Redirect: redirects[0]}
}

func (e *env) createUser(username, password string) int64 {
	e.t.Helper()
	a, err := e.accounts.Create(context.Background(), oauth.NewAccount{Username: username, Email: username + "@school.example", Password: password})
	if err != nil {
		e.t.Fatal(err)
	}
	return a.ID
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func csrfOf(t *testing.T, body string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf_token in page:\n%s", body)
	}
	return m[1]
}

// signIn signs browser c in through the form.
func (e *env) signIn(c *http.Client, username, password string) {
	e.t.Helper()
	page := e.get(c, "/oauth/sign_in")
	r := e.postForm(c, "/oauth/sign_in", url.Values{"csrf_token": {csrfOf(e.t, page.Body)}, "username": {username}, "password": {password}})
	if r.Status != http.StatusSeeOther {
		e.t.Fatalf("sign in: %d %s", r.Status, r.Body)
	}
}

// authorize runs GET /oauth/authorize with params in signed-in browser c
// and approves (or denies) the consent page; it returns the final response.
func (e *env) authorize(c *http.Client, params url.Values, decision string) response {
	e.t.Helper()
	page := e.get(c, "/oauth/authorize?"+params.Encode())
	if page.Status != http.StatusOK {
		return page
	}
	form := url.Values{"csrf_token": {csrfOf(e.t, page.Body)}, "decision": {decision}}
	for _, m := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`).FindAllStringSubmatch(page.Body, -1) {
		if m[1] != "csrf_token" {
			form.Set(m[1], htmlUnescape(m[2]))
		}
	}
	return e.postForm(c, "/oauth/authorize", form)
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'", "&quot;", `"`, "&#43;", "+").Replace(s)
}

// codeFrom returns the code of an authorization redirect.
func codeFrom(t *testing.T, r response) string {
	t.Helper()
	if r.Status != http.StatusFound {
		t.Fatalf("authorize: want 302, got %d %s", r.Status, r.Body)
	}
	u, err := url.Parse(r.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	code := u.Query().Get("code")
	if code == "" {
		t.Fatalf("no code in %s", u)
	}
	return code
}

// pkce returns a verifier and its S256 challenge.
func pkce(seed string) (verifier, challenge string) {
	verifier = strings.Repeat(seed, 64)[:64]
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

func authParams(a app, scope string, extra ...string) url.Values {
	v := url.Values{"client_id": {a.ID}, "redirect_uri": {a.Redirect}, "response_type": {"code"}, "scope": {scope}, "state": {"xyz"}}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return v
}

// userWithCode creates a user, signs a browser in and returns the browser.
func (e *env) signedInBrowser(username string) *http.Client {
	e.t.Helper()
	e.createUser(username, "correct horse battery")
	c := e.browser()
	e.signIn(c, username, "correct horse battery")
	return c
}

// exchange swaps a code for a token, with a JSON or form body.
func (e *env) exchange(a app, code, verifier string, asJSON bool) response {
	e.t.Helper()
	v := map[string]string{"grant_type": "authorization_code", "code": code, "client_id": a.ID, "client_secret": a.Secret, "redirect_uri": a.Redirect}
	if verifier != "" {
		v["code_verifier"] = verifier
	}
	if asJSON {
		return e.postJSON(nil, "/oauth/token", v)
	}
	form := url.Values{}
	for k, s := range v {
		form.Set(k, s)
	}
	return e.postForm(nil, "/oauth/token", form)
}

func bearer(token string) []string { return []string{"Authorization", "Bearer " + token} }

func (e *env) count(table string) int64 {
	e.t.Helper()
	n, err := e.db.NewSelect().Table(table).Count(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func wantStatus(t *testing.T, r response, want int) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d; body: %s", r.Status, want, r.Body)
	}
}

func wantOAuthError(t *testing.T, r response, status int, code string) {
	t.Helper()
	wantStatus(t, r, status)
	if got := r.JSON(t)["error"]; got != code {
		t.Fatalf("error %v, want %s; body: %s", got, code, r.Body)
	}
}

func regexpFind(t *testing.T, s, pattern string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no match for %s in:\n%s", pattern, s)
	}
	return m[1]
}

func regexpAll(s, pattern string) []string {
	var out []string
	for _, m := range regexp.MustCompile(pattern).FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

func decodeJSON(resp *http.Response, v any) error {
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
