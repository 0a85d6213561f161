package oauth_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/commonroom/commonroom/oauth"
)

func signUpForm(token, username string, extra ...string) url.Values {
	v := url.Values{"csrf_token": {token}, "username": {username}, "email": {username + "@school.example"}, "password": {"correct horse battery"}, "password_confirmation": {"correct horse battery"}}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return v
}

func TestRegistrationModes(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		t.Run("open", func(t *testing.T) {
			e := newEnv(t, db)
			c := e.browser()
			page := e.get(c, "/oauth/sign_up?return_to=/oauth/sign_in")
			wantStatus(t, page, http.StatusOK)
			r := e.postForm(c, "/oauth/sign_up", signUpForm(csrfOf(t, page.Body), "opal", "return_to", "/oauth/sign_in"))
			wantStatus(t, r, http.StatusSeeOther)
			// Signed in at once.
			if p := e.get(c, "/oauth/sign_in"); !strings.Contains(p.Body, "signed in as <strong>opal</strong>") {
				t.Fatalf("not signed in:\n%s", p.Body)
			}
		})
		t.Run("approval", func(t *testing.T) {
			e := newEnv(t, db, func(c *oauth.Config) { c.Registration = oauth.RegistrationApproval })
			c := e.browser()
			page := e.get(c, "/oauth/sign_up")
			if !strings.Contains(page.Body, "A moderator reviews new accounts") {
				t.Fatalf("page does not say approval is needed:\n%s", page.Body)
			}
			r := e.postForm(c, "/oauth/sign_up", signUpForm(csrfOf(t, page.Body), "april"))
			wantStatus(t, r, http.StatusOK)
			if !strings.Contains(r.Body, "A moderator will review it") {
				t.Fatalf("body %s", r.Body)
			}
			signIn := func() response {
				p := e.get(c, "/oauth/sign_in")
				return e.postForm(c, "/oauth/sign_in", url.Values{"csrf_token": {csrfOf(t, p.Body)}, "username": {"april"}, "password": {"correct horse battery"}})
			}
			r = signIn()
			wantStatus(t, r, http.StatusForbidden)
			if !strings.Contains(r.Body, "waiting for approval") {
				t.Fatalf("body %s", r.Body)
			}
			var id int64
			if err := db.NewSelect().Table("users").Column("id").Where("username = ?", "april").Scan(ctx, &id); err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.IssueToken(ctx, id, "read"); err == nil {
				t.Fatal("token issued to a pending account")
			}
			if err := e.accounts.Approve(ctx, id); err != nil {
				t.Fatal(err)
			}
			wantStatus(t, signIn(), http.StatusSeeOther)
		})
		t.Run("closed", func(t *testing.T) {
			e := newEnv(t, db, func(c *oauth.Config) { c.Registration = oauth.RegistrationClosed })
			c := e.browser()
			page := e.get(c, "/oauth/sign_up")
			wantStatus(t, page, http.StatusForbidden)
			signInPage := e.get(c, "/oauth/sign_in")
			if strings.Contains(signInPage.Body, "/oauth/sign_up") {
				t.Error("sign-in page links to closed sign-up")
			}
			before := e.count("users")
			r := e.postForm(c, "/oauth/sign_up", signUpForm(csrfOf(t, signInPage.Body), "carl"))
			wantStatus(t, r, http.StatusForbidden)
			if e.count("users") != before {
				t.Fatal("user stored while registrations are closed")
			}
		})
		t.Run("invite", func(t *testing.T) {
			e := newEnv(t, db, func(c *oauth.Config) { c.Registration = oauth.RegistrationInvite })
			code, err := e.svc.CreateInvite(ctx, 1, 0)
			if err != nil {
				t.Fatal(err)
			}
			c := e.browser()
			page := e.get(c, "/oauth/sign_up")
			if !strings.Contains(page.Body, `<label for="invite_code">`) {
				t.Fatalf("no invite field:\n%s", page.Body)
			}
			token := csrfOf(t, page.Body)
			before := e.count("users")
			wantStatus(t, e.postForm(c, "/oauth/sign_up", signUpForm(token, "ivy")), http.StatusForbidden)
			wantStatus(t, e.postForm(c, "/oauth/sign_up", signUpForm(token, "ivy", "invite_code", "made-up")), http.StatusForbidden)
			// A failed sign-up gives the use back.
			wantStatus(t, e.postForm(c, "/oauth/sign_up", signUpForm(token, "bad name!", "invite_code", code)), http.StatusUnprocessableEntity)
			if e.count("users") != before {
				t.Fatal("user stored without a valid invite")
			}
			wantStatus(t, e.postForm(c, "/oauth/sign_up", signUpForm(token, "ivy", "invite_code", code)), http.StatusSeeOther)
			c2 := e.browser()
			token2 := csrfOf(t, e.get(c2, "/oauth/sign_up").Body)
			wantStatus(t, e.postForm(c2, "/oauth/sign_up", signUpForm(token2, "ivan", "invite_code", code)), http.StatusForbidden)
			if e.count("users") != before+1 {
				t.Fatal("used-up invite worked twice")
			}
		})
	})
}

