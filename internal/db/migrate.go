package db

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"
)

// MigrationSet is one package's migrations: a name, unique among the sets a
// server runs, and the SQL files at the root of FS.
//
// File names are NNNN_description.sql, where NNNN is a version number
// (zero-padded so that names sort in order) and the description is lower-case
// letters, digits and underscores. A migration that cannot be written the same
// way for both databases comes as two files instead, NNNN_description.sqlite.sql
// and NNNN_description.postgres.sql; if only one dialect's file exists, the
// migration does nothing on the other database (and is still recorded there).
// Each file runs in one transaction and may hold several statements. Other
// files in FS are ignored; a .sql file that does not follow the pattern is an
// error, so that a typo does not silently skip a migration.
//
// Sets live with the packages whose tables they create (and packages outside
// internal/, such as pub/bunstore, export a plain fs.FS that the server wraps
// in a MigrationSet). Applied migrations are never edited: add a new file.
type MigrationSet struct {
	Name string
	FS   fs.FS
}

// EmbeddedMigrations is the MigrationSet name made of the files in directory
// dir of fsys, usually an embed.FS holding a package's "migrations" folder.
// It panics if dir is not a valid path, which for an embedded folder is
// fixed at build time; a missing folder shows up as an error when the set is
// loaded.
func EmbeddedMigrations(name string, fsys fs.FS, dir string) MigrationSet {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(fmt.Sprintf("db: migration set %s: %v", name, err))
	}
	return MigrationSet{Name: name, FS: sub}
}

// MigrationState is one migration and whether it has been applied.
type MigrationState struct {
	Set       string
	Name      string    // the file name without the dialect and .sql suffixes
	AppliedAt time.Time // zero if pending
}

// Applied reports whether the migration has run.
func (m MigrationState) Applied() bool { return !m.AppliedAt.IsZero() }

type migration struct {
	name    string
	generic string // file names; empty if absent
	sqlite  string
	pg      string
}

var (
	migrationFile = regexp.MustCompile(`^(\d+_[a-z0-9_]+?)(\.sqlite|\.postgres)?\.sql$`)
	setName       = regexp.MustCompile(`^[a-z][a-z0-9_./-]*$`)
)

// migrationTable records which migrations have run.
const migrationTable = "commonroom_migrations"

// migrationRow is a row of migrationTable.
type migrationRow struct {
	bun.BaseModel `bun:"table:commonroom_migrations"`

	SetName   string    `bun:"set_name,pk"`
	Name      string    `bun:"name,pk"`
	AppliedAt time.Time `bun:"applied_at,notnull"`
}

// load lists the set's migrations in order.
func (s MigrationSet) load() ([]migration, error) {
	if !setName.MatchString(s.Name) {
		return nil, fmt.Errorf("migration set name %q: want lower-case letters, digits and _./-", s.Name)
	}
	if s.FS == nil {
		return nil, fmt.Errorf("migration set %s: no files", s.Name)
	}
	entries, err := fs.ReadDir(s.FS, ".")
	if err != nil {
		return nil, fmt.Errorf("migration set %s: %w", s.Name, err)
	}
	byName := map[string]*migration{}
	versions := map[string]string{}
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".sql" {
			continue
		}
		m := migrationFile.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration set %s: file %s: want NNNN_description[.sqlite|.postgres].sql", s.Name, e.Name())
		}
		mig := byName[m[1]]
		if mig == nil {
			version, _, _ := strings.Cut(m[1], "_")
			if other, dup := versions[version]; dup {
				return nil, fmt.Errorf("migration set %s: %s and %s share version %s", s.Name, other, m[1], version)
			}
			versions[version] = m[1]
			mig = &migration{name: m[1]}
			byName[m[1]] = mig
		}
		switch m[2] {
		case "":
			mig.generic = e.Name()
		case ".sqlite":
			mig.sqlite = e.Name()
		case ".postgres":
			mig.pg = e.Name()
		}
	}
	out := make([]migration, 0, len(byName))
	for _, m := range byName {
		if m.generic != "" && (m.sqlite != "" || m.pg != "") {
			return nil, fmt.Errorf("migration set %s: %s has both a generic and a dialect file", s.Name, m.name)
		}
		out = append(out, *m)
	}
	slices.SortFunc(out, func(a, b migration) int { return strings.Compare(a.name, b.name) })
	return out, nil
}

