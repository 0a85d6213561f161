package bunstore_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/commonroom/commonroom/pub/bunstore"
	"github.com/commonroom/commonroom/pub/delivery"
)

// ExampleMigrate opens a SQLite queue, applies the migrations (twice, to show
// that it is idempotent) and enqueues a job.
func ExampleMigrate() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "bunstore-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := bunstore.OpenSQLite(ctx, filepath.Join(dir, "queue.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	for range 2 {
		if err := bunstore.Migrate(ctx, db); err != nil {
			log.Fatal(err)
		}
	}
	store := bunstore.New(db)
	job, err := delivery.NewJob("https://remote.example/inbox", "https://school.example/users/ada#main-key", "", []byte(`{}`))
	if err != nil {
		log.Fatal(err)
	}
	now := time.Now()
	if err := store.Enqueue(ctx, now, []delivery.Job{job}); err != nil {
		log.Fatal(err)
	}
	st, err := store.Stats(ctx, now)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("pending:", st.Pending, "due:", st.Due)
	// Output: pending: 1 due: 1
}
