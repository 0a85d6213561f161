// Package db opens Commonroom's database (SQLite or PostgreSQL, through bun),
// runs embedded migrations, and turns constraint violations into error kinds.
//
// DSNs:
//
//	sqlite:PATH           a SQLite file, created (with its directory) if missing
//	sqlite::memory:       a private in-memory SQLite database, shared by every
//	                      pooled connection of this DB and by nothing else
//	postgres://...        PostgreSQL through pgdriver (postgresql:// too); extra
//	                      query parameters such as search_path become session
//	                      parameters
//
// SQLite runs in WAL mode with synchronous=NORMAL, a busy timeout, foreign
// keys on, and every transaction begun IMMEDIATE, so concurrent writers wait
// for each other instead of failing with SQLITE_BUSY.
//
// Portable schema habits (see MigrationSet for the file layout): BIGINT ids
// (from internal/ids), VARCHAR/TEXT strings, BOOLEAN, TIMESTAMPTZ for times
// (read them through bun models, which parse SQLite's text form), unique
// indexes on lower(col) for case-insensitive uniqueness, named CHECK
// constraints. Constraint violations come back through MapError as error kinds.
package db

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/driver/pgdriver"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// MemoryDSN is the DSN of a private in-memory SQLite database.
const MemoryDSN = "sqlite::memory:"

// BusyTimeout is how long a SQLite connection waits for a lock held by
// another connection before giving up.
const BusyTimeout = 10 * time.Second

// DB is an open database: a *bun.DB plus what it takes to close it properly.
// It is safe for concurrent use. Code that only runs queries should take the
// embedded *bun.DB.
type DB struct {
	*bun.DB

	// pin keeps one connection of an in-memory SQLite database open for the
	// life of the DB, so the database does not vanish when the pool happens
	// to close its last idle connection.
	pin *sql.Conn
}

// Close closes the database. In-memory databases are discarded.
func (d *DB) Close() error {
	var errs []error
	if d.pin != nil {
		errs = append(errs, d.pin.Close())
	}
	errs = append(errs, d.DB.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("db: close: %w", err)
	}
	return nil
}

// IsPostgres reports whether db talks to PostgreSQL.
func IsPostgres(db bun.IDB) bool {
	return db.Dialect().Name() == dialect.PG
}

// Open opens and pings the database named by dsn (see the package comment).
// It does not run migrations; call Migrate for that.
func Open(ctx context.Context, dsn string) (*DB, error) {
	if err := CheckDSN(dsn); err != nil {
		return nil, fmt.Errorf("db: open %q: %w", Redact(dsn), err)
	}
	switch {
	case dsn == MemoryDSN:
		return openSQLiteMemory(ctx)
	case strings.HasPrefix(dsn, "sqlite:"):
		return openSQLiteFile(ctx, strings.TrimPrefix(dsn, "sqlite:"))
	default:
		return openPostgres(ctx, dsn)
	}
}

// CheckDSN reports whether dsn is one Open understands, without opening it.
func CheckDSN(dsn string) error {
	switch {
	case dsn == MemoryDSN:
		return nil
	case strings.HasPrefix(dsn, "sqlite:"):
		return checkSQLitePath(strings.TrimPrefix(dsn, "sqlite:"))
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		u, err := url.Parse(dsn)
		if err != nil {
			return errors.New("not a valid URL")
		}
		if u.Host == "" && u.Query().Get("host") == "" {
			return errors.New("missing host")
		}
		_, err = newPGConnector(dsn)
		return err
	default:
		return fmt.Errorf("unknown database, want sqlite:PATH, %s or postgres://...", MemoryDSN)
	}
}

func checkSQLitePath(path string) error {
	switch {
	case path == "":
		return errors.New("empty sqlite path")
	case strings.ContainsAny(path, "?#"):
		return errors.New("sqlite path must not contain '?' or '#'")
	case strings.HasPrefix(path, "file:"):
		return errors.New("give a plain path after sqlite:, not a file: URI")
	}
	return nil
}

// sqliteParams are the connection settings every SQLite connection gets.
func sqliteParams() url.Values {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	q.Set("_time_format", "sqlite")
	return q
}

func openSQLiteFile(ctx context.Context, path string) (*DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("db: create directory for %s: %w", path, err)
		}
	}
	q := sqliteParams()
	q.Add("_pragma", "journal_mode(WAL)")
	sqldb, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("db: open sqlite:%s: %w", path, err)
	}
	// WAL lets readers run beside the one writer; IMMEDIATE transactions and
	// the busy timeout queue the writers.
	sqldb.SetMaxOpenConns(8)
	sqldb.SetMaxIdleConns(8)
	d := &DB{DB: bun.NewDB(sqldb, sqlitedialect.New())}
	if err := d.PingContext(ctx); err != nil {
		_ = d.DB.Close()
		return nil, fmt.Errorf("db: open sqlite:%s: %w", path, err)
	}
	return d, nil
}

func openSQLiteMemory(ctx context.Context) (*DB, error) {
	// The memdb VFS shares a database between the connections of this
	// process that open the same name starting with "/"; a random name keeps
	// two DBs in one process apart. Unlike shared-cache mode it uses ordinary
	// file locking, so the busy timeout works.
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("db: name in-memory database: %w", err)
	}
	q := sqliteParams()
	q.Set("vfs", "memdb")
	name := "file:/commonroom-" + hex.EncodeToString(b[:]) + "?" + q.Encode()
	sqldb, err := sql.Open("sqlite", name)
	if err != nil {
		return nil, fmt.Errorf("db: open %s: %w", MemoryDSN, err)
	}
	sqldb.SetMaxOpenConns(8)
	d := &DB{DB: bun.NewDB(sqldb, sqlitedialect.New())}
	pin, err := sqldb.Conn(ctx)
	if err != nil {
		_ = sqldb.Close()
		return nil, fmt.Errorf("db: open %s: %w", MemoryDSN, err)
	}
	d.pin = pin
	return d, nil
}

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	connector, err := newPGConnector(dsn)
	if err != nil {
		return nil, fmt.Errorf("db: open %s: %w", Redact(dsn), err)
	}
	sqldb := sql.OpenDB(connector)
	sqldb.SetMaxOpenConns(20)
	sqldb.SetMaxIdleConns(10)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	d := &DB{DB: bun.NewDB(sqldb, pgdialect.New())}
	if err := d.PingContext(ctx); err != nil {
		_ = d.DB.Close()
		return nil, fmt.Errorf("db: open %s: %w", Redact(dsn), err)
	}
	return d, nil
}

// newPGConnector builds pgdriver's connector, turning the panic WithDSN
// raises on a DSN it cannot parse into an error.
func newPGConnector(dsn string) (c *pgdriver.Connector, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("bad postgres DSN: %v", r)
		}
	}()
	return pgdriver.NewConnector(pgdriver.WithDSN(dsn)), nil
}

// Redact returns dsn with any password replaced by "xxxxx", for logs and
// error messages.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
