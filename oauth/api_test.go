package oauth_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/commonroom/commonroom/oauth"
)

func TestRegisterAppBodies(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		want := []any{"https://a.example/cb", "com.example.app:/oauth", "urn:ietf:wg:oauth:2.0:oob"}
		for _, tc := range []struct {
			name string
			send func() response
		}{
			{"JSON array", func() response {
				return e.postJSON(nil, "/api/v1/apps", map[string]any{"client_name": "A", "redirect_uris": []string{"https://a.example/cb", "com.example.app:/oauth", "urn:ietf:wg:oauth:2.0:oob"}, "scopes": "read write"})
			}},
			{"JSON string", func() response {
				return e.postJSON(nil, "/api/v1/apps", map[string]any{"client_name": "A", "redirect_uris": "https://a.example/cb\ncom.example.app:/oauth urn:ietf:wg:oauth:2.0:oob", "scopes": "read write"})
			}},
			{"form string", func() response {
				return e.postForm(nil, "/api/v1/apps", url.Values{"client_name": {"A"}, "redirect_uris": {"https://a.example/cb com.example.app:/oauth\turn:ietf:wg:oauth:2.0:oob"}, "scopes": {"read write"}})
			}},
			{"form array", func() response {
				return e.postForm(nil, "/api/v1/apps", url.Values{"client_name": {"A"}, "redirect_uris[]": {"https://a.example/cb", "com.example.app:/oauth", "urn:ietf:wg:oauth:2.0:oob"}, "scopes": {"read write"}})
			}},
			{"multipart array", func() response {
				var body bytes.Buffer
				mw := multipart.NewWriter(&body)
				for _, kv := range [][2]string{{"client_name", "A"}, {"redirect_uris[]", "https://a.example/cb"}, {"redirect_uris[]", "com.example.app:/oauth"}, {"redirect_uris[]", "urn:ietf:wg:oauth:2.0:oob"}, {"scopes", "read write"}} {
					if err := mw.WriteField(kv[0], kv[1]); err != nil {
						t.Fatal(err)
					}
				}
				if err := mw.Close(); err != nil {
					t.Fatal(err)
				}
				return e.do(nil, http.MethodPost, "/api/v1/apps", mw.FormDataContentType(), &body)
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := tc.send()
				wantStatus(t, r, http.StatusOK)
				m := r.JSON(t)
				if fmt.Sprint(m["redirect_uris"]) != fmt.Sprint(want) || m["redirect_uri"] != "https://a.example/cb\ncom.example.app:/oauth\nurn:ietf:wg:oauth:2.0:oob" {
					t.Fatalf("redirect URIs: %v / %q", m["redirect_uris"], m["redirect_uri"])
				}
				if fmt.Sprint(m["scopes"]) != "[read write]" || m["name"] != "A" || m["website"] != nil {
					t.Fatalf("app %v", m)
				}
				if m["client_id"] == "" || m["client_secret"] == "" || m["client_secret_expires_at"] != float64(0) || m["id"] == "" {
					t.Fatalf("credentials %v", m)
				}
			})
		}
		t.Run("query parameters", func(t *testing.T) {
			q := url.Values{"client_name": {"Q"}, "redirect_uris": {"https://a.example/cb"}, "scopes": {"read push"}}
			r := e.do(nil, http.MethodPost, "/api/v1/apps?"+q.Encode(), "", nil)
			wantStatus(t, r, http.StatusOK)
			if m := r.JSON(t); m["name"] != "Q" || fmt.Sprint(m["scopes"]) != "[read push]" {
				t.Fatalf("app %v", m)
			}
		})
		t.Run("default scope", func(t *testing.T) {
			r := e.postJSON(nil, "/api/v1/apps", map[string]any{"client_name": "A", "redirect_uris": "https://a.example/cb"})
			wantStatus(t, r, http.StatusOK)
			if fmt.Sprint(r.JSON(t)["scopes"]) != "[read]" {
				t.Fatalf("scopes %v", r.JSON(t)["scopes"])
			}
		})
	})
}

