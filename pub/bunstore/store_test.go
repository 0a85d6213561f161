package bunstore_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/commonroom/commonroom/pub/bunstore"
	"github.com/commonroom/commonroom/pub/bunstore/bunstoretest"
	"github.com/commonroom/commonroom/pub/delivery"
)

var t0 = time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)

func mustJob(tb testing.TB, inbox string, n int) delivery.Job {
	tb.Helper()
	j, err := delivery.NewJob(inbox, "https://local.example/users/a#main-key", fmt.Sprintf("https://local.example/activities/%d", n), []byte(fmt.Sprintf(`{"n":%d}`, n)))
	if err != nil {
		tb.Fatal(err)
	}
	return j
}

func mustEnqueue(tb testing.TB, s *bunstore.Store, now time.Time, jobs ...delivery.Job) []delivery.Job {
	tb.Helper()
	if err := s.Enqueue(context.Background(), now, jobs); err != nil {
		tb.Fatal(err)
	}
	return jobs
}

func mustClaim(tb testing.TB, s *bunstore.Store, req delivery.ClaimRequest) []delivery.Job {
	tb.Helper()
	if req.Lease == 0 {
		req.Lease = time.Minute
	}
	jobs, err := s.Claim(context.Background(), req)
	if err != nil {
		tb.Fatal(err)
	}
	return jobs
}

func TestMigrationsFormat(t *testing.T) {
	name := regexp.MustCompile(`^\d{4}_[a-z0-9_]+(\.sqlite|\.postgres)?\.sql$`)
	entries, err := fs.ReadDir(bunstore.Migrations, ".")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		t.Fatal("no migrations")
	}
	for _, e := range entries {
		if !name.MatchString(e.Name()) {
			t.Errorf("%s does not follow NNNN_description[.sqlite|.postgres].sql", e.Name())
		}
	}
}