// body returns the SQL to run for db's dialect ("" for nothing).
func (m migration) body(fsys fs.FS, postgres bool) (string, error) {
	file := m.generic
	if file == "" {
		file = m.sqlite
		if postgres {
			file = m.pg
		}
	}
	if file == "" {
		return "", nil
	}
	b, err := fs.ReadFile(fsys, file)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func loadSets(sets []MigrationSet) ([][]migration, error) {
	seen := map[string]bool{}
	all := make([][]migration, len(sets))
	for i, s := range sets {
		if seen[s.Name] {
			return nil, fmt.Errorf("migration set %s given twice", s.Name)
		}
		seen[s.Name] = true
		migs, err := s.load()
		if err != nil {
			return nil, err
		}
		all[i] = migs
	}
	return all, nil
}

// Migrate applies every pending migration of the sets, set by set in the
// order given and file by file in name order, and returns the names of those
// it applied ("set/name"). Running it again applies nothing.
//
// On PostgreSQL it holds a session advisory lock (scoped to the current
// schema) on one dedicated connection while it works, so several processes
// starting at once apply each migration exactly once: the others wait, then
// find nothing to do. On SQLite each migration runs in an IMMEDIATE
// transaction that checks again whether it was recorded, which serializes
// processes sharing the file the same way.
func Migrate(ctx context.Context, db *bun.DB, sets ...MigrationSet) ([]string, error) {
	all, err := loadSets(sets)
	if err != nil {
		return nil, fmt.Errorf("db: migrate: %w", err)
	}
	conn, unlock, err := lockMigrations(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("db: migrate: %w", err)
	}
	defer unlock()

	if err := createMigrationTable(ctx, conn); err != nil {
		return nil, fmt.Errorf("db: migrate: %w", err)
	}
	postgres := IsPostgres(db)
	var applied []string
	for i, s := range sets {
		for _, m := range all[i] {
			ran, err := applyOne(ctx, conn, s, m, postgres)
			if err != nil {
				return applied, fmt.Errorf("db: migrate %s/%s: %w", s.Name, m.name, err)
			}
			if ran {
				applied = append(applied, s.Name+"/"+m.name)
			}
		}
	}
	return applied, nil
}

// lockMigrations takes a dedicated connection and, on PostgreSQL, the
// migration advisory lock on it.
func lockMigrations(ctx context.Context, db *bun.DB) (bun.Conn, func(), error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return bun.Conn{}, nil, fmt.Errorf("take a connection: %w", err)
	}
	if !IsPostgres(db) {
		return conn, func() { _ = conn.Close() }, nil
	}
	const key = "hashtext('commonroom.migrate:' || current_schema())"
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock("+key+")"); err != nil {
		_ = conn.Close()
		return bun.Conn{}, nil, fmt.Errorf("take the migration lock: %w", err)
	}
	return conn, func() {
		// Unlock with a fresh context: the caller's may be cancelled, and a
		// lock left on a pooled connection would block every later migrator.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_unlock("+key+")"); err != nil {
			// Closing the session releases the lock too; make sure the
			// connection is not put back in the pool.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		_ = conn.Close()
	}, nil
}

func createMigrationTable(ctx context.Context, conn bun.Conn) error {
	_, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+migrationTable+` (
		set_name VARCHAR(100) NOT NULL,
		name VARCHAR(200) NOT NULL,
		applied_at TIMESTAMPTZ NOT NULL,
		PRIMARY KEY (set_name, name)
	)`)
	if err != nil {
		return fmt.Errorf("create %s: %w", migrationTable, err)
	}
	return nil
}

// applyOne runs m unless it is recorded already, and records it, all in one
// transaction.
func applyOne(ctx context.Context, conn bun.Conn, s MigrationSet, m migration, postgres bool) (bool, error) {
	body, err := m.body(s.FS, postgres)
	if err != nil {
		return false, err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()

	var n int
	if err := tx.QueryRowContext(ctx,
		"SELECT count(*) FROM "+migrationTable+" WHERE set_name = ? AND name = ?", s.Name, m.name,
	).Scan(&n); err != nil {
		return false, fmt.Errorf("check: %w", err)
	}
	if n > 0 {
		return false, nil
	}
	if strings.TrimSpace(body) != "" {
		// Run the file through database/sql directly: bun would read the
		// file's question marks as placeholders.
		if _, err := tx.Tx.ExecContext(ctx, body); err != nil {
			return false, err
		}
	}
	if _, err := tx.ExecContext(ctx,
		"INSERT INTO "+migrationTable+" (set_name, name, applied_at) VALUES (?, ?, ?)",
		s.Name, m.name, time.Now().UTC(),
	); err != nil {
		return false, fmt.Errorf("record: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("commit: %w", err)
	}
	return true, nil
}

// MigrationStatus lists every migration of the sets, in the order Migrate
// would apply them, with the time each was applied (zero if pending).
func MigrationStatus(ctx context.Context, db *bun.DB, sets ...MigrationSet) ([]MigrationState, error) {
	all, err := loadSets(sets)
	if err != nil {
		return nil, fmt.Errorf("db: migration status: %w", err)
	}
	applied := map[[2]string]time.Time{}
	var rows []migrationRow
	// Scan through a bun model: bun parses SQLite's text timestamps, which
	// database/sql cannot scan into time.Time for a TIMESTAMPTZ column.
	if err := db.NewSelect().Model(&rows).Scan(ctx); err != nil && !isMissingTable(err) {
		return nil, fmt.Errorf("db: migration status: %w", err)
	}
	for _, r := range rows {
		applied[[2]string{r.SetName, r.Name}] = r.AppliedAt
	}
	var out []MigrationState
	for i, s := range sets {
		for _, m := range all[i] {
			out = append(out, MigrationState{Set: s.Name, Name: m.name, AppliedAt: applied[[2]string{s.Name, m.name}]})
		}
	}
	return out, nil
}

// Pending returns the migrations of the sets that have not run yet.
func Pending(ctx context.Context, db *bun.DB, sets ...MigrationSet) ([]MigrationState, error) {
	all, err := MigrationStatus(ctx, db, sets...)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, MigrationState.Applied), nil
}

func isMissingTable(err error) bool {
	if err == nil {
		return false
	}
	var pgErr pgdriver.Error
	if errors.As(err, &pgErr) {
		return pgErr.Field('C') == "42P01" // undefined_table
	}
	return strings.Contains(err.Error(), "no such table")
}
