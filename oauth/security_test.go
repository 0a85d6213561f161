package oauth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/commonroom/commonroom/oauth"
)

// TestSecurity30_RedirectURIExactMatch: a redirect_uri that is not
// byte-equal to a registered one gets an error page, no redirect and no
// code; at the token endpoint it gets invalid_grant.
func TestSecurity30_RedirectURIExactMatch(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		a := e.registerApp("read", "https://app.example/callback", "https://app.example/other?x=1")
		c := e.signedInBrowser("ada")
		for _, uri := range []string{
			"https://app.example/callback/",
			"https://APP.example/callback",
			"https://app.example/callback?x=1",
			"https://app.example/callbackx",
			"https://app.example/Callback",
			"https://evil.app.example/callback",
			"https://app.example.evil.test/callback",
			"https://app.example:443/callback",
			"http://app.example/callback",
			"https://app.example/callback#frag",
			"https://app.example/other",
			"https://app.example/other?x=1&y=2",
			"https://app.example/%63allback",
		} {
			t.Run(uri, func(t *testing.T) {
				p := authParams(a, "read")
				p.Set("redirect_uri", uri)
				r := e.get(c, "/oauth/authorize?"+p.Encode())
				wantStatus(t, r, http.StatusBadRequest)
				if loc := r.Header.Get("Location"); loc != "" {
					t.Fatalf("redirected to %s", loc)
				}
				// Posting the consent form directly does not help either.
				form := url.Values{"csrf_token": {csrfOf(t, e.get(c, "/oauth/sign_in").Body)}, "decision": {"approve"}}
				for k, v := range p {
					form[k] = v
				}
				wantStatus(t, e.postForm(c, "/oauth/authorize", form), http.StatusBadRequest)
				if n := e.count("oauth_codes"); n != 0 {
					t.Fatalf("%d codes issued", n)
				}
			})
		}
		t.Run("registered URIs work", func(t *testing.T) {
			for _, uri := range []string{"https://app.example/callback", "https://app.example/other?x=1"} {
				p := authParams(a, "read")
				p.Set("redirect_uri", uri)
				r := e.authorize(c, p, "approve")
				codeFrom(t, r)
				if loc := r.Header.Get("Location"); !strings.HasPrefix(loc, uri) {
					t.Fatalf("Location %s", loc)
				}
			}
		})
		t.Run("token endpoint", func(t *testing.T) {
			code := codeFrom(t, e.authorize(c, authParams(a, "read"), "approve"))
			other := a
			other.Redirect = "https://app.example/callback/"
			wantOAuthError(t, e.exchange(other, code, "", false), http.StatusBadRequest, "invalid_grant")
		})
	})
}

// TestSecurity30_DangerousRedirectSchemes: javascript:, data:, vbscript:,
// relative and fragment-bearing redirect URIs are refused at registration
// and nothing is stored.
func TestSecurity30_DangerousRedirectSchemes(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		for _, uri := range []string{
			"javascript:alert(1)",
			"JavaScript:alert(document.cookie)",
			" javascript:alert(1)",
			"data:text/html,<script>alert(1)</script>",
			"DATA:text/html;base64,PHNjcmlwdD4=",
			"vbscript:msgbox(1)",
			"file:///etc/passwd",
			"/callback",
			"callback",
			"//evil.example/cb",
			"https://app.example/cb#token",
			"https:///nohost",
			"https://app.example/a b",
		} {
			t.Run(uri, func(t *testing.T) {
				for _, body := range []any{
					map[string]any{"client_name": "X", "redirect_uris": uri},
					map[string]any{"client_name": "X", "redirect_uris": []string{"https://ok.example/cb", uri}},
				} {
					r := e.postJSON(nil, "/api/v1/apps", body)
					if uri == " javascript:alert(1)" && r.Status == http.StatusOK {
						t.Fatal("registered a javascript: URI with a leading space")
					}
					wantStatus(t, r, http.StatusUnprocessableEntity)
					if _, ok := r.JSON(t)["error"].(string); !ok {
						t.Fatalf("no error message: %s", r.Body)
					}
				}
				if n := e.count("oauth_apps"); n != 0 {
					t.Fatalf("%d apps stored", n)
				}
			})
		}
	})
}

