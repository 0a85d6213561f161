package actors

import (
	"context"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/commonroom/commonroom/internal/errkind"
	"github.com/commonroom/commonroom/pub/transport"
	"github.com/commonroom/commonroom/streams"
)

// isNote reports whether o is of a type stored as a status.
func isNote(o *streams.Object) bool {
	return o.Is("Note") || o.Is("Article") || o.Is("Page") || o.Is("Question")
}

// trustedObject returns the object of an inbound activity in a form that
// may be stored: the engine's trusted copy, or else the document fetched
// from the object's own origin (SECURITY.md rule 11); never an inline copy.
func (s *Service) trustedObject(ctx context.Context, in Incoming) (*streams.Object, error) {
	if in.Object != nil {
		return in.Object, nil
	}
	iri := in.Activity.IRI("object")
	if iri == "" {
		return nil, errkind.New(errkind.Invalid, "the activity has no object")
	}
	if s.isLocal(iri) {
		return nil, errkind.New(errkind.Forbidden, "a remote activity cannot create or change our objects")
	}
	obj, err := s.fetch.Fetch(ctx, iri)
	if err != nil {
		return nil, errkind.Wrap(errkind.NotFound, "the object could not be fetched", err)
	}
	return obj, nil
}

func sameOrigin(a, b string) bool {
	oa, err1 := transport.ParseOrigin(a)
	ob, err2 := transport.ParseOrigin(b)
	return err1 == nil && err2 == nil && oa == ob
}

// receiveStatusActivity handles Create, Update, Delete, Like and Announce.
func (s *Service) receiveStatusActivity(ctx context.Context, actor *Account, in Incoming) error {
	var err error
	switch in.Activity.Type() {
	case "Create":
		err = s.receiveCreate(ctx, actor, in)
	case "Update":
		err = s.receiveUpdate(ctx, actor, in)
	case "Delete":
		err = s.receiveDelete(ctx, actor, in.Activity)
	case "Like":
		err = s.receiveLike(ctx, actor, in.Activity)
	case "Announce":
		err = s.receiveAnnounce(ctx, actor, in.Activity)
	case "Flag":
		err = s.receiveFlag(ctx, actor, in.Activity)
	default:
		return nil
	}
	if errkind.Of(err) == errkind.Conflict {
		return nil // already recorded: a duplicate or parallel delivery
	}
	return err
}

func (s *Service) receiveCreate(ctx context.Context, actor *Account, in Incoming) error {
	note, err := s.trustedObject(ctx, in)
	if err != nil {
		return err
	}
	if !isNote(note) {
		return nil
	}
	st, err := s.storeRemoteNote(ctx, actor, note)
	if err != nil {
		return err
	}
	s.fetchAncestors(ctx, st)
	return nil
}

