package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/uptrace/bun"

	"github.com/commonroom/commonroom/internal/config"
	"github.com/commonroom/commonroom/internal/db"
	"github.com/commonroom/commonroom/internal/errkind"
	"github.com/commonroom/commonroom/internal/ids"
	"github.com/commonroom/commonroom/internal/users"
	"github.com/commonroom/commonroom/oauth"
)

// migrate applies pending migrations.
func (m *Main) migrate(ctx context.Context, args []string) error {
	fs, cf := m.flags("migrate")
	cfg, err := m.parse(fs, cf, args)
	if err != nil {
		return err
	}
	d, err := db.Open(ctx, cfg.DatabaseDSN())
	if err != nil {
		return err
	}
	defer d.Close()
	applied, err := db.Migrate(ctx, d.DB, Migrations()...)
	for _, name := range applied {
		fmt.Fprintf(m.Stdout, "applied %s\n", name)
	}
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(m.Stdout, "nothing to apply: the database is up to date")
	}
	return nil
}

// migrateStatus lists the migrations and whether each has run.
func (m *Main) migrateStatus(ctx context.Context, args []string) error {
	fs, cf := m.flags("migrate status")
	cfg, err := m.parse(fs, cf, args)
	if err != nil {
		return err
	}
	d, err := db.Open(ctx, cfg.DatabaseDSN())
	if err != nil {
		return err
	}
	defer d.Close()
	states, err := db.MigrationStatus(ctx, d.DB, Migrations()...)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SET\tMIGRATION\tSTATUS\tAPPLIED AT")
	for _, s := range states {
		status, at := "pending", "-"
		if s.Applied() {
			status, at = "applied", s.AppliedAt.UTC().Format("2006-01-02 15:04:05Z")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Set, s.Name, status, at)
	}
	return tw.Flush()
}

