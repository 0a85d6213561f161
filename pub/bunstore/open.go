package bunstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/driver/pgdriver"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// SQLiteBusyTimeout is how long a connection opened by [OpenSQLite] waits
// for another connection's lock.
const SQLiteBusyTimeout = 10 * time.Second

// OpenSQLite opens (creating it if needed) the SQLite file at path the way the
// Store expects: WAL journal, synchronous=NORMAL, a busy timeout, foreign
// keys on, and every transaction begun IMMEDIATE. It does not migrate; call
// [Migrate]. The caller closes the returned DB.
func OpenSQLite(ctx context.Context, path string) (*bun.DB, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, errors.New("bunstore: open sqlite: want a plain file path")
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", SQLiteBusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	sqldb, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("bunstore: open sqlite %s: %w", path, err)
	}
	db := bun.NewDB(sqldb, sqlitedialect.New())
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("bunstore: open sqlite %s: %w", path, err)
	}
	return db, nil
}

// OpenPostgres opens a pool of connections to the PostgreSQL database at dsn
// (postgres://user@host:port/db?sslmode=disable; other query parameters,
// such as search_path, become session settings). It does not migrate; call
// [Migrate]. The caller closes the returned DB.
func OpenPostgres(ctx context.Context, dsn string, maxConns int) (db *bun.DB, err error) {
	defer func() {
		// pgdriver.WithDSN panics on a DSN it cannot parse.
		if r := recover(); r != nil {
			err = fmt.Errorf("bunstore: open postgres: bad DSN: %v", r)
		}
	}()
	if maxConns <= 0 {
		maxConns = 10
	}
	sqldb := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(dsn)))
	sqldb.SetMaxOpenConns(maxConns)
	sqldb.SetMaxIdleConns(maxConns)
	db = bun.NewDB(sqldb, pgdialect.New())
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("bunstore: open postgres: %w", err)
	}
	return db, nil
}