// fetchAncestors completes the thread of a stored remote reply whose parent
// we do not hold: it walks up inReplyTo, fetching each missing ancestor
// through the Fetcher and storing it through fetchRemoteNote (origin
// checks, domain blocks, tombstones), linking each child to its parent. It
// stops at the top of the thread, at an ancestor already stored, at one of
// ours, after MaxThreadDepth ancestors, when the chain loops, or at the
// first fetch that fails (the engine's per-activity fetch budget running
// out among them: SECURITY.md rule 20). A failure is logged, never
// returned: the reply itself is stored either way.
func (s *Service) fetchAncestors(ctx context.Context, st *Status) {
	if st == nil || st.InReplyToID != 0 || st.InReplyToIRI == "" {
		return
	}
	child := st
	seen := map[string]bool{stripFragment(st.IRI): true}
	walked := map[int64]bool{st.ID: true} // never linked into a cycle
	for depth := 0; ; depth++ {
		iri := stripFragment(child.InReplyToIRI)
		switch {
		case seen[iri]:
			s.log.InfoContext(ctx, "actors: reply chain loops", "status", st.IRI, "at", iri)
			return
		case depth >= MaxThreadDepth:
			s.log.InfoContext(ctx, "actors: reply chain too long", "status", st.IRI, "depth", depth)
			return
		case s.isLocal(iri):
			return // ours: stored (and linked on arrival) or deleted; never fetched
		}
		seen[iri] = true
		parent, err := s.statusByIRI(ctx, s.db, iri)
		stored := err == nil
		if errkind.Of(err) == errkind.NotFound {
			parent, err = s.fetchRemoteNote(ctx, iri)
		}
		if err != nil {
			s.log.InfoContext(ctx, "actors: ancestor not fetched", "status", st.IRI, "ancestor", iri, "depth", depth+1, "error", err)
			return
		}
		if parent.ReblogOfID != 0 {
			return
		}
		if walked[parent.ID] || walked[parent.InReplyToID] {
			// Stored just now as a reply to this very chain: A→B→A.
			s.log.InfoContext(ctx, "actors: reply chain loops", "status", st.IRI, "at", iri)
			return
		}
		walked[parent.ID] = true
		_, err = s.db.NewUpdate().Model((*Status)(nil)).
			Set("in_reply_to_id = ?", parent.ID).Set("in_reply_to_actor_id = ?", parent.ActorID).
			Where("id = ? AND in_reply_to_id IS NULL", child.ID).Exec(ctx)
		if err != nil {
			s.log.ErrorContext(ctx, "actors: link reply to its parent", "status", child.IRI, "parent", parent.IRI, "error", err)
			return
		}
		if child == st {
			st.InReplyToID, st.InReplyToActorID = parent.ID, parent.ActorID
		}
		if stored || parent.InReplyToID != 0 || parent.InReplyToIRI == "" {
			return
		}
		seen[stripFragment(parent.IRI)] = true
		child = parent
	}
}