// TestRegisterAppBadInput: each bad request gets its status and a Mastodon
// error body, and stores nothing.
func TestRegisterAppBadInput(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db, func(c *oauth.Config) { c.MaxBodyBytes = 4096 })
		for _, tc := range []struct {
			name        string
			contentType string
			body        string
			status      int
		}{
			{"missing name", "application/json", `{"redirect_uris":"https://a.example/cb"}`, http.StatusUnprocessableEntity},
			{"blank name", "application/json", `{"client_name":"  ","redirect_uris":"https://a.example/cb"}`, http.StatusUnprocessableEntity},
			{"long name", "application/json", `{"client_name":"` + strings.Repeat("x", 101) + `","redirect_uris":"https://a.example/cb"}`, http.StatusUnprocessableEntity},
			{"missing redirect", "application/json", `{"client_name":"A"}`, http.StatusUnprocessableEntity},
			{"empty redirect", "application/x-www-form-urlencoded", `client_name=A&redirect_uris=`, http.StatusUnprocessableEntity},
			{"unknown scope", "application/json", `{"client_name":"A","redirect_uris":"https://a.example/cb","scopes":"read everything"}`, http.StatusUnprocessableEntity},
			{"bad website", "application/json", `{"client_name":"A","redirect_uris":"https://a.example/cb","website":"javascript:alert(1)"}`, http.StatusUnprocessableEntity},
			{"too many redirects", "application/json", `{"client_name":"A","redirect_uris":"` + strings.Repeat("https://a.example/cb ", 11) + `"}`, http.StatusUnprocessableEntity},
			{"malformed JSON", "application/json", `{"client_name":"A",`, http.StatusBadRequest},
			{"JSON array body", "application/json", `["A"]`, http.StatusBadRequest},
			{"object value", "application/json", `{"client_name":{"x":1},"redirect_uris":"https://a.example/cb"}`, http.StatusBadRequest},
			{"number in array", "application/json", `{"client_name":"A","redirect_uris":[1]}`, http.StatusBadRequest},
			{"oversized", "application/json", `{"client_name":"` + strings.Repeat("x", 5000) + `","redirect_uris":"https://a.example/cb"}`, http.StatusRequestEntityTooLarge},
			{"oversized form", "application/x-www-form-urlencoded", `client_name=` + strings.Repeat("x", 5000), http.StatusRequestEntityTooLarge},
			{"wrong content type", "text/plain", `client_name=A`, http.StatusUnsupportedMediaType},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := e.do(nil, http.MethodPost, "/api/v1/apps", tc.contentType, strings.NewReader(tc.body))
				wantStatus(t, r, tc.status)
				m := r.JSON(t)
				if msg, ok := m["error"].(string); !ok || msg == "" || len(m) != 1 {
					t.Fatalf("want {\"error\": ...}, got %s", r.Body)
				}
				if n := e.count("oauth_apps"); n != 0 {
					t.Fatalf("%d apps stored", n)
				}
			})
		}
	})
}

// TestTokenBadInput: bad token requests get RFC 6749 errors and issue
// nothing.
func TestTokenBadInput(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db, func(c *oauth.Config) { c.MaxBodyBytes = 4096 })
		a := e.registerApp("read")
		cc := func(extra ...string) url.Values {
			v := url.Values{"grant_type": {"client_credentials"}, "client_id": {a.ID}, "client_secret": {a.Secret}}
			for i := 0; i+1 < len(extra); i += 2 {
				v.Set(extra[i], extra[i+1])
			}
			return v
		}
		for _, tc := range []struct {
			name   string
			send   func() response
			status int
			code   string
		}{
			{"unknown client", func() response { return e.postForm(nil, "/oauth/token", cc("client_id", "nobody")) }, http.StatusUnauthorized, "invalid_client"},
			{"wrong secret", func() response { return e.postForm(nil, "/oauth/token", cc("client_secret", "wrong")) }, http.StatusUnauthorized, "invalid_client"},
			{"no secret", func() response { return e.postForm(nil, "/oauth/token", cc("client_secret", "")) }, http.StatusUnauthorized, "invalid_client"},
			{"no client", func() response {
				return e.postForm(nil, "/oauth/token", url.Values{"grant_type": {"client_credentials"}})
			}, http.StatusUnauthorized, "invalid_client"},
			{"no grant type", func() response { return e.postForm(nil, "/oauth/token", cc("grant_type", "")) }, http.StatusBadRequest, "invalid_request"},
			{"implicit", func() response { return e.postForm(nil, "/oauth/token", cc("grant_type", "__implicit")) }, http.StatusBadRequest, "unsupported_grant_type"},
			{"unknown grant", func() response { return e.postForm(nil, "/oauth/token", cc("grant_type", "magic")) }, http.StatusBadRequest, "unsupported_grant_type"},
			{"code missing", func() response {
				return e.postForm(nil, "/oauth/token", cc("grant_type", "authorization_code", "redirect_uri", a.Redirect))
			}, http.StatusBadRequest, "invalid_request"},
			{"unknown code", func() response {
				return e.postForm(nil, "/oauth/token", cc("grant_type", "authorization_code", "redirect_uri", a.Redirect, "code", "nope"))
			}, http.StatusBadRequest, "invalid_grant"},
			{"unknown refresh token", func() response {
				return e.postForm(nil, "/oauth/token", cc("grant_type", "refresh_token", "refresh_token", "nope"))
			}, http.StatusBadRequest, "invalid_grant"},
			{"malformed JSON", func() response {
				return e.do(nil, http.MethodPost, "/oauth/token", "application/json", strings.NewReader(`{"grant_type":`))
			}, http.StatusBadRequest, "invalid_request"},
			{"oversized", func() response {
				return e.do(nil, http.MethodPost, "/oauth/token", "application/x-www-form-urlencoded", strings.NewReader(cc("scope", strings.Repeat("read ", 1000)).Encode()))
			}, http.StatusRequestEntityTooLarge, "invalid_request"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := tc.send()
				wantOAuthError(t, r, tc.status, tc.code)
				if _, ok := r.JSON(t)["error_description"]; !ok {
					t.Fatalf("no error_description: %s", r.Body)
				}
				if n := e.count("oauth_tokens"); n != 0 {
					t.Fatalf("%d tokens stored", n)
				}
			})
		}
	})
}

