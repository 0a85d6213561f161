package cli_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/commonroom/commonroom/internal/cli"
	"github.com/commonroom/commonroom/internal/db"
	"github.com/commonroom/commonroom/internal/errkind"
	"github.com/commonroom/commonroom/internal/users"
)

// roleOf reads username's role from the database at dsn.
func roleOf(tb testing.TB, dsn, username string) users.Role {
	tb.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	defer d.Close()
	s, err := users.NewService(d.DB, users.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	u, err := s.ByUsername(ctx, username)
	if err != nil {
		tb.Fatal(err)
	}
	return u.Role
}

// TestAdminUserRole: admin user role changes a user's role, says what it
// did, and refuses an unknown user, an unknown role or a missing flag with
// a clear error and nothing changed.
func TestAdminUserRole(t *testing.T) {
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "commonroom.db")
	MustRun(t, "admin", "user", "create", "--db", dsn, "--username", "ada", "--email", "ada@example.org", "--password", "correct horse")
	if got := roleOf(t, dsn, "ada"); got != users.RoleUser {
		t.Fatalf("new user's role = %s, want user", got)
	}

	for _, step := range []struct {
		role, out string
	}{
		{"moderator", "user ada: role user -> moderator"},
		{"admin", "user ada: role moderator -> admin"},
		{"admin", "user ada is already admin; nothing changed"},
		{"user", "user ada: role admin -> user"},
	} {
		out := MustRun(t, "admin", "user", "role", "--db", dsn, "--username", "ADA", "--role", step.role)
		if strings.TrimSpace(out) != step.out {
			t.Errorf("role %s printed %q, want %q", step.role, out, step.out)
		}
		if got := roleOf(t, dsn, "ada"); string(got) != step.role {
			t.Errorf("after role %s: role %s", step.role, got)
		}
	}

	fails := []struct {
		name string
		args []string
		is   error
		say  string
	}{
		{"unknown role", []string{"--db", dsn, "--username", "ada", "--role", "superuser"}, errkind.Invalid, `role "superuser" is not one of user, moderator, admin`},
		{"unknown user", []string{"--db", dsn, "--username", "nobody", "--role", "admin"}, errkind.NotFound, `no user named "nobody"`},
		{"no role", []string{"--db", dsn, "--username", "ada"}, cli.ErrUsage, "--role are required"},
		{"no username", []string{"--db", dsn, "--role", "admin"}, cli.ErrUsage, "--username and --role are required"},
	}
	for _, f := range fails {
		t.Run(f.name, func(t *testing.T) {
			out, _, err := run(append([]string{"admin", "user", "role"}, f.args...), nil)
			if !errors.Is(err, f.is) || !strings.Contains(err.Error(), f.say) || out != "" {
				t.Errorf("admin user role %v = %q, %v; want %v saying %q and no output", f.args, out, err, f.is, f.say)
			}
			if got := roleOf(t, dsn, "ada"); got != users.RoleUser {
				t.Errorf("after a failed role change: role %s, want user", got)
			}
		})
	}

	// A bad role is caught before the database is opened: no data
	// directory appears.
	fresh := filepath.Join(dir, "fresh")
	if _, _, err := run([]string{"admin", "user", "role", "--data-dir", fresh, "--username", "ada", "--role", "root"}, nil); !errors.Is(err, errkind.Invalid) {
		t.Errorf("bad role: %v, want Invalid", err)
	}
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Errorf("a bad role created the data directory (stat: %v)", err)
	}
}
