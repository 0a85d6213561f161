package federation_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http/httptest"

	"github.com/go-chi/chi/v5"

	"github.com/commonroom/commonroom/actors"
	"github.com/commonroom/commonroom/internal/db"
	"github.com/commonroom/commonroom/internal/federation"
	"github.com/commonroom/commonroom/internal/users"
	"github.com/commonroom/commonroom/pub/bunstore"
)

// Example builds the federation layer over a fresh database, mounts it on a
// router, runs its background work, and asks WebFinger for the instance
// actor, as commonroom serve does.
func Example() {
	ctx := context.Background()
	d, err := db.Open(ctx, db.MemoryDSN)
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	sets := []db.MigrationSet{users.Migrations(), actors.Migrations(), {Name: "pub/bunstore", FS: bunstore.Migrations}, federation.Migrations()}
	if _, err := db.Migrate(ctx, d.DB, sets...); err != nil {
		log.Fatal(err)
	}

	cfg := federation.DefaultConfig()
	cfg.BaseURL = "https://school.example"
	cfg.Version = "1.0.0"
	fed, err := federation.New(ctx, d.DB, cfg) // makes and stores the instance actor's keys
	if err != nil {
		log.Fatal(err)
	}
	r := chi.NewRouter()
	fed.Routes(r)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- fed.Run(runCtx) }() // inboxes, delivery, keys, outbox

	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("GET", "/.well-known/webfinger?resource=acct:school.example@school.example", nil))
	var jrd struct {
		Subject string
		Links   []struct{ Rel, Href string }
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &jrd); err != nil {
		log.Fatal(err)
	}
	fmt.Println(rec.Code, jrd.Subject, jrd.Links[0].Rel, jrd.Links[0].Href)

	stop()
	if err := <-done; err != nil {
		log.Fatal(err)
	}
	// Output:
	// 200 acct:school.example@school.example self https://school.example/actor
}