// TestClientCredentials: an app token works for app endpoints, has no
// refresh token, does not act for a user, and does not expire.
func TestClientCredentials(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		a := e.registerApp("read write")
		for _, asJSON := range []bool{false, true} {
			t.Run(fmt.Sprint("json=", asJSON), func(t *testing.T) {
				body := map[string]string{"grant_type": "client_credentials", "client_id": a.ID, "client_secret": a.Secret, "scope": "read"}
				var r response
				if asJSON {
					r = e.postJSON(nil, "/oauth/token", body)
				} else {
					form := url.Values{}
					for k, v := range body {
						form.Set(k, v)
					}
					r = e.postForm(nil, "/oauth/token", form)
				}
				wantStatus(t, r, http.StatusOK)
				m := r.JSON(t)
				if m["refresh_token"] != nil || m["expires_in"] != nil || m["scope"] != "read" {
					t.Fatalf("token %v", m)
				}
				if r.Header.Get("Cache-Control") != "no-store" {
					t.Errorf("Cache-Control %q", r.Header.Get("Cache-Control"))
				}
				tok := m["access_token"].(string)
				v := e.get(nil, "/api/v1/apps/verify_credentials", bearer(tok)...)
				wantStatus(t, v, http.StatusOK)
				if v.JSON(t)["name"] != "Test App" || v.JSON(t)["client_secret"] != nil {
					t.Fatalf("verify_credentials %s", v.Body)
				}
				wantStatus(t, e.get(nil, "/test/user", bearer(tok)...), http.StatusUnprocessableEntity)
				e.clock.Advance(365 * 24 * time.Hour)
				wantStatus(t, e.get(nil, "/test/read", bearer(tok)...), http.StatusOK)
			})
		}
		t.Run("HTTP Basic", func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/oauth/token", strings.NewReader("grant_type=client_credentials"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(a.ID, a.Secret)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
		})
	})
}

// TestPasswordGrant is off by default and works when switched on.
func TestPasswordGrant(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB) {
		for _, on := range []bool{false, true} {
			t.Run(fmt.Sprint("enabled=", on), func(t *testing.T) {
				e := newEnv(t, db, func(c *oauth.Config) { c.PasswordGrant = on })
				a := e.registerApp("read write")
				e.createUser(fmt.Sprintf("ada%v", on), "correct horse battery")
				grant := func(password string) response {
					return e.postForm(nil, "/oauth/token", url.Values{"grant_type": {"password"}, "username": {fmt.Sprintf("ada%v", on)}, "password": {password}, "client_id": {a.ID}, "client_secret": {a.Secret}, "scope": {"read"}})
				}
				meta := e.get(nil, "/.well-known/oauth-authorization-server").JSON(t)
				if strings.Contains(fmt.Sprint(meta["grant_types_supported"]), "password") != on {
					t.Errorf("grant_types_supported %v", meta["grant_types_supported"])
				}
				if !on {
					wantOAuthError(t, grant("correct horse battery"), http.StatusBadRequest, "unsupported_grant_type")
					return
				}
				wantOAuthError(t, grant("wrong password"), http.StatusBadRequest, "invalid_grant")
				r := grant("correct horse battery")
				wantStatus(t, r, http.StatusOK)
				wantStatus(t, e.get(nil, "/test/user", bearer(r.JSON(t)["access_token"].(string))...), http.StatusNoContent)
			})
		}
	})
}

