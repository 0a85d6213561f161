// Package dbtest gives each test a fresh, migrated database: SQLite always,
// and PostgreSQL too when the environment variable COMMONROOM_TEST_POSTGRES
// holds a DSN (for example postgres://postgres@127.0.0.1:5432/test?sslmode=disable).
//
// Every PostgreSQL test database is its own schema in that database, created
// for the test and dropped when it ends, so tests can run in parallel and
// leave nothing behind.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/commonroom/commonroom/internal/db"
)

// EnvPostgres names the environment variable holding the PostgreSQL DSN that
// tests use; when it is empty, PostgreSQL tests are skipped.
const EnvPostgres = "COMMONROOM_TEST_POSTGRES"

// Dialects are the subtest names ForEach uses, in order.
var Dialects = [...]string{"sqlite", "postgres"}

// ForEach runs fn as two subtests, "sqlite" and "postgres", each with a fresh
// database migrated with sets. The postgres subtest is skipped when
// COMMONROOM_TEST_POSTGRES is unset.
func ForEach(t *testing.T, fn func(t *testing.T, db *bun.DB), sets ...db.MigrationSet) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t, sets...)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t, sets...)) })
}

// ForEachDSN is ForEach for tests that open the database themselves (to run
// a server, or two processes' worth of connections): fn gets a DSN for an
// empty database that is removed when the test ends.
func ForEachDSN(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLiteDSN(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, PostgresDSN(t)) })
}

// SQLite returns a migrated SQLite database in a file under tb.TempDir(),
// closed when the test ends.
func SQLite(tb testing.TB, sets ...db.MigrationSet) *bun.DB {
	tb.Helper()
	return MustOpen(tb, SQLiteDSN(tb), sets...)
}

// SQLiteDSN returns the DSN of a SQLite file in tb.TempDir() that does not
// exist yet.
func SQLiteDSN(tb testing.TB) string {
	tb.Helper()
	return "sqlite:" + filepath.Join(tb.TempDir(), "commonroom.db")
}

// Postgres returns a migrated PostgreSQL database (a fresh schema), closed
// and dropped when the test ends. It skips the test when
// COMMONROOM_TEST_POSTGRES is unset.
func Postgres(tb testing.TB, sets ...db.MigrationSet) *bun.DB {
	tb.Helper()
	return MustOpen(tb, PostgresDSN(tb), sets...)
}

// PostgresDSN creates an empty schema for the test and returns a DSN whose
// connections use it (through search_path). The schema is dropped, with
// everything in it, when the test ends. It skips the test when
// COMMONROOM_TEST_POSTGRES is unset and fails it when the server cannot be
// reached: a configured database that is down is an error, not a skip.
func PostgresDSN(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		tb.Skipf("%s is not set; skipping PostgreSQL", EnvPostgres)
	}
	schema := "test_" + randomHex(tb, 8)
	// The admin connection is opened twice, for the create and for the drop,
	// rather than held for the whole test: parallel tests would otherwise
	// each keep an idle connection.
	if err := adminExec(base, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("dbtest: %s: create schema: %v", EnvPostgres, err)
	}
	tb.Cleanup(func() {
		if err := adminExec(base, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("dbtest: drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("dbtest: %s: %v", EnvPostgres, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// MustOpen opens dsn, applies sets, and closes the database when the test
// ends.
func MustOpen(tb testing.TB, dsn string, sets ...db.MigrationSet) *bun.DB {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, err := db.Open(ctx, dsn)
	if err != nil {
		tb.Fatalf("dbtest: %v", err)
	}
	tb.Cleanup(func() {
		if err := d.Close(); err != nil {
			tb.Errorf("dbtest: %v", err)
		}
	})
	if _, err := db.Migrate(ctx, d.DB, sets...); err != nil {
		tb.Fatalf("dbtest: %v", err)
	}
	return d.DB
}

func randomHex(tb testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatalf("dbtest: %v", err)
	}
	return hex.EncodeToString(b)
}

func adminExec(dsn, query string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := db.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer admin.Close()
	_, err = admin.ExecContext(ctx, query)
	return err
}