// storeRemoteNote stores a remote note by author (already checked to be
// the note's origin), unless it was deleted (rule 22) or is stored already.
func (s *Service) storeRemoteNote(ctx context.Context, author *Account, note *streams.Object) (*Status, error) {
	id := note.ID()
	if id == "" || note.IRI("attributedTo") != author.IRI || !sameOrigin(id, author.IRI) {
		return nil, errkind.New(errkind.Forbidden, "the note is not its sender's")
	}
	if st, err := s.statusByIRI(ctx, s.db, id); err == nil {
		return st, nil
	}
	if dead, err := s.tombstoned(ctx, s.db, id); err != nil || dead {
		if err == nil {
			err = errkind.New(errkind.Gone, "the note was deleted")
		}
		return nil, err
	}
	rowID, err := s.nextID()
	if err != nil {
		return nil, err
	}
	st := &Status{ID: rowID, IRI: id, ActorID: author.ID, Local: false, CreatedAt: s.timestamp()}
	s.readNote(st, note)
	st.Visibility = visibilityOf(note, author)
	if t, ok := note.Time("published"); ok && t.Before(st.CreatedAt) {
		st.CreatedAt = t.UTC().Truncate(time.Microsecond)
	}
	if parentIRI := note.IRI("inReplyTo"); parentIRI != "" {
		st.InReplyToIRI = parentIRI
		if parent, err := s.statusByIRI(ctx, s.db, parentIRI); err == nil {
			st.InReplyToID, st.InReplyToActorID = parent.ID, parent.ActorID
			if st.Conversation == "" {
				st.Conversation = parent.Conversation
			}
		}
	}
	if st.Conversation == "" {
		st.Conversation = id
	}
	mentions, tags, err := s.noteTags(ctx, note)
	if err != nil {
		return nil, err
	}
	err = s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		return s.insertStatus(ctx, tx, st, author, mentions, tags)
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// readNote copies a note's text into st, sanitized and cut to the remote
// caps (rule 26).
func (s *Service) readNote(st *Status, note *streams.Object) {
	content := note.String("content")
	lang := ""
	for l, c := range note.LangMap("content") {
		if l != "" && languagePattern.MatchString(l) {
			lang = l
			if content == "" {
				content = c
			}
			break
		}
	}
	st.Content = s.sanitize(truncateRunes(content, s.cfg.MaxRemoteStatusChars))
	st.SpoilerText = truncateRunes(plainLine(s.htmlToText(note.String("summary"))), s.cfg.MaxStatusChars*2)
	st.Sensitive = boolOf(note, "sensitive") || st.SpoilerText != ""
	st.Language = lang
	st.URL = urlOf(note, "url")
	if st.URL == "" {
		st.URL = note.ID()
	}
	st.Conversation = note.IRI("context")
	if st.Conversation == "" {
		st.Conversation = note.IRI("ostatus:conversation")
	}
	if !isHTTPURL(st.Conversation) && !strings.HasPrefix(st.Conversation, "tag:") {
		st.Conversation = ""
	}
	if len(st.Conversation) > 2048 {
		st.Conversation = ""
	}
}

// visibilityOf reads a remote note's visibility from its addressing, as
// Mastodon does.
func visibilityOf(note *streams.Object, author *Account) Visibility {
	to, cc := note.IRIs("to"), note.IRIs("cc")
	has := func(list []string, iri string) bool {
		for _, x := range list {
			if x == iri || iri == streamsPublic && (x == "as:Public" || x == "Public") {
				return true
			}
		}
		return false
	}
	switch {
	case has(to, streamsPublic):
		return Public
	case has(cc, streamsPublic):
		return Unlisted
	case author.Followers != "" && (has(to, author.Followers) || has(cc, author.Followers)):
		return Private
	}
	return Direct
}

// noteTags reads a note's mentions of stored accounts (never fetching)
// and its hashtags, at most MaxRemoteTags of each.
func (s *Service) noteTags(ctx context.Context, note *streams.Object) ([]*Account, []string, error) {
	var mentions []*Account
	var tags []string
	seen := map[string]bool{}
	for _, t := range note.Objects("tag") {
		switch {
		case t.Is("Mention") && len(mentions) < s.cfg.MaxRemoteTags:
			href := t.IRI("href")
			if seen[href] {
				continue
			}
			seen[href] = true
			a, err := s.accountByIRI(ctx, s.db, href)
			if errkind.Of(err) == errkind.NotFound {
				continue
			}
			if err != nil {
				return nil, nil, err
			}
			if !a.Suspended() {
				mentions = append(mentions, a)
			}
		case t.Is("Hashtag") && len(tags) < s.cfg.MaxRemoteTags:
			name := strings.ToLower(strings.TrimPrefix(t.String("name"), "#"))
			if hashtagPattern.MatchString("#"+name) && !seen["#"+name] {
				seen["#"+name] = true
				tags = append(tags, name)
			}
		}
	}
	return mentions, tags, nil
}

// receiveUpdate refreshes an actor (from its own document) or applies an
// edit of the actor's own note. An Update of someone else's note, or one
// that changes attributedTo or published, is refused and changes nothing
// (rule 23).
func (s *Service) receiveUpdate(ctx context.Context, actor *Account, in Incoming) error {
	objIRI := in.Activity.IRI("object")
	if stripFragment(objIRI) == actor.IRI {
		_, err := s.RefreshRemote(ctx, actor.IRI)
		return err
	}
	st, err := s.statusByIRI(ctx, s.db, objIRI)
	if errkind.Of(err) == errkind.NotFound {
		return s.receiveUnknownUpdate(ctx, actor, in)
	}
	if err != nil {
		return err
	}
	if st.ActorID != actor.ID {
		return errkind.New(errkind.Forbidden, "only the author can update a note")
	}
	note, err := s.trustedObject(ctx, in)
	if err != nil {
		return err
	}
	if note.ID() != st.IRI || note.IRI("attributedTo") != actor.IRI {
		return errkind.New(errkind.Forbidden, "an update cannot change a note's author")
	}
	if t, ok := note.Time("published"); ok && !t.UTC().Truncate(1e9).Equal(st.CreatedAt.Truncate(1e9)) {
		return errkind.New(errkind.Forbidden, "an update cannot change when a note was published")
	}
	mentions, tags, err := s.noteTags(ctx, note)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if st.EditedAt.IsZero() {
			if err := s.recordVersion(ctx, tx, st); err != nil {
				return err
			}
		}
		vis, conv := st.Visibility, st.Conversation
		s.readNote(st, note)
		st.Visibility, st.Conversation = vis, conv
		st.EditedAt = s.timestamp()
		if t, ok := note.Time("updated"); ok && t.Before(st.EditedAt) && t.After(st.CreatedAt) {
			st.EditedAt = t.UTC().Truncate(time.Microsecond)
		}
		if _, err := tx.NewUpdate().Model(st).WherePK().Exec(ctx); err != nil {
			return mapStatusError(err)
		}
		if err := s.replaceTags(ctx, tx, st.ID, tags); err != nil {
			return err
		}
		if err := s.addMentions(ctx, tx, st, actor, mentions); err != nil {
			return err
		}
		if err := s.recordVersion(ctx, tx, st); err != nil {
			return err
		}
		return s.notifyBoosters(ctx, tx, st, actor.ID)
	})
}

