package actors_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/commonroom/commonroom/actors"
	"github.com/commonroom/commonroom/internal/dbtest"
	"github.com/commonroom/commonroom/pub/transport"
	"github.com/commonroom/commonroom/streams"
)

// threadPeer is a loopback remote server: one person, zoe, and notes
// whose inReplyTo the test chooses; it counts the requests for notes.
type threadPeer struct {
	base    string
	mu      sync.Mutex
	parents map[string]string // note path → parent path ("" for none)
	fetches int
	posts   []*http.Request // POSTs to zoe's inbox, with bodies read
	bodies  []string
}

func newThreadPeer(t *testing.T) *threadPeer {
	t.Helper()
	p := &threadPeer{parents: map[string]string{}}
	srv := httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(srv.Close)
	p.base = srv.URL
	return p
}

func (p *threadPeer) zoe() string { return p.base + "/users/zoe" }

func (p *threadPeer) serve(w http.ResponseWriter, r *http.Request) {
	var doc string
	switch path := r.URL.Path; {
	case r.Method == http.MethodPost && path == "/users/zoe/inbox":
		b, _ := io.ReadAll(r.Body)
		p.mu.Lock()
		p.posts = append(p.posts, r)
		p.bodies = append(p.bodies, string(b))
		p.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		return
	case path == "/users/zoe":
		doc = remoteDoc(p.zoe(), "zoe", false)
	case strings.HasPrefix(path, "/endless/"):
		// Every note replies to the next one: a chain that never ends.
		n, err := strconv.Atoi(strings.TrimPrefix(path, "/endless/"))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		p.mu.Lock()
		p.fetches++
		p.mu.Unlock()
		doc = p.note(path, fmt.Sprintf("/endless/%d", n+1))
	default:
		p.mu.Lock()
		parent, ok := p.parents[path]
		if ok {
			p.fetches++
		}
		p.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		doc = p.note(path, parent)
	}
	w.Header().Set("Content-Type", "application/activity+json")
	_, _ = w.Write([]byte(doc))
}

// note is the document of the note at path, replying to parent.
func (p *threadPeer) note(path, parent string) string {
	extra := ""
	if parent != "" {
		extra = fmt.Sprintf(`,"inReplyTo":%q`, p.base+parent)
	}
	return noteJSON(p.base+path, p.zoe(), "note "+path, extra)
}

func (p *threadPeer) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fetches
}

func (p *threadPeer) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fetches = 0
}

// TestSecurity20_ReplyAncestors delivers remote replies whose parents the
// server does not hold: their ancestors are fetched from the peer through
// the engine and stored, so the thread is whole; a loop (A→B→A) and an
// endless chain stop, the latter within the activity's fetch budget (20)
// or, without one, after MaxThreadDepth ancestors.
func TestSecurity20_ReplyAncestors(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			open := dbtest.SQLite
			if dialect == "postgres" {
				open = dbtest.Postgres
			}
			ctx := context.Background()
			school := startServer(t, ctx, open(t, sets()...))
			peer := newThreadPeer(t)
			peer.parents["/chain/1"] = ""
			peer.parents["/chain/2"] = "/chain/1"
			peer.parents["/chain/3"] = "/chain/2"
			peer.parents["/loop/a"] = "/loop/b"
			peer.parents["/loop/b"] = "/loop/a"

			zoe, err := school.svc.RemoteActor(ctx, peer.zoe())
			if err != nil {
				t.Fatal(err)
			}
			// deliver hands the server a Create of a reply the engine
			// vouched for, under the fetch budget the engine gives each
			// inbound activity (none when budget is 0).
			deliver := func(path, parent string, budget int) *actors.Status {
				t.Helper()
				obj, err := streams.Parse([]byte(peer.note(path, parent)))
				if err != nil {
					t.Fatal(err)
				}
				act := streams.Default().New("Create")
				act.SetID(obj.ID() + "/activity")
				_ = act.Set("actor", streams.IRI(zoe.IRI))
				_ = act.Set("object", streams.ObjectValue(obj))
				rctx := ctx
				if budget > 0 {
					rctx = transport.WithBudget(ctx, budget)
				}
				if err := school.svc.Receive(rctx, actors.Incoming{Activity: act, Actor: zoe.IRI, Object: obj}); err != nil {
					t.Fatalf("Receive(%s): %v", path, err)
				}
				st, err := school.svc.StatusByIRI(ctx, 0, obj.ID())
				if err != nil {
					t.Fatal(err)
				}
				return st
			}
			ancestors := func(st *actors.Status) []string {
				t.Helper()
				th, err := school.svc.Context(ctx, 0, st.ID)
				if err != nil {
					t.Fatal(err)
				}
				var out []string
				for _, a := range th.Ancestors {
					out = append(out, strings.TrimPrefix(a.IRI, peer.base))
				}
				return out
			}

			t.Run("chain of 3", func(t *testing.T) {
				peer.reset()
				st := deliver("/chain/4", "/chain/3", 20)
				if got, want := strings.Join(ancestors(st), " "), "/chain/1 /chain/2 /chain/3"; got != want {
					t.Errorf("ancestors %q, want %q", got, want)
				}
				if n := peer.count(); n != 3 {
					t.Errorf("%d note fetches, want 3", n)
				}
				// A second reply in the thread fetches nothing: its parent
				// is stored now.
				peer.reset()
				st = deliver("/chain/5", "/chain/4", 20)
				if got, want := strings.Join(ancestors(st), " "), "/chain/1 /chain/2 /chain/3 /chain/4"; got != want {
					t.Errorf("ancestors %q, want %q", got, want)
				}
				if n := peer.count(); n != 0 {
					t.Errorf("%d note fetches for a reply to a stored note", n)
				}
			})

			t.Run("loop", func(t *testing.T) {
				peer.reset()
				st := deliver("/loop/c", "/loop/a", 20)
				if n := peer.count(); n != 2 {
					t.Errorf("%d note fetches, want 2 (a and b, once each)", n)
				}
				for _, path := range []string{"/loop/a", "/loop/b"} {
					if _, err := school.svc.StatusByIRI(ctx, 0, peer.base+path); err != nil {
						t.Errorf("%s not stored: %v", path, err)
					}
				}
				if got := ancestors(st); len(got) == 0 || got[len(got)-1] != "/loop/a" {
					t.Errorf("ancestors %v: the parent is not linked", got)
				}
			})

			t.Run("endless within the fetch budget", func(t *testing.T) {
				peer.reset()
				st := deliver("/endless/0", "/endless/1", 20)
				n := peer.count()
				if n == 0 || n > 20 {
					t.Errorf("%d note fetches, want between 1 and the budget of 20", n)
				}
				if got := ancestors(st); len(got) != n {
					t.Errorf("%d ancestors from %d fetches", len(got), n)
				}
			})

			t.Run("endless without a budget", func(t *testing.T) {
				peer.reset()
				st := deliver("/endless/1000", "/endless/1001", 0)
				if n := peer.count(); n != actors.MaxThreadDepth {
					t.Errorf("%d note fetches, want %d", n, actors.MaxThreadDepth)
				}
				if got := ancestors(st); len(got) != actors.MaxThreadDepth {
					t.Errorf("%d ancestors, want %d", len(got), actors.MaxThreadDepth)
				}
			})
		})
	}
}
