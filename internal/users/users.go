// Package users holds local sign-in accounts: who can log in to this server,
// with which password, and with which role. Profiles, keys and everything
// that federates belong to the actors package; this is only the login.
package users

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alexedwards/argon2id"
	"github.com/uptrace/bun"

	"github.com/commonroom/commonroom/internal/db"
	"github.com/commonroom/commonroom/internal/errkind"
	"github.com/commonroom/commonroom/internal/ids"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the migration set that creates the users table.
func Migrations() db.MigrationSet {
	return db.EmbeddedMigrations("users", migrationFiles, "migrations")
}

// Role is what a user may do on this server.
type Role string

// The roles, from least to most trusted.
const (
	RoleUser      Role = "user"
	RoleModerator Role = "moderator"
	RoleAdmin     Role = "admin"
)

// Limits on what Create accepts.
const (
	MaxUsernameLength = 30
	MinPasswordLength = 8
	MaxPasswordLength = 256
	MaxEmailLength    = 254
)

var usernamePattern = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// User is a stored sign-in account. PasswordHash is an argon2id PHC string and
// never leaves the server.
type User struct {
	bun.BaseModel `bun:"table:users"`

	ID           int64     `bun:"id,pk"`
	Username     string    `bun:"username,notnull"`
	Email        string    `bun:"email,notnull"`
	PasswordHash string    `bun:"password_hash,notnull"`
	Role         Role      `bun:"role,notnull"`
	CreatedAt    time.Time `bun:"created_at,notnull"`
}

// NewUser is what Create needs. Role defaults to RoleUser.
type NewUser struct {
	Username string
	Email    string
	Password string
	Role     Role
}

// Service creates and looks up users. It is safe for concurrent use.
type Service struct {
	db     bun.IDB
	ids    *ids.Generator
	now    func() time.Time
	params *argon2id.Params
	// dummyHash is compared against when a user does not exist, so that a
	// failed sign-in takes as long either way.
	dummyHash string
}

// Options tune a Service; the zero value is production-ready.
type Options struct {
	IDs        *ids.Generator   // nil: a new generator on the system clock
	Now        func() time.Time // nil: time.Now
	HashParams *argon2id.Params // nil: argon2id.DefaultParams (64 MiB, 1 pass)
}

// NewService returns a Service over database d (the users migrations must
// have run).
func NewService(d bun.IDB, opts Options) (*Service, error) {
	s := &Service{db: d, ids: opts.IDs, now: opts.Now, params: opts.HashParams}
	if s.ids == nil {
		s.ids = ids.New(nil, nil)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.params == nil {
		s.params = argon2id.DefaultParams
	}
	hash, err := argon2id.CreateHash("not a real password", s.params)
	if err != nil {
		return nil, fmt.Errorf("users: prepare dummy hash: %w", err)
	}
	s.dummyHash = hash
	return s, nil
}

// WithDB returns a Service that runs its queries on d, typically a
// transaction on s's database, and shares everything else with s: id
// generator, clock, hash parameters and the prepared dummy hash, so that it
// costs no argon2id hashing of its own.
func (s *Service) WithDB(d bun.IDB) *Service {
	c := *s
	c.db = d
	return &c
}

// Validate checks nu the way Create does, without touching the database.
// The error has kind Invalid and a message that says what to fix.
func (nu NewUser) Validate() error {
	switch n := len(nu.Username); {
	case n == 0:
		return errkind.New(errkind.Invalid, "username is required")
	case n > MaxUsernameLength:
		return errkind.New(errkind.Invalid, fmt.Sprintf("username is longer than %d characters", MaxUsernameLength))
	case !usernamePattern.MatchString(nu.Username):
		return errkind.New(errkind.Invalid, "username may contain only letters A-Z, digits and underscores")
	}
	if err := validateEmail(nu.Email); err != nil {
		return err
	}
	switch n := utf8.RuneCountInString(nu.Password); {
	case !utf8.ValidString(nu.Password):
		return errkind.New(errkind.Invalid, "password is not valid UTF-8")
	case n < MinPasswordLength:
		return errkind.New(errkind.Invalid, fmt.Sprintf("password must be at least %d characters", MinPasswordLength))
	case n > MaxPasswordLength:
		return errkind.New(errkind.Invalid, fmt.Sprintf("password must be at most %d characters", MaxPasswordLength))
	}
	if nu.Role != "" {
		return nu.Role.Validate()
	}
	return nil
}

// Validate returns nil for RoleUser, RoleModerator and RoleAdmin, and an
// error of kind Invalid that lists them for anything else.
func (r Role) Validate() error {
	switch r {
	case RoleUser, RoleModerator, RoleAdmin:
		return nil
	}
	return errkind.New(errkind.Invalid, fmt.Sprintf("role %q is not one of user, moderator, admin", r))
}

// SetRole gives the user with that id the role and returns the role they
// had before. A role that is not user, moderator or admin is Invalid and
// an unknown id NotFound; either way nothing changes. The change is one
// UPDATE, so it takes effect for the user's next request: accounts are
// read from the table on every sign-in and token lookup.
func (s *Service) SetRole(ctx context.Context, id int64, role Role) (previous Role, err error) {
	if err := role.Validate(); err != nil {
		return "", fmt.Errorf("users: set role of id %d: %w", id, err)
	}
	// Read the old role and write the new one in one transaction, so the
	// returned previous role is the one replaced.
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		u := new(User)
		err := tx.NewSelect().Model(u).Column("role").Where("id = ?", id).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return errkind.Wrap(errkind.NotFound, "no such user", err)
		}
		if err != nil {
			return err
		}
		previous = u.Role
		if previous == role {
			return nil
		}
		res, err := tx.NewUpdate().Model((*User)(nil)).Set("role = ?", role).Where("id = ?", id).Exec(ctx)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err == nil && n != 1 {
			return errkind.New(errkind.NotFound, "no such user")
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("users: set role of id %d: %w", id, err)
	}
	return previous, nil
}