// receiveUnknownUpdate handles the edit of a note we never stored: it is
// ignored unless it mentions one of our people (an edit that adds them),
// in which case the note is stored as a Create would store it, and they
// are notified.
func (s *Service) receiveUnknownUpdate(ctx context.Context, actor *Account, in Incoming) error {
	// The inline copy only decides whether the edit is worth a fetch; what
	// is stored is the trusted copy, checked again.
	hint := in.Object
	if hint == nil {
		hint = in.Activity.Object("object")
	}
	if !s.mentionsLocal(hint) {
		return nil
	}
	note, err := s.trustedObject(ctx, in)
	if err != nil {
		return err
	}
	if !isNote(note) || !s.mentionsLocal(note) {
		return nil
	}
	_, err = s.storeRemoteNote(ctx, actor, note)
	return err
}

// mentionsLocal reports whether note (nil: no) tags one of our people.
func (s *Service) mentionsLocal(note *streams.Object) bool {
	if note == nil {
		return false
	}
	for _, t := range note.Objects("tag") {
		if t.Is("Mention") && s.isLocal(t.IRI("href")) {
			return true
		}
	}
	return false
}

// receiveDelete removes the actor's own note (or the actor itself, with
// everything of theirs). A Delete of a note never seen still tombstones
// its IRI when it is on the actor's origin, so that a late Create cannot
// bring it back (rule 22).
func (s *Service) receiveDelete(ctx context.Context, actor *Account, act *streams.Object) error {
	objIRI := stripFragment(act.IRI("object"))
	if objIRI == "" {
		return errkind.New(errkind.Invalid, "a Delete needs an object")
	}
	return s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if objIRI == actor.IRI {
			if _, err := tx.NewDelete().Model((*Account)(nil)).Where("id = ?", actor.ID).Exec(ctx); err != nil {
				return err
			}
			return s.addTombstone(ctx, tx, actor.IRI)
		}
		st, err := s.statusByIRI(ctx, tx, objIRI)
		if errkind.Of(err) == errkind.NotFound {
			if sameOrigin(objIRI, actor.IRI) {
				return s.addTombstone(ctx, tx, objIRI)
			}
			return nil
		}
		if err != nil {
			return err
		}
		if st.ActorID != actor.ID {
			return errkind.New(errkind.Forbidden, "only the author can delete a note")
		}
		return s.removeStatus(ctx, tx, st)
	})
}

// receiveLike records a remote favourite of a status the actor may see.
func (s *Service) receiveLike(ctx context.Context, actor *Account, act *streams.Object) error {
	return s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		st, err := s.statusByIRI(ctx, tx, act.IRI("object"))
		if errkind.Of(err) == errkind.NotFound {
			return nil
		}
		if err != nil {
			return err
		}
		if ok, err := s.canSee(ctx, tx, actor.ID, st); err != nil || !ok {
			return err
		}
		id, err := s.nextID()
		if err != nil {
			return err
		}
		iri := act.ID()
		if iri == "" {
			iri = s.activityIRI(id) + "#like"
		}
		f := &favourite{ID: id, ActorID: actor.ID, StatusID: st.ID, IRI: iri, CreatedAt: s.timestamp()}
		res, err := tx.NewInsert().Model(f).On("CONFLICT DO NOTHING").Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		author, err := s.accountByID(ctx, tx, st.ActorID)
		if err != nil || !author.Local() {
			return err
		}
		return s.notify(ctx, tx, author.ID, NotifyFavourite, actor.ID, st.ID)
	})
}