// TestSecurity30_PKCES256Only: PKCE is optional, but a code_challenge must
// come with code_challenge_method=S256; plain or none is refused and no
// code is issued.
func TestSecurity30_PKCES256Only(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		a := e.registerApp("read")
		c := e.signedInBrowser("ada")
		_, challenge := pkce("p")
		for _, tc := range []struct {
			name  string
			extra []string
		}{
			{"plain", []string{"code_challenge", challenge, "code_challenge_method", "plain"}},
			{"no method", []string{"code_challenge", challenge}},
			{"lower-case s256", []string{"code_challenge", challenge, "code_challenge_method", "s256"}},
			{"method without challenge", []string{"code_challenge_method", "S256"}},
			{"short challenge", []string{"code_challenge", "abc", "code_challenge_method", "S256"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := e.get(c, "/oauth/authorize?"+authParams(a, "read", tc.extra...).Encode())
				wantStatus(t, r, http.StatusFound)
				u, _ := url.Parse(r.Header.Get("Location"))
				if u.Query().Get("error") != "invalid_request" || u.Query().Get("code") != "" {
					t.Fatalf("redirect %s", u)
				}
				if n := e.count("oauth_codes"); n != 0 {
					t.Fatalf("%d codes issued", n)
				}
			})
		}
		t.Run("without PKCE", func(t *testing.T) {
			code := codeFrom(t, e.authorize(c, authParams(a, "read"), "approve"))
			wantStatus(t, e.exchange(a, code, "", true), http.StatusOK)
		})
		t.Run("S256", func(t *testing.T) {
			verifier, challenge := pkce("s")
			code := codeFrom(t, e.authorize(c, authParams(a, "read", "code_challenge", challenge, "code_challenge_method", "S256"), "approve"))
			wantStatus(t, e.exchange(a, code, verifier, true), http.StatusOK)
		})
		t.Run("metadata", func(t *testing.T) {
			m := e.get(nil, "/.well-known/oauth-authorization-server").JSON(t)
			if fmt.Sprint(m["code_challenge_methods_supported"]) != "[S256]" {
				t.Fatalf("code_challenge_methods_supported %v", m["code_challenge_methods_supported"])
			}
		})
	})
}

// TestSecurity30_WrongVerifier: a wrong or missing code_verifier is
// invalid_grant, and the code is spent.
func TestSecurity30_WrongVerifier(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		a := e.registerApp("read")
		c := e.signedInBrowser("ada")
		verifier, challenge := pkce("w")
		other, _ := pkce("o")
		for _, tc := range []struct{ name, verifier string }{
			{"wrong verifier", other},
			{"missing verifier", ""},
			{"challenge as verifier", challenge},
		} {
			t.Run(tc.name, func(t *testing.T) {
				code := codeFrom(t, e.authorize(c, authParams(a, "read", "code_challenge", challenge, "code_challenge_method", "S256"), "approve"))
				wantOAuthError(t, e.exchange(a, code, tc.verifier, true), http.StatusBadRequest, "invalid_grant")
				wantOAuthError(t, e.exchange(a, code, verifier, true), http.StatusBadRequest, "invalid_grant")
				if n := e.count("oauth_tokens"); n != 0 {
					t.Fatalf("%d tokens issued", n)
				}
			})
		}
		t.Run("verifier without challenge", func(t *testing.T) {
			code := codeFrom(t, e.authorize(c, authParams(a, "read"), "approve"))
			wantOAuthError(t, e.exchange(a, code, verifier, true), http.StatusBadRequest, "invalid_grant")
		})
	})
}

