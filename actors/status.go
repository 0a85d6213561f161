package actors

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/commonroom/commonroom/internal/db"
	"github.com/commonroom/commonroom/internal/errkind"
	"github.com/commonroom/commonroom/pub/webfinger"
	"github.com/commonroom/commonroom/streams"
)

// Visibility is who may see a status, with Mastodon's names.
type Visibility string

// The visibilities.
const (
	// Public: everyone, and listed in public timelines.
	Public Visibility = "public"
	// Unlisted: everyone, but not listed in public timelines.
	Unlisted Visibility = "unlisted"
	// Private: followers (and those mentioned) only.
	Private Visibility = "private"
	// Direct: those mentioned only.
	Direct Visibility = "direct"
)

// Status is a note, a reply or a boost: a row of the statuses table.
type Status struct {
	bun.BaseModel `bun:"table:statuses"`

	ID         int64      `bun:"id,pk"`
	IRI        string     `bun:"iri,notnull"`
	URL        string     `bun:"url,notnull"`
	ActorID    int64      `bun:"actor_id,notnull"`
	Local      bool       `bun:"local,notnull"`
	Visibility Visibility `bun:"visibility,notnull"`
	// InReplyToID is the stored parent; InReplyToIRI is the parent's IRI
	// even when it is not stored.
	InReplyToID      int64  `bun:"in_reply_to_id,nullzero"`
	InReplyToIRI     string `bun:"in_reply_to_iri,notnull"`
	InReplyToActorID int64  `bun:"in_reply_to_actor_id,nullzero"`
	// ReblogOfID is the boosted status of a boost.
	ReblogOfID int64 `bun:"reblog_of_id,nullzero"`
	// Conversation is the thread's context IRI.
	Conversation string `bun:"conversation,notnull"`
	// Content is sanitized HTML; Source is the author's text (local only).
	Content     string    `bun:"content,notnull"`
	Source      string    `bun:"source,notnull"`
	SpoilerText string    `bun:"spoiler_text,notnull"`
	Sensitive   bool      `bun:"sensitive,notnull"`
	Language    string    `bun:"language,notnull"`
	CreatedAt   time.Time `bun:"created_at,notnull"`
	EditedAt    time.Time `bun:"edited_at,nullzero"`
}

// StatusEdit is an earlier (or the current) version of an edited status.
type StatusEdit struct {
	bun.BaseModel `bun:"table:status_edits"`

	ID          int64     `bun:"id,pk"`
	StatusID    int64     `bun:"status_id,notnull"`
	Content     string    `bun:"content,notnull"`
	SpoilerText string    `bun:"spoiler_text,notnull"`
	Sensitive   bool      `bun:"sensitive,notnull"`
	CreatedAt   time.Time `bun:"created_at,notnull"`
}

type statusMention struct {
	bun.BaseModel `bun:"table:status_mentions"`

	StatusID int64 `bun:"status_id,pk"`
	ActorID  int64 `bun:"actor_id,pk"`
}

type statusTag struct {
	bun.BaseModel `bun:"table:status_tags"`

	StatusID int64  `bun:"status_id,pk"`
	Tag      string `bun:"tag,pk"`
}