// receiveAnnounce records a remote boost. A boosted status we do not hold
// is fetched from its own origin and stored first; boosts of suspended
// authors' statuses, of private or direct statuses, and of things that are
// not notes are dropped (rule 32).
func (s *Service) receiveAnnounce(ctx context.Context, actor *Account, act *streams.Object) error {
	objIRI := act.IRI("object")
	if act.ID() == "" || objIRI == "" {
		return errkind.New(errkind.Invalid, "an Announce needs an id and an object")
	}
	orig, err := s.statusByIRI(ctx, s.db, objIRI)
	if errkind.Of(err) == errkind.NotFound && !s.isLocal(objIRI) {
		orig, err = s.fetchRemoteNote(ctx, objIRI)
	}
	if errkind.Of(err) == errkind.NotFound || errkind.Of(err) == errkind.Gone || errkind.Of(err) == errkind.Forbidden {
		return nil
	}
	if err != nil {
		return err
	}
	if orig == nil || orig.ReblogOfID != 0 || orig.Visibility == Private || orig.Visibility == Direct {
		return nil
	}
	author, err := s.accountByID(ctx, s.db, orig.ActorID)
	if err != nil {
		return err
	}
	if author.Suspended() {
		return nil
	}
	if !author.Local() {
		if blocked, err := s.DomainBlocked(ctx, author.Domain); err != nil || blocked {
			return err
		}
	}
	id, err := s.nextID()
	if err != nil {
		return err
	}
	vis := Public
	if !contains(act.IRIs("to"), streamsPublic) {
		vis = Unlisted
	}
	boost := &Status{ID: id, IRI: act.ID(), URL: act.ID(), ActorID: actor.ID, Visibility: vis, ReblogOfID: orig.ID, CreatedAt: s.timestamp()}
	return s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.insertStatus(ctx, tx, boost, actor, nil, nil); err != nil {
			return err
		}
		if author.Local() {
			return s.notify(ctx, tx, author.ID, NotifyReblog, actor.ID, orig.ID)
		}
		return nil
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// fetchRemoteNote fetches a note from its origin and stores it under its
// author, who is fetched too.
func (s *Service) fetchRemoteNote(ctx context.Context, iri string) (*Status, error) {
	if err := s.checkDomainAllowed(ctx, iri); err != nil {
		return nil, err
	}
	if dead, err := s.tombstoned(ctx, s.db, iri); err != nil || dead {
		if err == nil {
			err = errkind.New(errkind.Gone, "the note was deleted")
		}
		return nil, err
	}
	note, err := s.fetch.Fetch(ctx, iri)
	if err != nil {
		return nil, errkind.Wrap(errkind.NotFound, "the note could not be fetched", err)
	}
	if !isNote(note) {
		return nil, errkind.New(errkind.NotFound, "not a note")
	}
	author, err := s.RemoteActor(ctx, note.IRI("attributedTo"))
	if err != nil {
		return nil, err
	}
	if author.Suspended() {
		return nil, errkind.New(errkind.Forbidden, "the author is suspended")
	}
	return s.storeRemoteNote(ctx, author, note)
}

// undoStatusActivity reverts the actor's Like or Announce with id undoneID.
func (s *Service) undoStatusActivity(ctx context.Context, tx bun.IDB, actor *Account, undoneID string) error {
	res, err := tx.NewDelete().Model((*favourite)(nil)).Where("iri = ? AND actor_id = ?", undoneID, actor.ID).Exec(ctx)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return nil
	}
	_, err = tx.NewDelete().Model((*Status)(nil)).
		Where("iri = ? AND actor_id = ? AND reblog_of_id IS NOT NULL", undoneID, actor.ID).Exec(ctx)
	return err
}
