package bunstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/sqlitedialect"

	"github.com/commonroom/commonroom/pub/bunstore"
	"github.com/commonroom/commonroom/pub/bunstore/bunstoretest"
	"github.com/commonroom/commonroom/pub/delivery"
)

// claimConcurrently has workers, each over its own connection pool, claim
// and complete jobs until none is left, and checks every job was claimed
// exactly once.
func claimConcurrently(t *testing.T, open func(tb testing.TB) *bun.DB) {
	t.Helper()
	const jobs, workers = 600, 4
	ctx := context.Background()
	first := bunstore.New(open(t))
	var all []delivery.Job
	for i := range jobs {
		all = append(all, mustJob(t, fmt.Sprintf("https://h%d.example/inbox", i%40), i))
	}
	mustEnqueue(t, first, t0, all...)

	var mu sync.Mutex
	seen := map[int64]string{}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		s := bunstore.New(open(t))
		owner := fmt.Sprintf("w%d", w)
		wg.Go(func() {
			for {
				got, err := s.Claim(ctx, delivery.ClaimRequest{Owner: owner, Now: t0, Lease: time.Minute, Limit: 7, MaxPerHost: 3})
				if err != nil {
					errs <- err
					return
				}
				if len(got) == 0 {
					return
				}
				for _, j := range got {
					mu.Lock()
					if prev, dup := seen[j.ID]; dup {
						mu.Unlock()
						errs <- fmt.Errorf("job %d claimed by %s and %s", j.ID, prev, owner)
						return
					}
					seen[j.ID] = owner
					mu.Unlock()
					if err := s.Complete(ctx, j, t0); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(seen) != jobs {
		t.Fatalf("claimed %d distinct jobs of %d", len(seen), jobs)
	}
	st, err := first.Stats(ctx, t0)
	if err != nil {
		t.Fatal(err)
	}
	if st.Pending != 0 {
		t.Fatalf("%d jobs left", st.Pending)
	}
}

func TestClaimConcurrentExactlyOnce(t *testing.T) {
	bunstoretest.ForEach(t, func(t *testing.T, d bunstoretest.Database) {
		claimConcurrently(t, d.Open)
	})
	// An embedder's SQLite pool with deferred transactions: the store
	// takes the write lock itself, so claims wait instead of failing.
	t.Run("sqlite deferred transactions", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "deferred.db")
		claimConcurrently(t, func(tb testing.TB) *bun.DB {
			sqldb, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
			if err != nil {
				tb.Fatal(err)
			}
			db := bun.NewDB(sqldb, sqlitedialect.New())
			tb.Cleanup(func() { _ = db.Close() })
			if err := bunstore.Migrate(context.Background(), db); err != nil {
				tb.Fatal(err)
			}
			return db
		})
	})
}