type favourite struct {
	bun.BaseModel `bun:"table:favourites"`

	ID        int64     `bun:"id,pk"`
	ActorID   int64     `bun:"actor_id,notnull"`
	StatusID  int64     `bun:"status_id,notnull"`
	IRI       string    `bun:"iri,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
}

type bookmark struct {
	bun.BaseModel `bun:"table:bookmarks"`

	ActorID   int64     `bun:"actor_id,pk"`
	StatusID  int64     `bun:"status_id,pk"`
	CreatedAt time.Time `bun:"created_at,notnull"`
}

type pin struct {
	bun.BaseModel `bun:"table:pins"`

	ActorID   int64     `bun:"actor_id,pk"`
	StatusID  int64     `bun:"status_id,pk"`
	CreatedAt time.Time `bun:"created_at,notnull"`
}

type tombstone struct {
	bun.BaseModel `bun:"table:tombstones"`

	IRI       string    `bun:"iri,pk"`
	DeletedAt time.Time `bun:"deleted_at,notnull"`
}

type feedRow struct {
	bun.BaseModel `bun:"table:home_feed"`

	ActorID  int64 `bun:"actor_id,pk"`
	StatusID int64 `bun:"status_id,pk"`
	AuthorID int64 `bun:"author_id,notnull"`
}

// HandleResolver finds the actor IRI of a remote @user@host handle
// (WebFinger). *webfinger.Client implements it.
type HandleResolver interface {
	Resolve(ctx context.Context, handle string) (*webfinger.Resolution, error)
}

// MaxPins is how many statuses a person may pin.
const MaxPins = 5

// NewStatus is what Post needs.
type NewStatus struct {
	// Text is plain text; @name, @name@host, #tag and http(s) URLs become
	// links. Required, at most Config.MaxStatusChars characters together
	// with SpoilerText.
	Text string
	// Visibility defaults to Public.
	Visibility Visibility
	// InReplyToID, when set, must name a status the author can see.
	InReplyToID int64
	// SpoilerText is the content warning; Sensitive marks media and text
	// as sensitive (a content warning implies it).
	SpoilerText string
	Sensitive   bool
	// Language is a BCP 47 tag such as "en" or "pt-BR"; optional.
	Language string
}

var (
	languagePattern = regexp.MustCompile(`^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$`)
	mentionPattern  = regexp.MustCompile(`^@([A-Za-z0-9_]{1,30})(?:@([A-Za-z0-9.-]+(?::[0-9]{1,5})?))?$`)
	hashtagPattern  = regexp.MustCompile(`^#([\p{L}\p{N}_]{1,100})$`)
)

// statusIRI is the IRI of a's status id.
func (s *Service) statusIRI(a *Account, id int64) string {
	return a.IRI + "/statuses/" + strconv.FormatInt(id, 10)
}

// tagURL is the HTML page of a hashtag.
func (s *Service) tagURL(tag string) string { return s.base + "/tags/" + tag }

func (s *Service) validateText(text, spoiler, lang string) error {
	if strings.TrimSpace(text) == "" {
		return errkind.New(errkind.Invalid, "a status needs text")
	}
	if err := s.checkText("status", text+spoiler, s.cfg.MaxStatusChars); err != nil {
		return err
	}
	if lang != "" && !languagePattern.MatchString(lang) {
		return errkind.New(errkind.Invalid, "language must be a tag such as en or pt-BR")
	}
	return nil
}

// composed is a local status's text rendered: HTML, mentions and tags.
type composed struct {
	html     string
	mentions []*Account
	tags     []string
}

// splitToken separates trailing punctuation from a token.
func splitToken(tok string) (core, rest string) {
	core = strings.TrimRight(tok, ".,;:!?)\"'")
	return core, tok[len(core):]
}

