package bunstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/commonroom/commonroom/pub/bunstore"
	"github.com/commonroom/commonroom/pub/bunstore/bunstoretest"
	"github.com/commonroom/commonroom/pub/delivery"
)

// BenchmarkQueueCycle times the queue's own work for one fan-out, without
// sending or signing: enqueue 2,000 jobs with 1.5 KB bodies for 2,000
// hosts in one call, then claim them 64 at a time (4 per host) and complete
// each, as a Pool does.
func BenchmarkQueueCycle(b *testing.B) {
	for _, d := range []struct {
		name string
		db   func(tb testing.TB) bunstoretest.Database
	}{{"sqlite", bunstoretest.SQLite}, {"postgres", bunstoretest.Postgres}} {
		b.Run(d.name, func(b *testing.B) {
			ctx := context.Background()
			s := bunstore.New(d.db(b).Open(b))
			body := make([]byte, 1500)
			for i := range body {
				body[i] = byte('a' + i%26)
			}
			jobs := make([]delivery.Job, 2000)
			now := t0
			for b.Loop() {
				for i := range jobs {
					jobs[i] = delivery.Job{
						InboxURL: fmt.Sprintf("https://host%d.example/inbox", i), Host: fmt.Sprintf("host%d.example", i),
						KeyID: "https://local.example/users/a#main-key", ActivityID: "https://local.example/activities/1", Body: body,
					}
				}
				if err := s.Enqueue(ctx, now, jobs); err != nil {
					b.Fatal(err)
				}
				done := 0
				for done < len(jobs) {
					got, err := s.Claim(ctx, delivery.ClaimRequest{Owner: "w", Now: now, Lease: time.Minute, Limit: 64, MaxPerHost: 4})
					if err != nil {
						b.Fatal(err)
					}
					if len(got) == 0 {
						b.Fatalf("nothing to claim after %d", done)
					}
					for _, j := range got {
						if err := s.Complete(ctx, j, now); err != nil {
							b.Fatal(err)
						}
					}
					done += len(got)
				}
				now = now.Add(time.Second)
			}
		})
	}
}
