package db_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/uptrace/bun"

	"github.com/commonroom/commonroom/internal/db"
	"github.com/commonroom/commonroom/internal/dbtest"
	"github.com/commonroom/commonroom/internal/errkind"
)

// MustOpen opens dsn and closes it when the test ends.
func MustOpen(tb testing.TB, dsn string) *db.DB {
	tb.Helper()
	d, err := db.Open(context.Background(), dsn)
	if err != nil {
		tb.Fatalf("Open(%q): %v", dsn, err)
	}
	tb.Cleanup(func() { _ = d.Close() })
	return d
}

// MustExec runs a statement and fails the test on error.
func MustExec(tb testing.TB, d bun.IDB, query string, args ...any) {
	tb.Helper()
	if _, err := d.ExecContext(context.Background(), query, args...); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
}

func MustCount(tb testing.TB, d bun.IDB, table string) int {
	tb.Helper()
	var n int
	if err := d.QueryRowContext(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		tb.Fatalf("count %s: %v", table, err)
	}
	return n
}

func TestOpenRejectsUnknownDSN(t *testing.T) {
	tests := []struct {
		dsn  string
		want string
	}{
		{"mysql://root@localhost/x", "unknown database"},
		{"sqlite:", "empty sqlite path"},
		{"sqlite:/tmp/x.db?mode=ro", "must not contain"},
		{"sqlite:file:x.db", "plain path"},
		{"postgres:///nohost", "missing host"},
		{"postgres://u@127.0.0.1/x?sslmode=sometimes", "sslmode"},
		{"", "unknown database"},
	}
	for _, tt := range tests {
		t.Run(tt.dsn, func(t *testing.T) {
			d, err := db.Open(context.Background(), tt.dsn)
			if err == nil {
				_ = d.Close()
				t.Fatalf("Open(%q) succeeded", tt.dsn)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open(%q) error %q, want it to mention %q", tt.dsn, err, tt.want)
			}
		})
	}
}

func TestRedactHidesPassword(t *testing.T) {
	got := db.Redact("postgres://app:s3cret@db.example:5432/commonroom?sslmode=disable")
	if strings.Contains(got, "s3cret") || !strings.Contains(got, "app:xxxxx@db.example") {
		t.Errorf("Redact = %q", got)
	}
}

func TestSQLiteFileSettings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nested", "dir", "c.db")
	d := MustOpen(t, "sqlite:"+path)
	ctx := context.Background()
	pragmas := []struct{ name, want string }{
		{"journal_mode", "wal"},
		{"synchronous", "1"},
		{"foreign_keys", "1"},
		{"busy_timeout", fmt.Sprint(db.BusyTimeout.Milliseconds())},
	}
	for _, p := range pragmas {
		var got string
		if err := d.QueryRowContext(ctx, "PRAGMA "+p.name).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", p.name, err)
		}
		if !strings.EqualFold(got, p.want) {
			t.Errorf("PRAGMA %s = %q, want %q", p.name, got, p.want)
		}
	}
}

func TestSQLiteMemoryIsSharedWithinOneDBOnly(t *testing.T) {
	ctx := context.Background()
	a := MustOpen(t, db.MemoryDSN)
	b := MustOpen(t, db.MemoryDSN)
	MustExec(t, a, "CREATE TABLE t (x INTEGER)")
	MustExec(t, a, "INSERT INTO t VALUES (1)")

	// Hold several connections at once so the pool cannot reuse one.
	var conns []bun.Conn
	for range 4 {
		c, err := a.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for i, c := range conns {
		if got := MustCount(t, c, "t"); got != 1 {
			t.Errorf("connection %d sees %d rows, want 1", i, got)
		}
		_ = c.Close()
	}
	var n int
	err := b.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n)
	if err == nil {
		t.Errorf("a second in-memory DB sees the first one's table")
	}
}