// compose renders text, resolving mentions (local names, stored remote
// accounts, then WebFinger) and collecting hashtags. Unresolvable mentions
// stay plain text, as in Mastodon.
func (s *Service) compose(ctx context.Context, text string) (composed, error) {
	var c composed
	byHandle := map[string]*Account{}
	seenTag := map[string]bool{}
	for _, tok := range strings.Fields(text) {
		core, _ := splitToken(tok)
		if m := mentionPattern.FindStringSubmatch(core); m != nil {
			if _, done := byHandle[strings.ToLower(core)]; done {
				continue
			}
			a, err := s.resolveMention(ctx, m[1], m[2])
			if err != nil {
				return c, err
			}
			byHandle[strings.ToLower(core)] = a
			if a != nil && !containsAccount(c.mentions, a.ID) {
				c.mentions = append(c.mentions, a)
			}
		} else if m := hashtagPattern.FindStringSubmatch(core); m != nil {
			tag := strings.ToLower(m[1])
			if !seenTag[tag] {
				seenTag[tag] = true
				c.tags = append(c.tags, tag)
			}
		}
	}
	link := func(tok string) string {
		core, rest := splitToken(tok)
		if a := byHandle[strings.ToLower(core)]; a != nil {
			href := a.URL
			if href == "" {
				href = a.IRI
			}
			return `<span class="h-card"><a href="` + htmlAttr(href) + `" class="u-url mention">@<span>` +
				htmlText(a.Username) + `</span></a></span>` + htmlText(rest)
		}
		if m := hashtagPattern.FindStringSubmatch(core); m != nil {
			return `<a href="` + htmlAttr(s.tagURL(strings.ToLower(m[1]))) + `" class="mention hashtag" rel="tag">#<span>` +
				htmlText(m[1]) + `</span></a>` + htmlText(rest)
		}
		if isHTTPURL(core) && (strings.HasPrefix(core, "https://") || strings.HasPrefix(core, "http://")) {
			return s.linkURLs(core) + htmlText(rest)
		}
		return htmlText(tok)
	}
	c.html = s.sanitize(plainToHTML(text, link))
	return c, nil
}

func containsAccount(as []*Account, id int64) bool {
	for _, a := range as {
		if a.ID == id {
			return true
		}
	}
	return false
}

// resolveMention finds the account of @name[@domain], or nil.
func (s *Service) resolveMention(ctx context.Context, name, domain string) (*Account, error) {
	if domain == "" || strings.EqualFold(domain, s.origin.Host+portSuffix(s.origin.Port)) {
		a, err := s.LocalAccount(ctx, name)
		if errkind.Of(err) == errkind.NotFound || err == nil && a.Suspended() {
			return nil, nil
		}
		return a, err
	}
	a, err := s.AccountByName(ctx, name, domain)
	if err == nil {
		if a.Suspended() {
			return nil, nil
		}
		return a, nil
	}
	if errkind.Of(err) != errkind.NotFound {
		return nil, err
	}
	if s.handles == nil {
		return nil, nil
	}
	res, err := s.handles.Resolve(ctx, name+"@"+domain)
	if err != nil {
		s.log.InfoContext(ctx, "actors: mention not resolved", "handle", name+"@"+domain, "error", err)
		return nil, nil
	}
	a, err = s.RemoteActor(ctx, res.Actor)
	if err != nil {
		s.log.InfoContext(ctx, "actors: mentioned actor not fetched", "actor", res.Actor, "error", err)
		return nil, nil
	}
	return a, nil
}

// Post publishes a local status: it is stored with its mentions and tags,
// put into the home timelines of the author and of local followers (or,
// for a direct status, of those mentioned), local mentions are notified,
// and a Create of the Note is published, addressed as Mastodon does for the
// visibility. Empty or over-long text, a bad visibility or language, and an
// unknown or invisible reply target are Invalid or NotFound, and nothing is
// stored.
func (s *Service) Post(ctx context.Context, authorID int64, ns NewStatus) (*Status, error) {
	st, err := s.post(ctx, authorID, ns)
	if err != nil {
		return nil, fmt.Errorf("actors: post by %d: %w", authorID, err)
	}
	return st, nil
}

