package actors

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/commonroom/commonroom/internal/errkind"
	"github.com/commonroom/commonroom/pub"
	"github.com/commonroom/commonroom/pub/webfinger"
	"github.com/commonroom/commonroom/streams"
)

// Content types of actor documents.
const (
	ContentTypeActivityJSON = "application/activity+json"
	ContentTypeLDJSON       = `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`
)

// ActorDocument returns the AS2 document of the local actor with IRI iri
// (it implements pub.ActorDocumenter):
// its type, names, bio, profile URL, inbox, outbox, collections,
// endpoints.sharedInbox, public keys (publicKey PEM and assertionMethod
// Multikey, from the KeyStore), icon, image, PropertyValue fields,
// alsoKnownAs, discoverable, manuallyApprovesFollowers and published. A
// suspended or unknown actor is NotFound (and wraps pub.ErrNotFound).
func (s *Service) ActorDocument(ctx context.Context, iri string) (*streams.Object, error) {
	a, err := s.accountByIRI(ctx, s.db, stripFragment(iri))
	if err == nil && (!a.Local() || a.Suspended()) {
		err = errkind.New(errkind.NotFound, "no such account")
	}
	if errkind.Of(err) == errkind.NotFound {
		return nil, fmt.Errorf("actors: document %s: %w: %w", iri, pub.ErrNotFound, err)
	}
	if err != nil {
		return nil, fmt.Errorf("actors: document %s: %w", iri, err)
	}
	doc, err := s.actorDocument(ctx, a)
	if err != nil {
		return nil, fmt.Errorf("actors: document %s: %w", iri, err)
	}
	return doc, nil
}

// actorDocument builds a's document.
func (s *Service) actorDocument(ctx context.Context, a *Account) (*streams.Object, error) {
	doc := s.reg.New(a.Kind.asType())
	doc.SetID(a.IRI)
	set := func(name string, v streams.Value) error {
		if err := doc.Set(name, v); err != nil {
			return fmt.Errorf("set %s: %w", name, err)
		}
		return nil
	}
	members := []struct {
		name string
		v    streams.Value
	}{
		{"preferredUsername", streams.String(a.Username)},
		{"name", streams.String(a.DisplayName)},
		{"summary", streams.String(a.Note)},
		{"url", streams.IRI(a.URL)},
		{"inbox", streams.IRI(a.Inbox)},
		{"outbox", streams.IRI(a.Outbox)},
		{"followers", streams.IRI(a.Followers)},
		{"following", streams.IRI(a.Following)},
		{"featured", streams.IRI(a.Featured)},
		{"manuallyApprovesFollowers", streams.Bool(a.Locked)},
		{"discoverable", streams.Bool(a.Discoverable)},
		{"published", streams.Time(a.CreatedAt.Truncate(time.Second))},
	}
	for _, m := range members {
		if err := set(m.name, m.v); err != nil {
			return nil, err
		}
	}
	endpoints := s.reg.New("")
	if err := endpoints.Set("sharedInbox", streams.IRI(a.SharedInbox)); err != nil {
		return nil, fmt.Errorf("set sharedInbox: %w", err)
	}
	if err := set("endpoints", streams.ObjectValue(endpoints)); err != nil {
		return nil, err
	}
	for _, img := range []struct{ name, url string }{{"icon", a.AvatarURL}, {"image", a.HeaderURL}} {
		if img.url == "" {
			continue
		}
		o := s.reg.New("Image")
		if err := o.Set("url", streams.IRI(img.url)); err != nil {
			return nil, fmt.Errorf("set %s: %w", img.name, err)
		}
		if err := set(img.name, streams.ObjectValue(o)); err != nil {
			return nil, err
		}
	}
	if fields := a.Fields(); len(fields) > 0 {
		vals := make([]streams.Value, 0, len(fields))
		for _, f := range fields {
			pv := s.reg.New("PropertyValue")
			if err := pv.Set("name", streams.String(f.Name)); err != nil {
				return nil, fmt.Errorf("set field: %w", err)
			}
			if err := pv.Set("value", streams.String(f.Value)); err != nil {
				return nil, fmt.Errorf("set field: %w", err)
			}
			vals = append(vals, streams.ObjectValue(pv))
		}
		if err := set("attachment", streams.Array(vals...)); err != nil {
			return nil, err
		}
	}
	if aka := a.AlsoKnownAs(); len(aka) > 0 {
		if err := set("alsoKnownAs", streams.IRIList(aka...)); err != nil {
			return nil, err
		}
	}
	keys, err := s.keys.EnsureLocal(ctx, a.IRI)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	if err := pub.PublishKeys(doc, keys); err != nil {
		return nil, err
	}
	return doc, nil
}