// TestSignUpErrors: field errors are tied to their inputs and nothing is
// stored.
func TestSignUpErrors(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		e.createUser("taken", "correct horse battery")
		c := e.browser()
		token := csrfOf(t, e.get(c, "/oauth/sign_up").Body)
		for _, tc := range []struct {
			name   string
			form   url.Values
			field  string
			status int
		}{
			{"no username", signUpForm(token, "", "email", "x@school.example"), "username", http.StatusUnprocessableEntity},
			{"bad username", signUpForm(token, "no spaces"), "username", http.StatusUnprocessableEntity},
			{"taken username", signUpForm(token, "TAKEN", "email", "other@school.example"), "username", http.StatusConflict},
			{"bad email", signUpForm(token, "dora", "email", "not an email"), "email", http.StatusUnprocessableEntity},
			{"short password", signUpForm(token, "dora", "password", "short", "password_confirmation", "short"), "password", http.StatusUnprocessableEntity},
			{"mismatch", signUpForm(token, "dora", "password_confirmation", "something else"), "password_confirmation", http.StatusUnprocessableEntity},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := e.count("users")
				r := e.postForm(c, "/oauth/sign_up", tc.form)
				wantStatus(t, r, tc.status)
				for _, want := range []string{
					`id="` + tc.field + `-error"`,
					`aria-invalid="true"`,
					`aria-describedby="`,
					`role="alert"`,
				} {
					if !strings.Contains(r.Body, want) {
						t.Errorf("page lacks %s", want)
					}
				}
				// The invalid field takes the focus.
				if !regexp.MustCompile(`id="` + tc.field + `" name="` + tc.field + `"[^>]*autofocus`).MatchString(r.Body) {
					t.Errorf("%s does not take the focus", tc.field)
				}
				if strings.Contains(r.Body, "correct horse battery") {
					t.Error("page echoes the password")
				}
				if e.count("users") != before {
					t.Fatal("user stored")
				}
			})
		}
	})
}

