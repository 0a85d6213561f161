package oauth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/commonroom/commonroom/internal/errkind"
	"github.com/commonroom/commonroom/internal/users"
)

// Account is a person who can sign in and own tokens, as the provider sees
// them.
type Account struct {
	ID       int64
	Username string
	Role     string
	// Pending is true while a sign-up awaits approval; such an account
	// cannot sign in.
	Pending bool
	// Suspended accounts cannot sign in and their tokens do not work.
	Suspended bool
}

// Active reports whether the account may sign in and use tokens.
func (a *Account) Active() bool { return !a.Pending && !a.Suspended }

// NewAccount is what the sign-up page asks Accounts.Create for.
type NewAccount struct {
	Username string
	Email    string
	Password string
	// Pending creates the account awaiting approval.
	Pending bool
}

// Accounts is the store of resource owners the provider signs people in
// against. LocalAccounts implements it over internal/users; the actors
// package will take over. Errors carry errkind kinds: Authenticate returns
// Unauthorized for a wrong username or password (without saying which),
// ByID NotFound, Create Invalid or Conflict for input the person can fix.
// Implementations must be safe for concurrent use.
type Accounts interface {
	Authenticate(ctx context.Context, username, password string) (*Account, error)
	ByID(ctx context.Context, id int64) (*Account, error)
	Create(ctx context.Context, na NewAccount) (*Account, error)
}

// LocalAccounts is Accounts over the local sign-in accounts of
// internal/users, with their standing (pending approval, suspended) kept in
// the oauth_account_standing table of this package's migrations.
type LocalAccounts struct {
	db  bun.IDB
	svc *users.Service
	now func() time.Time
}

var _ Accounts = (*LocalAccounts)(nil)

// NewLocalAccounts returns LocalAccounts over database d, which must have
// the users and oauth migrations applied. opts are the users.Service
// options (nil fields take users' defaults).
func NewLocalAccounts(d bun.IDB, opts users.Options) (*LocalAccounts, error) {
	svc, err := users.NewService(d, opts)
	if err != nil {
		return nil, fmt.Errorf("oauth: local accounts: %w", err)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &LocalAccounts{db: d, svc: svc, now: now}, nil
}

type standingRow struct {
	bun.BaseModel `bun:"table:oauth_account_standing"`

	AccountID int64     `bun:"account_id,pk"`
	State     string    `bun:"state,notnull"`
	UpdatedAt time.Time `bun:"updated_at,notnull"`
}

const (
	statePending   = "pending"
	stateSuspended = "suspended"
)

func (l *LocalAccounts) account(ctx context.Context, u *users.User) (*Account, error) {
	a := &Account{ID: u.ID, Username: u.Username, Role: string(u.Role)}
	var row standingRow
	err := l.db.NewSelect().Model(&row).Where("account_id = ?", u.ID).Scan(ctx)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, fmt.Errorf("oauth: standing of account %d: %w", u.ID, err)
	default:
		a.Pending = row.State == statePending
		a.Suspended = row.State == stateSuspended
	}
	return a, nil
}

// Authenticate checks the password and returns the account with its
// standing; callers decide what a pending or suspended account may do.
func (l *LocalAccounts) Authenticate(ctx context.Context, username, password string) (*Account, error) {
	u, err := l.svc.Authenticate(ctx, username, password)
	if err != nil {
		return nil, fmt.Errorf("oauth: %w", err)
	}
	return l.account(ctx, u)
}

// ByID returns the account with its standing, or NotFound.
func (l *LocalAccounts) ByID(ctx context.Context, id int64) (*Account, error) {
	u, err := l.svc.ByID(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("oauth: %w", err)
	}
	return l.account(ctx, u)
}

// Create stores a new user; a pending one gets its standing row in the same
// transaction, so it can never sign in before approval.
func (l *LocalAccounts) Create(ctx context.Context, na NewAccount) (*Account, error) {
	nu := users.NewUser{Username: na.Username, Email: na.Email, Password: na.Password}
	if err := nu.Validate(); err != nil {
		return nil, fmt.Errorf("oauth: create account: %w", err)
	}
	if !na.Pending {
		u, err := l.svc.Create(ctx, nu)
		if err != nil {
			return nil, fmt.Errorf("oauth: create account: %w", err)
		}
		return &Account{ID: u.ID, Username: u.Username, Role: string(u.Role)}, nil
	}
	var out *Account
	err := l.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		u, err := l.svc.WithDB(tx).Create(ctx, nu)
		if err != nil {
			return err
		}
		row := &standingRow{AccountID: u.ID, State: statePending, UpdatedAt: l.now().UTC()}
		if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
			return fmt.Errorf("record pending standing: %w", err)
		}
		out = &Account{ID: u.ID, Username: u.Username, Role: string(u.Role), Pending: true}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("oauth: create account: %w", err)
	}
	return out, nil
}

// Approve lets a pending account sign in. Approving an active account does
// nothing; a suspended one stays suspended. An unknown id is NotFound.
func (l *LocalAccounts) Approve(ctx context.Context, id int64) error {
	if _, err := l.svc.ByID(ctx, id); err != nil {
		return fmt.Errorf("oauth: approve: %w", err)
	}
	if _, err := l.db.NewDelete().Model((*standingRow)(nil)).
		Where("account_id = ?", id).Where("state = ?", statePending).Exec(ctx); err != nil {
		return fmt.Errorf("oauth: approve account %d: %w", id, err)
	}
	return nil
}

// Suspend marks the account suspended: it can no longer sign in, and
// Middleware refuses its tokens from the next request on. Call
// Service.RevokeAccount too (Service.SuspendAccount does both) so its
// tokens and sessions are deleted and open streams are told.
func (l *LocalAccounts) Suspend(ctx context.Context, id int64) error {
	if _, err := l.svc.ByID(ctx, id); err != nil {
		return fmt.Errorf("oauth: suspend: %w", err)
	}
	row := &standingRow{AccountID: id, State: stateSuspended, UpdatedAt: l.now().UTC()}
	if _, err := l.db.NewInsert().Model(row).
		On("CONFLICT (account_id) DO UPDATE").Set("state = EXCLUDED.state, updated_at = EXCLUDED.updated_at").
		Exec(ctx); err != nil {
		return fmt.Errorf("oauth: suspend account %d: %w", id, err)
	}
	return nil
}

// Unsuspend lifts a suspension. The account's old tokens stay revoked.
func (l *LocalAccounts) Unsuspend(ctx context.Context, id int64) error {
	if _, err := l.db.NewDelete().Model((*standingRow)(nil)).
		Where("account_id = ?", id).Where("state = ?", stateSuspended).Exec(ctx); err != nil {
		return fmt.Errorf("oauth: unsuspend account %d: %w", id, err)
	}
	return nil
}

// Suspender is implemented by account stores that can suspend an account
// (LocalAccounts does); Service.SuspendAccount uses it.
type Suspender interface {
	Suspend(ctx context.Context, id int64) error
}

// errAccountInactive is what sign-in says to a pending or suspended account.
func errAccountInactive(a *Account) error {
	if a.Pending {
		return errkind.New(errkind.Forbidden, "your account is waiting for approval by a moderator")
	}
	return errkind.New(errkind.Forbidden, "your account is suspended")
}
