package oauth_test

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/commonroom/commonroom/internal/dbtest"
	"github.com/commonroom/commonroom/internal/users"
	"github.com/commonroom/commonroom/oauth"
)

var screenshots = flag.Bool("screenshots", false, "save the browser test's screenshots to docs/images")

// chromiumPath finds Chromium; without it the browser test skips, except
// in CI (CI=true), where it fails.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed, and CI=true requires the browser test: apt-get install -y chromium")
	}
	t.Skip("chromium is not installed; skipping the browser test (apt-get install -y chromium)")
	return ""
}

// TestBrowserSignUpSignInAuthorize drives headless Chromium through the
// pages as a person would: sign up, sign out, start an app's authorization
// with PKCE, sign in, approve; the app then exchanges the code and its
// token works.
func TestBrowserSignUpSignInAuthorize(t *testing.T) {
	exe := chromiumPath(t)
	db := dbtest.SQLite(t, users.Migrations(), oauth.Migrations())
	e := newEnv(t, db)
	a := e.registerApp("read write", "http://"+strings.TrimPrefix(e.srv.URL, "http://")+"/app/callback")
	verifier, challenge := pkce("browser")

	// The app's side: take the code, exchange it, call the API.
	e.mux.Get("/app/callback", func(w http.ResponseWriter, r *http.Request) {
		code := r.URL.Query().Get("code")
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {a.Redirect}, "client_id": {a.ID}, "client_secret": {a.Secret}, "code_verifier": {verifier}}
		resp, err := http.PostForm(e.srv.URL+"/oauth/token", form)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		err = decodeJSON(resp, &tok)
		if err != nil || tok.AccessToken == "" {
			http.Error(w, fmt.Sprintf("exchange failed: %v", err), http.StatusBadGateway)
			return
		}
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, e.srv.URL+"/test/write", nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		api, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		api.Body.Close()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>App</title><p id="result">API answered %d</p>`, api.StatusCode)
	})

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-component-update", true),
		chromedp.WindowSize(760, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	defer cancelTimeout()

	dir := t.TempDir()
	if *screenshots {
		dir = filepath.Join("..", "docs", "images")
	}
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			buf, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, name), buf, 0o644)
		})
	}
	run := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}

	run("sign up",
		chromedp.Navigate(e.srv.URL+"/oauth/sign_up"),
		chromedp.WaitVisible(chromedp.CSS("#username")),
		shot("oauth-sign-up.png"),
		chromedp.SendKeys(chromedp.CSS("#username"), "grace"),
		chromedp.SendKeys(chromedp.CSS("#email"), "grace@school.example"),
		chromedp.SendKeys(chromedp.CSS("#password"), "correct horse battery"),
		chromedp.SendKeys(chromedp.CSS("#password_confirmation"), "correct horse battery"),
		chromedp.Click(chromedp.CSS("button.primary")),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/oauth/sign_out"]`)),
	)
	if got := text("main"); !strings.Contains(got, "signed in as grace") {
		t.Fatalf("after sign-up: %q", got)
	}
	run("sign out",
		chromedp.Click(chromedp.CSS(`form[action="/oauth/sign_out"] button`)),
		chromedp.WaitVisible(chromedp.CSS("#password")),
	)

	authURL := e.srv.URL + "/oauth/authorize?" + authParams(a, "read write", "code_challenge", challenge, "code_challenge_method", "S256").Encode()
	run("sign in",
		chromedp.Navigate(authURL),
		chromedp.WaitVisible(chromedp.CSS("#password")),
		shot("oauth-sign-in.png"),
		chromedp.SendKeys(chromedp.CSS("#username"), "grace"),
		chromedp.SendKeys(chromedp.CSS("#password"), "correct horse battery"),
		chromedp.Click(chromedp.CSS("button.primary")),
		chromedp.WaitVisible(chromedp.CSS(`button[value="approve"]`)),
		shot("oauth-consent.png"),
	)
	consent := text("main")
	for _, want := range []string{"Test App", "grace", "Read everything", "Post, edit and delete"} {
		if !strings.Contains(consent, want) {
			t.Errorf("consent page lacks %q: %q", want, consent)
		}
	}
	run("authorize",
		chromedp.Click(chromedp.CSS(`button[value="approve"]`)),
		chromedp.WaitVisible(chromedp.CSS("#result")),
	)
	if got := text("#result"); got != "API answered 200" {
		t.Fatalf("app says %q", got)
	}

	// An error state, for the record: a sign-up with a taken name.
	run("sign-up error",
		chromedp.Navigate(e.srv.URL+"/oauth/sign_up"),
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), "grace"),
		chromedp.SendKeys(chromedp.CSS("#email"), "another@school.example"),
		chromedp.SendKeys(chromedp.CSS("#password"), "correct horse battery"),
		chromedp.SendKeys(chromedp.CSS("#password_confirmation"), "correct horse battery"),
		chromedp.Click(chromedp.CSS("button.primary")),
		chromedp.WaitVisible(chromedp.CSS("#username-error")),
		shot("oauth-sign-up-error.png"),
	)
}
