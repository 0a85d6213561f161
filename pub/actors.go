package pub

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/commonroom/commonroom/streams"
)

// LocalActor is an actor of this server as the federation layer sees it:
// its IRI, its keys and its follow policy. Its inbox and collections live at
// fixed paths under its IRI (DESIGN.md): /inbox, /outbox, /followers,
// /following, /liked and /featured.
type LocalActor struct {
	ID   string
	Keys *ActorKeys
	// ManuallyApprovesFollowers leaves incoming Follows pending until the
	// host calls Federation.AcceptFollow or RejectFollow.
	ManuallyApprovesFollowers bool
}

// Inbox returns the actor's inbox IRI.
func (a LocalActor) Inbox() string { return a.ID + "/inbox" }

// Outbox returns the actor's outbox IRI.
func (a LocalActor) Outbox() string { return a.ID + "/outbox" }

// Followers returns the actor's followers collection IRI.
func (a LocalActor) Followers() string { return a.ID + "/followers" }

// Following returns the actor's following collection IRI.
func (a LocalActor) Following() string { return a.ID + "/following" }

// Liked returns the actor's liked collection IRI.
func (a LocalActor) Liked() string { return a.ID + "/liked" }

// Featured returns the actor's featured collection IRI.
func (a LocalActor) Featured() string { return a.ID + "/featured" }

// LocalActors tells the federation layer which local actors exist. The host
// implements it over its accounts; [ActorDirectory] is a ready one.
// Implementations must be safe for concurrent use.
type LocalActors interface {
	// LocalActor returns the actor with this IRI, or an error wrapping
	// ErrNotFound when there is none.
	LocalActor(ctx context.Context, id string) (LocalActor, error)
}

// ActorDocumenter is optionally implemented by a LocalActors: it returns
// the actor's AS2 document, which the federation layer then serves at the
// actor's IRI and answers local fetches with.
type ActorDocumenter interface {
	ActorDocument(ctx context.Context, id string) (*streams.Object, error)
}

// ActorSpec describes an actor for [ActorDirectory.Add].
type ActorSpec struct {
	// Name is the preferredUsername; the actor's IRI is
	// <base>/users/<Name>, or <base>/groups/<Name> for a Group.
	Name string
	// Type is the AS2 actor type; default "Person".
	Type string
	// DisplayName and Summary fill name and summary.
	DisplayName, Summary string
	// ManuallyApprovesFollowers: see LocalActor.
	ManuallyApprovesFollowers bool
}

// ActorDirectory is a simple, concurrency-safe, in-memory [LocalActors]
// and [ActorDocumenter]: actors are added with Add, their keys are made
// (once) through the engine's Keys, and their documents carry the inbox,
// shared inbox, collections and public keys.
type ActorDirectory struct {
	engine *Engine
	base   string

	mu     sync.RWMutex
	actors map[string]ActorSpec
}

var (
	_ LocalActors     = (*ActorDirectory)(nil)
	_ ActorDocumenter = (*ActorDirectory)(nil)
)

// NewActorDirectory returns an empty directory for e's actors.
func NewActorDirectory(e *Engine) *ActorDirectory {
	return &ActorDirectory{engine: e, base: e.baseOrigin(), actors: map[string]ActorSpec{}}
}

// Add registers an actor, creating its keys, and returns it.
func (d *ActorDirectory) Add(ctx context.Context, spec ActorSpec) (LocalActor, error) {
	if spec.Name == "" || strings.ContainsAny(spec.Name, "/?#@ ") {
		return LocalActor{}, fmt.Errorf("pub: actor directory: invalid name %q", spec.Name)
	}
	if spec.Type == "" {
		spec.Type = "Person"
	}
	dir := "/users/"
	if spec.Type == "Group" {
		dir = "/groups/"
	}
	id := d.base + dir + spec.Name
	if _, err := d.engine.Keys().EnsureLocal(ctx, id); err != nil {
		return LocalActor{}, fmt.Errorf("pub: actor directory: keys of %s: %w", id, err)
	}
	d.mu.Lock()
	d.actors[id] = spec
	d.mu.Unlock()
	return d.LocalActor(ctx, id)
}

// LocalActor implements LocalActors.
func (d *ActorDirectory) LocalActor(ctx context.Context, id string) (LocalActor, error) {
	d.mu.RLock()
	spec, ok := d.actors[id]
	d.mu.RUnlock()
	if !ok {
		return LocalActor{}, fmt.Errorf("pub: local actor %s: %w", id, ErrNotFound)
	}
	keys, err := d.engine.Keys().Local(ctx, id)
	if err != nil {
		return LocalActor{}, fmt.Errorf("pub: local actor %s: %w", id, err)
	}
	return LocalActor{ID: id, Keys: keys, ManuallyApprovesFollowers: spec.ManuallyApprovesFollowers}, nil
}

// ActorDocument implements ActorDocumenter.
func (d *ActorDirectory) ActorDocument(ctx context.Context, id string) (*streams.Object, error) {
	a, err := d.LocalActor(ctx, id)
	if err != nil {
		return nil, err
	}
	d.mu.RLock()
	spec := d.actors[id]
	d.mu.RUnlock()
	return ActorDocument(d.engine.cfg.Registry, a, d.base+"/inbox", spec)
}

// ActorDocument builds the AS2 document of a local actor: type, names, the
// inbox and collections at their fixed paths, endpoints.sharedInbox, and
// its public keys.
func ActorDocument(reg *streams.Registry, a LocalActor, sharedInbox string, spec ActorSpec) (*streams.Object, error) {
	if reg == nil {
		reg = streams.Default()
	}
	typ := spec.Type
	if typ == "" {
		typ = "Person"
	}
	doc := reg.New(typ)
	doc.SetID(a.ID)
	ms := []member{
		{"inbox", streams.IRI(a.Inbox())},
		{"outbox", streams.IRI(a.Outbox())},
		{"followers", streams.IRI(a.Followers())},
		{"following", streams.IRI(a.Following())},
		{"liked", streams.IRI(a.Liked())},
		{"featured", streams.IRI(a.Featured())},
		{"manuallyApprovesFollowers", streams.Bool(a.ManuallyApprovesFollowers)},
	}
	if spec.Name != "" {
		ms = append(ms, member{"preferredUsername", streams.String(spec.Name)})
	}
	if spec.DisplayName != "" {
		ms = append(ms, member{"name", streams.String(spec.DisplayName)})
	}
	if spec.Summary != "" {
		ms = append(ms, member{"summary", streams.String(spec.Summary)})
	}
	if err := setAll(doc, ms...); err != nil {
		return nil, fmt.Errorf("pub: actor document %s: %w", a.ID, err)
	}
	endpoints := reg.New("")
	if err := endpoints.Set("sharedInbox", streams.IRI(sharedInbox)); err != nil {
		return nil, fmt.Errorf("pub: actor document %s: %w", a.ID, err)
	}
	if err := doc.Set("endpoints", streams.ObjectValue(endpoints)); err != nil {
		return nil, fmt.Errorf("pub: actor document %s: %w", a.ID, err)
	}
	if a.Keys != nil {
		if err := PublishKeys(doc, a.Keys); err != nil {
			return nil, err
		}
	}
	return doc, nil
}

// serveDocument writes doc as AS2 with the caching headers actor and
// object documents get.
func serveDocument(w http.ResponseWriter, doc []byte) {
	h := w.Header()
	h.Set("Content-Type", ContentTypeActivityJSON)
	h.Set("Vary", "Accept")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(doc)
}