func TestVerifyCredentials(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		a := e.registerApp("read", "https://app.example/callback", "https://app.example/two")
		c := e.signedInBrowser("ada")
		tok := e.exchange(a, codeFrom(t, e.authorize(c, authParams(a, "read"), "approve")), "", false).JSON(t)["access_token"].(string)
		r := e.get(nil, "/api/v1/apps/verify_credentials", bearer(tok)...)
		wantStatus(t, r, http.StatusOK)
		m := r.JSON(t)
		if m["name"] != "Test App" || m["website"] != "https://app.example" || fmt.Sprint(m["redirect_uris"]) != "[https://app.example/callback https://app.example/two]" || fmt.Sprint(m["scopes"]) != "[read]" {
			t.Fatalf("app %v", m)
		}
		if _, ok := m["client_secret"]; ok {
			t.Fatal("verify_credentials shows the secret")
		}
		wantStatus(t, e.get(nil, "/api/v1/apps/verify_credentials"), http.StatusUnauthorized)
		r = e.get(nil, "/api/v1/apps/verify_credentials", bearer("garbage")...)
		wantStatus(t, r, http.StatusUnauthorized)
		if r.JSON(t)["error"] != "The access token is invalid" {
			t.Fatalf("body %s", r.Body)
		}
	})
}

func TestMetadata(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		r := e.get(nil, "/.well-known/oauth-authorization-server")
		wantStatus(t, r, http.StatusOK)
		m := r.JSON(t)
		base := e.srv.URL
		for k, want := range map[string]string{
			"issuer":                                base,
			"authorization_endpoint":                base + "/oauth/authorize",
			"token_endpoint":                        base + "/oauth/token",
			"revocation_endpoint":                   base + "/oauth/revoke",
			"app_registration_endpoint":             base + "/api/v1/apps",
			"response_types_supported":              "[code]",
			"code_challenge_methods_supported":      "[S256]",
			"grant_types_supported":                 "[authorization_code client_credentials refresh_token]",
			"token_endpoint_auth_methods_supported": "[client_secret_basic client_secret_post]",
			"service_documentation":                 "https://docs.joinmastodon.org/client/intro/",
		} {
			if got := fmt.Sprint(m[k]); got != want {
				t.Errorf("%s = %s, want %s", k, got, want)
			}
		}
		scopes := fmt.Sprint(m["scopes_supported"])
		for _, s := range []string{"read", "write", "follow", "push", "profile", "admin:read", "admin:write", "read:statuses", "write:media", "admin:read:accounts"} {
			if !strings.Contains(scopes, s) {
				t.Errorf("scopes_supported lacks %s", s)
			}
		}
	})
}

// TestSecretsStoredHashed: no client secret, code, token or session id
// appears in the database.
func TestSecretsStoredHashed(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		a := e.registerApp("read")
		c := e.signedInBrowser("ada")
		code := codeFrom(t, e.authorize(c, authParams(a, "read"), "approve"))
		pending := codeFrom(t, e.authorize(c, authParams(a, "read"), "approve"))
		m := e.exchange(a, code, "", false).JSON(t)
		u, _ := url.Parse(e.srv.URL)
		var sessionID string
		for _, ck := range c.Jar.Cookies(u) {
			if ck.Name == "commonroom_session" {
				sessionID = ck.Value
			}
		}
		if sessionID == "" {
			t.Fatal("no session cookie")
		}
		secrets := []string{a.Secret, pending, m["access_token"].(string), m["refresh_token"].(string), sessionID}
		for _, table := range []string{"oauth_apps", "oauth_codes", "oauth_tokens", "oauth_sessions"} {
			var rows []map[string]any
			if err := db.NewSelect().Table(table).Scan(context.Background(), &rows); err != nil {
				t.Fatal(err)
			}
			dump := fmt.Sprint(rows)
			for _, s := range secrets {
				if strings.Contains(dump, s) {
					t.Errorf("%s holds a secret in clear", table)
				}
			}
		}
	})
}

