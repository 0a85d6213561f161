package webfinger_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/commonroom/commonroom/pub/webfinger"
)

// recorder is a Getter that sends through next and records the URLs asked.
type recorder struct {
	next webfinger.Getter
	mu   sync.Mutex
	urls []string
}

func (r *recorder) Get(ctx context.Context, rawURL, accept string) (*http.Response, error) {
	r.mu.Lock()
	r.urls = append(r.urls, rawURL)
	r.mu.Unlock()
	return r.next.Get(ctx, rawURL, accept)
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.urls)
}

func hostOf(tb testing.TB, srv *httptest.Server) string {
	tb.Helper()
	u, err := url.Parse(srv.URL)
	if err != nil {
		tb.Fatal(err)
	}
	return u.Host
}

// mustRaw starts a loopback server answering with fn.
func mustRaw(tb testing.TB, fn http.HandlerFunc) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(fn)
	tb.Cleanup(srv.Close)
	return srv
}

// writeJRD answers with a JRD whose self link is actor.
func writeJRD(w http.ResponseWriter, subject, actor string) {
	w.Header().Set("Content-Type", webfinger.MediaTypeJRD)
	fmt.Fprintf(w, `{"subject":%q,"links":[{"rel":"self","type":"application/activity+json","href":%q}]}`, subject, actor)
}

func newClient(t *testing.T) (*webfinger.Client, *recorder) {
	rec := &recorder{next: webfinger.HTTPGetter{}}
	return &webfinger.Client{HTTP: rec, Scheme: "http"}, rec
}

func TestResolveHappyPath(t *testing.T) {
	srv := mustServer(t, webfinger.Config{})
	host := hostOf(t, srv)
	for _, in := range []string{"@alice@" + host, "alice@" + host, "acct:alice@" + host, "@ALICE@" + strings.ToUpper(host)} {
		t.Run(in, func(t *testing.T) {
			c, rec := newClient(t)
			res, err := c.Resolve(context.Background(), in)
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if res.Actor != srv.URL+"/users/alice" || res.ProfileURL != srv.URL+"/@alice" {
				t.Errorf("actor, profile = %q, %q", res.Actor, res.ProfileURL)
			}
			if res.Subject != (webfinger.Handle{User: "alice", Host: host}) {
				t.Errorf("subject = %#v", res.Subject)
			}
			if rec.count() != 1 {
				t.Errorf("%d requests, want 1: %q", rec.count(), rec.urls)
			}
		})
	}
}

func TestResolveOverTLS(t *testing.T) {
	mux := http.NewServeMux()
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()
	host := hostOf(t, srv)
	var actor string
	mux.HandleFunc(webfinger.PathWebFinger, func(w http.ResponseWriter, r *http.Request) {
		writeJRD(w, "acct:alice@"+host, actor)
	})
	c := &webfinger.Client{HTTP: webfinger.HTTPGetter{Client: srv.Client()}} // default scheme https

	actor = srv.URL + "/users/alice"
	res, err := c.Resolve(context.Background(), "alice@"+host)
	if err != nil || res.Actor != actor {
		t.Fatalf("Resolve = %+v, %v", res, err)
	}
	actor = "http://" + host + "/users/alice" // downgrade to plain http
	if _, err := c.Resolve(context.Background(), "alice@"+host); !errors.Is(err, webfinger.ErrNoActor) {
		t.Errorf("http actor from an https client: err = %v, want ErrNoActor", err)
	}
}

// splitDomain starts the two servers of a split-domain setup: web serves
// the accounts, which are named @user@<acctHost>; the account host either
// redirects its WebFinger endpoint to web, or names web in its host-meta.
func splitDomain(t *testing.T, viaHostMeta bool) (acct, web *httptest.Server) {
	webMux := http.NewServeMux()
	web = httptest.NewServer(webMux)
	t.Cleanup(web.Close)
	acct = mustRaw(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case viaHostMeta && r.URL.Path == webfinger.PathHostMeta:
			w.Header().Set("Content-Type", webfinger.MediaTypeXRD)
			fmt.Fprintf(w, `<?xml version="1.0"?><XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0"><Link rel="lrdd" template="%s/.well-known/webfinger?resource={uri}"/></XRD>`, web.URL)
		case !viaHostMeta && r.URL.Path == webfinger.PathWebFinger:
			http.Redirect(w, r, web.URL+r.URL.RequestURI(), http.StatusMovedPermanently)
		default:
			http.NotFound(w, r)
		}
	})
	h, err := webfinger.NewHandler(webfinger.Config{BaseURL: web.URL, Domain: hostOf(t, acct), Resolver: newDirectory(web.URL)})
	if err != nil {
		t.Fatal(err)
	}
	h.Routes(webMux)
	return acct, web
}

