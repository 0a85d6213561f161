package oauth_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/uptrace/bun"
)

// TestAuthorizationCodeFlow walks the whole flow over real HTTP: register,
// authorize, sign in, consent, exchange (JSON and form), use, refresh,
// revoke.
func TestAuthorizationCodeFlow(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		a := e.registerApp("read write follow")
		e.createUser("ada", "correct horse battery")
		c := e.browser()

		verifier, challenge := pkce("a")
		params := authParams(a, "read write", "code_challenge", challenge, "code_challenge_method", "S256")
		// Signed out: the authorize page sends the browser to sign in.
		r := e.get(c, "/oauth/authorize?"+params.Encode())
		wantStatus(t, r, http.StatusSeeOther)
		loc := r.Header.Get("Location")
		if !strings.HasPrefix(loc, "/oauth/sign_in?return_to=") {
			t.Fatalf("Location %q", loc)
		}
		page := e.get(c, loc)
		wantStatus(t, page, http.StatusOK)
		for _, want := range []string{`<html lang="en">`, `<label for="username">`, `<label for="password">`, `autocomplete="current-password"`} {
			if !strings.Contains(page.Body, want) {
				t.Errorf("sign-in page lacks %s", want)
			}
		}
		returnTo := regexpFind(t, page.Body, `name="return_to" value="([^"]*)"`)
		r = e.postForm(c, "/oauth/sign_in", url.Values{"csrf_token": {csrfOf(t, page.Body)}, "username": {"ada"}, "password": {"correct horse battery"}, "return_to": {htmlUnescape(returnTo)}})
		wantStatus(t, r, http.StatusSeeOther)
		if got := r.Header.Get("Location"); got != "/oauth/authorize?"+params.Encode() {
			t.Fatalf("after sign-in Location %q", got)
		}

		consent := e.get(c, r.Header.Get("Location"))
		wantStatus(t, consent, http.StatusOK)
		for _, want := range []string{"Test App", "https://app.example", "Post, edit and delete", "Read everything", ">Authorize<", ">Deny<"} {
			if !strings.Contains(consent.Body, want) {
				t.Errorf("consent page lacks %q", want)
			}
		}
		r = e.authorize(c, params, "approve")
		code := codeFrom(t, r)
		u, _ := url.Parse(r.Header.Get("Location"))
		if u.Query().Get("state") != "xyz" || !strings.HasPrefix(u.String(), a.Redirect+"?") {
			t.Fatalf("redirect %s", u)
		}

		tok := e.exchange(a, code, verifier, true)
		wantStatus(t, tok, http.StatusOK)
		m := tok.JSON(t)
		if m["token_type"] != "Bearer" || m["scope"] != "read write" || m["refresh_token"] == nil || m["created_at"] == nil {
			t.Fatalf("token response %v", m)
		}
		if _, ok := m["expires_in"]; ok {
			t.Errorf("token response has expires_in, but tokens do not expire: %v", m)
		}
		access, refresh := m["access_token"].(string), m["refresh_token"].(string)
		wantStatus(t, e.get(nil, "/test/write", bearer(access)...), http.StatusOK)
		wantStatus(t, e.get(nil, "/test/read:statuses", bearer(access)...), http.StatusOK)

		// A second code, exchanged with a form body.
		verifier2, challenge2 := pkce("b")
		code2 := codeFrom(t, e.authorize(c, authParams(a, "read", "code_challenge", challenge2, "code_challenge_method", "S256"), "approve"))
		tok2 := e.exchange(a, code2, verifier2, false)
		wantStatus(t, tok2, http.StatusOK)
		if tok2.JSON(t)["scope"] != "read" {
			t.Fatalf("form exchange: %s", tok2.Body)
		}

		// Refresh: a new pair; the old access and refresh tokens stop working.
		ref := e.postForm(nil, "/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {a.ID}, "client_secret": {a.Secret}})
		wantStatus(t, ref, http.StatusOK)
		newAccess := ref.JSON(t)["access_token"].(string)
		newRefresh := ref.JSON(t)["refresh_token"].(string)
		if newAccess == access || newRefresh == refresh {
			t.Fatal("refresh returned the old tokens")
		}
		wantStatus(t, e.get(nil, "/test/read", bearer(access)...), http.StatusUnauthorized)
		wantStatus(t, e.get(nil, "/test/read", bearer(newAccess)...), http.StatusOK)
		again := e.postForm(nil, "/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {a.ID}, "client_secret": {a.Secret}})
		wantOAuthError(t, again, http.StatusBadRequest, "invalid_grant")

		// Revoke: the token fails on the next request.
		rv := e.postForm(nil, "/oauth/revoke", url.Values{"token": {newAccess}, "client_id": {a.ID}, "client_secret": {a.Secret}})
		wantStatus(t, rv, http.StatusOK)
		wantStatus(t, e.get(nil, "/test/read", bearer(newAccess)...), http.StatusUnauthorized)
	})
}