// TestTokenExpiry: tokens do not expire by default; with AccessTokenTTL
// they do, and the refresh token then gets a new one.
func TestTokenExpiry(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db, func(c *oauth.Config) { c.AccessTokenTTL = time.Hour })
		a := e.registerApp("read")
		c := e.signedInBrowser("ada")
		m := e.exchange(a, codeFrom(t, e.authorize(c, authParams(a, "read"), "approve")), "", false).JSON(t)
		if m["expires_in"] != float64(3600) {
			t.Fatalf("expires_in %v", m["expires_in"])
		}
		tok := m["access_token"].(string)
		wantStatus(t, e.get(nil, "/test/read", bearer(tok)...), http.StatusOK)
		e.clock.Advance(time.Hour + time.Second)
		wantStatus(t, e.get(nil, "/test/read", bearer(tok)...), http.StatusUnauthorized)
		r := e.postForm(nil, "/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {m["refresh_token"].(string)}, "client_id": {a.ID}, "client_secret": {a.Secret}})
		wantStatus(t, r, http.StatusOK)
		wantStatus(t, e.get(nil, "/test/read", bearer(r.JSON(t)["access_token"].(string))...), http.StatusOK)

		t.Run("refresh by another client", func(t *testing.T) {
			b := e.registerApp("read")
			r2 := e.postForm(nil, "/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r.JSON(t)["refresh_token"].(string)}, "client_id": {b.ID}, "client_secret": {b.Secret}})
			wantOAuthError(t, r2, http.StatusBadRequest, "invalid_grant")
		})
		t.Run("refresh cannot widen scope", func(t *testing.T) {
			r3 := e.postForm(nil, "/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r.JSON(t)["refresh_token"].(string)}, "client_id": {a.ID}, "client_secret": {a.Secret}, "scope": {"read write"}})
			wantOAuthError(t, r3, http.StatusBadRequest, "invalid_scope")
		})
	})
}

// TestIssueToken is the admin CLI's path: a working token from the
// built-in app, which is created once.
func TestIssueToken(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		id := e.createUser("bot", "correct horse battery")
		for i := 0; i < 2; i++ {
			tok, err := e.svc.IssueToken(ctx, id, "read write follow")
			if err != nil {
				t.Fatal(err)
			}
			r := e.get(nil, "/test/write", bearer(tok)...)
			wantStatus(t, r, http.StatusOK)
			if !strings.Contains(r.Body, `"scopes":"read write follow"`) {
				t.Fatalf("body %s", r.Body)
			}
			v := e.get(nil, "/api/v1/apps/verify_credentials", bearer(tok)...)
			if v.JSON(t)["name"] != "Commonroom CLI" {
				t.Fatalf("app %s", v.Body)
			}
		}
		if n := e.count("oauth_apps"); n != 1 {
			t.Fatalf("%d apps", n)
		}
		if _, err := e.svc.IssueToken(ctx, id, "read everything"); err == nil {
			t.Fatal("unknown scope accepted")
		}
		if _, err := e.svc.IssueToken(ctx, 12345, "read"); err == nil {
			t.Fatal("unknown account accepted")
		}
	})
}

func TestPrune(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db, func(c *oauth.Config) { c.AccessTokenTTL = time.Hour })
		ctx := context.Background()
		a := e.registerApp("read")
		c := e.signedInBrowser("ada")
		codeFrom(t, e.authorize(c, authParams(a, "read"), "approve"))
		cc := e.postForm(nil, "/oauth/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {a.ID}, "client_secret": {a.Secret}})
		wantStatus(t, cc, http.StatusOK)
		if n, err := e.svc.Prune(ctx); err != nil || n != 0 {
			t.Fatalf("Prune = %d, %v before anything expired", n, err)
		}
		e.clock.Advance(31 * 24 * time.Hour)
		n, err := e.svc.Prune(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n != 3 { // the code, the session, the app token
			t.Fatalf("pruned %d rows, want 3", n)
		}
	})
}

// TestQueryToken: ?access_token= counts only when Config.QueryToken is on.
func TestQueryToken(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB) {
		for _, on := range []bool{false, true} {
			t.Run(fmt.Sprint("enabled=", on), func(t *testing.T) {
				e := newEnv(t, db, func(c *oauth.Config) { c.QueryToken = on })
				id := e.createUser(fmt.Sprintf("q%v", on), "correct horse battery")
				tok, err := e.svc.IssueToken(context.Background(), id, "read")
				if err != nil {
					t.Fatal(err)
				}
				want := http.StatusUnauthorized
				if on {
					want = http.StatusOK
				}
				wantStatus(t, e.get(nil, "/test/read?access_token="+url.QueryEscape(tok)), want)
				// The header always works; a Basic header is no bearer token.
				wantStatus(t, e.get(nil, "/test/read", bearer(tok)...), http.StatusOK)
				wantStatus(t, e.get(nil, "/test/read", "Authorization", "Basic "+tok), http.StatusUnauthorized)
				wantStatus(t, e.get(nil, "/test/read", "Authorization", "bearer "+tok), http.StatusOK)
			})
		}
	})
}