func (s *Service) post(ctx context.Context, authorID int64, ns NewStatus) (*Status, error) {
	if ns.Visibility == "" {
		ns.Visibility = Public
	}
	switch ns.Visibility {
	case Public, Unlisted, Private, Direct:
	default:
		return nil, errkind.New(errkind.Invalid, "visibility must be public, unlisted, private or direct")
	}
	if err := s.validateText(ns.Text, ns.SpoilerText, ns.Language); err != nil {
		return nil, err
	}
	author, err := s.localActor(ctx, s.db, authorID)
	if err != nil {
		return nil, err
	}
	var parent *Status
	if ns.InReplyToID != 0 {
		parent, err = s.visibleStatus(ctx, s.db, authorID, ns.InReplyToID)
		if err != nil {
			return nil, errkind.Wrap(errkind.NotFound, "the status replied to does not exist", err)
		}
	}
	c, err := s.compose(ctx, ns.Text)
	if err != nil {
		return nil, err
	}
	id, err := s.nextID()
	if err != nil {
		return nil, err
	}
	st := &Status{
		ID: id, IRI: s.statusIRI(author, id), URL: author.URL + "/" + strconv.FormatInt(id, 10),
		ActorID: author.ID, Local: true, Visibility: ns.Visibility,
		Content: c.html, Source: ns.Text, SpoilerText: strings.TrimSpace(ns.SpoilerText),
		Sensitive: ns.Sensitive || strings.TrimSpace(ns.SpoilerText) != "", Language: ns.Language,
		CreatedAt: s.timestamp(),
	}
	st.Conversation = s.base + "/contexts/" + strconv.FormatInt(id, 10)
	if parent != nil {
		st.InReplyToID, st.InReplyToIRI, st.InReplyToActorID = parent.ID, parent.IRI, parent.ActorID
		if parent.Conversation != "" {
			st.Conversation = parent.Conversation
		}
	}
	err = s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.insertStatus(ctx, tx, st, author, c.mentions, c.tags); err != nil {
			return err
		}
		note, err := s.noteObject(ctx, tx, st, author)
		if err != nil {
			return err
		}
		act, err := s.newActivity("Create", author, note)
		if err != nil {
			return err
		}
		if err := copyAudience(act, note); err != nil {
			return err
		}
		return s.publish(ctx, author, act)
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// insertStatus stores st with its mentions and tags, fans it out and
// notifies those mentioned.
func (s *Service) insertStatus(ctx context.Context, tx bun.IDB, st *Status, author *Account, mentions []*Account, tags []string) error {
	if _, err := tx.NewInsert().Model(st).Exec(ctx); err != nil {
		return mapStatusError(err)
	}
	for _, m := range mentions {
		if _, err := tx.NewInsert().Model(&statusMention{StatusID: st.ID, ActorID: m.ID}).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
			return err
		}
	}
	for _, t := range tags {
		if _, err := tx.NewInsert().Model(&statusTag{StatusID: st.ID, Tag: t}).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
			return err
		}
	}
	if _, err := tx.NewUpdate().Model((*Account)(nil)).Set("last_status_at = ?", st.CreatedAt).Where("id = ?", author.ID).Exec(ctx); err != nil {
		return err
	}
	if err := s.fanOut(ctx, tx, st, author, mentions); err != nil {
		return err
	}
	for _, m := range mentions {
		if m.Local() {
			if err := s.notify(ctx, tx, m.ID, NotifyMention, author.ID, st.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

func mapStatusError(err error) error {
	v, ok := db.ConstraintOf(err)
	if !ok {
		return err
	}
	switch {
	case v.Name == "statuses_reblog_key" || strings.Contains(v.Name, "reblog_of_id"):
		return errkind.Wrap(errkind.Conflict, "already boosted", err)
	case v.Name == "statuses_iri_key" || v.Name == "statuses.iri":
		return errkind.Wrap(errkind.Conflict, "the status already exists", err)
	}
	return db.MapError(err, "the status could not be stored")
}

// fanOut puts st into home timelines: the author's (when local), local
// accepted followers' for all but direct statuses, and local mentioned
// accounts'. A follower who blocks or mutes the author (or, for a boost,
// the boosted status's author) is skipped, and a reply reaches only
// followers who also follow the account replied to. Each row records the
// status's own author, so that an unfollow takes out what came through
// the follow, boosts included.
func (s *Service) fanOut(ctx context.Context, tx bun.IDB, st *Status, author *Account, mentions []*Account) error {
	authorID := author.ID // the boosted status's author, for a boost
	if st.ReblogOfID != 0 {
		orig, err := s.statusByID(ctx, tx, st.ReblogOfID)
		if err != nil {
			return err
		}
		authorID = orig.ActorID
	}
	if st.Visibility != Direct {
		// One statement for all followers, however many there are.
		query := `INSERT INTO home_feed (actor_id, status_id, author_id)
			SELECT f.follower_id, ?, ? FROM follows AS f JOIN actors AS a ON a.id = f.follower_id
			WHERE f.target_id = ? AND f.accepted = ? AND a.domain = ''
			AND NOT EXISTS (SELECT 1 FROM mutes AS m WHERE m.actor_id = f.follower_id AND m.target_id IN (?, ?))
			AND NOT EXISTS (SELECT 1 FROM blocks AS b WHERE b.actor_id = f.follower_id AND b.target_id IN (?, ?))`
		args := []any{st.ID, author.ID, author.ID, true, author.ID, authorID, author.ID, authorID}
		if st.InReplyToActorID != 0 && st.InReplyToActorID != author.ID {
			query += ` AND EXISTS (SELECT 1 FROM follows AS g WHERE g.follower_id = f.follower_id AND g.target_id = ? AND g.accepted = ?)`
			args = append(args, st.InReplyToActorID, true)
		}
		if _, err := tx.ExecContext(ctx, query+` ON CONFLICT DO NOTHING`, args...); err != nil {
			return err
		}
	}
	var recipients []int64
	if author.Local() {
		recipients = append(recipients, author.ID)
	}
	for _, m := range mentions {
		if m.Local() && (st.Visibility == Direct || st.Visibility == Private) {
			recipients = append(recipients, m.ID)
		}
	}
	for _, r := range recipients {
		row := &feedRow{ActorID: r, StatusID: st.ID, AuthorID: author.ID}
		if _, err := tx.NewInsert().Model(row).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
			return err
		}
	}
	return nil
}

// audience returns the to and cc of a status, as Mastodon addresses them:
// public: to Public, cc followers; unlisted: to followers, cc Public;
// private: to followers; direct: to those mentioned. Mentioned accounts are
// added to cc (to, for direct).
func audience(v Visibility, author *Account, mentions []string) (to, cc []string) {
	switch v {
	case Public:
		to, cc = []string{streamsPublic}, []string{author.Followers}
	case Unlisted:
		to, cc = []string{author.Followers}, []string{streamsPublic}
	case Private:
		to = []string{author.Followers}
	case Direct:
		return mentions, nil
	}
	for _, m := range mentions {
		cc = append(cc, m)
	}
	return to, cc
}

// noteObject builds the Note of a stored status.
func (s *Service) noteObject(ctx context.Context, q bun.IDB, st *Status, author *Account) (*streams.Object, error) {
	var mentioned []Account
	err := q.NewSelect().Model(&mentioned).
		Where("id IN (SELECT actor_id FROM status_mentions WHERE status_id = ?)", st.ID).Order("id").Scan(ctx)
	if err != nil {
		return nil, err
	}
	var tags []string
	if err := q.NewSelect().Model((*statusTag)(nil)).Column("tag").Where("status_id = ?", st.ID).Order("tag").Scan(ctx, &tags); err != nil {
		return nil, err
	}
	mentionIRIs := make([]string, len(mentioned))
	for i, m := range mentioned {
		mentionIRIs[i] = m.IRI
	}
	to, cc := audience(st.Visibility, author, mentionIRIs)
	note := s.reg.New("Note")
	note.SetID(st.IRI)
	set := []struct {
		name string
		v    streams.Value
	}{
		{"attributedTo", streams.IRI(author.IRI)},
		{"content", streams.String(st.Content)},
		{"url", streams.IRI(st.URL)},
		// Whole seconds, as Mastodon writes them: the engine's store keeps
		// milliseconds, and an Update must repeat published exactly.
		{"published", streams.Time(st.CreatedAt.Truncate(time.Second))},
		{"sensitive", streams.Bool(st.Sensitive)},
		{"context", streams.IRI(st.Conversation)},
	}
	if st.SpoilerText != "" {
		set = append(set, struct {
			name string
			v    streams.Value
		}{"summary", streams.String(st.SpoilerText)})
	}
	if st.InReplyToIRI != "" {
		set = append(set, struct {
			name string
			v    streams.Value
		}{"inReplyTo", streams.IRI(st.InReplyToIRI)})
	}
	if !st.EditedAt.IsZero() {
		set = append(set, struct {
			name string
			v    streams.Value
		}{"updated", streams.Time(st.EditedAt.Truncate(time.Second))})
	}
	for _, m := range set {
		if err := note.Set(m.name, m.v); err != nil {
			return nil, fmt.Errorf("note: set %s: %w", m.name, err)
		}
	}
	if st.Language != "" {
		if err := note.SetLangMap("contentMap", map[string]string{st.Language: st.Content}); err != nil {
			return nil, fmt.Errorf("note: contentMap: %w", err)
		}
	}
	var tagVals []streams.Value
	for _, m := range mentioned {
		t := s.reg.New("Mention")
		if err := t.Set("href", streams.IRI(m.IRI)); err != nil {
			return nil, err
		}
		if err := t.Set("name", streams.String("@"+m.Username+"@"+s.domainOf(&m))); err != nil {
			return nil, err
		}
		tagVals = append(tagVals, streams.ObjectValue(t))
	}
	for _, tag := range tags {
		t := s.reg.New("Hashtag")
		if err := t.Set("href", streams.IRI(s.tagURL(tag))); err != nil {
			return nil, err
		}
		if err := t.Set("name", streams.String("#"+tag)); err != nil {
			return nil, err
		}
		tagVals = append(tagVals, streams.ObjectValue(t))
	}
	if len(tagVals) > 0 {
		if err := note.Set("tag", streams.Array(tagVals...)); err != nil {
			return nil, err
		}
	}
	if err := setAudience(note, to, cc); err != nil {
		return nil, err
	}
	return note, nil
}

// domainOf is the domain of a's handle: ours for local accounts.
func (s *Service) domainOf(a *Account) string {
	if a.Local() {
		return s.origin.Host + portSuffix(s.origin.Port)
	}
	return a.Domain
}

// copyAudience copies to and cc from one object to another.
func copyAudience(dst, src *streams.Object) error {
	return setAudience(dst, src.IRIs("to"), src.IRIs("cc"))
}

func (s *Service) statusByID(ctx context.Context, q bun.IDB, id int64) (*Status, error) {
	st := new(Status)
	err := q.NewSelect().Model(st).Where("id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errkind.Wrap(errkind.NotFound, "no such status", err)
	}
	if err != nil {
		return nil, err
	}
	return st, nil
}

func (s *Service) statusByIRI(ctx context.Context, q bun.IDB, iri string) (*Status, error) {
	st := new(Status)
	err := q.NewSelect().Model(st).Where("iri = ?", iri).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errkind.Wrap(errkind.NotFound, "no such status", err)
	}
	if err != nil {
		return nil, err
	}
	return st, nil
}

// canSee reports whether viewer (0 for nobody signed in) may see st: its
// author is not suspended, nobody blocks anybody, and the visibility lets
// the viewer in (followers for private, mentions for private and direct).
func (s *Service) canSee(ctx context.Context, q bun.IDB, viewer int64, st *Status) (bool, error) {
	author, err := s.accountByID(ctx, q, st.ActorID)
	if err != nil {
		return false, err
	}
	if author.Suspended() {
		return false, nil
	}
	if viewer == st.ActorID {
		return true, nil
	}
	if viewer != 0 {
		n, err := q.NewSelect().Model((*Block)(nil)).
			Where("(actor_id = ? AND target_id = ?) OR (actor_id = ? AND target_id = ?)", viewer, st.ActorID, st.ActorID, viewer).Count(ctx)
		if err != nil || n > 0 {
			return false, err
		}
	}
	switch st.Visibility {
	case Public, Unlisted:
		return true, nil
	}
	if viewer == 0 {
		return false, nil
	}
	n, err := q.NewSelect().Model((*statusMention)(nil)).Where("status_id = ? AND actor_id = ?", st.ID, viewer).Count(ctx)
	if err != nil || n > 0 {
		return n > 0, err
	}
	if st.Visibility == Direct {
		return false, nil
	}
	n, err = q.NewSelect().Model((*Follow)(nil)).Where("follower_id = ? AND target_id = ? AND accepted = ?", viewer, st.ActorID, true).Count(ctx)
	return n > 0, err
}

// visibleStatus loads a status viewer may see, or NotFound (also for
// statuses that exist but are hidden from viewer).
func (s *Service) visibleStatus(ctx context.Context, q bun.IDB, viewer, id int64) (*Status, error) {
	st, err := s.statusByID(ctx, q, id)
	if err != nil {
		return nil, err
	}
	ok, err := s.canSee(ctx, q, viewer, st)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errkind.New(errkind.NotFound, "no such status")
	}
	return st, nil
}

