package actors

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/commonroom/commonroom/internal/db"
	"github.com/commonroom/commonroom/internal/errkind"
	"github.com/commonroom/commonroom/streams"
)

// Kind is what sort of actor an account is.
type Kind string

// The kinds of actor. People and groups share the actors table and one
// namespace of names.
const (
	KindPerson      Kind = "person"
	KindGroup       Kind = "group"
	KindService     Kind = "service"
	KindApplication Kind = "application"
)

// asType is the ActivityStreams type of k.
func (k Kind) asType() string {
	switch k {
	case KindGroup:
		return "Group"
	case KindService:
		return "Service"
	case KindApplication:
		return "Application"
	default:
		return "Person"
	}
}

// Field is one name/value pair of a profile. Value is sanitized HTML.
type Field struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Account is one actor, local or remote: a row of the actors table.
type Account struct {
	bun.BaseModel `bun:"table:actors"`

	ID   int64 `bun:"id,pk"`
	Kind Kind  `bun:"kind,notnull"`
	// Username is the name as its owner spells it; Domain is "" for local
	// accounts and the normalized host[:port] of the IRI for remote ones.
	Username string `bun:"username,notnull"`
	Domain   string `bun:"domain,notnull"`
	// UserID is the local sign-in account (internal/users) of a local
	// person, 0 otherwise.
	UserID int64 `bun:"user_id,nullzero"`

	IRI         string `bun:"iri,notnull"`
	URL         string `bun:"url,notnull"` // the HTML profile
	Inbox       string `bun:"inbox,notnull"`
	SharedInbox string `bun:"shared_inbox,notnull"`
	Outbox      string `bun:"outbox,notnull"`
	Followers   string `bun:"followers,notnull"`
	Following   string `bun:"following,notnull"`
	Featured    string `bun:"featured,notnull"`

	DisplayName string `bun:"display_name,notnull"`
	// Note is the bio as sanitized HTML.
	Note      string `bun:"note,notnull"`
	AvatarURL string `bun:"avatar_url,notnull"`
	HeaderURL string `bun:"header_url,notnull"`
	// FieldsJSON and AlsoKnownAsJSON are the stored forms of Fields and
	// AlsoKnownAs; read those.
	FieldsJSON      string `bun:"fields,notnull"`
	AlsoKnownAsJSON string `bun:"also_known_as,notnull"`
	Bot             bool   `bun:"bot,notnull"`
	// Locked is manuallyApprovesFollowers: follows start as requests.
	Locked       bool `bun:"locked,notnull"`
	Discoverable bool `bun:"discoverable,notnull"`

	SilencedAt   time.Time `bun:"silenced_at,nullzero"`
	SuspendedAt  time.Time `bun:"suspended_at,nullzero"`
	CreatedAt    time.Time `bun:"created_at,notnull"`
	UpdatedAt    time.Time `bun:"updated_at,notnull"`
	FetchedAt    time.Time `bun:"fetched_at,nullzero"`
	LastStatusAt time.Time `bun:"last_status_at,nullzero"`
}

// Local reports whether the account lives on this server.
func (a *Account) Local() bool { return a.Domain == "" }

// Acct is the account's address as Mastodon writes it: "name" for local
// accounts, "name@domain" for remote ones.
func (a *Account) Acct() string {
	if a.Local() {
		return a.Username
	}
	return a.Username + "@" + a.Domain
}

// Suspended reports whether a moderator suspended the account.
func (a *Account) Suspended() bool { return !a.SuspendedAt.IsZero() }

// Silenced reports whether a moderator limited the account.
func (a *Account) Silenced() bool { return !a.SilencedAt.IsZero() }

// Fields returns the profile's name/value pairs.
func (a *Account) Fields() []Field {
	var f []Field
	if err := json.Unmarshal([]byte(a.FieldsJSON), &f); err != nil {
		return nil
	}
	return f
}

// AlsoKnownAs returns the account's aliases (actor IRIs).
func (a *Account) AlsoKnownAs() []string {
	var s []string
	if err := json.Unmarshal([]byte(a.AlsoKnownAsJSON), &s); err != nil {
		return nil
	}
	return s
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "[]" // slices of strings and Fields always marshal
	}
	return string(b)
}

// MaxUsernameLength is the longest local name.
const MaxUsernameLength = 30