func TestSQLiteConcurrentWritersWait(t *testing.T) {
	d := MustOpen(t, dbtest.SQLiteDSN(t))
	MustExec(t, d, "CREATE TABLE counter (n INTEGER NOT NULL)")
	MustExec(t, d, "INSERT INTO counter VALUES (0)")
	ctx := context.Background()
	const writers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for range writers {
		wg.Go(func() {
			for range each {
				// Read then write in one transaction: with deferred
				// transactions this is the pattern that fails with
				// SQLITE_BUSY; IMMEDIATE makes it wait.
				errs <- d.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
					var n int
					if err := tx.QueryRowContext(ctx, "SELECT n FROM counter").Scan(&n); err != nil {
						return err
					}
					_, err := tx.ExecContext(ctx, "UPDATE counter SET n = ?", n+1)
					return err
				})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent write: %v", err)
		}
	}
	var n int
	if err := d.QueryRowContext(ctx, "SELECT n FROM counter").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != writers*each {
		t.Errorf("counter = %d, want %d (lost updates)", n, writers*each)
	}
}

// constraintSet is a migration set with one of each kind of constraint.
var constraintSet = db.MigrationSet{Name: "constraints", FS: fstest.MapFS{
	"0001_tables.sql": {Data: []byte(`
CREATE TABLE parents (id BIGINT PRIMARY KEY, name VARCHAR(50) NOT NULL);
CREATE UNIQUE INDEX parents_name_lower_key ON parents (lower(name));
CREATE TABLE children (
	id BIGINT PRIMARY KEY,
	parent_id BIGINT NOT NULL REFERENCES parents (id),
	age INTEGER NOT NULL CONSTRAINT children_age_check CHECK (age >= 0)
);
`)},
}}

func TestConstraintViolationsMapToKinds(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *bun.DB) {
		ctx := context.Background()
		MustExec(t, d, "INSERT INTO parents (id, name) VALUES (1, 'Ada')")
		tests := []struct {
			name       string
			query      string
			constraint db.ConstraintKind
			named      string
			kind       errkind.Kind
		}{
			{"duplicate primary key", "INSERT INTO parents (id, name) VALUES (1, 'Grace')", db.Unique, "", errkind.Conflict},
			{"duplicate differing in case", "INSERT INTO parents (id, name) VALUES (2, 'ADA')", db.Unique, "parents_name_lower_key", errkind.Conflict},
			{"missing parent", "INSERT INTO children (id, parent_id, age) VALUES (1, 99, 3)", db.ForeignKey, "", errkind.Conflict},
			{"check", "INSERT INTO children (id, parent_id, age) VALUES (1, 1, -1)", db.Check, "children_age_check", errkind.Invalid},
			{"not null", "INSERT INTO parents (id) VALUES (3)", db.NotNull, "", errkind.Invalid},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := d.ExecContext(ctx, tt.query)
				if err == nil {
					t.Fatal("insert succeeded")
				}
				v, ok := db.ConstraintOf(fmt.Errorf("wrapped: %w", err))
				if !ok || v.Kind != tt.constraint {
					t.Fatalf("ConstraintOf(%v) = %+v, %v; want kind %v", err, v, ok, tt.constraint)
				}
				if tt.named != "" && v.Name != tt.named {
					t.Errorf("constraint name = %q, want %q", v.Name, tt.named)
				}
				mapped := db.MapError(err, "nope")
				if got := errkind.Of(mapped); got != tt.kind {
					t.Errorf("MapError kind = %v, want %v", got, tt.kind)
				}
			})
		}
		if n := MustCount(t, d, "parents"); n != 1 {
			t.Errorf("parents has %d rows after failed inserts, want 1", n)
		}
		if n := MustCount(t, d, "children"); n != 0 {
			t.Errorf("children has %d rows after failed inserts, want 0", n)
		}
		if err := db.MapError(errors.New("disk on fire"), "x"); errkind.Of(err) != errkind.Internal {
			t.Errorf("a non-constraint error mapped to %v", errkind.Of(err))
		}
	}, constraintSet)
}
