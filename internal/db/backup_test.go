package db_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/uptrace/bun"

	"github.com/commonroom/commonroom/internal/db"
	"github.com/commonroom/commonroom/internal/dbtest"
	"github.com/commonroom/commonroom/internal/errkind"
)

func TestBackup(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *bun.DB) {
		ctx := context.Background()
		MustExec(t, d, "INSERT INTO parents (id, name) VALUES (1, 'Ada'), (2, 'Grace')")
		path := filepath.Join(t.TempDir(), "backup.db")
		err := db.Backup(ctx, d, path)
		if db.IsPostgres(d) {
			if !errors.Is(err, errkind.Invalid) {
				t.Errorf("Backup on PostgreSQL = %v, want Invalid", err)
			}
			return
		}
		if err != nil {
			t.Fatalf("Backup: %v", err)
		}
		copyDB := MustOpen(t, "sqlite:"+path)
		if n := MustCount(t, copyDB, "parents"); n != 2 {
			t.Errorf("backup has %d parents, want 2", n)
		}
		// The original is still usable, and a second backup to the same
		// file is refused without touching it.
		MustExec(t, d, "INSERT INTO parents (id, name) VALUES (3, 'Hedy')")
		before, _ := os.Stat(path)
		if err := db.Backup(ctx, d, path); !errors.Is(err, errkind.Conflict) {
			t.Errorf("Backup over an existing file = %v, want Conflict", err)
		}
		if after, _ := os.Stat(path); after.Size() != before.Size() || after.ModTime() != before.ModTime() {
			t.Error("the existing backup file was changed")
		}
	}, constraintSet)
}
