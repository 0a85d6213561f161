package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/commonroom/commonroom/internal/apptest"
	"github.com/commonroom/commonroom/internal/cli"
	"github.com/commonroom/commonroom/internal/db"
	"github.com/commonroom/commonroom/internal/dbtest"
	"github.com/commonroom/commonroom/internal/errkind"
	"github.com/commonroom/commonroom/internal/server"
	"github.com/commonroom/commonroom/internal/users"
	"github.com/commonroom/commonroom/oauth"
)

// MustDo sends a request with an optional bearer token and body (JSON when
// body is a map, a form when it is url.Values) and returns the status and
// the body decoded as a JSON object (nil if it is not one).
func MustDo(tb testing.TB, method, u, token string, body any) (int, map[string]any) {
	tb.Helper()
	var r io.Reader
	contentType := ""
	switch b := body.(type) {
	case nil:
	case url.Values:
		r, contentType = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			tb.Fatal(err)
		}
		r, contentType = bytes.NewReader(raw), "application/json"
	}
	req, err := http.NewRequest(method, u, r)
	if err != nil {
		tb.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	var v map[string]any
	_ = json.Unmarshal(raw, &v)
	return res.StatusCode, v
}

// TestOAuthMetadataAndApps registers an app over POST /api/v1/apps, reads
// the RFC 8414 metadata, and walks its endpoints: an app token from the
// token endpoint works on verify_credentials until it is revoked at the
// revocation endpoint. The issuer is the server's public base URL.
func TestOAuthMetadataAndApps(t *testing.T) {
	dbtest.ForEachDSN(t, func(t *testing.T, dsn string) {
		inst := apptest.Start(t, apptest.Options{DSN: dsn, Args: []string{"--insecure-http"}})

		status, app := MustDo(t, http.MethodPost, inst.URL+"/api/v1/apps", "", map[string]any{
			"client_name": "Lesson Planner", "redirect_uris": oauth.OOBRedirectURI,
			"scopes": "read write", "website": "https://planner.example",
		})
		clientID, _ := app["client_id"].(string)
		secret, _ := app["client_secret"].(string)
		if status != http.StatusOK || clientID == "" || secret == "" || app["name"] != "Lesson Planner" {
			t.Fatalf("POST /api/v1/apps = %d %v", status, app)
		}

		status, meta := MustDo(t, http.MethodGet, inst.URL+"/.well-known/oauth-authorization-server", "", nil)
		if status != http.StatusOK {
			t.Fatalf("metadata = %d", status)
		}
		for key, want := range map[string]string{
			"issuer":                    inst.URL,
			"authorization_endpoint":    inst.URL + "/oauth/authorize",
			"token_endpoint":            inst.URL + "/oauth/token",
			"revocation_endpoint":       inst.URL + "/oauth/revoke",
			"app_registration_endpoint": inst.URL + "/api/v1/apps",
		} {
			if meta[key] != want {
				t.Errorf("metadata %s = %v, want %s", key, meta[key], want)
			}
		}
		if grants := fmt.Sprint(meta["grant_types_supported"]); strings.Contains(grants, "password") {
			t.Errorf("grant_types_supported = %s: the password grant is on by default", grants)
		}

		creds := url.Values{"client_id": {clientID}, "client_secret": {secret}}
		form := url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}
		for k, v := range creds {
			form[k] = v
		}
		status, tok := MustDo(t, http.MethodPost, meta["token_endpoint"].(string), "", form)
		token, _ := tok["access_token"].(string)
		if status != http.StatusOK || token == "" || tok["token_type"] != "Bearer" || tok["scope"] != "read" {
			t.Fatalf("client_credentials = %d %v", status, tok)
		}
		verify := inst.URL + "/api/v1/apps/verify_credentials"
		if status, got := MustDo(t, http.MethodGet, verify, token, nil); status != http.StatusOK || got["name"] != "Lesson Planner" {
			t.Errorf("verify_credentials with the app token = %d %v", status, got)
		}
		revoke := url.Values{"token": {token}}
		for k, v := range creds {
			revoke[k] = v
		}
		if status, got := MustDo(t, http.MethodPost, meta["revocation_endpoint"].(string), "", revoke); status != http.StatusOK {
			t.Fatalf("revoke = %d %v", status, got)
		}
		if status, got := MustDo(t, http.MethodGet, verify, token, nil); status != http.StatusUnauthorized {
			t.Errorf("verify_credentials with a revoked token = %d %v, want 401", status, got)
		}
	})
}

