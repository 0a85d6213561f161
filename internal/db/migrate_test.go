package db_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/uptrace/bun"

	"github.com/commonroom/commonroom/internal/db"
	"github.com/commonroom/commonroom/internal/dbtest"
)

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

// twoSets are two sets, the second depending on the first, with a dialect
// split and a file holding a question mark that bun must not touch.
func twoSets() []db.MigrationSet {
	return []db.MigrationSet{
		{Name: "core", FS: fstest.MapFS{
			"0002_notes.sql":  file("CREATE TABLE notes (id BIGINT PRIMARY KEY, body TEXT NOT NULL DEFAULT 'why?');"),
			"0001_people.sql": file("CREATE TABLE people (id BIGINT PRIMARY KEY);\nINSERT INTO people (id) VALUES (1);"),
			"README.md":       file("not a migration"),
		}},
		{Name: "extra", FS: fstest.MapFS{
			"0001_tags.sqlite.sql":      file("CREATE TABLE tags (person_id BIGINT NOT NULL REFERENCES people (id), dialect TEXT NOT NULL DEFAULT 'sqlite');"),
			"0001_tags.postgres.sql":    file("CREATE TABLE tags (person_id BIGINT NOT NULL REFERENCES people (id), dialect TEXT NOT NULL DEFAULT 'postgres');"),
			"0002_pg_only.postgres.sql": file("CREATE TABLE pg_only (x INTEGER);"),
		}},
	}
}

func MustMigrate(tb testing.TB, d *bun.DB, sets ...db.MigrationSet) []string {
	tb.Helper()
	applied, err := db.Migrate(context.Background(), d, sets...)
	if err != nil {
		tb.Fatalf("Migrate: %v", err)
	}
	return applied
}

func TestMigrateAppliesInOrderOnce(t *testing.T) {
	dbtest.ForEachDSN(t, func(t *testing.T, dsn string) {
		d := MustOpen(t, dsn).DB
		ctx := context.Background()

		pending, err := db.Pending(ctx, d, twoSets()...)
		if err != nil {
			t.Fatalf("Pending before migrating: %v", err)
		}
		if len(pending) != 4 {
			t.Fatalf("Pending = %d migrations, want 4", len(pending))
		}

		want := []string{"core/0001_people", "core/0002_notes", "extra/0001_tags", "extra/0002_pg_only"}
		if got := MustMigrate(t, d, twoSets()...); !slices.Equal(got, want) {
			t.Errorf("first Migrate applied %v, want %v", got, want)
		}
		if got := MustMigrate(t, d, twoSets()...); len(got) != 0 {
			t.Errorf("second Migrate applied %v, want nothing", got)
		}
		if n := MustCount(t, d, "people"); n != 1 {
			t.Errorf("people has %d rows, want 1 (the insert ran once)", n)
		}

		dialect := "sqlite"
		if db.IsPostgres(d) {
			dialect = "postgres"
		}
		MustExec(t, d, "INSERT INTO tags (person_id) VALUES (1)")
		var got string
		if err := d.QueryRowContext(ctx, "SELECT dialect FROM tags").Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != dialect {
			t.Errorf("ran the %s variant of 0001_tags on %s", got, dialect)
		}
		_, pgOnlyErr := d.ExecContext(ctx, "SELECT * FROM pg_only")
		if (pgOnlyErr == nil) != (dialect == "postgres") {
			t.Errorf("pg_only table exists = %v on %s", pgOnlyErr == nil, dialect)
		}

		status, err := db.MigrationStatus(ctx, d, twoSets()...)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range status {
			if !s.Applied() {
				t.Errorf("%s/%s not recorded as applied", s.Set, s.Name)
			}
		}

		// A later release adds a migration: only it runs.
		sets := twoSets()
		sets[0].FS.(fstest.MapFS)["0003_more.sql"] = file("ALTER TABLE people ADD COLUMN nick TEXT;")
		if got := MustMigrate(t, d, sets...); !slices.Equal(got, []string{"core/0003_more"}) {
			t.Errorf("Migrate after adding a file applied %v", got)
		}
	})
}