func TestResolveSplitDomain(t *testing.T) {
	for _, viaHostMeta := range []bool{false, true} {
		acct, web := splitDomain(t, viaHostMeta)
		for _, asked := range []*httptest.Server{acct, web} {
			name := fmt.Sprintf("hostmeta=%v/ask %s", viaHostMeta, map[bool]string{true: "account domain", false: "web domain"}[asked == acct])
			t.Run(name, func(t *testing.T) {
				c, rec := newClient(t)
				res, err := c.Resolve(context.Background(), "alice@"+hostOf(t, asked))
				if err != nil {
					t.Fatalf("Resolve: %v (requests %q)", err, rec.urls)
				}
				if want := (webfinger.Handle{User: "alice", Host: hostOf(t, acct)}); res.Subject != want {
					t.Errorf("subject = %v, want %v", res.Subject, want)
				}
				if res.Actor != web.URL+"/users/alice" {
					t.Errorf("actor = %q", res.Actor)
				}
				if rec.count() > 5 {
					t.Errorf("%d requests: %q", rec.count(), rec.urls)
				}
			})
		}
	}
}

func TestResolveRefusesUnconfirmedHosts(t *testing.T) {
	good := mustServer(t, webfinger.Config{})
	goodHost := hostOf(t, good)
	// liar answers for anyone, naming whatever actor the test sets.
	var liarAnswer func(resource string) (subject, actor string)
	liar := mustRaw(t, func(w http.ResponseWriter, r *http.Request) {
		s, a := liarAnswer(r.URL.Query().Get("resource"))
		writeJRD(w, s, a)
	})
	liarHost := hostOf(t, liar)

	t.Run("actor on a host that does not know the subject", func(t *testing.T) {
		liarAnswer = func(string) (string, string) { return "acct:alice@" + liarHost, good.URL + "/users/alice" }
		c, _ := newClient(t)
		_, err := c.Resolve(context.Background(), "alice@"+liarHost)
		var me *webfinger.MismatchError
		if !errors.As(err, &me) || !errors.Is(err, webfinger.ErrMismatch) {
			t.Fatalf("err = %v, want *MismatchError", err)
		}
		if me.Actor != good.URL+"/users/alice" || me.QueryHost != goodHost {
			t.Errorf("MismatchError = %+v", me)
		}
	})

	t.Run("actor's host names another actor", func(t *testing.T) {
		// other claims liar's subject but with its own actor.
		other := mustRaw(t, func(w http.ResponseWriter, r *http.Request) {
			writeJRD(w, r.URL.Query().Get("resource"), "http://"+r.Host+"/users/someone-else")
		})
		liarAnswer = func(string) (string, string) { return "acct:alice@" + liarHost, other.URL + "/users/alice" }
		c, _ := newClient(t)
		if _, err := c.Resolve(context.Background(), "alice@"+liarHost); !errors.Is(err, webfinger.ErrMismatch) {
			t.Fatalf("err = %v, want ErrMismatch", err)
		}
	})

	t.Run("actor's host names another subject", func(t *testing.T) {
		other := mustRaw(t, func(w http.ResponseWriter, r *http.Request) {
			writeJRD(w, "acct:bob@"+r.Host, "http://"+r.Host+"/users/alice")
		})
		liarAnswer = func(string) (string, string) { return "acct:alice@" + liarHost, other.URL + "/users/alice" }
		c, _ := newClient(t)
		if _, err := c.Resolve(context.Background(), "alice@"+liarHost); !errors.Is(err, webfinger.ErrMismatch) {
			t.Fatalf("err = %v, want ErrMismatch", err)
		}
	})

	t.Run("subject on another host is asked there, liar's actor never used", func(t *testing.T) {
		liarAnswer = func(string) (string, string) { return "acct:alice@" + goodHost, liar.URL + "/users/mallory" }
		c, _ := newClient(t)
		res, err := c.Resolve(context.Background(), "mallory@"+liarHost)
		if err != nil {
			t.Fatalf("Resolve: %v", err)
		}
		if res.Actor != good.URL+"/users/alice" || res.Subject.Host != goodHost {
			t.Errorf("got %+v, want good's alice", res)
		}
	})

	t.Run("subject on another host that does not have it", func(t *testing.T) {
		liarAnswer = func(string) (string, string) { return "acct:nobody@" + goodHost, liar.URL + "/users/mallory" }
		c, _ := newClient(t)
		if _, err := c.Resolve(context.Background(), "mallory@"+liarHost); !errors.Is(err, webfinger.ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})

	t.Run("redirect chain", func(t *testing.T) {
		third := mustRaw(t, func(w http.ResponseWriter, r *http.Request) {
			writeJRD(w, "acct:alice@elsewhere.example", "http://"+r.Host+"/users/alice")
		})
		liarAnswer = func(string) (string, string) { return "acct:alice@" + hostOf(t, third), liar.URL + "/users/alice" }
		c, rec := newClient(t)
		_, err := c.Resolve(context.Background(), "alice@"+liarHost)
		if !errors.Is(err, webfinger.ErrMismatch) {
			t.Fatalf("err = %v, want ErrMismatch", err)
		}
		if rec.count() != 2 {
			t.Errorf("%d requests, want 2: %q", rec.count(), rec.urls)
		}
	})
}

func TestResolveBadResponses(t *testing.T) {
	big := strings.Repeat(" ", webfinger.DefaultMaxBodyBytes)
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    error
	}{
		{"404", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }, webfinger.ErrNotFound},
		{"410", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusGone) }, webfinger.ErrGone},
		{"410 is also not found", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusGone) }, webfinger.ErrNotFound},
		{"html", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, `{"subject":"acct:alice@x.example"}`)
		}, webfinger.ErrContentType},
		{"xml", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/xrd+xml")
			fmt.Fprint(w, `<XRD/>`)
		}, webfinger.ErrContentType},
		{"no content type", func(w http.ResponseWriter, r *http.Request) {
			w.Header()["Content-Type"] = nil
			fmt.Fprint(w, `{"subject":"acct:alice@x.example"}`)
		}, webfinger.ErrContentType},
		{"too large with length", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", fmt.Sprint(len(big)+10))
			fmt.Fprint(w, `{"a":"`+big+`"}`)
		}, webfinger.ErrTooLarge},
		{"too large chunked", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"a":"`)
			w.(http.Flusher).Flush()
			fmt.Fprint(w, big+`"}`)
		}, webfinger.ErrTooLarge},
		{"not JSON", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/jrd+json")
			fmt.Fprint(w, `<html>`)
		}, webfinger.ErrMalformed},
		{"no subject", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/jrd+json")
			fmt.Fprintf(w, `{"links":[{"rel":"self","type":"application/activity+json","href":"http://%s/users/alice"}]}`, r.Host)
		}, webfinger.ErrMalformed},
		{"URL subject", func(w http.ResponseWriter, r *http.Request) {
			writeJRD(w, "http://"+r.Host+"/users/alice", "http://"+r.Host+"/users/alice")
		}, webfinger.ErrMalformed},
		{"no self link", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/jrd+json")
			fmt.Fprintf(w, `{"subject":%q,"links":[{"rel":"http://webfinger.net/rel/profile-page","type":"text/html","href":"http://%s/@alice"}]}`, r.URL.Query().Get("resource"), r.Host)
		}, webfinger.ErrNoActor},
		{"self link of HTML type", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/jrd+json")
			fmt.Fprintf(w, `{"subject":%q,"links":[{"rel":"self","type":"text/html","href":"http://%s/users/alice"}]}`, r.URL.Query().Get("resource"), r.Host)
		}, webfinger.ErrNoActor},
		{"self link with userinfo", func(w http.ResponseWriter, r *http.Request) {
			writeJRD(w, r.URL.Query().Get("resource"), "http://eve@"+r.Host+"/users/alice")
		}, webfinger.ErrNoActor},
		{"self link not a URL", func(w http.ResponseWriter, r *http.Request) {
			writeJRD(w, r.URL.Query().Get("resource"), "alice")
		}, webfinger.ErrNoActor},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := mustRaw(t, tt.handler)
			c, _ := newClient(t)
			_, err := c.Resolve(context.Background(), "alice@"+hostOf(t, srv))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestResolveStatusError(t *testing.T) {
	srv := mustRaw(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	c, _ := newClient(t)
	_, err := c.Resolve(context.Background(), "alice@"+hostOf(t, srv))
	var se *webfinger.StatusError
	if !errors.As(err, &se) || se.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("err = %v, want *StatusError 503", err)
	}
}