// TestSecurity30_CodeSingleUseAndExpiry: a code works once (also when two
// exchanges race) and not after 10 minutes.
func TestSecurity30_CodeSingleUseAndExpiry(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		a := e.registerApp("read")
		c := e.signedInBrowser("ada")
		t.Run("reuse", func(t *testing.T) {
			code := codeFrom(t, e.authorize(c, authParams(a, "read"), "approve"))
			wantStatus(t, e.exchange(a, code, "", false), http.StatusOK)
			wantOAuthError(t, e.exchange(a, code, "", false), http.StatusBadRequest, "invalid_grant")
		})
		t.Run("concurrent", func(t *testing.T) {
			for round := 0; round < 5; round++ {
				code := codeFrom(t, e.authorize(c, authParams(a, "read"), "approve"))
				before := e.count("oauth_tokens")
				var wg sync.WaitGroup
				statuses := make([]int, 2)
				for i := range statuses {
					wg.Add(1)
					go func() {
						defer wg.Done()
						statuses[i] = e.exchange(a, code, "", i == 0).Status
					}()
				}
				wg.Wait()
				ok := 0
				for _, s := range statuses {
					if s == http.StatusOK {
						ok++
					} else if s != http.StatusBadRequest {
						t.Fatalf("status %d", s)
					}
				}
				if ok != 1 {
					t.Fatalf("round %d: %d exchanges succeeded (%v)", round, ok, statuses)
				}
				if n := e.count("oauth_tokens"); n != before+1 {
					t.Fatalf("%d tokens stored for one code", n-before)
				}
			}
		})
		t.Run("expiry", func(t *testing.T) {
			fresh := codeFrom(t, e.authorize(c, authParams(a, "read"), "approve"))
			stale := codeFrom(t, e.authorize(c, authParams(a, "read"), "approve"))
			e.clock.Advance(9*time.Minute + 59*time.Second)
			wantStatus(t, e.exchange(a, fresh, "", false), http.StatusOK)
			e.clock.Advance(2 * time.Second)
			wantOAuthError(t, e.exchange(a, stale, "", false), http.StatusBadRequest, "invalid_grant")
		})
	})
}

// TestSecurity30_ScopeOutsideApp: a scope the app did not register is
// invalid_scope, at authorization and for client credentials; nothing is
// issued.
func TestSecurity30_ScopeOutsideApp(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		a := e.registerApp("read push")
		c := e.signedInBrowser("ada")
		for _, scope := range []string{"read write", "write", "follow", "admin:read", "write:statuses", "read nonsense", "profile push read:statuses admin:write"} {
			t.Run(scope, func(t *testing.T) {
				r := e.get(c, "/oauth/authorize?"+authParams(a, scope).Encode())
				wantStatus(t, r, http.StatusFound)
				u, _ := url.Parse(r.Header.Get("Location"))
				if u.Query().Get("error") != "invalid_scope" || u.Query().Get("code") != "" {
					t.Fatalf("redirect %s", u)
				}
				cc := e.postForm(nil, "/oauth/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {a.ID}, "client_secret": {a.Secret}, "scope": {scope}})
				wantOAuthError(t, cc, http.StatusBadRequest, "invalid_scope")
				if n, m := e.count("oauth_codes"), e.count("oauth_tokens"); n+m != 0 {
					t.Fatalf("%d codes, %d tokens issued", n, m)
				}
			})
		}
		t.Run("granular scopes of registered ones", func(t *testing.T) {
			code := codeFrom(t, e.authorize(c, authParams(a, "read:statuses profile push"), "approve"))
			r := e.exchange(a, code, "", false)
			wantStatus(t, r, http.StatusOK)
			if got := r.JSON(t)["scope"]; got != "read:statuses profile push" {
				t.Fatalf("scope %v", got)
			}
		})
	})
}

// TestSecurity30_ReadTokenOnWriteEndpoint: RequireScope answers 403 with a
// Mastodon error when the token lacks the scope, and follows Mastodon's
// inclusion rules.
func TestSecurity30_ReadTokenOnWriteEndpoint(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		id := e.createUser("ada", "correct horse battery")
		ctx := context.Background()
		for _, tc := range []struct {
			scopes   string
			endpoint string
			want     int
		}{
			{"read", "/test/write", http.StatusForbidden},
			{"read", "/test/read", http.StatusOK},
			{"read", "/test/read:statuses", http.StatusOK},
			{"read", "/test/profile", http.StatusOK},
			{"read:statuses", "/test/read", http.StatusForbidden},
			{"read:statuses", "/test/read:statuses", http.StatusOK},
			{"read:statuses", "/test/profile", http.StatusForbidden},
			{"profile", "/test/read", http.StatusForbidden},
			{"write", "/test/read", http.StatusForbidden},
			{"write follow", "/test/write", http.StatusOK},
			{"admin:write", "/test/admin:read", http.StatusForbidden},
			{"admin:read", "/test/admin:read", http.StatusOK},
		} {
			t.Run(tc.scopes+" on "+tc.endpoint, func(t *testing.T) {
				token, err := e.svc.IssueToken(ctx, id, tc.scopes)
				if err != nil {
					t.Fatal(err)
				}
				r := e.get(nil, tc.endpoint, bearer(token)...)
				wantStatus(t, r, tc.want)
				if tc.want == http.StatusForbidden {
					if r.JSON(t)["error"] != "This action is outside the authorized scopes" {
						t.Fatalf("body %s", r.Body)
					}
					if !strings.Contains(r.Header.Get("WWW-Authenticate"), "insufficient_scope") {
						t.Fatalf("WWW-Authenticate %q", r.Header.Get("WWW-Authenticate"))
					}
				}
			})
		}
		t.Run("no token", func(t *testing.T) {
			r := e.get(nil, "/test/read")
			wantStatus(t, r, http.StatusUnauthorized)
			if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("WWW-Authenticate %q", r.Header.Get("WWW-Authenticate"))
			}
		})
		t.Run("bad token", func(t *testing.T) {
			wantStatus(t, e.get(nil, "/test/read", bearer("not-a-token")...), http.StatusUnauthorized)
		})
	})
}

