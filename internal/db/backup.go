package db

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/uptrace/bun"

	"github.com/commonroom/commonroom/internal/errkind"
)

// Backup writes a consistent copy of a SQLite database to path with VACUUM
// INTO, while the database stays in use. path must not exist yet. PostgreSQL
// databases are backed up with pg_dump instead; Backup refuses them.
func Backup(ctx context.Context, db bun.IDB, path string) error {
	if IsPostgres(db) {
		return fmt.Errorf("db: backup: %w", errkind.New(errkind.Invalid, "backup copies SQLite databases only; use pg_dump for PostgreSQL"))
	}
	if path == "" {
		return fmt.Errorf("db: backup: %w", errkind.New(errkind.Invalid, "no backup file given"))
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("db: backup: %w", errkind.New(errkind.Conflict, fmt.Sprintf("%s already exists", path)))
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("db: backup: %w", err)
	}
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		return fmt.Errorf("db: backup to %s: %w", path, err)
	}
	return nil
}
