package actors_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"
	"github.com/uptrace/bun"

	"github.com/commonroom/commonroom/actors"
	"github.com/commonroom/commonroom/internal/db"
	"github.com/commonroom/commonroom/internal/dbtest"
	"github.com/commonroom/commonroom/internal/ids"
	"github.com/commonroom/commonroom/internal/users"
	"github.com/commonroom/commonroom/pub"
	"github.com/commonroom/commonroom/streams"
)

const testBase = "https://school.example"

// fastHash keeps argon2id cheap in tests.
var fastHash = &argon2id.Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

var testTime = time.Date(2026, 11, 21, 7, 0, 0, 0, time.UTC)

// testRSA is generated once: RSA generation is slow and the tests only
// need keys that parse.
var testRSA *rsa.PrivateKey

func TestMain(m *testing.M) {
	var err error
	if testRSA, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

// keySource hands out the shared test RSA key and fresh Ed25519 keys.
type keySource struct{}

func (keySource) RSAKey(context.Context) (*rsa.PrivateKey, error) { return testRSA, nil }
func (keySource) Ed25519Key(context.Context) (ed25519.PrivateKey, error) {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	return k, err
}

// keyStore is an actors.KeyStore over pub's in-memory store; Err makes it
// fail.
type keyStore struct {
	mem *pub.MemoryKeyStore
	Err error
}

func (k *keyStore) EnsureLocal(ctx context.Context, actorID string) (*pub.ActorKeys, error) {
	if k.Err != nil {
		return nil, k.Err
	}
	return pub.EnsureLocalKeys(ctx, k.mem, keySource{}, actorID, testTime)
}

// fetcher serves documents from a map of IRI to JSON, counting fetches.
type fetcher struct {
	mu    sync.Mutex
	docs  map[string]string
	calls []string
}

func (f *fetcher) put(iri, doc string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.docs[iri] = doc
}

func (f *fetcher) Fetch(_ context.Context, iri string) (*streams.Object, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, iri)
	doc, ok := f.docs[iri]
	if !ok {
		return nil, fmt.Errorf("fetch %s: %w", iri, pub.ErrNotFound)
	}
	return streams.Default().Parse([]byte(doc))
}

func (f *fetcher) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// publisher records what the Service publishes; Err makes it fail.
type publisher struct {
	mu   sync.Mutex
	acts []published
	Err  error
}

type published struct {
	actor string
	act   *streams.Object
}

func (p *publisher) Publish(_ context.Context, actor string, act *streams.Object) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Err != nil {
		return p.Err
	}
	p.acts = append(p.acts, published{actor, act})
	return nil
}

// types returns the types of the published activities, in order.
func (p *publisher) types() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, len(p.acts))
	for i, a := range p.acts {
		out[i] = a.act.Type()
	}
	return out
}

func (p *publisher) last(tb testing.TB) *streams.Object {
	tb.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.acts) == 0 {
		tb.Fatal("nothing was published")
	}
	return p.acts[len(p.acts)-1].act
}

func (p *publisher) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.acts = nil
}

// env is one Service with its fakes and database.
type env struct {
	db    *bun.DB
	svc   *actors.Service
	users *users.Service
	fetch *fetcher
	keys  *keyStore
	pub   *publisher
	now   *time.Time
}

func sets() []db.MigrationSet { return []db.MigrationSet{users.Migrations(), actors.Migrations()} }

// forEachDB runs fn on SQLite and, when configured, PostgreSQL.
func forEachDB(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	dbtest.ForEach(t, func(t *testing.T, d *bun.DB) { fn(t, newEnv(t, d, nil)) }, sets()...)
}

func newEnv(tb testing.TB, d *bun.DB, mod func(*actors.Config)) *env {
	tb.Helper()
	now := testTime
	e := &env{db: d, fetch: &fetcher{docs: map[string]string{}}, keys: &keyStore{mem: pub.NewMemoryKeyStore()}, pub: &publisher{}, now: &now}
	clock := func() time.Time { return *e.now }
	cfg := actors.DefaultConfig(testBase)
	if mod != nil {
		mod(&cfg)
	}
	svc, err := actors.NewService(d, actors.Options{
		Config: cfg, Fetcher: e.fetch, Keys: e.keys, Publisher: e.pub,
		IDs: ids.New(clock, nil), Now: clock,
	})
	if err != nil {
		tb.Fatal(err)
	}
	e.svc = svc
	us, err := users.NewService(d, users.Options{Now: clock, IDs: ids.New(clock, nil), HashParams: fastHash})
	if err != nil {
		tb.Fatal(err)
	}
	e.users = us
	return e
}

// local creates a local person named name with a sign-in account.
func (e *env) local(tb testing.TB, name string, mod ...func(*actors.NewLocal)) *actors.Account {
	tb.Helper()
	ctx := context.Background()
	u, err := e.users.Create(ctx, users.NewUser{Username: name, Email: name + "@school.example", Password: "long enough password"})
	if err != nil {
		tb.Fatalf("users.Create(%q): %v", name, err)
	}
	nl := actors.NewLocal{Username: name, UserID: u.ID, DisplayName: "The " + name}
	for _, m := range mod {
		m(&nl)
	}
	a, err := e.svc.CreateLocal(ctx, nl)
	if err != nil {
		tb.Fatalf("CreateLocal(%q): %v", name, err)
	}
	return a
}

// remote stores a remote person at https://host/users/name, fetched from a
// served document.
func (e *env) remote(tb testing.TB, host, name string, locked bool) *actors.Account {
	tb.Helper()
	iri := "https://" + host + "/users/" + name
	e.fetch.put(iri, remoteDoc(iri, name, locked))
	a, err := e.svc.RemoteActor(context.Background(), iri)
	if err != nil {
		tb.Fatalf("RemoteActor(%s): %v", iri, err)
	}
	return a
}

func remoteDoc(iri, name string, locked bool) string {
	return fmt.Sprintf(`{"@context":["https://www.w3.org/ns/activitystreams"],"id":%q,"type":"Person",
"preferredUsername":%q,"name":"Remote %s","inbox":"%s/inbox","outbox":"%s/outbox",
"followers":"%s/followers","following":"%s/following","manuallyApprovesFollowers":%t,
"endpoints":{"sharedInbox":"%s"}}`, iri, name, name, iri, iri, iri, iri, locked, sharedInboxOf(iri))
}

func sharedInboxOf(iri string) string {
	o, _ := pubOrigin(iri)
	return o + "/inbox"
}

func pubOrigin(iri string) (string, error) {
	for i, n := 0, 0; i < len(iri); i++ {
		if iri[i] == '/' {
			n++
			if n == 3 {
				return iri[:i], nil
			}
		}
	}
	return iri, errors.New("no path")
}

// count returns the number of rows of table.
func count(tb testing.TB, d *bun.DB, table string) int {
	tb.Helper()
	n, err := d.NewSelect().Table(table).Count(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return int(n)
}