// TestSecurity30_RevokedTokenFails: after POST /oauth/revoke the token
// fails on the next request and OnRevoke subscribers (streaming) hear of
// it; only the owning client may revoke.
func TestSecurity30_RevokedTokenFails(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		a := e.registerApp("read")
		b := e.registerApp("read")
		c := e.signedInBrowser("ada")
		issue := func() (string, string) {
			code := codeFrom(t, e.authorize(c, authParams(a, "read"), "approve"))
			m := e.exchange(a, code, "", false).JSON(t)
			return m["access_token"].(string), m["refresh_token"].(string)
		}
		revoke := func(client app, token string, basic bool) response {
			if basic {
				req := url.Values{"token": {token}}
				r, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/oauth/revoke", strings.NewReader(req.Encode()))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				r.SetBasicAuth(client.ID, client.Secret)
				resp, err := http.DefaultClient.Do(r)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return response{Status: resp.StatusCode}
			}
			return e.postJSON(nil, "/oauth/revoke", map[string]string{"token": token, "client_id": client.ID, "client_secret": client.Secret})
		}

		access, _ := issue()
		wantStatus(t, e.get(nil, "/test/read", bearer(access)...), http.StatusOK)
		wantOAuthError(t, revoke(b, access, false), http.StatusForbidden, "unauthorized_client")
		wantStatus(t, e.get(nil, "/test/read", bearer(access)...), http.StatusOK)
		wrong := a
		wrong.Secret = "nope"
		wantOAuthError(t, revoke(wrong, access, false), http.StatusUnauthorized, "invalid_client")

		e.mu.Lock()
		before := len(e.revoked)
		e.mu.Unlock()
		wantStatus(t, revoke(a, access, false), http.StatusOK)
		wantStatus(t, e.get(nil, "/test/read", bearer(access)...), http.StatusUnauthorized)
		wantStatus(t, e.get(nil, "/api/v1/apps/verify_credentials", bearer(access)...), http.StatusUnauthorized)
		e.mu.Lock()
		if len(e.revoked) != before+1 {
			t.Fatalf("OnRevoke called %d times", len(e.revoked)-before)
		}
		e.mu.Unlock()
		// Idempotent, and unknown tokens succeed (RFC 7009).
		wantStatus(t, revoke(a, access, true), http.StatusOK)
		wantStatus(t, revoke(a, "never-issued", true), http.StatusOK)

		// Revoking the refresh token ends the access token too.
		access2, refresh2 := issue()
		wantStatus(t, revoke(a, refresh2, true), http.StatusOK)
		wantStatus(t, e.get(nil, "/test/read", bearer(access2)...), http.StatusUnauthorized)
		r := e.postForm(nil, "/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh2}, "client_id": {a.ID}, "client_secret": {a.Secret}})
		wantOAuthError(t, r, http.StatusBadRequest, "invalid_grant")
	})
}

