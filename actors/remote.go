package actors

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/uptrace/bun"

	"github.com/commonroom/commonroom/internal/errkind"
	"github.com/commonroom/commonroom/pub/transport"
	"github.com/commonroom/commonroom/streams"
)

// isLocal reports whether iri is on this server's origin.
func (s *Service) isLocal(iri string) bool {
	o, err := transport.ParseOrigin(iri)
	return err == nil && o == s.origin
}

// RemoteActor returns the account for a remote actor IRI: the stored row
// when it was fetched less than Config.RemoteRefreshAfter ago, otherwise
// the document fetched anew through the Fetcher and stored. A local IRI is
// never fetched: it is looked up and is NotFound when unknown (SECURITY.md
// rule 17). Documents that are not actors, or lack a name or inbox, are
// Invalid and nothing is stored.
func (s *Service) RemoteActor(ctx context.Context, iri string) (*Account, error) {
	iri = stripFragment(iri)
	if s.isLocal(iri) {
		return s.AccountByIRI(ctx, iri)
	}
	a, err := s.accountByIRI(ctx, s.db, iri)
	switch {
	case err == nil && s.now().Sub(a.FetchedAt) < s.cfg.RemoteRefreshAfter:
		return a, nil
	case err != nil && errkind.Of(err) != errkind.NotFound:
		return nil, fmt.Errorf("actors: remote actor %s: %w", iri, err)
	}
	refreshed, ferr := s.RefreshRemote(ctx, iri)
	if ferr != nil && err == nil {
		// A stale copy is better than none when the peer is down.
		s.log.WarnContext(ctx, "actors: refresh failed, serving stored copy", "iri", iri, "err", ferr)
		return a, nil
	}
	return refreshed, ferr
}

// RefreshRemote fetches the actor document at iri through the Fetcher and
// creates or updates its account. Caps from Config (SECURITY.md rule 26) cut
// off over-long names, bios, field lists and alias lists. Moderation state
// (silenced, suspended) is kept.
func (s *Service) RefreshRemote(ctx context.Context, iri string) (*Account, error) {
	iri = stripFragment(iri)
	if s.isLocal(iri) {
		return nil, fmt.Errorf("actors: refresh %s: %w", iri, errkind.New(errkind.Invalid, "not a remote actor"))
	}
	if err := s.checkDomainAllowed(ctx, iri); err != nil {
		return nil, fmt.Errorf("actors: refresh %s: %w", iri, err)
	}
	if dead, err := s.tombstoned(ctx, s.db, iri); err != nil || dead {
		if err == nil {
			err = errkind.New(errkind.Gone, "the actor was deleted")
		}
		return nil, fmt.Errorf("actors: refresh %s: %w", iri, err)
	}
	fetch := s.fetch.Fetch
	if f, ok := s.fetch.(documentFetcher); ok {
		fetch = f.FetchDocument // what the peer publishes now, not a cached copy
	}
	doc, err := fetch(ctx, iri)
	if err != nil {
		return nil, fmt.Errorf("actors: fetch %s: %w", iri, errkind.Wrap(errkind.NotFound, "the remote actor could not be fetched", err))
	}
	a, err := s.remoteAccount(doc)
	if err != nil {
		return nil, fmt.Errorf("actors: actor document %s: %w", iri, err)
	}
	if a.IRI != iri {
		// The fetcher records documents under their final id; an actor
		// must be served at its own id.
		return nil, fmt.Errorf("actors: actor document %s: %w", iri, errkind.New(errkind.Invalid, "actor id does not match its address"))
	}
	if err := s.upsertRemote(ctx, s.db, a); err != nil {
		return nil, fmt.Errorf("actors: store %s: %w", iri, err)
	}
	return a, nil
}

// documentFetcher is a Fetcher that can also bypass its cache, as
// *pub.Fetcher does; RefreshRemote prefers it.
type documentFetcher interface {
	FetchDocument(ctx context.Context, iri string) (*streams.Object, error)
}

// upsertRemote inserts a or updates the row with its IRI, leaving id,
// created_at and moderation state alone; a.ID and a.CreatedAt are set from
// the stored row.
func (s *Service) upsertRemote(ctx context.Context, q bun.IDB, a *Account) error {
	id, err := s.nextID()
	if err != nil {
		return err
	}
	a.ID = id
	_, err = q.NewInsert().Model(a).
		On("CONFLICT (iri) DO UPDATE").
		Set("kind = EXCLUDED.kind").
		Set("username = EXCLUDED.username").
		Set("url = EXCLUDED.url").
		Set("inbox = EXCLUDED.inbox").
		Set("shared_inbox = EXCLUDED.shared_inbox").
		Set("outbox = EXCLUDED.outbox").
		Set("followers = EXCLUDED.followers").
		Set("following = EXCLUDED.following").
		Set("featured = EXCLUDED.featured").
		Set("display_name = EXCLUDED.display_name").
		Set("note = EXCLUDED.note").
		Set("avatar_url = EXCLUDED.avatar_url").
		Set("header_url = EXCLUDED.header_url").
		Set("fields = EXCLUDED.fields").
		Set("also_known_as = EXCLUDED.also_known_as").
		Set("bot = EXCLUDED.bot").
		Set("locked = EXCLUDED.locked").
		Set("discoverable = EXCLUDED.discoverable").
		Set("updated_at = EXCLUDED.updated_at").
		Set("fetched_at = EXCLUDED.fetched_at").
		Returning("id, created_at, silenced_at, suspended_at, last_status_at").
		Exec(ctx)
	if err != nil {
		return mapAccountError(err)
	}
	return nil
}

