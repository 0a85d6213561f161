package webfinger_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/commonroom/commonroom/pub/webfinger"
)

// A server answers WebFinger for its accounts, and a client on another
// server resolves @alice@host to her actor IRI.
func Example() {
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()

	h, err := webfinger.NewHandler(webfinger.Config{
		BaseURL: srv.URL, // http://127.0.0.1:port in this example
		Resolver: webfinger.ResolverFunc(func(ctx context.Context, name string) (*webfinger.Account, error) {
			if name != "alice" {
				return nil, webfinger.ErrNotFound
			}
			return &webfinger.Account{
				Username:   "alice",
				Kind:       webfinger.KindPerson,
				ActorIRI:   srv.URL + "/users/alice",
				ProfileURL: srv.URL + "/@alice",
			}, nil
		}),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	h.Routes(mux)

	// Scheme "http" only because the example server is plain loopback;
	// production clients use https and pub/transport's safe *Client.
	c := &webfinger.Client{HTTP: webfinger.HTTPGetter{Client: srv.Client()}, Scheme: "http"}
	u, _ := url.Parse(srv.URL)
	res, err := c.Resolve(context.Background(), "@alice@"+u.Host)
	if err != nil {
		fmt.Println(err)
		return
	}
	actor, _ := url.Parse(res.Actor)
	fmt.Println(res.Subject.User, actor.Path)
	// Output: alice /users/alice
}

// ParseHandle accepts the ways people write an account address and
// normalizes the host.
func ExampleParseHandle() {
	for _, s := range []string{"@Alice@Social.Example", "acct:bob@xn--bcher-kva.example", "carol@bücher.example:8443"} {
		h, err := webfinger.ParseHandle(s)
		fmt.Println(h, err)
	}
	_, err := webfinger.ParseHandle("user@evil.example@good.example")
	fmt.Println(err)
	// Output:
	// Alice@social.example <nil>
	// bob@xn--bcher-kva.example <nil>
	// carol@xn--bcher-kva.example:8443 <nil>
	// webfinger: invalid resource: "user@evil.example@good.example" has more than one @
}