func TestResolveAcceptsLDJSONSelfLink(t *testing.T) {
	srv := mustRaw(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		fmt.Fprintf(w, `{"subject":%q,"links":[
			{"rel":"self","type":"text/html","href":"http://%[2]s/html/alice"},
			{"rel":"self","type":"application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"","href":"http://%[2]s/ap/alice"}]}`,
			r.URL.Query().Get("resource"), r.Host)
	})
	c, _ := newClient(t)
	res, err := c.Resolve(context.Background(), "alice@"+hostOf(t, srv))
	if err != nil || res.Actor != srv.URL+"/ap/alice" {
		t.Fatalf("Resolve = %+v, %v", res, err)
	}
}

func TestResolveRejectsBadHandlesWithoutRequests(t *testing.T) {
	for _, in := range []string{"", "alice", "user@evil.example@good.example", "acct:user@host/path", "a b@host", "@alice@host:99999"} {
		t.Run(in, func(t *testing.T) {
			c, rec := newClient(t)
			if _, err := c.Resolve(context.Background(), in); !errors.Is(err, webfinger.ErrInvalidResource) {
				t.Fatalf("err = %v, want ErrInvalidResource", err)
			}
			if rec.count() != 0 {
				t.Errorf("made requests: %q", rec.urls)
			}
		})
	}
}