// remoteAccount reads an actor document into an Account (not stored).
func (s *Service) remoteAccount(doc *streams.Object) (*Account, error) {
	if doc == nil || !doc.IsActor() {
		return nil, errkind.New(errkind.Invalid, "the document is not an actor")
	}
	iri := doc.ID()
	origin, err := transport.ParseOrigin(iri)
	if err != nil {
		return nil, errkind.Wrap(errkind.Invalid, "the actor id is not an http(s) URL", err)
	}
	name := strings.TrimSpace(doc.String("preferredUsername"))
	if err := validateRemoteName(name); err != nil {
		return nil, err
	}
	inbox := doc.IRI("inbox")
	if !isHTTPURL(inbox) {
		return nil, errkind.New(errkind.Invalid, "the actor has no inbox")
	}
	domain := origin.Host
	if origin.Port != "" {
		domain += ":" + origin.Port
	}
	now := s.timestamp()
	a := &Account{
		Kind:            kindOf(doc),
		Username:        name,
		Domain:          domain,
		IRI:             iri,
		URL:             urlOf(doc, "url"),
		Inbox:           inbox,
		SharedInbox:     optionalURL(doc.Object("endpoints").IRI("sharedInbox")),
		Outbox:          optionalURL(doc.IRI("outbox")),
		Followers:       optionalURL(doc.IRI("followers")),
		Following:       optionalURL(doc.IRI("following")),
		Featured:        optionalURL(doc.IRI("featured")),
		DisplayName:     truncateRunes(plainLine(doc.String("name")), s.cfg.MaxRemoteDisplayNameChars),
		Note:            s.sanitize(truncateRunes(doc.String("summary"), s.cfg.MaxRemoteNoteChars)),
		AvatarURL:       imageURL(doc.Objects("icon"), doc.IRIs("icon")),
		HeaderURL:       imageURL(doc.Objects("image"), doc.IRIs("image")),
		FieldsJSON:      mustJSON(s.remoteFields(doc)),
		AlsoKnownAsJSON: mustJSON(s.remoteAliases(doc)),
		Locked:          boolOf(doc, "manuallyApprovesFollowers"),
		Discoverable:    boolOf(doc, "discoverable"),
		CreatedAt:       now,
		UpdatedAt:       now,
		FetchedAt:       now,
	}
	a.Bot = a.Kind == KindService || a.Kind == KindApplication
	if t, ok := doc.Time("published"); ok && t.Before(now) {
		a.CreatedAt = t.UTC().Truncate(time.Microsecond)
	}
	return a, nil
}

func validateRemoteName(name string) error {
	if name == "" {
		return errkind.New(errkind.Invalid, "the actor has no preferredUsername")
	}
	if len(name) > 255 {
		return errkind.New(errkind.Invalid, "the actor's preferredUsername is too long")
	}
	for _, r := range name {
		if r == '@' || unicode.IsSpace(r) || unicode.IsControl(r) || r == '/' {
			return errkind.New(errkind.Invalid, "the actor's preferredUsername has characters names cannot have")
		}
	}
	return nil
}

// kindOf maps an actor's type to a Kind.
func kindOf(doc *streams.Object) Kind {
	switch {
	case doc.Is("Group"):
		return KindGroup
	case doc.Is("Service"):
		return KindService
	case doc.Is("Application"):
		return KindApplication
	default:
		return KindPerson
	}
}

func boolOf(o *streams.Object, name string) bool {
	b, ok := o.Bool(name)
	return ok && b
}

func optionalURL(u string) string {
	if isHTTPURL(u) {
		return u
	}
	return ""
}

// urlOf reads a url-like property: a plain IRI, or a Link's href.
func urlOf(o *streams.Object, name string) string {
	for _, u := range o.IRIs(name) {
		if isHTTPURL(u) {
			return u
		}
	}
	for _, l := range o.Objects(name) {
		if h := l.IRI("href"); isHTTPURL(h) {
			return h
		}
	}
	return ""
}

// imageURL picks the first usable URL of an icon or image property.
func imageURL(objs []*streams.Object, iris []string) string {
	for _, o := range objs {
		if u := urlOf(o, "url"); u != "" {
			return u
		}
	}
	for _, u := range iris {
		if isHTTPURL(u) {
			return u
		}
	}
	return ""
}

// plainLine removes control characters and line breaks.
func plainLine(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s))
}

// remoteFields reads PropertyValue attachments, at most MaxRemoteFields.
func (s *Service) remoteFields(doc *streams.Object) []Field {
	out := []Field{}
	for _, o := range doc.Objects("attachment") {
		if len(out) == s.cfg.MaxRemoteFields {
			break
		}
		if !o.Is("PropertyValue") {
			continue
		}
		name := truncateRunes(plainLine(s.htmlToText(o.String("name"))), s.cfg.MaxFieldNameChars)
		if name == "" {
			continue
		}
		// Values are HTML: markup gets room beyond the text's own cap.
		value := s.sanitize(truncateRunes(o.String("value"), s.cfg.MaxFieldValueChars*4))
		out = append(out, Field{Name: name, Value: value})
	}
	return out
}

// remoteAliases reads alsoKnownAs, at most MaxAlsoKnownAs http(s) IRIs.
func (s *Service) remoteAliases(doc *streams.Object) []string {
	out := []string{}
	for _, iri := range doc.IRIs("alsoKnownAs") {
		if len(out) == s.cfg.MaxAlsoKnownAs {
			break
		}
		if isHTTPURL(iri) {
			out = append(out, iri)
		}
	}
	return out
}

// stripFragment drops "#..." from an IRI.
func stripFragment(iri string) string {
	if i := strings.IndexByte(iri, '#'); i >= 0 {
		return iri[:i]
	}
	return iri
}
