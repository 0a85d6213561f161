package federation

import (
	"context"
	"fmt"

	"github.com/commonroom/commonroom/actors"
	"github.com/commonroom/commonroom/internal/errkind"
	"github.com/commonroom/commonroom/internal/users"
	"github.com/commonroom/commonroom/oauth"
)

// EnsurePerson returns the local person (actor) of the sign-in account
// userID, creating it, named username, if it has none yet. Creating a user
// and its person are two steps (the person's keys are made outside any
// transaction), so everything that creates or admits a user calls this
// after the user's row has committed, and sign-in calls it again: a user
// left without a person by a failure between the steps gets one the next
// time they sign in.
func (f *Federation) EnsurePerson(ctx context.Context, userID int64, username string) (*actors.Account, error) {
	a, err := f.actors.AccountByUser(ctx, userID)
	if err == nil {
		return a, nil
	}
	if errkind.Of(err) != errkind.NotFound {
		return nil, fmt.Errorf("federation: person of user %d: %w", userID, err)
	}
	a, err = f.actors.CreateLocal(ctx, actors.NewLocal{Kind: actors.KindPerson, Username: username, UserID: userID})
	if err != nil {
		return nil, fmt.Errorf("federation: person of user %d: %w", userID, err)
	}
	f.logger.InfoContext(ctx, "local person created", "username", a.Username, "user_id", userID, "actor", a.IRI)
	return a, nil
}

// CreateUser creates a local user and its person, as the admin CLI does.
// A name some person or group already holds is refused (Conflict) before
// the user is stored; if making the person fails after that, the user's
// row is deleted again, so that a failure leaves no user without a person
// (and if even that fails, the error says so, and the user's next sign-in
// creates the person).
func (f *Federation) CreateUser(ctx context.Context, svc *users.Service, nu users.NewUser) (*users.User, *actors.Account, error) {
	if err := f.nameFree(ctx, nu.Username); err != nil {
		return nil, nil, err
	}
	u, err := svc.Create(ctx, nu)
	if err != nil {
		return nil, nil, err
	}
	a, err := f.EnsurePerson(ctx, u.ID, u.Username)
	if err != nil {
		if _, derr := f.db.NewDelete().Model((*users.User)(nil)).Where("id = ?", u.ID).Exec(ctx); derr != nil {
			return nil, nil, fmt.Errorf("%w; the user %q stays without a person until they sign in (removing it failed: %v)", err, u.Username, derr)
		}
		return nil, nil, err
	}
	return u, a, nil
}

// nameFree refuses a username that a local person or group already holds
// (names are unique across both, and a group has no user row).
func (f *Federation) nameFree(ctx context.Context, username string) error {
	_, err := f.actors.LocalAccount(ctx, username)
	switch {
	case err == nil:
		return fmt.Errorf("federation: create user %q: %w", username, errkind.New(errkind.Conflict, "username is already taken"))
	case errkind.Of(err) == errkind.NotFound:
		return nil
	default:
		return fmt.Errorf("federation: create user %q: %w", username, err)
	}
}

// Accounts is the oauth.Accounts the server signs people in against:
// oauth.LocalAccounts, with every active account also a local person.
// Create makes the person once the user's row has committed (a sign-up
// waiting for approval gets it when approved and signing in);
// Authenticate makes it if it is missing, which repairs a sign-up
// interrupted between the two steps. Suspend and Unsuspend change the
// account's standing in oauth (oauth.Service.SuspendAccount calls
// Suspend). It is safe for concurrent use.
type Accounts struct {
	local *oauth.LocalAccounts
	fed   *Federation
}

var (
	_ oauth.Accounts  = (*Accounts)(nil)
	_ oauth.Suspender = (*Accounts)(nil)
)

// NewAccounts returns the Accounts over local and f's people.
func NewAccounts(local *oauth.LocalAccounts, f *Federation) *Accounts {
	return &Accounts{local: local, fed: f}
}

// Authenticate implements oauth.Accounts.
func (a *Accounts) Authenticate(ctx context.Context, username, password string) (*oauth.Account, error) {
	acct, err := a.local.Authenticate(ctx, username, password)
	if err != nil {
		return nil, err
	}
	if acct.Active() {
		if _, err := a.fed.EnsurePerson(ctx, acct.ID, acct.Username); err != nil {
			return nil, err
		}
	}
	return acct, nil
}

// ByID implements oauth.Accounts.
func (a *Accounts) ByID(ctx context.Context, id int64) (*oauth.Account, error) {
	return a.local.ByID(ctx, id)
}

// Create implements oauth.Accounts: the user, then (for an account that
// needs no approval) its person. A name a group or person holds is
// refused before anything is stored.
func (a *Accounts) Create(ctx context.Context, na oauth.NewAccount) (*oauth.Account, error) {
	if err := a.fed.nameFree(ctx, na.Username); err != nil {
		return nil, err
	}
	acct, err := a.local.Create(ctx, na)
	if err != nil {
		return nil, err
	}
	if acct.Active() {
		if _, err := a.fed.EnsurePerson(ctx, acct.ID, acct.Username); err != nil {
			return nil, err
		}
	}
	return acct, nil
}

// Suspend implements oauth.Suspender.
func (a *Accounts) Suspend(ctx context.Context, id int64) error { return a.local.Suspend(ctx, id) }

// Unsuspend lifts the account's suspension in oauth; its old tokens stay
// revoked.
func (a *Accounts) Unsuspend(ctx context.Context, id int64) error { return a.local.Unsuspend(ctx, id) }

// Moderator moderates accounts on every transport at once:
// actors.Service.Moderate for the person (documents, statuses, follows,
// federation), and for a local person's suspension
// oauth.Service.SuspendAccount, which suspends the sign-in account and
// revokes its tokens and sessions from the next request on (SECURITY.md
// rule 32); lifting a suspension lifts both.
type Moderator struct {
	actors   *actors.Service
	oauth    *oauth.Service
	accounts *Accounts
}

// NewModerator returns a Moderator over f's people and auth, whose account
// store must be accounts.
func NewModerator(f *Federation, auth *oauth.Service, accounts *Accounts) *Moderator {
	return &Moderator{actors: f.actors, oauth: auth, accounts: accounts}
}

// Moderate applies action to the account targetID as moderatorID, as
// actors.Service.Moderate does (and with its checks: a moderator, not
// themselves); a local person's suspension or its lifting then reaches
// their sign-in account. If that second step fails the person stays
// moderated and the error says so; calling Moderate again completes it.
func (m *Moderator) Moderate(ctx context.Context, moderatorID, targetID int64, action actors.Moderation) error {
	if err := m.actors.Moderate(ctx, moderatorID, targetID, action); err != nil {
		return err
	}
	if action != actors.Suspend && action != actors.Unsuspend {
		return nil
	}
	target, err := m.actors.Account(ctx, targetID)
	if err != nil {
		return fmt.Errorf("federation: %s %d: sign-in account: %w", action, targetID, err)
	}
	if !target.Local() || target.UserID == 0 {
		return nil
	}
	if action == actors.Suspend {
		err = m.oauth.SuspendAccount(ctx, target.UserID)
	} else {
		err = m.accounts.Unsuspend(ctx, target.UserID)
	}
	if err != nil {
		return fmt.Errorf("federation: %s %s: sign-in account: %w", action, target.Username, err)
	}
	return nil
}