var localNamePattern = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// NewLocal is what CreateLocal needs.
type NewLocal struct {
	// Kind defaults to KindPerson.
	Kind Kind
	// Username: 1-30 letters A-Z, digits and underscores, unique without
	// regard to case among local people and groups.
	Username string
	// UserID links a person to its sign-in account (internal/users).
	UserID      int64
	DisplayName string
	// Note is the bio as plain text.
	Note         string
	Bot          bool
	Locked       bool
	Discoverable bool
}

func validateLocalName(name string) error {
	switch {
	case name == "":
		return errkind.New(errkind.Invalid, "username is required")
	case len(name) > MaxUsernameLength:
		return errkind.New(errkind.Invalid, fmt.Sprintf("username is longer than %d characters", MaxUsernameLength))
	case !localNamePattern.MatchString(name):
		return errkind.New(errkind.Invalid, "username may contain only letters A-Z, digits and underscores")
	}
	return nil
}

// localPaths returns the IRI prefix of a local actor of kind k.
func (s *Service) localIRI(k Kind, name string) string {
	if k == KindGroup {
		return s.base + "/groups/" + name
	}
	return s.base + "/users/" + name
}

// CreateLocal creates a local actor and its key pair. A name already taken
// by a local person or group, ignoring case, is a Conflict; a UserID that
// does not exist or already has an actor is a Conflict too. Bad input is
// Invalid and nothing is stored.
func (s *Service) CreateLocal(ctx context.Context, nl NewLocal) (*Account, error) {
	if nl.Kind == "" {
		nl.Kind = KindPerson
	}
	switch nl.Kind {
	case KindPerson, KindGroup, KindService, KindApplication:
	default:
		return nil, fmt.Errorf("actors: create %q: %w", nl.Username, errkind.New(errkind.Invalid, fmt.Sprintf("kind %q is not person, group, service or application", nl.Kind)))
	}
	if err := validateLocalName(nl.Username); err != nil {
		return nil, fmt.Errorf("actors: create %q: %w", nl.Username, err)
	}
	if nl.UserID != 0 && nl.Kind != KindPerson {
		return nil, fmt.Errorf("actors: create %q: %w", nl.Username, errkind.New(errkind.Invalid, "only a person has a sign-in account"))
	}
	p := ProfileUpdate{DisplayName: &nl.DisplayName, Note: &nl.Note}
	now := s.timestamp()
	iri := s.localIRI(nl.Kind, nl.Username)
	a := &Account{
		Kind:            nl.Kind,
		Username:        nl.Username,
		UserID:          nl.UserID,
		IRI:             iri,
		URL:             s.base + "/@" + nl.Username,
		Inbox:           iri + "/inbox",
		SharedInbox:     s.base + "/inbox",
		Outbox:          iri + "/outbox",
		Followers:       iri + "/followers",
		Following:       iri + "/following",
		Featured:        iri + "/featured",
		FieldsJSON:      "[]",
		AlsoKnownAsJSON: "[]",
		Bot:             nl.Bot,
		Locked:          nl.Locked,
		Discoverable:    nl.Discoverable,
		CreatedAt:       now,
		UpdatedAt:       now,
	}
	if err := s.applyProfile(a, p); err != nil {
		return nil, fmt.Errorf("actors: create %q: %w", nl.Username, err)
	}
	var err error
	if a.ID, err = s.nextID(); err != nil {
		return nil, fmt.Errorf("actors: create %q: %w", nl.Username, err)
	}
	// The key pair is made first, outside the transaction (the key store
	// may write to this database), so that no actor is ever served
	// without keys. A name already taken is refused before that.
	taken, err := s.db.NewSelect().Model((*Account)(nil)).
		Where("lower(username) = lower(?) AND domain = ''", nl.Username).Count(ctx)
	if err != nil {
		return nil, fmt.Errorf("actors: create %q: %w", nl.Username, err)
	}
	if taken > 0 {
		return nil, fmt.Errorf("actors: create %q: %w", nl.Username, errkind.New(errkind.Conflict, "username is already taken"))
	}
	if _, err := s.keys.EnsureLocal(ctx, a.IRI); err != nil {
		return nil, fmt.Errorf("actors: create %q: keys: %w", nl.Username, err)
	}
	if _, err := s.db.NewInsert().Model(a).Exec(ctx); err != nil {
		return nil, fmt.Errorf("actors: create %q: %w", nl.Username, mapAccountError(err))
	}
	return a, nil
}

