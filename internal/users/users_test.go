package users_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"
	"github.com/uptrace/bun"

	"github.com/commonroom/commonroom/internal/dbtest"
	"github.com/commonroom/commonroom/internal/errkind"
	"github.com/commonroom/commonroom/internal/ids"
	"github.com/commonroom/commonroom/internal/users"
)

// fastHash keeps argon2id cheap in tests; production uses the defaults.
var fastHash = &argon2id.Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

var testTime = time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)

func MustService(tb testing.TB, d *bun.DB) *users.Service {
	tb.Helper()
	s, err := users.NewService(d, users.Options{
		HashParams: fastHash,
		Now:        func() time.Time { return testTime },
		IDs:        ids.New(func() time.Time { return testTime }, nil),
	})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func MustCreate(tb testing.TB, s *users.Service, nu users.NewUser) *users.User {
	tb.Helper()
	u, err := s.Create(context.Background(), nu)
	if err != nil {
		tb.Fatalf("Create(%q): %v", nu.Username, err)
	}
	return u
}

func countUsers(tb testing.TB, d *bun.DB) int {
	tb.Helper()
	n, err := d.NewSelect().Table("users").Count(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return int(n)
}

func TestCreateStoresUser(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *bun.DB) {
		s := MustService(t, d)
		ctx := context.Background()
		u := MustCreate(t, s, users.NewUser{Username: "Ada_L", Email: "ada@example.org", Password: "correct horse", Role: users.RoleAdmin})
		if u.ID <= 0 || !ids.Time(u.ID).Equal(testTime) {
			t.Errorf("id %d does not carry the creation time", u.ID)
		}
		if strings.Contains(u.PasswordHash, "correct horse") || !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
			t.Errorf("password hash %q is not an argon2id hash", u.PasswordHash)
		}
		got, err := s.ByUsername(ctx, "ada_l")
		if err != nil {
			t.Fatalf("ByUsername: %v", err)
		}
		if got.ID != u.ID || got.Username != "Ada_L" || got.Email != "ada@example.org" || got.Role != users.RoleAdmin || !got.CreatedAt.Equal(testTime) {
			t.Errorf("stored %+v, want %+v", got, u)
		}
		plain := MustCreate(t, s, users.NewUser{Username: "grace", Email: "grace@example.org", Password: "12345678"})
		if plain.Role != users.RoleUser {
			t.Errorf("default role = %q, want user", plain.Role)
		}
		if byID, err := s.ByID(ctx, u.ID); err != nil || byID.Username != "Ada_L" {
			t.Errorf("ByID = %+v, %v", byID, err)
		}
		if _, err := s.ByID(ctx, u.ID+1000); errkind.Of(err) != errkind.NotFound {
			t.Errorf("ByID(unknown) = %v, want NotFound", err)
		}
		if _, err := s.ByUsername(ctx, "nobody"); errkind.Of(err) != errkind.NotFound {
			t.Errorf("ByUsername(nobody) = %v, want NotFound", err)
		}
	}, users.Migrations())
}

func TestCreateRejects(t *testing.T) {
	valid := users.NewUser{Username: "ada", Email: "ada@example.org", Password: "correct horse"}
	with := func(f func(*users.NewUser)) users.NewUser { nu := valid; f(&nu); return nu }
	tests := []struct {
		name string
		nu   users.NewUser
		kind errkind.Kind
		msg  string
	}{
		{"duplicate username differing in case", with(func(n *users.NewUser) { n.Username = "ADA"; n.Email = "other@example.org" }), errkind.Conflict, "username is already taken"},
		{"duplicate email differing in case", with(func(n *users.NewUser) { n.Username = "ada2"; n.Email = "Ada@Example.org" }), errkind.Conflict, "email is already registered"},
		{"empty username", with(func(n *users.NewUser) { n.Username = "" }), errkind.Invalid, "username is required"},
		{"too-long username", with(func(n *users.NewUser) { n.Username = strings.Repeat("a", 31) }), errkind.Invalid, "longer than 30"},
		{"username with a dot", with(func(n *users.NewUser) { n.Username = "ada.l" }), errkind.Invalid, "only letters"},
		{"username with non-ASCII", with(func(n *users.NewUser) { n.Username = "adá" }), errkind.Invalid, "only letters"},
		{"empty email", with(func(n *users.NewUser) { n.Email = "" }), errkind.Invalid, "email is required"},
		{"email without @", with(func(n *users.NewUser) { n.Email = "ada.example.org" }), errkind.Invalid, "not a single plain address"},
		{"two emails", with(func(n *users.NewUser) { n.Email = "a@example.org, b@example.org" }), errkind.Invalid, "not a single plain address"},
		{"email with display name", with(func(n *users.NewUser) { n.Email = "Ada <ada@example.org>" }), errkind.Invalid, "not a single plain address"},
		{"too-long email", with(func(n *users.NewUser) { n.Email = strings.Repeat("a", 250) + "@x.org" }), errkind.Invalid, "longer than 254"},
		{"short password", with(func(n *users.NewUser) { n.Password = "1234567" }), errkind.Invalid, "at least 8"},
		{"too-long password", with(func(n *users.NewUser) { n.Password = strings.Repeat("p", 257) }), errkind.Invalid, "at most 256"},
		{"unknown role", with(func(n *users.NewUser) { n.Role = "root" }), errkind.Invalid, "not one of"},
	}
	dbtest.ForEach(t, func(t *testing.T, d *bun.DB) {
		s := MustService(t, d)
		MustCreate(t, s, valid)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				u, err := s.Create(context.Background(), tt.nu)
				if err == nil {
					t.Fatalf("Create succeeded: %+v", u)
				}
				if !errors.Is(err, tt.kind) {
					t.Errorf("error %v has kind %v, want %v", err, errkind.Of(err), tt.kind)
				}
				if got := errkind.Message(err); !strings.Contains(got, tt.msg) {
					t.Errorf("message %q, want it to contain %q", got, tt.msg)
				}
				if n := countUsers(t, d); n != 1 {
					t.Errorf("%d users stored, want only the first", n)
				}
			})
		}
	}, users.Migrations())
}