// TestCSRF: page forms need the form token, and cross-site posts are
// refused by the standard library's CrossOriginProtection.
func TestCSRF(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		e.createUser("ada", "correct horse battery")
		a := e.registerApp("read")
		c := e.browser()
		good := csrfOf(t, e.get(c, "/oauth/sign_in").Body)
		creds := url.Values{"username": {"ada"}, "password": {"correct horse battery"}}
		wantStatus(t, e.postForm(c, "/oauth/sign_in", creds), http.StatusForbidden)
		creds.Set("csrf_token", "forged")
		wantStatus(t, e.postForm(c, "/oauth/sign_in", creds), http.StatusForbidden)
		creds.Set("csrf_token", good)
		wantStatus(t, e.postForm(c, "/oauth/sign_in", creds, "Sec-Fetch-Site", "cross-site"), http.StatusForbidden)
		wantStatus(t, e.postForm(c, "/oauth/sign_in", creds, "Origin", "https://evil.example"), http.StatusForbidden)
		// Another browser's token does not work in this one.
		other := csrfOf(t, e.get(e.browser(), "/oauth/sign_in").Body)
		creds.Set("csrf_token", other)
		wantStatus(t, e.postForm(c, "/oauth/sign_in", creds), http.StatusForbidden)
		creds.Set("csrf_token", good)
		wantStatus(t, e.postForm(c, "/oauth/sign_in", creds, "Sec-Fetch-Site", "same-origin"), http.StatusSeeOther)

		// Signed in, the consent form is bound to the session: the
		// signed-out token no longer works.
		form := authParams(a, "read")
		form.Set("decision", "approve")
		form.Set("csrf_token", good)
		wantStatus(t, e.postForm(c, "/oauth/authorize", form), http.StatusForbidden)
		form.Set("csrf_token", csrfOf(t, e.get(c, "/oauth/authorize?"+authParams(a, "read").Encode()).Body))
		wantStatus(t, e.postForm(c, "/oauth/authorize", form, "Sec-Fetch-Site", "cross-site"), http.StatusForbidden)
		codeFrom(t, e.postForm(c, "/oauth/authorize", form))

		// Sign-out needs the token too.
		wantStatus(t, e.postForm(c, "/oauth/sign_out", url.Values{}), http.StatusForbidden)
		wantStatus(t, e.postForm(c, "/oauth/sign_out", url.Values{"csrf_token": {form.Get("csrf_token")}}), http.StatusSeeOther)
		wantStatus(t, e.get(c, "/oauth/authorize?"+authParams(a, "read").Encode()), http.StatusSeeOther)
	})
}

// TestSessionCookie: HttpOnly, SameSite=Lax, Secure unless insecure-http
// mode, with an expiry; the database has only the id's hash.
func TestSessionCookie(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB) {
		for _, insecure := range []bool{false, true} {
			e := newEnv(t, db, func(c *oauth.Config) { c.InsecureHTTP = insecure })
			name := map[bool]string{true: "insecure", false: "secure"}[insecure]
			e.createUser(name, "correct horse battery")
			page := e.get(nil, "/oauth/sign_in")
			var csrf *http.Cookie
			for _, ck := range (&http.Response{Header: page.Header}).Cookies() {
				if ck.Name == "commonroom_csrf" {
					csrf = ck
				}
			}
			if csrf == nil {
				t.Fatal("no CSRF cookie")
			}
			r := e.postForm(nil, "/oauth/sign_in", url.Values{"csrf_token": {csrfOf(t, page.Body)}, "username": {name}, "password": {"correct horse battery"}}, "Cookie", "commonroom_csrf="+csrf.Value)
			wantStatus(t, r, http.StatusSeeOther)
			var sess *http.Cookie
			for _, ck := range (&http.Response{Header: r.Header}).Cookies() {
				if ck.Name == "commonroom_session" {
					sess = ck
				}
			}
			if sess == nil {
				t.Fatal("no session cookie")
			}
			if !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Secure == insecure || sess.MaxAge <= 0 || sess.Path != "/" {
				t.Errorf("insecure=%v: cookie %+v", insecure, sess)
			}
			if len(sess.Value) < 43 {
				t.Errorf("session id %q is shorter than 256 bits", sess.Value)
			}
			if csrf.Secure == insecure || !csrf.HttpOnly {
				t.Errorf("CSRF cookie %+v", csrf)
			}
		}
	})
}