func mapAccountError(err error) error {
	v, ok := db.ConstraintOf(err)
	if !ok {
		return err
	}
	switch {
	case v.Name == "actors_name_key":
		return errkind.Wrap(errkind.Conflict, "username is already taken", err)
	case v.Name == "actors_user_id_key" || v.Name == "actors.user_id":
		return errkind.Wrap(errkind.Conflict, "this sign-in account already has a profile", err)
	case v.Name == "actors_iri_key" || v.Name == "actors.iri":
		return errkind.Wrap(errkind.Conflict, "an actor with this IRI already exists", err)
	case v.Kind == db.ForeignKey:
		return errkind.Wrap(errkind.Conflict, "no such sign-in account", err)
	}
	return db.MapError(err, "account could not be stored")
}

// ProfileUpdate changes a local profile; nil fields are left alone. Text is
// plain text, turned into sanitized HTML.
type ProfileUpdate struct {
	DisplayName  *string
	Note         *string
	AvatarURL    *string
	HeaderURL    *string
	Fields       *[]Field // values are plain text
	Bot          *bool
	Locked       *bool
	Discoverable *bool
}

// applyProfile validates p and writes it into a.
func (s *Service) applyProfile(a *Account, p ProfileUpdate) error {
	if p.DisplayName != nil {
		name := strings.TrimSpace(*p.DisplayName)
		if err := s.checkText("display name", name, s.cfg.MaxDisplayNameChars); err != nil {
			return err
		}
		a.DisplayName = name
	}
	if p.Note != nil {
		if err := s.checkText("bio", *p.Note, s.cfg.MaxNoteChars); err != nil {
			return err
		}
		a.Note = s.sanitize(plainToHTML(*p.Note, s.linkURLs))
	}
	for _, u := range []struct {
		name string
		in   *string
		out  *string
	}{{"avatar", p.AvatarURL, &a.AvatarURL}, {"header", p.HeaderURL, &a.HeaderURL}} {
		if u.in == nil {
			continue
		}
		if *u.in != "" && !isHTTPURL(*u.in) {
			return errkind.New(errkind.Invalid, u.name+" must be an http or https URL")
		}
		*u.out = *u.in
	}
	if p.Fields != nil {
		fs := *p.Fields
		if len(fs) > s.cfg.MaxFields {
			return errkind.New(errkind.Invalid, fmt.Sprintf("at most %d profile fields", s.cfg.MaxFields))
		}
		out := make([]Field, 0, len(fs))
		for _, f := range fs {
			name := strings.TrimSpace(f.Name)
			if name == "" {
				return errkind.New(errkind.Invalid, "a profile field needs a name")
			}
			if err := s.checkText("field name", name, s.cfg.MaxFieldNameChars); err != nil {
				return err
			}
			if err := s.checkText("field value", f.Value, s.cfg.MaxFieldValueChars); err != nil {
				return err
			}
			value := s.sanitize(plainToHTML(f.Value, s.linkURLs))
			value = strings.TrimSuffix(strings.TrimPrefix(value, "<p>"), "</p>")
			out = append(out, Field{Name: name, Value: value})
		}
		a.FieldsJSON = mustJSON(out)
	}
	if p.Bot != nil {
		a.Bot = *p.Bot
	}
	if p.Locked != nil {
		a.Locked = *p.Locked
	}
	if p.Discoverable != nil {
		a.Discoverable = *p.Discoverable
	}
	return nil
}

// checkText refuses text that is not valid UTF-8, holds control characters
// other than newlines and tabs, or is over max characters.
func (s *Service) checkText(what, text string, max int) error {
	if !utf8.ValidString(text) {
		return errkind.New(errkind.Invalid, what+" is not valid UTF-8")
	}
	for _, r := range text {
		if r < 0x20 && r != '\n' && r != '\r' && r != '\t' || r == 0x7f {
			return errkind.New(errkind.Invalid, what+" contains control characters")
		}
	}
	if n := utf8.RuneCountInString(text); n > max {
		return errkind.New(errkind.Invalid, fmt.Sprintf("%s is %d characters, over the limit of %d", what, n, max))
	}
	return nil
}

