package bunstore

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations holds this package's SQL migrations at its root, named
// NNNN_description.sql, or NNNN_description.sqlite.sql and
// NNNN_description.postgres.sql where the two databases need different SQL.
// Each file is meant to run in one transaction. A server with its own
// migration runner includes this set; other programs call [Migrate].
var Migrations fs.FS = mustSub(migrationFiles, "migrations")

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err) // the directory is embedded above; this cannot fail
	}
	return sub
}

// MigrationTable is the table in which [Migrate] records applied migrations.
const MigrationTable = "pub_bunstore_migrations"

// advisoryLockKey serializes Migrate across PostgreSQL sessions; an arbitrary
// constant ("pubbunst" in ASCII).
const advisoryLockKey int64 = 0x7075626275_6e7374

var migrationName = regexp.MustCompile(`^(\d+_[a-z0-9_]+?)(\.sqlite|\.postgres)?\.sql$`)

// migration is one version: its name and the SQL for the database at hand.
type migration struct {
	name string
	sql  string // empty: nothing to do on this database
}

// loadMigrations lists the migrations for dialect d in order.
func loadMigrations(d dialect.Name) ([]migration, error) {
	entries, err := fs.ReadDir(Migrations, ".")
	if err != nil {
		return nil, fmt.Errorf("bunstore: reading migrations: %w", err)
	}
	want := ".sqlite"
	if d == dialect.PG {
		want = ".postgres"
	}
	byName := map[string]*migration{}
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".sql" {
			continue
		}
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("bunstore: migration file %q: want NNNN_description[.sqlite|.postgres].sql", e.Name())
		}
		mig := byName[m[1]]
		if mig == nil {
			mig = &migration{name: m[1]}
			byName[m[1]] = mig
		}
		if m[2] != "" && m[2] != want {
			continue
		}
		if m[2] == "" && mig.sql != "" {
			continue // the dialect's own file wins
		}
		b, err := fs.ReadFile(Migrations, e.Name())
		if err != nil {
			return nil, fmt.Errorf("bunstore: reading migration %s: %w", e.Name(), err)
		}
		mig.sql = string(b)
	}
	out := make([]migration, 0, len(byName))
	for _, m := range byName {
		out = append(out, *m)
	}
	slices.SortFunc(out, func(a, b migration) int { return strings.Compare(a.name, b.name) })
	return out, nil
}

// Migrate applies the pending migrations of [Migrations] to db, each in its
// own transaction, and records them in [MigrationTable]. It is idempotent,
// and safe to run from several processes at once: on PostgreSQL it holds an
// advisory lock on a dedicated connection while it works; on SQLite each
// migration's transaction takes the write lock before it checks what has run.
//
// Programs that run the server's own migration set, which includes
// [Migrations], must not also call Migrate: the two keep separate records.
func Migrate(ctx context.Context, db *bun.DB) error {
	migs, err := loadMigrations(db.Dialect().Name())
	if err != nil {
		return err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("bunstore: migrate: connection: %w", err)
	}
	defer conn.Close()
	if db.Dialect().Name() == dialect.PG {
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(?)", advisoryLockKey); err != nil {
			return fmt.Errorf("bunstore: migrate: advisory lock: %w", err)
		}
		defer func() {
			// A fresh context: the lock must go even if ctx is done.
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(?)", advisoryLockKey)
		}()
	}
	for _, m := range migs {
		if err := applyMigration(ctx, conn, m); err != nil {
			return err
		}
	}
	return nil
}

func applyMigration(ctx context.Context, conn bun.Conn, m migration) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("bunstore: migration %s: begin: %w", m.name, err)
	}
	defer func() { _ = tx.Rollback() }()
	// A write first: on SQLite it takes the write lock before we read.
	if _, err := tx.Tx.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS "+MigrationTable+
		" (name VARCHAR(255) PRIMARY KEY, applied_at BIGINT NOT NULL)"); err != nil {
		return fmt.Errorf("bunstore: migration %s: record table: %w", m.name, err)
	}
	var n int
	if err := tx.NewRaw("SELECT COUNT(*) FROM "+MigrationTable+" WHERE name = ?", m.name).Scan(ctx, &n); err != nil {
		return fmt.Errorf("bunstore: migration %s: check: %w", m.name, err)
	}
	if n > 0 {
		return nil
	}
	if strings.TrimSpace(m.sql) != "" {
		if _, err := tx.Tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("bunstore: migration %s: %w", m.name, err)
		}
	}
	if _, err := tx.NewRaw("INSERT INTO "+MigrationTable+" (name, applied_at) VALUES (?, ?)",
		m.name, time.Now().UnixMilli()).Exec(ctx); err != nil {
		return fmt.Errorf("bunstore: migration %s: record: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("bunstore: migration %s: commit: %w", m.name, err)
	}
	return nil
}
