package pub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/commonroom/commonroom/streams"
)

// reader returns who is reading: the verified signer's owner when the
// request is signed, "" for an anonymous reader. A signed request that does
// not verify is an error (answered 401); with AuthorizedFetch on, an
// unsigned one is too.
func (f *Federation) reader(r *http.Request) (string, error) {
	if s, ok := SignerFromContext(r.Context()); ok {
		return s.Owner, nil
	}
	if r.Header.Get("Signature") == "" && r.Header.Get("Signature-Input") == "" {
		if f.e.cfg.AuthorizedFetch {
			return "", ErrUnsigned
		}
		return "", nil
	}
	s, err := f.e.auth.Authenticate(r.Context(), r, nil)
	if err != nil {
		return "", err
	}
	return s.Owner, nil
}

// visible reports whether reader may see something addressed to audience
// by the local actor owner.
func (f *Federation) visible(ctx context.Context, owner LocalActor, public bool, audience []string, reader string) bool {
	if public || (reader != "" && reader == owner.ID) {
		return true
	}
	if reader == "" {
		return false
	}
	if slices.Contains(audience, reader) {
		return true
	}
	if slices.Contains(audience, owner.Followers()) {
		fl, err := f.store.GetFollow(ctx, reader, owner.ID)
		return err == nil && fl.State == FollowAccepted
	}
	return false
}

func (f *Federation) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := StatusFor(err)
	if status >= 500 {
		f.log.ErrorContext(r.Context(), "pub: serve", slog.String("path", r.URL.Path), slog.Any("error", err))
	}
	http.Error(w, http.StatusText(status), status)
}

func (f *Federation) writeJSON(w http.ResponseWriter, r *http.Request, o *streams.Object) {
	data, err := streams.Marshal(o)
	if err != nil {
		f.fail(w, r, err)
		return
	}
	serveDocument(w, data)
}

// serveCollection serves an actor's outbox, followers, following, liked or
// featured collection as an OrderedCollection whose pages (?page=N, from 1)
// are OrderedCollectionPages with next, prev and partOf. Anonymous readers
// see public items only; a signed reader also sees items addressed to it or
// to followers of the actor when it follows the actor. Pages hold PageSize
// items before that filter, so a signed reader's page may hold fewer.
func (f *Federation) serveCollection(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	i := strings.LastIndexByte(r.URL.Path, '/')
	kind := r.URL.Path[i+1:]
	owner, err := f.actors.LocalActor(ctx, f.base+r.URL.Path[:i])
	if err != nil {
		f.fail(w, r, err)
		return
	}
	reader, err := f.reader(r)
	if err != nil {
		w.Header().Set("Vary", "Signature")
		f.fail(w, r, err)
		return
	}
	id := owner.ID + "/" + kind
	pageNo, offset, limit, ok := f.page(w, r)
	if !ok {
		return
	}
	var items []streams.Value
	var total int
	switch kind {
	case "followers", "following":
		q := FollowQuery{State: FollowAccepted, Offset: offset, Limit: limit}
		if kind == "followers" {
			q.Followee = owner.ID
		} else {
			q.Follower = owner.ID
		}
		fs, n, err := f.store.Follows(ctx, q)
		if err != nil {
			f.fail(w, r, err)
			return
		}
		total = n
		for _, fl := range fs {
			if kind == "followers" {
				items = append(items, streams.IRI(fl.Follower))
			} else {
				items = append(items, streams.IRI(fl.Followee))
			}
		}
	default:
		its, n, err := f.store.Items(ctx, id, reader == "", offset, limit)
		if err != nil {
			f.fail(w, r, err)
			return
		}
		total = n
		for _, it := range its {
			if !f.visible(ctx, owner, it.Public, it.Audience, reader) {
				continue
			}
			items = append(items, f.itemValue(ctx, kind, it.Item))
		}
	}
	f.writeCollection(w, r, id, pageNo, total, items)
}

// serveInstanceOutbox serves the instance actor's outbox, which its
// document advertises, like an actor's outbox: the public items of the
// collection <instance actor>/outbox in the store, empty unless the host
// adds to it.
func (f *Federation) serveInstanceOutbox(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := f.e.instance.ID() + "/outbox"
	pageNo, offset, limit, ok := f.page(w, r)
	if !ok {
		return
	}
	its, total, err := f.store.Items(ctx, id, true, offset, limit)
	if err != nil {
		f.fail(w, r, err)
		return
	}
	var items []streams.Value
	for _, it := range its {
		if it.Public {
			items = append(items, f.itemValue(ctx, "outbox", it.Item))
		}
	}
	f.writeCollection(w, r, id, pageNo, total, items)
}

// page reads a collection request's ?page=N: 0 for the collection itself
// (only its count is needed), and the store offset and limit of the page.
// A bad page number is answered 400 and ok is false.
func (f *Federation) page(w http.ResponseWriter, r *http.Request) (pageNo, offset, limit int, ok bool) {
	if p := r.URL.Query().Get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 1_000_000 {
			http.Error(w, "page must be a number from 1", http.StatusBadRequest)
			return 0, 0, 0, false
		}
		pageNo = n
	}
	if pageNo == 0 {
		return 0, 0, 1, true
	}
	size := f.cfg.PageSize
	return pageNo, (pageNo - 1) * size, size, true
}