// TestSecurity31_LoginThrottle: the 26th sign-in attempt in 5 minutes from
// one IP address (IPv6: one /64) gets 429 with Retry-After, on the sign-in
// form and on the password grant.
func TestSecurity31_LoginThrottle(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db, func(c *oauth.Config) { c.PasswordGrant = true })
		e.createUser("ada", "correct horse battery")
		c := e.browser()
		token := csrfOf(t, e.get(c, "/oauth/sign_in").Body)
		attempt := func(ip, password string) response {
			return e.postForm(c, "/oauth/sign_in", url.Values{"csrf_token": {token}, "username": {"ada"}, "password": {password}}, "X-Test-IP", ip)
		}
		for i := 1; i <= 25; i++ {
			ip := fmt.Sprintf("2001:db8:1:2::%x", i) // all in one /64
			wantStatus(t, attempt(ip, "wrong password"), http.StatusUnauthorized)
		}
		r := attempt("2001:db8:1:2::ffff", "correct horse battery")
		wantStatus(t, r, http.StatusTooManyRequests)
		if r.Header.Get("Retry-After") == "" {
			t.Fatal("no Retry-After")
		}
		// Another /64 and another IPv4 address are not throttled.
		wantStatus(t, attempt("2001:db8:1:3::1", "wrong password"), http.StatusUnauthorized)
		wantStatus(t, attempt("198.51.100.7", "correct horse battery"), http.StatusSeeOther)

		t.Run("password grant", func(t *testing.T) {
			a := e.registerApp("read")
			grant := func(password string) response {
				return e.postForm(nil, "/oauth/token", url.Values{"grant_type": {"password"}, "username": {"ada"}, "password": {password}, "client_id": {a.ID}, "client_secret": {a.Secret}, "scope": {"read"}}, "X-Test-IP", "203.0.113.9")
			}
			for i := 0; i < 25; i++ {
				wantOAuthError(t, grant("wrong password"), http.StatusBadRequest, "invalid_grant")
			}
			r := grant("correct horse battery")
			wantStatus(t, r, http.StatusTooManyRequests)
			if r.Header.Get("Retry-After") == "" {
				t.Fatal("no Retry-After")
			}
		})
	})
}

// TestSecurity31_SignUpThrottle: POST /oauth/sign_up is throttled per email
// address (whatever the IP) and per IP address.
func TestSecurity31_SignUpThrottle(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db, func(c *oauth.Config) { c.SignUpLimit, c.SignUpIPLimit = 3, 4 })
		c := e.browser()
		token := csrfOf(t, e.get(c, "/oauth/sign_up").Body)
		signUp := func(ip, username, email string) response {
			return e.postForm(c, "/oauth/sign_up", url.Values{"csrf_token": {token}, "username": {username}, "email": {email}, "password": {"pw"}, "password_confirmation": {"pw"}}, "X-Test-IP", ip)
		}
		for i := 0; i < 3; i++ {
			// Too-short passwords: refused, nothing stored, but counted.
			wantStatus(t, signUp(fmt.Sprintf("198.51.100.%d", i), "bob", "bob@school.example"), http.StatusUnprocessableEntity)
		}
		r := signUp("198.51.100.200", "bob", "BOB@school.example")
		wantStatus(t, r, http.StatusTooManyRequests)
		if r.Header.Get("Retry-After") == "" {
			t.Fatal("no Retry-After")
		}
		for i := 0; i < 4; i++ {
			wantStatus(t, signUp("203.0.113.5", "carol", fmt.Sprintf("carol%d@school.example", i)), http.StatusUnprocessableEntity)
		}
		wantStatus(t, signUp("203.0.113.5", "carol", "carol9@school.example"), http.StatusTooManyRequests)
		if n := e.count("users"); n != 0 {
			t.Fatalf("%d users stored", n)
		}
	})
}

