package oauth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/go-chi/chi/v5"

	"github.com/commonroom/commonroom/internal/db"
	"github.com/commonroom/commonroom/internal/server"
	"github.com/commonroom/commonroom/internal/users"
	"github.com/commonroom/commonroom/oauth"
)

// Example wires the provider onto a router, guards an endpoint with a
// scope, and calls it with a token from IssueToken (what `commonroom admin
// token` does).
func Example() {
	ctx := context.Background()
	d, err := db.Open(ctx, db.MemoryDSN)
	if err != nil {
		panic(err)
	}
	defer d.Close()
	if _, err := db.Migrate(ctx, d.DB, users.Migrations(), oauth.Migrations()); err != nil {
		panic(err)
	}

	accounts, err := oauth.NewLocalAccounts(d.DB, users.Options{})
	if err != nil {
		panic(err)
	}
	svc, err := oauth.NewService(d.DB, accounts, oauth.DefaultConfig("https://school.example"), oauth.Options{})
	if err != nil {
		panic(err)
	}
	h, err := oauth.NewHandler(svc, oauth.HandlerOptions{})
	if err != nil {
		panic(err)
	}
	r := chi.NewRouter()
	h.Routes(r) // /oauth/*, /api/v1/apps*, /.well-known/oauth-authorization-server
	r.With(svc.Middleware, oauth.RequireScope("write:statuses")).Post("/api/v1/statuses", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "posting as account %d", oauth.AuthFrom(r.Context()).AccountID())
	})

	a, err := accounts.Create(ctx, oauth.NewAccount{Username: "ada", Email: "ada@school.example", Password: "correct horse battery"})
	if err != nil {
		panic(err)
	}
	for _, scopes := range []string{"read", "read write"} {
		token, err := svc.IssueToken(ctx, a.ID, scopes)
		if err != nil {
			panic(err)
		}
		req := httptest.NewRequest(http.MethodPost, "/api/v1/statuses", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		fmt.Println(scopes+":", rec.Code)
	}
	// Output:
	// read: 403
	// read write: 200
}

// Handler mounts on the server like every package.
var _ server.Router = (*oauth.Handler)(nil)
