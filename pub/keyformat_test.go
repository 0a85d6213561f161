package pub_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/commonroom/commonroom/pub"
	"github.com/commonroom/commonroom/pub/transport"
	"github.com/commonroom/commonroom/streams"
)

// fixturesDir returns ../shared/fixtures/activitypub, failing when it is
// missing under CI=true and skipping otherwise.
func fixturesDir(tb testing.TB) string {
	tb.Helper()
	dir := filepath.Join("..", "..", "shared", "fixtures", "activitypub")
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("fixtures missing at %s (CI=true): %v", dir, err)
		}
		tb.Skipf("fixtures missing at %s: %v", dir, err)
	}
	return dir
}

func TestPublishedKeysFromFixtures(t *testing.T) {
	dir := fixturesDir(t)
	for _, tc := range []struct {
		file, keyID, owner string
	}{
		{"mastodon/objects/person.json", "https://masto.qa.urbanwildlife.biz/users/mastodon#main-key", "https://masto.qa.urbanwildlife.biz/users/mastodon"},
		{"lemmy/objects/person.json", "https://enterprise.lemmy.ml/u/picard#main-key", "https://enterprise.lemmy.ml/u/picard"},
		{"lemmy/objects/group.json", "", ""},
		{"pleroma/objects/person.json", "", ""},
		{"peertube/objects/person.json", "https://tilvids.com/accounts/thelinuxexperiment#main-key", "https://tilvids.com/accounts/thelinuxexperiment"},
		{"smithereen/objects/person.json", "https://friends.grishka.me/users/1#main-key", "https://friends.grishka.me/users/1"},
		{"friendica/objects/person_1.json", "", ""},
		{"gnusocial/objects/person.json", "", ""},
		{"mobilizon/objects/person.json", "", ""},
		{"wordpress/objects/person.json", "", ""},
		{"lotide/objects/person.json", "", ""},
		{"nodebb/objects/person.json", "", ""},
		{"discourse/objects/person.json", "", ""},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			doc, err := streams.Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			keys, err := pub.PublishedKeys(doc)
			if err != nil {
				t.Fatal(err)
			}
			k := keys[0]
			if _, ok := k.PublicKey.(*rsa.PublicKey); !ok {
				t.Errorf("key type %T, want *rsa.PublicKey", k.PublicKey)
			}
			if k.Property != "publicKey" {
				t.Errorf("found in %q, want publicKey", k.Property)
			}
			wantID, wantOwner := tc.keyID, tc.owner
			if wantID == "" { // every fixture keys its key on its own actor
				wantOwner = doc.ID()
				if !transport.SameOrigin(k.ID, doc.ID()) {
					t.Errorf("key id %q is not on the origin of actor %q", k.ID, doc.ID())
				}
			} else if k.ID != wantID {
				t.Errorf("key id %q, want %q", k.ID, wantID)
			}
			if k.Owner != wantOwner {
				t.Errorf("owner %q, want %q", k.Owner, wantOwner)
			}
		})
	}
}

func TestPublishKeysRoundTrip(t *testing.T) {
	src := newPoolSource(t)
	const actor = "https://school.example/users/ada"
	keys, err := pub.NewActorKeys(context.Background(), src, actor, newFakeClock().Now())
	if err != nil {
		t.Fatal(err)
	}
	doc := streams.NewObject("Person")
	doc.SetID(actor)
	if err := pub.PublishKeys(doc, keys); err != nil {
		t.Fatal(err)
	}
	data, err := streams.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"PRIVATE KEY", "redacted"} {
		if strings.Contains(string(data), secret) {
			t.Errorf("actor document contains %q:\n%s", secret, data)
		}
	}
	back, err := streams.Parse(data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	got, err := pub.PublishedKeys(back)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		prop string
		pub  crypto.PublicKey
	}{
		keys.RSAKeyID():     {"publicKey", keys.RSA.Public()},
		keys.Ed25519KeyID(): {"assertionMethod", keys.Ed25519.Public()},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d keys, want %d:\n%s", len(got), len(want), data)
	}
	for _, k := range got {
		w, ok := want[k.ID]
		if !ok {
			t.Errorf("unexpected key %s", k.ID)
			continue
		}
		if k.Property != w.prop || k.Owner != actor {
			t.Errorf("key %s: property %q owner %q", k.ID, k.Property, k.Owner)
		}
		if !k.PublicKey.(interface{ Equal(crypto.PublicKey) bool }).Equal(w.pub) {
			t.Errorf("key %s does not round-trip", k.ID)
		}
	}
}