func TestLookupSendsResourceAndAccept(t *testing.T) {
	var gotResource, gotAccept, gotUA string
	srv := mustRaw(t, func(w http.ResponseWriter, r *http.Request) {
		gotResource, gotAccept, gotUA = r.URL.Query().Get("resource"), r.Header.Get("Accept"), r.UserAgent()
		writeJRD(w, "acct:a@b.example", "http://b.example/users/a")
	})
	c := &webfinger.Client{HTTP: webfinger.HTTPGetter{UserAgent: "commonroom-test"}, Scheme: "http"}
	if _, err := c.Lookup(context.Background(), hostOf(t, srv), "acct:a+b&c@b.example"); err != nil {
		t.Fatal(err)
	}
	if gotResource != "acct:a+b&c@b.example" || !strings.HasPrefix(gotAccept, webfinger.MediaTypeJRD) || gotUA != "commonroom-test" {
		t.Errorf("resource %q, Accept %q, User-Agent %q", gotResource, gotAccept, gotUA)
	}
}

func TestResolveHonoursContext(t *testing.T) {
	srv := mustServer(t, webfinger.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c, _ := newClient(t)
	if _, err := c.Resolve(ctx, "alice@"+hostOf(t, srv)); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// TestResolveLocalNeverFetchesSelf: with Client.Local set, local handles are
// answered without a request, and a remote answer naming a local actor is
// checked against the local directory, not by fetching ourselves.
func TestResolveLocalNeverFetchesSelf(t *testing.T) {
	var selfHits atomic.Int32
	mux := http.NewServeMux()
	self := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		selfHits.Add(1)
		mux.ServeHTTP(w, r)
	}))
	defer self.Close()
	local, err := webfinger.NewHandler(webfinger.Config{BaseURL: self.URL, Resolver: newDirectory(self.URL)})
	if err != nil {
		t.Fatal(err)
	}
	local.Routes(mux)
	selfHost := hostOf(t, self)

	c, _ := newClient(t)
	c.Local = local
	res, err := c.Resolve(context.Background(), "@alice@"+selfHost)
	if err != nil || res.Actor != self.URL+"/users/alice" {
		t.Fatalf("Resolve local = %+v, %v", res, err)
	}

	liar := mustRaw(t, func(w http.ResponseWriter, r *http.Request) {
		writeJRD(w, "acct:alice@"+r.Host, self.URL+"/users/alice")
	})
	if _, err := c.Resolve(context.Background(), "alice@"+hostOf(t, liar)); !errors.Is(err, webfinger.ErrMismatch) {
		t.Fatalf("remote claiming a local actor: err = %v, want ErrMismatch", err)
	}
	if n := selfHits.Load(); n != 0 {
		t.Errorf("%d requests reached our own server", n)
	}
}