// TestSecurity32_SuspendedAccount: suspending an account ends its tokens,
// codes and sessions at once, tells OnRevoke, and blocks sign-in.
func TestSecurity32_SuspendedAccount(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		a := e.registerApp("read")
		id := e.createUser("ada", "correct horse battery")
		c := e.browser()
		e.signIn(c, "ada", "correct horse battery")
		code := codeFrom(t, e.authorize(c, authParams(a, "read"), "approve"))
		token, err := e.svc.IssueToken(ctx, id, "read")
		if err != nil {
			t.Fatal(err)
		}
		pending := codeFrom(t, e.authorize(c, authParams(a, "read"), "approve"))
		wantStatus(t, e.exchange(a, code, "", false), http.StatusOK)

		if err := e.svc.SuspendAccount(ctx, id); err != nil {
			t.Fatal(err)
		}
		wantStatus(t, e.get(nil, "/test/read", bearer(token)...), http.StatusUnauthorized)
		wantOAuthError(t, e.exchange(a, pending, "", false), http.StatusBadRequest, "invalid_grant")
		for _, table := range []string{"oauth_tokens", "oauth_codes", "oauth_sessions"} {
			if n := e.count(table); n != 0 {
				t.Errorf("%s: %d rows left", table, n)
			}
		}
		e.mu.Lock()
		if len(e.revoked) != 2 {
			t.Errorf("OnRevoke heard of %d tokens, want 2", len(e.revoked))
		}
		e.mu.Unlock()
		// The browser is signed out and cannot sign in again.
		wantStatus(t, e.get(c, "/oauth/authorize?"+authParams(a, "read").Encode()), http.StatusSeeOther)
		page := e.get(c, "/oauth/sign_in")
		r := e.postForm(c, "/oauth/sign_in", url.Values{"csrf_token": {csrfOf(t, page.Body)}, "username": {"ada"}, "password": {"correct horse battery"}})
		wantStatus(t, r, http.StatusForbidden)
		if _, err := e.svc.IssueToken(ctx, id, "read"); err == nil {
			t.Fatal("IssueToken worked for a suspended account")
		}
		// A token minted behind the store's back still fails: the account is
		// checked on every request.
		if err := e.accounts.Unsuspend(ctx, id); err != nil {
			t.Fatal(err)
		}
		token, err = e.svc.IssueToken(ctx, id, "read")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.accounts.Suspend(ctx, id); err != nil {
			t.Fatal(err)
		}
		wantStatus(t, e.get(nil, "/test/read", bearer(token)...), http.StatusUnauthorized)
	})
}

// TestImplicitFlowRefused: go-oauth2 allows response_type=token by
// default; we do not, and nothing is issued.
func TestImplicitFlowRefused(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		a := e.registerApp("read")
		c := e.signedInBrowser("ada")
		for _, rt := range []string{"token", "code token", "", "id_token"} {
			t.Run(rt, func(t *testing.T) {
				p := authParams(a, "read")
				p.Set("response_type", rt)
				r := e.get(c, "/oauth/authorize?"+p.Encode())
				wantStatus(t, r, http.StatusFound)
				u, _ := url.Parse(r.Header.Get("Location"))
				if u.Query().Get("error") != "unsupported_response_type" || u.Fragment != "" || u.Query().Get("access_token") != "" {
					t.Fatalf("redirect %s", u)
				}
				form := url.Values{"csrf_token": {csrfOf(t, e.get(c, "/oauth/authorize?"+authParams(a, "read").Encode()).Body)}, "decision": {"approve"}}
				for k, v := range p {
					form[k] = v
				}
				r = e.postForm(c, "/oauth/authorize", form)
				wantStatus(t, r, http.StatusFound)
				if u, _ := url.Parse(r.Header.Get("Location")); u.Query().Get("error") != "unsupported_response_type" {
					t.Fatalf("consent post redirect %s", u)
				}
				if n, m := e.count("oauth_codes"), e.count("oauth_tokens"); n+m != 0 {
					t.Fatalf("%d codes, %d tokens issued", n, m)
				}
			})
		}
	})
}

// TestSecurity32_SuspendedAccountCannotRefresh: even if only the account
// store knows of the suspension, the refresh token stops working.
func TestSecurity32_SuspendedAccountCannotRefresh(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		a := e.registerApp("read")
		c := e.signedInBrowser("ada")
		m := e.exchange(a, codeFrom(t, e.authorize(c, authParams(a, "read"), "approve")), "", false).JSON(t)
		var id int64
		if err := db.NewSelect().Table("users").Column("id").Where("username = ?", "ada").Scan(context.Background(), &id); err != nil {
			t.Fatal(err)
		}
		if err := e.accounts.Suspend(context.Background(), id); err != nil {
			t.Fatal(err)
		}
		wantStatus(t, e.get(nil, "/test/read", bearer(m["access_token"].(string))...), http.StatusUnauthorized)
		r := e.postForm(nil, "/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {m["refresh_token"].(string)}, "client_id": {a.ID}, "client_secret": {a.Secret}})
		wantOAuthError(t, r, http.StatusBadRequest, "invalid_grant")
	})
}