// writeCollection writes the collection id (pageNo 0: an
// OrderedCollection with totalItems, first and last) or one of its pages
// (an OrderedCollectionPage of items, with partOf, next and prev).
func (f *Federation) writeCollection(w http.ResponseWriter, r *http.Request, id string, pageNo, total int, items []streams.Value) {
	reg := f.e.cfg.Registry
	size := f.cfg.PageSize
	w.Header().Set("Vary", "Accept, Signature")
	if pageNo == 0 {
		c := reg.New("OrderedCollection")
		c.SetID(id)
		_ = c.Set("totalItems", streams.Int(int64(total)))
		_ = c.Set("first", streams.IRI(id+"?page=1"))
		if total > 0 {
			_ = c.Set("last", streams.IRI(id+"?page="+strconv.Itoa((total+size-1)/size)))
		}
		f.writeJSON(w, r, c)
		return
	}
	p := reg.New("OrderedCollectionPage")
	p.SetID(id + "?page=" + strconv.Itoa(pageNo))
	_ = p.Set("partOf", streams.IRI(id))
	_ = p.Set("totalItems", streams.Int(int64(total)))
	if items == nil {
		items = []streams.Value{}
	}
	_ = p.Set("orderedItems", streams.Array(items...))
	if pageNo*size < total {
		_ = p.Set("next", streams.IRI(id+"?page="+strconv.Itoa(pageNo+1)))
	}
	if pageNo > 1 {
		_ = p.Set("prev", streams.IRI(id+"?page="+strconv.Itoa(pageNo-1)))
	}
	f.writeJSON(w, r, p)
}

// itemValue embeds an outbox activity (from the object store) and gives
// other items as IRIs.
func (f *Federation) itemValue(ctx context.Context, kind, item string) streams.Value {
	if kind != "outbox" {
		return streams.IRI(item)
	}
	so, err := f.store.Object(ctx, item)
	if err != nil || !so.Deleted.IsZero() {
		return streams.IRI(item)
	}
	o, err := f.e.cfg.Registry.ParseLimits(so.Body, f.e.cfg.Limits)
	if err != nil {
		return streams.IRI(item)
	}
	o.Delete("@context")
	return streams.ObjectValue(o)
}

// serveObject serves a local object or activity at its IRI: 404 when
// unknown or not visible to the reader, 410 with a Tombstone when deleted.
func (f *Federation) serveObject(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := f.base + r.URL.Path
	so, err := f.store.Object(ctx, id)
	if err != nil || !so.Local {
		if err == nil {
			err = fmt.Errorf("%s: %w", id, ErrNotFound)
		}
		f.fail(w, r, err)
		return
	}
	if !so.Deleted.IsZero() {
		t := f.e.cfg.Registry.New("Tombstone")
		t.SetID(id)
		_ = t.Set("deleted", streams.Time(so.Deleted))
		data, _ := streams.Marshal(t)
		w.Header().Set("Content-Type", ContentTypeActivityJSON)
		w.WriteHeader(http.StatusGone)
		_, _ = w.Write(data)
		return
	}
	reader, err := f.reader(r)
	if err != nil {
		f.fail(w, r, err)
		return
	}
	owner, err := f.actors.LocalActor(ctx, so.AttributedTo)
	if err != nil {
		f.fail(w, r, err)
		return
	}
	if !f.visible(ctx, owner, so.Public, so.Audience, reader) {
		f.fail(w, r, fmt.Errorf("%s: %w", id, ErrNotFound))
		return
	}
	if !so.Public {
		w.Header().Set("Cache-Control", "private")
	}
	w.Header().Set("Vary", "Accept, Signature")
	serveDocument(w, so.Body)
}

// serveActor serves a local actor's document when Actors is an
// ActorDocumenter.
func (f *Federation) serveActor(w http.ResponseWriter, r *http.Request) {
	doc, err := f.actorDocument(r.Context(), f.base+r.URL.Path)
	if err != nil {
		f.fail(w, r, err)
		return
	}
	f.writeJSON(w, r, doc)
}

func (f *Federation) actorDocument(ctx context.Context, id string) (*streams.Object, error) {
	d, ok := f.actors.(ActorDocumenter)
	if !ok {
		return nil, fmt.Errorf("%s: %w", id, ErrNotFound)
	}
	return d.ActorDocument(ctx, id)
}

// LocalObject answers fetches of our own IRIs (a LocalResolver): local
// actors' documents when Actors is an ActorDocumenter, and live local
// objects from the store. Everything else is ErrNotFound.
func (f *Federation) LocalObject(ctx context.Context, iri string) (*streams.Object, error) {
	if doc, err := f.actorDocument(ctx, iri); err == nil {
		return doc, nil
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	so, err := f.store.Object(ctx, iri)
	if err != nil {
		return nil, err
	}
	if !so.Local || !so.Deleted.IsZero() {
		return nil, fmt.Errorf("%s: %w", iri, ErrNotFound)
	}
	return f.e.cfg.Registry.ParseLimits(so.Body, f.e.cfg.Limits)
}