// Status returns the status id if viewer (0: anonymous) may see it, or
// NotFound.
func (s *Service) Status(ctx context.Context, viewer, id int64) (*Status, error) {
	st, err := s.visibleStatus(ctx, s.db, viewer, id)
	if err != nil {
		return nil, fmt.Errorf("actors: status %d: %w", id, err)
	}
	return st, nil
}

// StatusByIRI returns the stored status with that IRI if viewer may see
// it, or NotFound.
func (s *Service) StatusByIRI(ctx context.Context, viewer int64, iri string) (*Status, error) {
	st, err := s.statusByIRI(ctx, s.db, iri)
	if err == nil {
		st, err = s.visibleStatus(ctx, s.db, viewer, st.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("actors: status %s: %w", iri, err)
	}
	return st, nil
}

// Mentions returns the accounts a status mentions.
func (s *Service) Mentions(ctx context.Context, statusID int64) ([]Account, error) {
	var out []Account
	err := s.db.NewSelect().Model(&out).
		Where("id IN (SELECT actor_id FROM status_mentions WHERE status_id = ?)", statusID).Order("id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("actors: mentions of %d: %w", statusID, err)
	}
	return out, nil
}

// Tags returns a status's hashtags, lower-case, sorted.
func (s *Service) Tags(ctx context.Context, statusID int64) ([]string, error) {
	var out []string
	if err := s.db.NewSelect().Model((*statusTag)(nil)).Column("tag").Where("status_id = ?", statusID).Order("tag").Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("actors: tags of %d: %w", statusID, err)
	}
	return out, nil
}

// StatusCounts are a status's numbers as this server knows them.
type StatusCounts struct {
	Replies    int
	Reblogs    int
	Favourites int
}

// StatusCounts counts a status's stored replies, boosts and favourites.
func (s *Service) StatusCounts(ctx context.Context, id int64) (StatusCounts, error) {
	var c StatusCounts
	for _, q := range []struct {
		n     *int
		model any
		where string
	}{
		{&c.Replies, (*Status)(nil), "in_reply_to_id = ?"},
		{&c.Reblogs, (*Status)(nil), "reblog_of_id = ?"},
		{&c.Favourites, (*favourite)(nil), "status_id = ?"},
	} {
		n, err := s.db.NewSelect().Model(q.model).Where(q.where, id).Count(ctx)
		if err != nil {
			return c, fmt.Errorf("actors: counts of status %d: %w", id, err)
		}
		*q.n = int(n)
	}
	return c, nil
}