func TestCreateConcurrentDuplicatesOneWins(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *bun.DB) {
		s := MustService(t, d)
		const n = 6
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				_, errs[i] = s.Create(context.Background(), users.NewUser{
					Username: []string{"sam", "SAM", "Sam"}[i%3], Email: "sam" + string(rune('a'+i)) + "@example.org", Password: "password1",
				})
			})
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case errkind.Of(err) != errkind.Conflict:
				t.Errorf("unexpected error %v", err)
			}
		}
		if ok != 1 || countUsers(t, d) != 1 {
			t.Errorf("%d creates succeeded, %d stored; want exactly one", ok, countUsers(t, d))
		}
	}, users.Migrations())
}

func TestAuthenticate(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *bun.DB) {
		s := MustService(t, d)
		want := MustCreate(t, s, users.NewUser{Username: "ada", Email: "ada@example.org", Password: "correct horse"})
		tests := []struct {
			name, username, password string
			ok                       bool
		}{
			{"right password", "ada", "correct horse", true},
			{"username in another case", "ADA", "correct horse", true},
			{"wrong password", "ada", "wrong horse", false},
			{"unknown user", "bob", "correct horse", false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				u, err := s.Authenticate(context.Background(), tt.username, tt.password)
				if tt.ok {
					if err != nil || u.ID != want.ID {
						t.Fatalf("Authenticate = %v, %v", u, err)
					}
					return
				}
				if errkind.Of(err) != errkind.Unauthorized || errkind.Message(err) != "invalid username or password" {
					t.Fatalf("Authenticate error = %v (kind %v), want Unauthorized", err, errkind.Of(err))
				}
			})
		}
	}, users.Migrations())
}

func TestCreateRetriesOnIDCollision(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *bun.DB) {
		// Two "processes" whose generators draw the same sequence in the
		// same millisecond: the second insert hits the primary key.
		newService := func() *users.Service {
			s, err := users.NewService(d, users.Options{
				HashParams: fastHash,
				IDs:        ids.New(func() time.Time { return testTime }, bytes.NewReader(make([]byte, 16))),
			})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		a, b := newService(), newService()
		ua := MustCreate(t, a, users.NewUser{Username: "ada", Email: "ada@example.org", Password: "correct horse"})
		ub := MustCreate(t, b, users.NewUser{Username: "bob", Email: "bob@example.org", Password: "correct horse"})
		if ua.ID == ub.ID || countUsers(t, d) != 2 {
			t.Errorf("ids %d and %d, %d users stored; want two users with distinct ids", ua.ID, ub.ID, countUsers(t, d))
		}
	}, users.Migrations())
}

func TestSetRole(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *bun.DB) {
		s := MustService(t, d)
		ctx := context.Background()
		ada := MustCreate(t, s, users.NewUser{Username: "ada", Email: "ada@example.org", Password: "correct horse"})
		bob := MustCreate(t, s, users.NewUser{Username: "bob", Email: "bob@example.org", Password: "correct horse", Role: users.RoleAdmin})

		steps := []struct {
			role, previous users.Role
		}{
			{users.RoleModerator, users.RoleUser},
			{users.RoleAdmin, users.RoleModerator},
			{users.RoleAdmin, users.RoleAdmin}, // no change
			{users.RoleUser, users.RoleAdmin},
		}
		for _, step := range steps {
			prev, err := s.SetRole(ctx, ada.ID, step.role)
			if err != nil {
				t.Fatalf("SetRole(%s): %v", step.role, err)
			}
			if prev != step.previous {
				t.Errorf("SetRole(%s) previous = %s, want %s", step.role, prev, step.previous)
			}
			if got, err := s.ByID(ctx, ada.ID); err != nil || got.Role != step.role {
				t.Fatalf("after SetRole(%s): role %v, err %v", step.role, got, err)
			}
		}

		fails := []struct {
			name string
			id   int64
			role users.Role
			kind errkind.Kind
		}{
			{"unknown role", ada.ID, "superuser", errkind.Invalid},
			{"empty role", ada.ID, "", errkind.Invalid},
			{"wrong case", ada.ID, "Admin", errkind.Invalid},
			{"unknown user", ada.ID + bob.ID, users.RoleAdmin, errkind.NotFound},
		}
		for _, f := range fails {
			t.Run(f.name, func(t *testing.T) {
				prev, err := s.SetRole(ctx, f.id, f.role)
				if errkind.Of(err) != f.kind || prev != "" {
					t.Errorf("SetRole(%d, %q) = %q, %v; want kind %v", f.id, f.role, prev, err, f.kind)
				}
				// Nothing changed.
				for _, u := range []struct {
					id   int64
					want users.Role
				}{{ada.ID, users.RoleUser}, {bob.ID, users.RoleAdmin}} {
					if got, err := s.ByID(ctx, u.id); err != nil || got.Role != u.want {
						t.Errorf("after a failed SetRole: user %d role %v, err %v; want %s", u.id, got, err, u.want)
					}
				}
			})
		}
	}, users.Migrations())
}