// TestOAuthConfiguration checks that the issuer follows the public host and
// scheme, and that oauth_password_grant reaches the provider.
func TestOAuthConfiguration(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		issuer   func(*apptest.Instance) string
		password bool
	}{
		{"https by default", nil, nil, func(i *apptest.Instance) string { return "https://" + i.Host }, false},
		{"password grant by flag", []string{"--insecure-http", "--oauth-password-grant"}, nil, func(i *apptest.Instance) string { return i.URL }, true},
		{"password grant by env", nil, map[string]string{"COMMONROOM_OAUTH_PASSWORD_GRANT": "true"}, func(i *apptest.Instance) string { return "https://" + i.Host }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inst := apptest.Start(t, apptest.Options{Args: tt.args, Env: tt.env})
			_, meta := MustDo(t, http.MethodGet, inst.URL+"/.well-known/oauth-authorization-server", "", nil)
			if want := tt.issuer(inst); meta["issuer"] != want || meta["token_endpoint"] != want+"/oauth/token" {
				t.Errorf("issuer %v, token endpoint %v; want %s", meta["issuer"], meta["token_endpoint"], want)
			}
			grants, _ := meta["grant_types_supported"].([]any)
			if got := slices.Contains(grants, any("password")); got != tt.password {
				t.Errorf("grant_types_supported = %v, want password %v", grants, tt.password)
			}
			if !inst.Logs.Contains(fmt.Sprintf("password_grant=%v", tt.password)) {
				t.Errorf("start-up log does not say password_grant=%v:\n%s", tt.password, inst.Logs)
			}
		})
	}
}

// TestRegistrationModes checks that registration is the one source of truth
// for sign-up: the sign-up page opens or closes with it, and NodeInfo's
// openRegistrations is true only when anyone may sign up.
func TestRegistrationModes(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		signUp     int
		nodeInfoOn bool
	}{
		{"default is closed", nil, http.StatusForbidden, false},
		{"closed", []string{"--registration", "closed"}, http.StatusForbidden, false},
		{"open", []string{"--registration", "open"}, http.StatusOK, true},
		{"approval", []string{"--registration", "approval"}, http.StatusOK, false},
		{"invite", []string{"--registration", "invite"}, http.StatusOK, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inst := apptest.Start(t, apptest.Options{Args: tt.args})
			if r := MustGet(t, inst.URL+"/oauth/sign_up"); r.status != tt.signUp {
				t.Errorf("GET /oauth/sign_up = %d, want %d", r.status, tt.signUp)
			}
			_, body := MustGetAccept(t, inst.URL+"/nodeinfo/2.1", "")
			if got := MustJSON(t, body)["openRegistrations"]; got != tt.nodeInfoOn {
				t.Errorf("NodeInfo openRegistrations = %v, want %v", got, tt.nodeInfoOn)
			}
		})
	}
}

// whoAmI serves GET /test/whoami behind the server's own OAuth middleware,
// for a person's token with write:statuses: it answers with the account's
// username and the token's scopes.
func whoAmI(inst *atomic.Pointer[apptest.Instance]) server.Router {
	return server.RouterFunc(func(r chi.Router) {
		r.Get("/test/whoami", func(w http.ResponseWriter, r *http.Request) {
			guard := func(next http.Handler) http.Handler {
				return inst.Load().OAuth.Middleware(oauth.RequireUser(oauth.RequireScope("write:statuses")(next)))
			}
			guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				a := oauth.AuthFrom(r.Context())
				fmt.Fprintf(w, "%s %s", a.Account.Username, a.Scopes)
			})).ServeHTTP(w, r)
		})
	})
}

