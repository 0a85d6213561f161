// Package bunstoretest gives tests of pub/bunstore and of its users fresh,
// migrated databases: SQLite always, and PostgreSQL too when the environment
// variable COMMONROOM_TEST_POSTGRES holds a DSN. Each PostgreSQL test gets its
// own schema, dropped when the test ends.
package bunstoretest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/uptrace/bun"

	"github.com/commonroom/commonroom/pub/bunstore"
)

// EnvPostgres names the environment variable with the PostgreSQL DSN; when it
// is empty the PostgreSQL variants are skipped.
const EnvPostgres = "COMMONROOM_TEST_POSTGRES"

// Database is one test database. Open may be called several times: each call
// returns a new migrated connection pool to the same database (as a second
// process would have), closed when the test ends.
type Database struct {
	// Dialect is "sqlite" or "postgres".
	Dialect string
	Open    func(tb testing.TB) *bun.DB
}

// ForEach runs fn as subtests "sqlite" and "postgres", each with a fresh
// database. The postgres subtest is skipped without COMMONROOM_TEST_POSTGRES.
func ForEach(t *testing.T, fn func(t *testing.T, d Database)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// SQLite returns a fresh SQLite database in a file under tb.TempDir().
func SQLite(tb testing.TB) Database {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "queue.db")
	return Database{Dialect: "sqlite", Open: func(tb testing.TB) *bun.DB {
		tb.Helper()
		db, err := bunstore.OpenSQLite(context.Background(), path)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { _ = db.Close() })
		if err := bunstore.Migrate(context.Background(), db); err != nil {
			tb.Fatal(err)
		}
		return db
	}}
}

// Postgres returns a fresh schema in the COMMONROOM_TEST_POSTGRES database,
// or skips tb when the variable is unset.
func Postgres(tb testing.TB) Database {
	tb.Helper()
	dsn := os.Getenv(EnvPostgres)
	if dsn == "" {
		tb.Skip(EnvPostgres + " is not set")
	}
	ctx := context.Background()
	admin, err := bunstore.OpenPostgres(ctx, dsn, 2)
	if err != nil {
		tb.Fatal(err)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	schema := "bunstoretest_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		_ = admin.Close()
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_, _ = admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		_ = admin.Close()
	})
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	schemaDSN := u.String()
	return Database{Dialect: "postgres", Open: func(tb testing.TB) *bun.DB {
		tb.Helper()
		db, err := bunstore.OpenPostgres(context.Background(), schemaDSN, 8)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { _ = db.Close() })
		if err := bunstore.Migrate(context.Background(), db); err != nil {
			tb.Fatal(err)
		}
		return db
	}}
}