func TestDenyRedirectsWithAccessDenied(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		a := e.registerApp("read")
		c := e.signedInBrowser("ada")
		r := e.authorize(c, authParams(a, "read"), "deny")
		wantStatus(t, r, http.StatusFound)
		u, _ := url.Parse(r.Header.Get("Location"))
		if u.Query().Get("error") != "access_denied" || u.Query().Get("state") != "xyz" || u.Query().Get("code") != "" {
			t.Fatalf("deny redirect %s", u)
		}
		if n := e.count("oauth_codes"); n != 0 {
			t.Fatalf("%d codes stored after deny", n)
		}
	})
}

func TestOutOfBandShowsCode(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		a := e.registerApp("read", "urn:ietf:wg:oauth:2.0:oob")
		c := e.signedInBrowser("ada")
		r := e.authorize(c, authParams(a, "read"), "approve")
		wantStatus(t, r, http.StatusOK)
		code := htmlUnescape(regexpFind(t, r.Body, `id="code" class="code" value="([^"]+)"`))
		if !strings.Contains(r.Body, "within 10 minutes") {
			t.Error("code page does not say how long the code lasts")
		}
		tok := e.exchange(a, code, "", false)
		wantStatus(t, tok, http.StatusOK)
		wantStatus(t, e.get(nil, "/test/read", bearer(tok.JSON(t)["access_token"].(string))...), http.StatusOK)
	})
}

// TestForceLogin: with force_login the signed-in person gets the sign-in
// form and can authorize as another account.
func TestForceLogin(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		a := e.registerApp("read")
		c := e.signedInBrowser("ada")
		e.createUser("bea", "correct horse battery")
		r := e.get(c, "/oauth/authorize?"+authParams(a, "read", "force_login", "true").Encode())
		wantStatus(t, r, http.StatusSeeOther)
		page := e.get(c, r.Header.Get("Location"))
		wantStatus(t, page, http.StatusOK)
		if !strings.Contains(page.Body, "You are signed in as ada") || !strings.Contains(page.Body, `id="password"`) {
			t.Fatalf("no sign-in form:\n%s", page.Body)
		}
		returnTo := htmlUnescape(regexpFind(t, page.Body, `name="return_to" value="([^"]*)"`))
		if strings.Contains(returnTo, "force_login") {
			t.Fatalf("return_to keeps force_login: %s", returnTo)
		}
		r = e.postForm(c, "/oauth/sign_in", url.Values{"csrf_token": {csrfOf(t, page.Body)}, "username": {"bea"}, "password": {"correct horse battery"}, "return_to": {returnTo}})
		wantStatus(t, r, http.StatusSeeOther)
		consent := e.get(c, r.Header.Get("Location"))
		if !strings.Contains(consent.Body, "<strong>bea</strong>") {
			t.Fatalf("consent page is not for bea:\n%s", consent.Body)
		}
	})
}