func TestMigrateFailureRollsBack(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *bun.DB) {
		bad := db.MigrationSet{Name: "bad", FS: fstest.MapFS{
			"0001_ok.sql":     file("CREATE TABLE ok (x INTEGER);"),
			"0002_broken.sql": file("CREATE TABLE half (x INTEGER);\nCREATE TABLE oops (;"),
		}}
		applied, err := db.Migrate(context.Background(), d, bad)
		if err == nil || !strings.Contains(err.Error(), "bad/0002_broken") {
			t.Fatalf("Migrate error = %v, want one naming bad/0002_broken", err)
		}
		if !slices.Equal(applied, []string{"bad/0001_ok"}) {
			t.Errorf("applied = %v", applied)
		}
		if _, err := d.ExecContext(context.Background(), "SELECT * FROM half"); err == nil {
			t.Error("the failed migration's first statement was kept")
		}
		pending, err := db.Pending(context.Background(), d, bad)
		if err != nil || len(pending) != 1 || pending[0].Name != "0002_broken" {
			t.Errorf("Pending = %v, %v; want 0002_broken", pending, err)
		}
	})
}

func TestMigrateRejectsBadSets(t *testing.T) {
	tests := []struct {
		name string
		sets []db.MigrationSet
		want string
	}{
		{"bad file name", []db.MigrationSet{{Name: "x", FS: fstest.MapFS{"create_users.sql": file("")}}}, "want NNNN_description"},
		{"upper-case description", []db.MigrationSet{{Name: "x", FS: fstest.MapFS{"0001_Users.sql": file("")}}}, "want NNNN_description"},
		{"unknown dialect", []db.MigrationSet{{Name: "x", FS: fstest.MapFS{"0001_a.mysql.sql": file("")}}}, "want NNNN_description"},
		{"duplicate version", []db.MigrationSet{{Name: "x", FS: fstest.MapFS{"0001_a.sql": file(""), "0001_b.sql": file("")}}}, "share version"},
		{"generic and dialect", []db.MigrationSet{{Name: "x", FS: fstest.MapFS{"0001_a.sql": file(""), "0001_a.sqlite.sql": file("")}}}, "both a generic"},
		{"duplicate set", []db.MigrationSet{{Name: "x", FS: fstest.MapFS{}}, {Name: "x", FS: fstest.MapFS{}}}, "given twice"},
		{"bad set name", []db.MigrationSet{{Name: "X Y", FS: fstest.MapFS{}}}, "migration set name"},
		{"no FS", []db.MigrationSet{{Name: "x"}}, "no files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := MustOpen(t, dbtest.SQLiteDSN(t)).DB
			_, err := db.Migrate(context.Background(), d, tt.sets...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Migrate error = %v, want it to mention %q", err, tt.want)
			}
			if _, err := d.ExecContext(context.Background(), "SELECT * FROM commonroom_migrations"); err == nil {
				t.Error("a rejected set still created the migrations table")
			}
		})
	}
}

// TestMigrateConcurrentProcesses runs several migrators at once, each with
// its own connection pool as separate processes would have, and checks each
// migration ran exactly once.
func TestMigrateConcurrentProcesses(t *testing.T) {
	dbtest.ForEachDSN(t, func(t *testing.T, dsn string) {
		const migrators = 4
		pools := make([]*bun.DB, migrators)
		for i := range pools {
			pools[i] = MustOpen(t, dsn).DB
		}
		// The people insert would fail on its primary key if it ran twice.
		sets := twoSets()
		var wg sync.WaitGroup
		results := make([][]string, migrators)
		errs := make([]error, migrators)
		for i, p := range pools {
			wg.Go(func() { results[i], errs[i] = db.Migrate(context.Background(), p, sets...) })
		}
		wg.Wait()
		total := 0
		for i := range migrators {
			if errs[i] != nil {
				t.Fatalf("migrator %d: %v", i, errs[i])
			}
			total += len(results[i])
		}
		if total != 4 {
			t.Errorf("migrators applied %d migrations in all, want 4: %v", total, results)
		}
		if n := MustCount(t, pools[0], "commonroom_migrations"); n != 4 {
			t.Errorf("recorded %d migrations, want 4", n)
		}
	})
}