// UpdateProfile changes a local account's profile and sends an Update of
// the actor to its followers. Bad input is Invalid and nothing changes.
func (s *Service) UpdateProfile(ctx context.Context, id int64, p ProfileUpdate) (*Account, error) {
	a, err := s.localActor(ctx, s.db, id)
	if err == nil {
		err = s.applyProfile(a, p)
	}
	var doc *streams.Object
	if err == nil {
		a.UpdatedAt = s.timestamp()
		doc, err = s.actorDocument(ctx, a)
	}
	if err != nil {
		return nil, fmt.Errorf("actors: update profile %d: %w", id, err)
	}
	err = s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewUpdate().Model(a).WherePK().Exec(ctx); err != nil {
			return db.MapError(err, "profile could not be stored")
		}
		act, err := s.newActivity("Update", a, doc)
		if err != nil {
			return err
		}
		if err := setAudience(act, []string{streamsPublic}, []string{a.Followers}); err != nil {
			return err
		}
		return s.publish(ctx, a, act)
	})
	if err != nil {
		return nil, fmt.Errorf("actors: update profile %d: %w", id, err)
	}
	return a, nil
}

// Account returns the account with that id, or NotFound.
func (s *Service) Account(ctx context.Context, id int64) (*Account, error) {
	a, err := s.accountByID(ctx, s.db, id)
	if err != nil {
		return nil, fmt.Errorf("actors: account %d: %w", id, err)
	}
	return a, nil
}

func (s *Service) accountByID(ctx context.Context, q bun.IDB, id int64) (*Account, error) {
	a := new(Account)
	err := q.NewSelect().Model(a).Where("id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errkind.Wrap(errkind.NotFound, "no such account", err)
	}
	if err != nil {
		return nil, err
	}
	return a, nil
}

// AccountByIRI returns the stored account with that actor IRI, or NotFound.
// It never fetches; see RemoteActor.
func (s *Service) AccountByIRI(ctx context.Context, iri string) (*Account, error) {
	a, err := s.accountByIRI(ctx, s.db, iri)
	if err != nil {
		return nil, fmt.Errorf("actors: account %s: %w", iri, err)
	}
	return a, nil
}

func (s *Service) accountByIRI(ctx context.Context, q bun.IDB, iri string) (*Account, error) {
	a := new(Account)
	err := q.NewSelect().Model(a).Where("iri = ?", iri).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errkind.Wrap(errkind.NotFound, "no such account", err)
	}
	if err != nil {
		return nil, err
	}
	return a, nil
}

// LocalAccount returns the local person or group named name, ignoring
// case, or NotFound.
func (s *Service) LocalAccount(ctx context.Context, name string) (*Account, error) {
	return s.AccountByName(ctx, name, "")
}

// AccountByName returns the account name@domain ("" for local), ignoring
// the case of the name, or NotFound.
func (s *Service) AccountByName(ctx context.Context, name, domain string) (*Account, error) {
	a := new(Account)
	err := s.db.NewSelect().Model(a).
		Where("lower(username) = lower(?)", name).Where("domain = ?", strings.ToLower(domain)).
		Limit(1).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("actors: %s@%s: %w", name, domain, errkind.Wrap(errkind.NotFound, "no such account", err))
	}
	if err != nil {
		return nil, fmt.Errorf("actors: %s@%s: %w", name, domain, err)
	}
	return a, nil
}

// AccountByUser returns the local person of a sign-in account, or NotFound.
func (s *Service) AccountByUser(ctx context.Context, userID int64) (*Account, error) {
	a := new(Account)
	err := s.db.NewSelect().Model(a).Where("user_id = ?", userID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("actors: user %d: %w", userID, errkind.Wrap(errkind.NotFound, "no such account", err))
	}
	if err != nil {
		return nil, fmt.Errorf("actors: user %d: %w", userID, err)
	}
	return a, nil
}

// Counts are an account's numbers as this server knows them.
type Counts struct {
	Statuses  int // boosts included, as Mastodon counts them
	Followers int
	Following int
}

// Counts returns the number of statuses, accepted followers and accepted
// follows of an account, counted from the stored rows (indexed).
func (s *Service) Counts(ctx context.Context, id int64) (Counts, error) {
	var c Counts
	var err error
	q := func(table, col string, accepted bool) (int, error) {
		sel := s.db.NewSelect().Table(table).Where(col+" = ?", id)
		if accepted {
			sel = sel.Where("accepted = ?", true)
		}
		n, err := sel.Count(ctx)
		return int(n), err
	}
	if c.Followers, err = q("follows", "target_id", true); err != nil {
		return c, fmt.Errorf("actors: counts %d: %w", id, err)
	}
	if c.Following, err = q("follows", "follower_id", true); err != nil {
		return c, fmt.Errorf("actors: counts %d: %w", id, err)
	}
	if c.Statuses, err = q("statuses", "actor_id", false); err != nil {
		return c, fmt.Errorf("actors: counts %d: %w", id, err)
	}
	return c, nil
}