// createUser creates a local user.
func (m *Main) createUser(ctx context.Context, args []string) error {
	fs, cf := m.flags("admin user create")
	var nu users.NewUser
	var role string
	fs.StringVar(&nu.Username, "username", "", "user name: 1-30 letters, digits or underscores (required)")
	fs.StringVar(&nu.Email, "email", "", "email address (required)")
	fs.StringVar(&nu.Password, "password", "", "password, 8-256 characters (required)")
	fs.StringVar(&role, "role", string(users.RoleUser), "role: user, moderator or admin")
	cfg, err := m.parse(fs, cf, args)
	if err != nil {
		return err
	}
	nu.Role = users.Role(role)
	// Check the input before touching the database, so a typo creates no
	// data directory.
	if err := nu.Validate(); err != nil {
		return operatorError("admin user create", err)
	}
	logger := m.logger(cfg)
	d, err := openDB(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer d.Close()
	svc, err := users.NewService(d.DB, users.Options{})
	if err != nil {
		return err
	}
	fed, err := newFederation(ctx, d, cfg, logger, nil)
	if err != nil {
		return err
	}
	// The user and its person (the actor others follow), or neither.
	u, person, err := fed.CreateUser(ctx, svc, nu)
	if err != nil {
		return operatorError("admin user create", err)
	}
	_, err = fmt.Fprintf(m.Stdout, "created user %s (id %s, role %s), actor %s\n", u.Username, ids.Format(u.ID), u.Role, person.IRI)
	return err
}

// operatorError shortens an error the operator can fix (a duplicate, a bad
// value, an unknown name) to its safe message after the command's name,
// keeping its kind for errors.Is; other errors keep their detail.
func operatorError(cmd string, err error) error {
	if k := errkind.Of(err); k != errkind.Internal {
		return fmt.Errorf("%s: %s: %w", cmd, errkind.Message(err), k)
	}
	return fmt.Errorf("%s: %w", cmd, err)
}

// issueToken prints a bearer token for a local user, issued to the
// built-in "Commonroom CLI" app: for bots and scripts.
func (m *Main) issueToken(ctx context.Context, args []string) error {
	const cmd = "admin token"
	fs, cf := m.flags(cmd)
	username := fs.String("username", "", "the user the token acts for (required)")
	scopes := fs.String("scopes", oauth.DefaultScope, `space-separated OAuth scopes, such as "read write follow"`)
	cfg, err := m.parse(fs, cf, args)
	if err != nil {
		return err
	}
	if *username == "" {
		return fmt.Errorf("%w: %s: --username is required", ErrUsage, cmd)
	}
	// Check the scopes before touching the database, so a typo creates no
	// data directory.
	if _, err := oauth.ParseScopes(*scopes); err != nil {
		top := []string{oauth.ScopeRead, oauth.ScopeWrite, oauth.ScopeFollow, oauth.ScopePush,
			oauth.ScopeProfile, oauth.ScopeAdminRead, oauth.ScopeAdminWrite}
		return fmt.Errorf("%s: %s; scopes are %s, or granular ones such as read:statuses: %w",
			cmd, errkind.Message(err), strings.Join(top, ", "), errkind.Invalid)
	}
	logger := m.logger(cfg)
	d, err := openDB(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer d.Close()
	u, err := userByName(ctx, d.DB, cmd, *username)
	if err != nil {
		return err
	}
	fed, err := newFederation(ctx, d, cfg, logger, nil)
	if err != nil {
		return err
	}
	auth, _, err := newOAuth(d.DB, cfg, logger, fed)
	if err != nil {
		return err
	}
	a, err := auth.Accounts().ByID(ctx, u.ID)
	if err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	switch {
	case a.Pending:
		return fmt.Errorf("%s: user %q is waiting for approval; tokens are issued to active users only: %w", cmd, u.Username, errkind.Forbidden)
	case a.Suspended:
		return fmt.Errorf("%s: user %q is suspended; tokens are issued to active users only: %w", cmd, u.Username, errkind.Forbidden)
	}
	// A bot acts as its person: make it if the user has none yet.
	if _, err := fed.EnsurePerson(ctx, u.ID, u.Username); err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	token, err := auth.IssueToken(ctx, u.ID, *scopes)
	if err != nil {
		return operatorError(cmd, err)
	}
	_, err = fmt.Fprintln(m.Stdout, token)
	return err
}

// approveUser lets an account that signed up in registration mode
// "approval" sign in.
func (m *Main) approveUser(ctx context.Context, args []string) error {
	const cmd = "admin user approve"
	fs, cf := m.flags(cmd)
	username := fs.String("username", "", "the user to approve (required)")
	cfg, err := m.parse(fs, cf, args)
	if err != nil {
		return err
	}
	if *username == "" {
		return fmt.Errorf("%w: %s: --username is required", ErrUsage, cmd)
	}
	logger := m.logger(cfg)
	d, err := openDB(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer d.Close()
	u, err := userByName(ctx, d.DB, cmd, *username)
	if err != nil {
		return err
	}
	accounts, err := oauth.NewLocalAccounts(d.DB, users.Options{})
	if err != nil {
		return err
	}
	a, err := accounts.ByID(ctx, u.ID)
	if err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	switch {
	case a.Suspended:
		return fmt.Errorf("%s: user %q is suspended, which approval does not lift: %w", cmd, u.Username, errkind.Conflict)
	case !a.Pending:
		_, err = fmt.Fprintf(m.Stdout, "user %s was not waiting for approval; nothing changed\n", u.Username)
		return err
	}
	if err := accounts.Approve(ctx, u.ID); err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	// An approved account is a person others can find and follow.
	fed, err := newFederation(ctx, d, cfg, logger, nil)
	if err != nil {
		return err
	}
	if _, err := fed.EnsurePerson(ctx, u.ID, u.Username); err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	_, err = fmt.Fprintf(m.Stdout, "approved user %s: they can sign in now\n", u.Username)
	return err
}

// setRole gives a local user another role.
func (m *Main) setRole(ctx context.Context, args []string) error {
	const cmd = "admin user role"
	fs, cf := m.flags(cmd)
	username := fs.String("username", "", "the user whose role changes (required)")
	role := fs.String("role", "", "the new role: user, moderator or admin (required)")
	cfg, err := m.parse(fs, cf, args)
	if err != nil {
		return err
	}
	if *username == "" || *role == "" {
		return fmt.Errorf("%w: %s: --username and --role are required", ErrUsage, cmd)
	}
	// Check the role before touching the database, so a typo creates no
	// data directory.
	if err := users.Role(*role).Validate(); err != nil {
		return operatorError(cmd, err)
	}
	d, err := openDB(ctx, cfg, m.logger(cfg))
	if err != nil {
		return err
	}
	defer d.Close()
	u, err := userByName(ctx, d.DB, cmd, *username)
	if err != nil {
		return err
	}
	people, err := users.NewService(d.DB, users.Options{})
	if err != nil {
		return err
	}
	previous, err := people.SetRole(ctx, u.ID, users.Role(*role))
	if err != nil {
		return operatorError(cmd, err)
	}
	if previous == users.Role(*role) {
		_, err = fmt.Fprintf(m.Stdout, "user %s is already %s; nothing changed\n", u.Username, previous)
		return err
	}
	_, err = fmt.Fprintf(m.Stdout, "user %s: role %s -> %s\n", u.Username, previous, *role)
	return err
}

// createInvite prints a new invite code for registration mode "invite".
func (m *Main) createInvite(ctx context.Context, args []string) error {
	const cmd = "admin invite create"
	fs, cf := m.flags(cmd)
	uses := fs.Int("uses", 1, "how many accounts the code may create")
	expires := fs.Duration("expires", 7*24*time.Hour, "how long the code is good for, such as 48h; 0 means it does not expire")
	cfg, err := m.parse(fs, cf, args)
	if err != nil {
		return err
	}
	if *uses < 1 {
		return fmt.Errorf("%s: --uses %d: an invite needs at least one use: %w", cmd, *uses, errkind.Invalid)
	}
	if *expires < 0 {
		return fmt.Errorf("%s: --expires %s: must not be negative: %w", cmd, *expires, errkind.Invalid)
	}
	logger := m.logger(cfg)
	if cfg.Registration != config.RegistrationInvite {
		logger.Warn("registration is not invite, so the sign-up page does not ask for this code", "registration", cfg.Registration)
	}
	d, err := openDB(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer d.Close()
	fed, err := newFederation(ctx, d, cfg, logger, nil)
	if err != nil {
		return err
	}
	auth, _, err := newOAuth(d.DB, cfg, logger, fed)
	if err != nil {
		return err
	}
	code, err := auth.CreateInvite(ctx, *uses, *expires)
	if err != nil {
		return operatorError(cmd, err)
	}
	_, err = fmt.Fprintln(m.Stdout, code)
	return err
}

// userByName returns the local user, or a NotFound error that says how to
// create one.
func userByName(ctx context.Context, d bun.IDB, cmd, username string) (*users.User, error) {
	people, err := users.NewService(d, users.Options{})
	if err != nil {
		return nil, err
	}
	u, err := people.ByUsername(ctx, username)
	if errkind.Of(err) == errkind.NotFound {
		return nil, fmt.Errorf("%s: no user named %q (create one with: commonroom admin user create): %w", cmd, username, errkind.NotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cmd, err)
	}
	return u, nil
}

// backup copies a SQLite database to a new file.
func (m *Main) backup(ctx context.Context, args []string) error {
	fs, cf := m.flags("admin backup")
	to := fs.String("to", "", "file to write the copy to; must not exist (required)")
	cfg, err := m.parse(fs, cf, args)
	if err != nil {
		return err
	}
	if *to == "" {
		return fmt.Errorf("%w: admin backup: --to FILE is required", ErrUsage)
	}
	d, err := db.Open(ctx, cfg.DatabaseDSN())
	if err != nil {
		return err
	}
	defer d.Close()
	if err := db.Backup(ctx, d.DB, *to); err != nil {
		return err
	}
	_, err = fmt.Fprintf(m.Stdout, "backed up %s to %s\n", db.Redact(cfg.DatabaseDSN()), *to)
	return err
}