// TestPagesAccessible checks the markup the pages promise: a language,
// labels tied to inputs, autocomplete hints, a stylesheet and no script.
func TestPagesAccessible(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db, func(c *oauth.Config) { c.Registration = oauth.RegistrationInvite })
		a := e.registerApp("read write push")
		c := e.signedInBrowser("ada")
		pages := map[string]string{
			"sign in":   e.get(e.browser(), "/oauth/sign_in").Body,
			"sign up":   e.get(e.browser(), "/oauth/sign_up").Body,
			"authorize": e.get(c, "/oauth/authorize?"+authParams(a, "read write push").Encode()).Body,
		}
		for name, body := range pages {
			t.Run(name, func(t *testing.T) {
				for _, want := range []string{`<html lang="en">`, `<meta name="viewport"`, `<link rel="stylesheet" href="/oauth/static/style.css">`, "<h1>"} {
					if !strings.Contains(body, want) {
						t.Errorf("lacks %s", want)
					}
				}
				if strings.Contains(body, "<script") {
					t.Error("has a script")
				}
				for _, m := range regexpAll(body, `<input type="(?:text|password|email)" id="([^"]+)"`) {
					if !strings.Contains(body, `<label for="`+m+`">`) {
						t.Errorf("input %s has no label", m)
					}
				}
			})
		}
		if !strings.Contains(pages["authorize"], "Send you push notifications") {
			t.Error("consent page does not describe push")
		}
		css := e.get(nil, "/oauth/static/style.css")
		wantStatus(t, css, http.StatusOK)
		if !strings.HasPrefix(css.Header.Get("Content-Type"), "text/css") {
			t.Errorf("stylesheet Content-Type %q", css.Header.Get("Content-Type"))
		}
	})
}

// TestSignInReturnTo only follows local paths after sign-in.
func TestSignInReturnTo(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		e.createUser("ada", "correct horse battery")
		for _, tc := range []struct{ returnTo, want string }{
			{"/oauth/authorize?client_id=x", "/oauth/authorize?client_id=x"},
			{"https://evil.example/", "/oauth/sign_in"},
			{"//evil.example/", "/oauth/sign_in"},
			{"/\\evil.example/", "/oauth/sign_in"},
			{"javascript:alert(1)", "/oauth/sign_in"},
		} {
			c := e.browser()
			page := e.get(c, "/oauth/sign_in")
			r := e.postForm(c, "/oauth/sign_in", url.Values{"csrf_token": {csrfOf(t, page.Body)}, "username": {"ada"}, "password": {"correct horse battery"}, "return_to": {tc.returnTo}})
			wantStatus(t, r, http.StatusSeeOther)
			if got := r.Header.Get("Location"); got != tc.want {
				t.Errorf("return_to %q: Location %q, want %q", tc.returnTo, got, tc.want)
			}
		}
	})
}

// TestConsentEscapes: what an app registers is text on the consent page,
// never markup.
func TestConsentEscapes(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		r := e.postJSON(nil, "/api/v1/apps", map[string]any{"client_name": `<script>alert(1)</script>"><img src=x>`, "redirect_uris": `https://app.example/cb?a="><b>`, "website": `https://app.example/"><i>`})
		wantStatus(t, r, http.StatusOK)
		m := r.JSON(t)
		a := app{ID: m["client_id"].(string), Secret: m["client_secret"].(string), Redirect: `https://app.example/cb?a="><b>`}
		c := e.signedInBrowser("ada")
		page := e.get(c, "/oauth/authorize?"+authParams(a, "read", "state", `"><script>x</script>`).Encode())
		wantStatus(t, page, http.StatusOK)
		for _, bad := range []string{"<script>", "<img", "<b>", "<i>"} {
			if strings.Contains(page.Body, bad) {
				t.Errorf("consent page contains raw %s", bad)
			}
		}
		if !strings.Contains(page.Body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Error("app name not shown escaped")
		}
		// The approved redirect carries the state back intact.
		res := e.authorize(c, authParams(a, "read", "state", `"><script>x</script>`), "approve")
		u, err := url.Parse(res.Header.Get("Location"))
		if err != nil || u.Query().Get("state") != `"><script>x</script>` || u.Query().Get("code") == "" {
			t.Fatalf("redirect %q", res.Header.Get("Location"))
		}
	})
}
