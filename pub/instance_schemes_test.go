package pub_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/commonroom/commonroom/pub"
	pubdelivery "github.com/commonroom/commonroom/pub/delivery"
	"github.com/commonroom/commonroom/pub/httpsig"
)

// TestInstanceActorSchemeByCanonicalHost: the instance actor looks up the
// signature scheme a host accepts under the canonical host[:port] of the
// request URL's origin, the key pub/delivery records answers under, so
// that any spelling of the origin (case, default port, IDNA) finds it.
func TestInstanceActorSchemeByCanonicalHost(t *testing.T) {
	ctx := context.Background()
	id, err := pub.InstanceActorID("https://home.example", "")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := pub.NewActorKeys(ctx, newPoolSource(t), id, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	schemes := httpsig.NewHostSchemes(nil, 0)
	for _, u := range []string{"https://school.example/inbox", "https://bücher.example/inbox", "http://peer.example:8080/inbox"} {
		host, err := pubdelivery.HostOf(u)
		if err != nil {
			t.Fatal(err)
		}
		schemes.Accepted(host, httpsig.RFC9421)
	}
	a, err := pub.NewInstanceActor(keys, pub.InstanceConfig{BaseURL: "https://home.example", Schemes: schemes})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		url     string
		rfc9421 bool
	}{
		{"https://school.example/users/a", true},
		{"https://SCHOOL.example:443/users/a", true},
		{"https://school.example./users/a", true},
		{"https://BÜCHER.example/users/a", true},
		{"https://xn--bcher-kva.example/users/a", true},
		{"http://peer.example:8080/users/a", true},
		{"http://peer.example/users/a", false},
		{"https://other.example/users/a", false},
	} {
		req, err := http.NewRequest(http.MethodGet, tt.url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.SignRequest(req, nil); err != nil {
			t.Fatal(err)
		}
		if got := req.Header.Get("Signature-Input") != ""; got != tt.rfc9421 {
			t.Errorf("GET %s signed with RFC 9421: %v, want %v (headers %v)", tt.url, got, tt.rfc9421, req.Header)
		}
	}
}