// LookupAccount implements webfinger.Resolver over local people and
// groups, matching names without regard to case. Suspended and unknown
// accounts wrap webfinger.ErrNotFound.
func (s *Service) LookupAccount(ctx context.Context, username string) (*webfinger.Account, error) {
	a, err := s.LocalAccount(ctx, username)
	if errkind.Of(err) == errkind.NotFound || err == nil && a.Suspended() {
		return nil, fmt.Errorf("actors: webfinger %q: %w", username, webfinger.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	kind := webfinger.KindPerson
	switch a.Kind {
	case KindGroup:
		kind = webfinger.KindGroup
	case KindService:
		kind = webfinger.KindService
	case KindApplication:
		kind = webfinger.KindApplication
	}
	return &webfinger.Account{Username: a.Username, Kind: kind, ActorIRI: a.IRI, ProfileURL: a.URL}, nil
}

var _ webfinger.Resolver = (*Service)(nil)

// Mux is what Routes registers on: *http.ServeMux and chi's Router both
// have this method.
type Mux interface {
	Handle(pattern string, handler http.Handler)
}

// Routes registers the actor pages this package serves:
//
//	GET /users/{name}   the actor: AS2 or HTML by Accept, Vary: Accept
//
// The HTML alias /@{name} is served by ProfileHandler too, but a
// net/http pattern cannot express it; routers that can (chi: "/@{name}")
// mount ProfileHandler there.
func (s *Service) Routes(mux Mux) {
	mux.Handle("GET /users/{name}", s.ProfileHandler())
}

// ProfileHandler serves a local person's actor document to ActivityPub
// clients (Accept application/activity+json or application/ld+json with
// the ActivityStreams profile) and a readable HTML page to browsers, always
// with Vary: Accept. The name is the request's {name} path value, or else
// what follows "/@" in the path (the /@{name} alias). Unknown
// and suspended accounts are 404. HEAD is answered as GET without a body.
func (s *Service) ProfileHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Vary", "Accept")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		ctx := r.Context()
		name := r.PathValue("name")
		if name == "" {
			name, _ = strings.CutPrefix(r.URL.Path, "/@")
		}
		a, err := s.LocalAccount(ctx, name)
		if err == nil && (a.Suspended() || a.Kind == KindGroup) {
			err = errkind.New(errkind.NotFound, "no such account")
		}
		if err != nil {
			s.httpError(ctx, w, err)
			return
		}
		if pub.WantsActivityStreams(r.Header.Get("Accept")) {
			doc, err := s.actorDocument(ctx, a)
			if err != nil {
				s.httpError(ctx, w, err)
				return
			}
			body, err := doc.MarshalJSON()
			if err != nil {
				s.httpError(ctx, w, err)
				return
			}
			w.Header().Set("Content-Type", ContentTypeActivityJSON)
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			if r.Method == http.MethodGet {
				_, _ = w.Write(body)
			}
			return
		}
		counts, err := s.Counts(ctx, a.ID)
		if err != nil {
			s.httpError(ctx, w, err)
			return
		}
		var buf bytes.Buffer
		if err := profileTemplate.Execute(&buf, profilePage{
			Account: a, Counts: counts, Note: template.HTML(a.Note), //nolint:gosec // sanitized by bluemonday when stored
			Fields: safeFields(a.Fields()), Acct: a.Username + "@" + s.origin.Host + portSuffix(s.origin.Port),
		}); err != nil {
			s.httpError(ctx, w, err)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
		if r.Method == http.MethodGet {
			_, _ = w.Write(buf.Bytes())
		}
	})
}

func portSuffix(p string) string {
	if p == "" {
		return ""
	}
	return ":" + p
}

// httpError answers with err's kind, logging what is not the client's fault.
func (s *Service) httpError(ctx context.Context, w http.ResponseWriter, err error) {
	k := errkind.Of(err)
	if k == errkind.Internal {
		s.log.ErrorContext(ctx, "actors: request failed", slog.Any("error", err))
	}
	http.Error(w, errkind.Message(err), k.HTTPStatus())
}

// profilePage is what the HTML profile template reads.
type profilePage struct {
	Account *Account
	Counts  Counts
	Acct    string
	Note    template.HTML
	Fields  []safeField
}

type safeField struct {
	Name  string
	Value template.HTML
}

func safeFields(fs []Field) []safeField {
	out := make([]safeField, len(fs))
	for i, f := range fs {
		out[i] = safeField{Name: f.Name, Value: template.HTML(f.Value)} //nolint:gosec // sanitized when stored
	}
	return out
}

var profileTemplate = template.Must(template.New("profile").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{with .Account.DisplayName}}{{.}} {{end}}(@{{.Acct}})</title>
<link rel="alternate" type="application/activity+json" href="{{.Account.IRI}}">
{{if not .Account.Discoverable}}<meta name="robots" content="noindex, noarchive">{{end}}
</head>
<body>
<main class="profile">
{{with .Account.HeaderURL}}<img class="header" src="{{.}}" alt="">{{end}}
{{with .Account.AvatarURL}}<img class="avatar" src="{{.}}" alt="">{{end}}
<h1>{{or .Account.DisplayName .Account.Username}}</h1>
<p class="acct">@{{.Acct}}{{if .Account.Locked}} (approves followers){{end}}{{if .Account.Bot}} (bot){{end}}</p>
<div class="note">{{.Note}}</div>
{{with .Fields}}<dl class="fields">{{range .}}<dt>{{.Name}}</dt><dd>{{.Value}}</dd>{{end}}</dl>{{end}}
<p class="counts">{{.Counts.Statuses}} posts · {{.Counts.Following}} following · {{.Counts.Followers}} followers</p>
</main>
</body>
</html>
`))