// TestAdminToken creates a user, gets a token from the CLI and uses it
// against the running server, on a guarded endpoint of the oauth package
// and on one that needs a person and a write scope; a read-only token is
// refused there, and a revoked token everywhere.
func TestAdminToken(t *testing.T) {
	dbtest.ForEachDSN(t, func(t *testing.T, dsn string) {
		var ptr atomic.Pointer[apptest.Instance]
		inst := apptest.Start(t, apptest.Options{DSN: dsn, Routers: []server.Router{whoAmI(&ptr)}})
		ptr.Store(inst)
		MustRun(t, "admin", "user", "create", "--db", dsn, "--username", "ada", "--email", "ada@example.org", "--password", "correct horse")

		out := MustRun(t, "admin", "token", "--db", dsn, "--username", "ADA", "--scopes", "read write follow")
		token := strings.TrimSuffix(out, "\n")
		if token == "" || strings.ContainsAny(token, " \n") {
			t.Fatalf("admin token printed %q, want one token on one line", out)
		}

		verify := inst.URL + "/api/v1/apps/verify_credentials"
		if status, app := MustDo(t, http.MethodGet, verify, token, nil); status != http.StatusOK || app["name"] != "Commonroom CLI" {
			t.Errorf("verify_credentials = %d %v, want the Commonroom CLI app", status, app)
		}
		res, body := mustGetBearer(t, inst.URL+"/test/whoami", token)
		if res != http.StatusOK || body != "ada read write follow" {
			t.Errorf("whoami = %d %q, want 200 \"ada read write follow\"", res, body)
		}

		readOnly := strings.TrimSpace(MustRun(t, "admin", "token", "--db", dsn, "--username", "ada", "--scopes", "read"))
		if res, body := mustGetBearer(t, inst.URL+"/test/whoami", readOnly); res != http.StatusForbidden {
			t.Errorf("whoami with a read-only token = %d %q, want 403", res, body)
		}
		if readOnly == token {
			t.Error("two admin token runs printed the same token")
		}

		// Revoke through the server's own provider, as the CLI app (the
		// only client that holds it); the next request fails.
		ctx := context.Background()
		auth, err := inst.OAuth.AuthenticateToken(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		if err := inst.OAuth.RevokeToken(ctx, auth.ClientID, token); err != nil {
			t.Fatal(err)
		}
		if status, got := MustDo(t, http.MethodGet, verify, token, nil); status != http.StatusUnauthorized || got["error"] != "The access token is invalid" {
			t.Errorf("verify_credentials with the revoked token = %d %v, want 401", status, got)
		}
		if res, _ := mustGetBearer(t, inst.URL+"/test/whoami", token); res != http.StatusUnauthorized {
			t.Errorf("whoami with the revoked token = %d, want 401", res)
		}
		if res, _ := mustGetBearer(t, inst.URL+"/test/whoami", readOnly); res != http.StatusForbidden {
			t.Errorf("revoking one token touched another: whoami = %d, want 403", res)
		}
	})
}

func mustGetBearer(tb testing.TB, u, token string) (int, string) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("GET %s: %v", u, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return res.StatusCode, string(body)
}

func TestAdminTokenErrors(t *testing.T) {
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "commonroom.db")
	MustRun(t, "admin", "user", "create", "--db", dsn, "--username", "ada", "--email", "ada@example.org", "--password", "correct horse")

	// A suspended and a pending account, through the account store the
	// server uses.
	d, err := db.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	accounts, err := oauth.NewLocalAccounts(d.DB, users.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cy, err := accounts.Create(ctx, oauth.NewAccount{Username: "cy", Email: "cy@example.org", Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	if err := accounts.Suspend(ctx, cy.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := accounts.Create(ctx, oauth.NewAccount{Username: "dee", Email: "dee@example.org", Password: "correct horse", Pending: true}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		args []string
		kind error
		msg  string
	}{
		{"unknown user", []string{"--username", "nobody"}, errkind.NotFound, `admin token: no user named "nobody"`},
		{"unknown scope", []string{"--username", "ada", "--scopes", "read wrte"}, errkind.Invalid, `admin token: unknown scope "wrte"; scopes are read, write, follow`},
		{"scope with a typo in case", []string{"--username", "ada", "--scopes", "READ"}, errkind.Invalid, `unknown scope "READ"`},
		{"suspended user", []string{"--username", "cy"}, errkind.Forbidden, `admin token: user "cy" is suspended`},
		{"pending user", []string{"--username", "dee"}, errkind.Forbidden, `admin token: user "dee" is waiting for approval`},
		{"no username", []string{"--scopes", "read"}, cli.ErrUsage, "--username is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := run(append([]string{"admin", "token", "--db", dsn}, tt.args...), nil)
			if !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error = %v, want %v with %q", err, tt.kind, tt.msg)
			}
			if out != "" {
				t.Errorf("printed %q on failure", out)
			}
		})
	}

	// A bad scope is caught before the database is opened.
	fresh := filepath.Join(dir, "fresh")
	_, _, err = run([]string{"admin", "token", "--data-dir", fresh, "--username", "ada", "--scopes", "everything"}, nil)
	if !errors.Is(err, errkind.Invalid) {
		t.Errorf("bad scope = %v, want Invalid", err)
	}
	if _, err := os.Stat(fresh); !errors.Is(err, os.ErrNotExist) {
		t.Error("a bad scope created the data directory")
	}
}

// TestServePrunesExpiredOAuthRows checks that serve removes expired OAuth
// rows when it starts (and hourly after).
func TestServePrunesExpiredOAuthRows(t *testing.T) {
	dbtest.ForEachDSN(t, func(t *testing.T, dsn string) {
		MustRun(t, "migrate", "--db", dsn)
		d, err := db.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		accounts, err := oauth.NewLocalAccounts(d.DB, users.Options{})
		if err != nil {
			t.Fatal(err)
		}
		// An invite made two hours ago that lived for one.
		past := func() time.Time { return time.Now().Add(-2 * time.Hour) }
		svc, err := oauth.NewService(d.DB, accounts, oauth.DefaultConfig("https://school.example"), oauth.Options{Now: past})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.CreateInvite(context.Background(), 1, time.Hour); err != nil {
			t.Fatal(err)
		}
		count := func() int64 {
			n, err := d.NewSelect().Table("oauth_invites").Count(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if count() != 1 {
			t.Fatal("the invite was not stored")
		}

		inst := apptest.Start(t, apptest.Options{DSN: dsn})
		deadline := time.Now().Add(10 * time.Second)
		for !inst.Logs.Contains("oauth: pruned expired rows") && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if !inst.Logs.Contains("rows=1") {
			t.Errorf("no prune of one row in the logs:\n%s", inst.Logs)
		}
		if n := count(); n != 0 {
			t.Errorf("%d expired invites left after start", n)
		}
	})
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// MustSignUp fills in the server's sign-up page as a browser would (its
// cookies and form token) and returns the status of the form post.
func MustSignUp(tb testing.TB, inst *apptest.Instance, username, inviteCode string) int {
	tb.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Get(inst.URL + "/oauth/sign_up")
	if err != nil {
		tb.Fatal(err)
	}
	page, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		tb.Fatal(err)
	}
	m := csrfField.FindSubmatch(page)
	if res.StatusCode != http.StatusOK || m == nil {
		tb.Fatalf("GET /oauth/sign_up = %d without a form token:\n%s", res.StatusCode, page)
	}
	form := url.Values{
		"csrf_token": {string(m[1])}, "username": {username}, "email": {username + "@example.org"},
		"password": {"correct horse"}, "password_confirmation": {"correct horse"}, "invite_code": {inviteCode},
	}
	res, err = client.PostForm(inst.URL+"/oauth/sign_up", form)
	if err != nil {
		tb.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// TestAdminInviteAndApprove runs the two moderation commands against a
// server's sign-up page: an invite code from the CLI lets one person sign
// up and no second; an account from approval mode gets no token until
// admin user approve.
func TestAdminInviteAndApprove(t *testing.T) {
	t.Run("invite", func(t *testing.T) {
		dir := t.TempDir()
		dsn := "sqlite:" + filepath.Join(dir, "commonroom.db")
		inst := apptest.Start(t, apptest.Options{DSN: dsn, Args: []string{"--insecure-http", "--registration", "invite"}})
		out, errOut, err := run([]string{"admin", "invite", "create", "--db", dsn, "--registration", "invite", "--uses", "1", "--expires", "1h"}, nil)
		code := strings.TrimSuffix(out, "\n")
		if err != nil || code == "" || strings.ContainsAny(code, " \n") {
			t.Fatalf("admin invite create = %q, %v\n%s", out, err, errOut)
		}
		if strings.Contains(errOut, "registration is not invite") {
			t.Errorf("warned about the registration mode although it is invite:\n%s", errOut)
		}
		if status := MustSignUp(t, inst, "bea", "not-the-code"); status != http.StatusForbidden {
			t.Errorf("sign-up with a wrong code = %d, want 403", status)
		}
		if status := MustSignUp(t, inst, "bea", code); status != http.StatusSeeOther {
			t.Errorf("sign-up with the code = %d, want 303", status)
		}
		if status := MustSignUp(t, inst, "cy", code); status != http.StatusForbidden {
			t.Errorf("second sign-up with a one-use code = %d, want 403", status)
		}
		if _, _, err := run([]string{"admin", "token", "--db", dsn, "--username", "bea"}, nil); err != nil {
			t.Errorf("the invited account gets no token: %v", err)
		}

		_, errOut, _ = run([]string{"admin", "invite", "create", "--db", dsn}, nil)
		if !strings.Contains(errOut, "registration is not invite") {
			t.Errorf("no warning for an invite made while registration is closed:\n%s", errOut)
		}
		for _, args := range [][]string{{"--uses", "0"}, {"--expires", "-1h"}} {
			out, _, err := run(append([]string{"admin", "invite", "create", "--db", dsn}, args...), nil)
			if !errors.Is(err, errkind.Invalid) || out != "" {
				t.Errorf("admin invite create %v = %q, %v; want Invalid and no output", args, out, err)
			}
		}
	})

	t.Run("approve", func(t *testing.T) {
		dir := t.TempDir()
		dsn := "sqlite:" + filepath.Join(dir, "commonroom.db")
		inst := apptest.Start(t, apptest.Options{DSN: dsn, Args: []string{"--insecure-http", "--registration", "approval"}})
		if status := MustSignUp(t, inst, "dee", ""); status != http.StatusOK {
			t.Fatalf("sign-up in approval mode = %d, want 200 (a page saying to wait)", status)
		}
		if _, _, err := run([]string{"admin", "token", "--db", dsn, "--username", "dee"}, nil); !errors.Is(err, errkind.Forbidden) {
			t.Errorf("token for an account awaiting approval: %v, want Forbidden", err)
		}
		if out := MustRun(t, "admin", "user", "approve", "--db", dsn, "--username", "dee"); !strings.Contains(out, "approved user dee") {
			t.Errorf("approve printed %q", out)
		}
		token := strings.TrimSpace(MustRun(t, "admin", "token", "--db", dsn, "--username", "dee"))
		if status, _ := MustDo(t, http.MethodGet, inst.URL+"/api/v1/apps/verify_credentials", token, nil); status != http.StatusOK {
			t.Errorf("the approved account's token = %d, want 200", status)
		}
		if out := MustRun(t, "admin", "user", "approve", "--db", dsn, "--username", "dee"); !strings.Contains(out, "was not waiting for approval") {
			t.Errorf("approving again printed %q", out)
		}
		if _, _, err := run([]string{"admin", "user", "approve", "--db", dsn, "--username", "nobody"}, nil); !errors.Is(err, errkind.NotFound) {
			t.Errorf("approving an unknown user: %v, want NotFound", err)
		}
		if _, _, err := run([]string{"admin", "user", "approve", "--db", dsn}, nil); !errors.Is(err, cli.ErrUsage) {
			t.Errorf("approve without --username: %v, want a usage error", err)
		}
	})
}
