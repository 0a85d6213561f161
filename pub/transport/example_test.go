package transport_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"

	"github.com/commonroom/commonroom/pub/transport"
)

// staticResolver maps every name onto loopback, for the examples.
type staticResolver struct{}

func (staticResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
}

// exampleConfig is a demo configuration (what --insecure-http does): plain
// http and loopback peers allowed.
func exampleConfig() transport.Config {
	cfg := transport.DefaultConfig()
	cfg.UserAgent = transport.UserAgent("0.1", "http://school.example/")
	cfg.AllowHTTP = true
	cfg.AllowPrefixes = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	cfg.Resolver = staticResolver{}
	cfg.LocalOrigins = []string{"http://school.example"}
	return cfg
}

func ExampleClient_Dereference() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/activity+json")
		fmt.Fprintf(w, `{"id":"http://%s/users/alice","type":"Person"}`, r.Host)
	}))
	defer srv.Close()
	peer := "http://remote.example:" + must(url.Parse(srv.URL)).Port()

	c, err := transport.New(exampleConfig())
	if err != nil {
		panic(err)
	}
	doc, err := c.Dereference(context.Background(), peer+"/users/alice")
	if err != nil {
		panic(err)
	}
	fmt.Println(doc.ID == peer+"/users/alice", doc.ContentType)

	// Our own origin is answered from our store, never over HTTP.
	_, err = c.Dereference(context.Background(), "http://school.example/users/bob")
	fmt.Println(errors.Is(err, transport.ErrLocal))
	// Output:
	// true application/activity+json
	// true
}

func ExampleClient_Deliver() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Println(r.Method, r.Header.Get("Content-Type"), string(body))
		w.Header().Set("Retry-After", "60")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	inbox := "http://remote.example:" + must(url.Parse(srv.URL)).Port() + "/inbox"

	c, err := transport.New(exampleConfig())
	if err != nil {
		panic(err)
	}
	res, err := c.Deliver(context.Background(), inbox, []byte(`{"type":"Follow"}`))
	fmt.Println(res.StatusCode, res.RetryAfter, transport.IsRetryable(err))
	// Output:
	// POST application/activity+json {"type":"Follow"}
	// 503 1m0s true
}

func ExampleWithBudget() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/activity+json")
		fmt.Fprintf(w, `{"id":"http://%s%s"}`, r.Host, r.URL.Path)
	}))
	defer srv.Close()
	peer := "http://remote.example:" + must(url.Parse(srv.URL)).Port()

	c, err := transport.New(exampleConfig())
	if err != nil {
		panic(err)
	}
	// Handling one inbound activity may cause at most 2 fetches.
	ctx := transport.WithBudget(context.Background(), 2)
	for _, p := range []string{"/notes/1", "/notes/2", "/notes/3"} {
		_, err := c.Dereference(ctx, peer+p)
		fmt.Println(p, err == nil, errors.Is(err, transport.ErrBudgetExhausted))
	}
	// Output:
	// /notes/1 true false
	// /notes/2 true false
	// /notes/3 false true
}

func ExampleClient_Get() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/jrd+json")
		fmt.Fprintf(w, `{"subject":%q}`, r.URL.Query().Get("resource"))
	}))
	defer srv.Close()
	host := "remote.example:" + must(url.Parse(srv.URL)).Port()

	c, err := transport.New(exampleConfig())
	if err != nil {
		panic(err)
	}
	resp, err := c.Get(context.Background(), "http://"+host+"/.well-known/webfinger?resource=acct:alice@remote.example", "application/jrd+json")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close() // the caller closes the body
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(string(body))
	// Output:
	// {"subject":"acct:alice@remote.example"}
}

func ExampleAddressAllowed() {
	for _, a := range []string{"93.184.215.14", "169.254.169.254", "::ffff:10.0.0.1", "127.0.0.1"} {
		addr := netip.MustParseAddr(a)
		fmt.Println(a, transport.AddressAllowed(addr, nil), transport.AddressAllowed(addr, transport.InsecurePrefixes()))
	}
	// Output:
	// 93.184.215.14 true true
	// 169.254.169.254 false false
	// ::ffff:10.0.0.1 false true
	// 127.0.0.1 false true
}

func ExampleParseOrigin() {
	a, _ := transport.ParseOrigin("https://EVIL.example.:443/users/eve")
	b, _ := transport.ParseOrigin("https://mastodon.so/cial")
	fmt.Println(a)
	fmt.Println(b, transport.SameOrigin("https://mastodon.so/cial", "https://mastodon.social"))
	// Output:
	// https://evil.example
	// https://mastodon.so false
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
