package oauth_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/uptrace/bun"

	"github.com/commonroom/commonroom/internal/errkind"
	"github.com/commonroom/commonroom/oauth"
)

// fakeAccounts is Accounts whose ByID is ByIDFunc; the rest is the real
// store it embeds.
type fakeAccounts struct {
	oauth.Accounts
	ByIDFunc func(ctx context.Context, id int64) (*oauth.Account, error)
}

func (f *fakeAccounts) ByID(ctx context.Context, id int64) (*oauth.Account, error) {
	return f.ByIDFunc(ctx, id)
}

// TestSessionAccountLookup signs a browser in, then serves the sign-in
// page through a second provider over the same database whose account
// store answers ByID as each case says: a missing, pending or suspended
// account signs the browser out, any other failure is a 500 that is
// logged and shows nothing of the error.
func TestSessionAccountLookup(t *testing.T) {
	const secret = "database on fire: pq: connection refused at 10.0.0.7"
	cases := []struct {
		name       string
		byID       func(ctx context.Context, id int64) (*oauth.Account, error)
		wantStatus int
		signedIn   bool
	}{
		{"found", nil, http.StatusOK, true},
		{"not found", func(context.Context, int64) (*oauth.Account, error) {
			return nil, fmt.Errorf("users: %w", errkind.New(errkind.NotFound, "no such user"))
		}, http.StatusOK, false},
		{"suspended", func(_ context.Context, id int64) (*oauth.Account, error) {
			return &oauth.Account{ID: id, Username: "ada", Suspended: true}, nil
		}, http.StatusOK, false},
		{"pending", func(_ context.Context, id int64) (*oauth.Account, error) {
			return &oauth.Account{ID: id, Username: "ada", Pending: true}, nil
		}, http.StatusOK, false},
		{"database error", func(context.Context, int64) (*oauth.Account, error) {
			return nil, errors.New(secret)
		}, http.StatusInternalServerError, false},
		{"internal kind", func(context.Context, int64) (*oauth.Account, error) {
			return nil, errkind.Wrap(errkind.Internal, "lookup failed", errors.New(secret))
		}, http.StatusInternalServerError, false},
	}
	forEachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		c := e.signedInBrowser("ada")
		var cookie *http.Cookie
		u, _ := http.NewRequest(http.MethodGet, e.srv.URL, nil)
		for _, ck := range c.Jar.Cookies(u.URL) {
			if ck.Name == "commonroom_session" {
				cookie = ck
			}
		}
		if cookie == nil {
			t.Fatal("no session cookie after sign-in")
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				fake := &fakeAccounts{Accounts: e.accounts, ByIDFunc: tc.byID}
				if fake.ByIDFunc == nil {
					fake.ByIDFunc = e.accounts.ByID
				}
				var logs bytes.Buffer
				cfg := oauth.DefaultConfig(e.srv.URL)
				cfg.InsecureHTTP = true
				svc, err := oauth.NewService(db, fake, cfg, oauth.Options{Now: e.clock.Now, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
				if err != nil {
					t.Fatal(err)
				}
				h, err := oauth.NewHandler(svc, oauth.HandlerOptions{})
				if err != nil {
					t.Fatal(err)
				}
				mux := chi.NewRouter()
				h.Routes(mux)
				req := httptest.NewRequest(http.MethodGet, "/oauth/sign_in", nil)
				req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
				rec := httptest.NewRecorder()
				mux.ServeHTTP(rec, req)
				body := rec.Body.String()
				if rec.Code != tc.wantStatus {
					t.Fatalf("status %d, want %d\n%s", rec.Code, tc.wantStatus, body)
				}
				if strings.Contains(body, "database on fire") || strings.Contains(body, "10.0.0.7") {
					t.Errorf("the page shows the internal error:\n%s", body)
				}
				if tc.wantStatus == http.StatusInternalServerError {
					if !strings.Contains(logs.String(), "database on fire") {
						t.Errorf("the error was not logged; log:\n%s", logs.String())
					}
					return
				}
				if got := strings.Contains(body, "Signed in"); got != tc.signedIn {
					t.Errorf("page says signed in: %v, want %v\n%s", got, tc.signedIn, body)
				}
			})
		}
		// The session survives a failed lookup: the real store still signs
		// the browser in.
		if r := e.get(c, "/oauth/sign_in"); r.Status != http.StatusOK || !strings.Contains(r.Body, "Signed in") {
			t.Errorf("after the lookups: %d, signed in %v", r.Status, strings.Contains(r.Body, "Signed in"))
		}
	})
}