func TestMigrateIdempotentAndConcurrent(t *testing.T) {
	bunstoretest.ForEach(t, func(t *testing.T, d bunstoretest.Database) {
		db := d.Open(t) // migrated once
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for range 4 {
			other := d.Open(t)
			wg.Go(func() { errs <- bunstore.Migrate(context.Background(), other) })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		var n int
		if err := db.NewRaw("SELECT COUNT(*) FROM "+bunstore.MigrationTable).Scan(context.Background(), &n); err != nil {
			t.Fatal(err)
		}
		if want := migrationVersions(t); n != want {
			t.Fatalf("%d recorded migrations, want %d", n, want)
		}
	})
}

func TestEnqueueClaimComplete(t *testing.T) {
	bunstoretest.ForEach(t, func(t *testing.T, d bunstoretest.Database) {
		ctx := context.Background()
		s := bunstore.New(d.Open(t))
		var jobs []delivery.Job
		for i := range 1200 { // more than one INSERT's worth
			jobs = append(jobs, mustJob(t, fmt.Sprintf("https://h%d.example/inbox", i%7), i))
		}
		jobs = mustEnqueue(t, s, t0, jobs...)
		for i, j := range jobs {
			if j.ID == 0 || !j.CreatedAt.Equal(t0) {
				t.Fatalf("job %d: id %d created %v", i, j.ID, j.CreatedAt)
			}
		}
		st, err := s.Stats(ctx, t0)
		if err != nil {
			t.Fatal(err)
		}
		if st.Pending != 1200 || st.Due != 1200 || st.Leased != 0 || !st.OldestDueAt.Equal(t0) {
			t.Fatalf("stats %+v", st)
		}

		got := mustClaim(t, s, delivery.ClaimRequest{Owner: "w1", Now: t0, Limit: 10})
		if len(got) != 10 {
			t.Fatalf("claimed %d, want 10", len(got))
		}
		for _, j := range got {
			if j.Attempts != 1 || j.LeaseOwner != "w1" || !j.NextAttemptAt.Equal(t0.Add(time.Minute)) {
				t.Fatalf("claimed job %+v", j)
			}
			if string(j.Body) == "" || j.KeyID == "" || j.InboxURL == "" {
				t.Fatalf("claimed job lacks fields: %+v", j)
			}
		}
		if err := s.Complete(ctx, got[0], t0); err != nil {
			t.Fatal(err)
		}
		if err := s.Complete(ctx, got[0], t0); !errors.Is(err, delivery.ErrLeaseLost) {
			t.Fatalf("second complete: %v, want ErrLeaseLost", err)
		}
		st, _ = s.Stats(ctx, t0)
		if st.Pending != 1199 || st.Leased != 9 || st.Due != 1190 {
			t.Fatalf("stats after claim %+v", st)
		}
		hosts, err := s.Hosts(ctx, []string{got[0].Host, "nowhere.example"})
		if err != nil {
			t.Fatal(err)
		}
		if h, ok := hosts[got[0].Host]; !ok || !h.LastSuccessAt.Equal(t0) || len(hosts) != 1 {
			t.Fatalf("hosts %+v", hosts)
		}
	})
}

func TestClaimPerHostCapAndSaturation(t *testing.T) {
	bunstoretest.ForEach(t, func(t *testing.T, d bunstoretest.Database) {
		s := bunstore.New(d.Open(t))
		var jobs []delivery.Job
		for i := range 20 {
			jobs = append(jobs, mustJob(t, "https://hot.example/inbox", i))
		}
		for i := range 3 {
			jobs = append(jobs, mustJob(t, fmt.Sprintf("https://cold%d.example/inbox", i), 100+i))
		}
		mustEnqueue(t, s, t0, jobs...)
		got := mustClaim(t, s, delivery.ClaimRequest{Owner: "w", Now: t0, Limit: 10, MaxPerHost: 2})
		count := map[string]int{}
		for _, j := range got {
			count[j.Host]++
		}
		if count["hot.example"] != 2 || len(got) != 5 {
			t.Fatalf("claimed per host %v, want hot.example 2 and 3 others", count)
		}
		// The hot host is at its cap: the rest of it stays queued.
		got = mustClaim(t, s, delivery.ClaimRequest{Owner: "w", Now: t0, Limit: 10, MaxPerHost: 2, HostLoad: map[string]int{"hot.example": 2}})
		if len(got) != 0 {
			t.Fatalf("claimed %d jobs of a saturated host", len(got))
		}
		got = mustClaim(t, s, delivery.ClaimRequest{Owner: "w", Now: t0, Limit: 10, MaxPerHost: 2, HostLoad: map[string]int{"hot.example": 1}})
		if len(got) != 1 {
			t.Fatalf("claimed %d jobs with one free slot", len(got))
		}
	})
}

// TestClaimPastBacklog: a backlog of one host, due before everyone else's
// jobs and longer than a candidate window, does not hold the others back.
func TestClaimPastBacklog(t *testing.T) {
	bunstoretest.ForEach(t, func(t *testing.T, d bunstoretest.Database) {
		s := bunstore.New(d.Open(t))
		var jobs []delivery.Job
		for i := range 200 {
			jobs = append(jobs, mustJob(t, "https://big.example/inbox", i))
		}
		mustEnqueue(t, s, t0, jobs...)
		jobs = nil
		for i := range 5 {
			jobs = append(jobs, mustJob(t, fmt.Sprintf("https://small%d.example/inbox", i), 1000+i))
		}
		mustEnqueue(t, s, t0.Add(time.Millisecond), jobs...)
		got := mustClaim(t, s, delivery.ClaimRequest{Owner: "w", Now: t0.Add(time.Second), Limit: 10, MaxPerHost: 2})
		count := map[string]int{}
		for _, j := range got {
			count[j.Host]++
		}
		if len(got) != 7 || count["big.example"] != 2 {
			t.Fatalf("claimed %v, want big.example 2 and each small host 1", count)
		}
	})
}

func TestLeaseExpiryAndFencing(t *testing.T) {
	bunstoretest.ForEach(t, func(t *testing.T, d bunstoretest.Database) {
		ctx := context.Background()
		s := bunstore.New(d.Open(t))
		mustEnqueue(t, s, t0, mustJob(t, "https://a.example/inbox", 1))
		first := mustClaim(t, s, delivery.ClaimRequest{Owner: "dead", Now: t0, Limit: 5})
		if len(first) != 1 {
			t.Fatalf("claimed %d", len(first))
		}
		// Leased: nobody else gets it before the lease ends.
		if got := mustClaim(t, s, delivery.ClaimRequest{Owner: "live", Now: t0.Add(59 * time.Second), Limit: 5}); len(got) != 0 {
			t.Fatalf("claimed a leased job")
		}
		second := mustClaim(t, s, delivery.ClaimRequest{Owner: "live", Now: t0.Add(time.Minute), Limit: 5})
		if len(second) != 1 || second[0].Attempts != 2 || second[0].ID != first[0].ID {
			t.Fatalf("reclaim after lease: %+v", second)
		}
		// The first owner's outcomes no longer count.
		for name, fn := range map[string]func() error{
			"complete":   func() error { return s.Complete(ctx, first[0], t0) },
			"reschedule": func() error { return s.Reschedule(ctx, first[0], t0, "x") },
			"drop":       func() error { return s.Drop(ctx, first[0]) },
		} {
			if err := fn(); !errors.Is(err, delivery.ErrLeaseLost) {
				t.Errorf("%s by the old owner: %v, want ErrLeaseLost", name, err)
			}
		}
		j := second[0]
		at := t0.Add(time.Hour)
		if err := s.Reschedule(ctx, j, at, "boom"); err != nil {
			t.Fatal(err)
		}
		if got := mustClaim(t, s, delivery.ClaimRequest{Owner: "live", Now: at.Add(-time.Millisecond), Limit: 5}); len(got) != 0 {
			t.Fatal("claimed before its time")
		}
		got := mustClaim(t, s, delivery.ClaimRequest{Owner: "live", Now: at, Limit: 5})
		if len(got) != 1 || got[0].LastError != "boom" || got[0].Attempts != 3 {
			t.Fatalf("after reschedule: %+v", got)
		}
		if err := s.Drop(ctx, got[0]); err != nil {
			t.Fatal(err)
		}
		st, _ := s.Stats(ctx, at)
		if st.Pending != 0 {
			t.Fatalf("pending %d after drop", st.Pending)
		}
	})
}

func TestHostFailureDays(t *testing.T) {
	bunstoretest.ForEach(t, func(t *testing.T, d bunstoretest.Database) {
		ctx := context.Background()
		s := bunstore.New(d.Open(t))
		const host = "flaky.example"
		var st delivery.HostState
		var err error
		for day := range 7 {
			for hour := range 3 { // several failures a day count once
				now := t0.Add(time.Duration(day)*24*time.Hour + time.Duration(hour)*time.Hour)
				var marked bool
				if st, marked, err = s.RecordFailure(ctx, host, now, 7); err != nil {
					t.Fatal(err)
				}
				if st.FailureDays != day+1 {
					t.Fatalf("day %d hour %d: %d failure days", day, hour, st.FailureDays)
				}
				wantUnavailable := day == 6
				if st.Unavailable != wantUnavailable {
					t.Fatalf("day %d: unavailable %v", day, st.Unavailable)
				}
				if marked != (wantUnavailable && hour == 0) {
					t.Fatalf("day %d hour %d: marked %v", day, hour, marked)
				}
				if wantUnavailable && hour == 0 && !st.UnavailableSince.Equal(now) {
					t.Fatalf("unavailable since %v, want %v", st.UnavailableSince, now)
				}
			}
		}
		qs, _ := s.Stats(ctx, t0)
		if qs.UnavailableHosts != 1 || qs.FailingHosts != 1 {
			t.Fatalf("stats %+v", qs)
		}
		if err := s.MarkReachable(ctx, host); err != nil {
			t.Fatal(err)
		}
		hs, _ := s.Hosts(ctx, []string{host})
		if h := hs[host]; h.Unavailable || h.FailureDays != 0 || !h.UnavailableSince.IsZero() {
			t.Fatalf("after MarkReachable: %+v", h)
		}
		// A failure right after counts as a new first day.
		if st, _, _ = s.RecordFailure(ctx, host, t0.Add(6*24*time.Hour), 7); st.FailureDays != 1 {
			t.Fatalf("after reset: %+v", st)
		}
		// A success clears it too.
		mustEnqueue(t, s, t0, mustJob(t, "https://"+host+"/inbox", 1))
		j := mustClaim(t, s, delivery.ClaimRequest{Owner: "w", Now: t0, Limit: 1})
		if err := s.Complete(ctx, j[0], t0); err != nil {
			t.Fatal(err)
		}
		hs, _ = s.Hosts(ctx, []string{host})
		if h := hs[host]; h.FailureDays != 0 || h.Unavailable {
			t.Fatalf("after success: %+v", h)
		}
	})
}

// migrationVersions counts the distinct migrations in bunstore.Migrations
// (a .sqlite.sql/.postgres.sql pair is one).
func migrationVersions(tb testing.TB) int {
	tb.Helper()
	entries, err := fs.ReadDir(bunstore.Migrations, ".")
	if err != nil {
		tb.Fatal(err)
	}
	versions := map[string]bool{}
	for _, e := range entries {
		name, _, _ := strings.Cut(e.Name(), ".")
		versions[name] = true
	}
	return len(versions)
}

// TestEnqueueRoundTrip checks that what Enqueue writes is what Claim reads,
// byte for byte, and that each job gets the id of its own row: binary bodies
// (NUL, 0xff, quotes), text holding ? and $1 (the placeholders of either
// dialect), a nil body, a job scheduled later, over a full and a partial
// INSERT.
func TestEnqueueRoundTrip(t *testing.T) {
	bunstoretest.ForEach(t, func(t *testing.T, d bunstoretest.Database) {
		s := bunstore.New(d.Open(t))
		later := t0.Add(time.Hour + 123*time.Millisecond)
		var jobs []delivery.Job
		for i := range 700 {
			j := delivery.Job{
				InboxURL:   fmt.Sprintf("https://h%d.example/inbox?x=$1&y='%d'", i%9, i),
				Host:       fmt.Sprintf("h%d.example", i%9),
				KeyID:      "https://local.example/users/a#main-key?",
				ActivityID: fmt.Sprintf("https://local.example/activities/%d", i),
				Body:       []byte{0, 0xff, byte(i), byte(i >> 8), '\'', '?', '\\', 'x', 0},
				Attempts:   i % 3,
				LastError:  fmt.Sprintf("error $%d ? '%d'", i%4, i),
			}
			switch i {
			case 3:
				j.Body = nil
			case 5:
				j.NextAttemptAt = later
			}
			jobs = append(jobs, j)
		}
		mustEnqueue(t, s, t0, jobs...)
		want := map[int64]delivery.Job{}
		for i, j := range jobs {
			if j.ID == 0 || want[j.ID].ID != 0 {
				t.Fatalf("job %d: id %d missing or repeated", i, j.ID)
			}
			next := t0
			if i == 5 {
				next = later
			}
			if !j.NextAttemptAt.Equal(next) || !j.CreatedAt.Equal(t0) {
				t.Fatalf("job %d: next %v created %v", i, j.NextAttemptAt, j.CreatedAt)
			}
			want[j.ID] = j
		}
		got := mustClaim(t, s, delivery.ClaimRequest{Owner: "w1", Now: later, Limit: 1000, Lease: time.Minute})
		if len(got) != len(jobs) {
			t.Fatalf("claimed %d, want %d", len(got), len(jobs))
		}
		for _, g := range got {
			w, ok := want[g.ID]
			if !ok {
				t.Fatalf("claimed unknown job %d", g.ID)
			}
			wantBody := w.Body
			if wantBody == nil {
				wantBody = []byte{}
			}
			if string(g.Body) != string(wantBody) || g.InboxURL != w.InboxURL || g.Host != w.Host ||
				g.KeyID != w.KeyID || g.ActivityID != w.ActivityID || g.LastError != w.LastError ||
				g.Attempts != w.Attempts+1 || !g.CreatedAt.Equal(t0) {
				t.Fatalf("job %d read back as\n%+v\nwant\n%+v", g.ID, g, w)
			}
		}
	})
}
