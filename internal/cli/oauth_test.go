package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/commonroom/commonroom/internal/apptest"
	"github.com/commonroom/commonroom/internal/db"
	"github.com/commonroom/commonroom/internal/dbtest"
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