func validateEmail(email string) error {
	if email == "" {
		return errkind.New(errkind.Invalid, "email is required")
	}
	if len(email) > MaxEmailLength {
		return errkind.New(errkind.Invalid, fmt.Sprintf("email is longer than %d characters", MaxEmailLength))
	}
	addr, err := mail.ParseAddress(email)
	// Only a bare address: no display name, no list, no surrounding spaces.
	if err != nil || addr.Name != "" || addr.Address != email || !strings.Contains(addr.Address, "@") {
		return errkind.New(errkind.Invalid, fmt.Sprintf("email %q is not a single plain address like name@example.org", email))
	}
	return nil
}

// Create validates nu, hashes its password with argon2id and stores the user.
// A username or email that is already taken (ignoring case) is a Conflict;
// the database's unique indexes decide, so two concurrent Creates cannot both
// win. Bad input is Invalid and nothing is stored. On PostgreSQL, call it
// on a Service over the database rather than inside a transaction: a failed
// insert aborts the transaction, so the id-collision retry cannot run there.
func (s *Service) Create(ctx context.Context, nu NewUser) (*User, error) {
	if err := nu.Validate(); err != nil {
		return nil, fmt.Errorf("users: create %q: %w", nu.Username, err)
	}
	if nu.Role == "" {
		nu.Role = RoleUser
	}
	hash, err := argon2id.CreateHash(nu.Password, s.params)
	if err != nil {
		return nil, fmt.Errorf("users: create %q: hash password: %w", nu.Username, err)
	}
	u := &User{
		Username:     nu.Username,
		Email:        nu.Email,
		PasswordHash: hash,
		Role:         nu.Role,
		CreatedAt:    s.now().UTC().Truncate(time.Microsecond),
	}
	// Ids from different processes can collide, rarely (see package ids);
	// the primary key catches it and a fresh id is drawn.
	for attempt := 1; ; attempt++ {
		if u.ID, err = s.ids.Next(); err != nil {
			return nil, fmt.Errorf("users: create %q: %w", nu.Username, err)
		}
		_, err = s.db.NewInsert().Model(u).Exec(ctx)
		if err == nil {
			return u, nil
		}
		if !isIDCollision(err) || attempt == 3 {
			return nil, fmt.Errorf("users: create %q: %w", nu.Username, mapInsertError(err))
		}
	}
}

// isIDCollision reports whether err is a duplicate primary key.
func isIDCollision(err error) bool {
	v, ok := db.ConstraintOf(err)
	return ok && v.Kind == db.Unique && (v.Name == "users_pkey" || v.Name == "users.id")
}

func mapInsertError(err error) error {
	v, ok := db.ConstraintOf(err)
	if !ok {
		return err
	}
	switch v.Name {
	case "users_username_lower_key":
		return errkind.Wrap(errkind.Conflict, "username is already taken", err)
	case "users_email_lower_key":
		return errkind.Wrap(errkind.Conflict, "email is already registered", err)
	}
	return db.MapError(err, "user could not be stored")
}

// ByID returns the user with that id, or an error of kind NotFound.
func (s *Service) ByID(ctx context.Context, id int64) (*User, error) {
	u := new(User)
	err := s.db.NewSelect().Model(u).Where("id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("users: id %d: %w", id, errkind.Wrap(errkind.NotFound, "no such user", err))
	}
	if err != nil {
		return nil, fmt.Errorf("users: id %d: %w", id, err)
	}
	return u, nil
}

// ByUsername returns the user with that username, ignoring case, or an error
// of kind NotFound.
func (s *Service) ByUsername(ctx context.Context, username string) (*User, error) {
	u := new(User)
	err := s.db.NewSelect().Model(u).Where("lower(username) = lower(?)", username).Limit(1).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("users: %q: %w", username, errkind.Wrap(errkind.NotFound, "no such user", err))
	}
	if err != nil {
		return nil, fmt.Errorf("users: %q: %w", username, err)
	}
	return u, nil
}

// Authenticate returns the user if password is theirs, and otherwise an error
// of kind Unauthorized that does not say whether the username exists. It takes
// about as long for an unknown username as for a wrong password.
func (s *Service) Authenticate(ctx context.Context, username, password string) (*User, error) {
	denied := errkind.New(errkind.Unauthorized, "invalid username or password")
	u, err := s.ByUsername(ctx, username)
	if errkind.Of(err) == errkind.NotFound {
		_, _ = argon2id.ComparePasswordAndHash(password, s.dummyHash)
		return nil, fmt.Errorf("users: authenticate %q: %w", username, denied)
	}
	if err != nil {
		return nil, fmt.Errorf("users: authenticate %q: %w", username, err)
	}
	ok, err := argon2id.ComparePasswordAndHash(password, u.PasswordHash)
	if err != nil {
		return nil, fmt.Errorf("users: authenticate %q: %w", username, err)
	}
	if !ok {
		return nil, fmt.Errorf("users: authenticate %q: %w", username, denied)
	}
	return u, nil
}
