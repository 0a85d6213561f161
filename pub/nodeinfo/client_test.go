package nodeinfo_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/commonroom/commonroom/pub/nodeinfo"
	"github.com/commonroom/commonroom/pub/transport"
	"github.com/commonroom/commonroom/pub/webfinger"
)

func hostOf(tb testing.TB, srv *httptest.Server) string {
	tb.Helper()
	u, err := url.Parse(srv.URL)
	if err != nil {
		tb.Fatal(err)
	}
	return u.Host
}

// peer starts a loopback server whose discovery document is disco (with
// {base} replaced by its URL) and which serves docs by path.
func peer(tb testing.TB, disco string, docs map[string]string) *httptest.Server {
	tb.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body string
		switch {
		case r.URL.Path == nodeinfo.PathDiscovery && disco != "":
			body = disco
		case docs[r.URL.Path] != "":
			body = docs[r.URL.Path]
		default:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		fmt.Fprint(w, strings.ReplaceAll(body, "{base}", srv.URL))
	}))
	tb.Cleanup(srv.Close)
	return srv
}

func client() *nodeinfo.Client { return &nodeinfo.Client{HTTP: webfinger.HTTPGetter{}, Scheme: "http"} }

// A Mastodon-like 2.0 document, with fields of its own in usage and
// metadata, as peers really send them.
const mastodon20 = `{"version":"2.0","software":{"name":"mastodon","version":"4.3.0"},"protocols":["activitypub"],
"services":{"outbound":[],"inbound":[]},"usage":{"users":{"total":100,"activeMonth":10,"activeHalfyear":50},"localPosts":9000},
"openRegistrations":false,"metadata":{"nodeName":"Mastodon","nodeDescription":"","extra":{"a":[1,2]}}}`

func TestFetchOurOwnServer(t *testing.T) {
	srv := mustServer(t, nil)
	doc, err := client().Fetch(context.Background(), hostOf(t, srv))
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if doc.Version != "2.1" || doc.Software.Name != "commonroom" || doc.Software.Repository != nodeinfo.SoftwareRepository ||
		doc.Usage != testUsage || !doc.OpenRegistrations || doc.Metadata["nodeName"] != "Science teachers" {
		t.Errorf("doc = %+v", doc)
	}
}

func TestFetchPicksHighestSupportedVersion(t *testing.T) {
	v21 := strings.Replace(strings.Replace(mastodon20, `"2.0"`, `"2.1"`, 1), `"4.3.0"`, `"4.3.0","repository":"https://example.org/src"`, 1)
	tests := []struct {
		name    string
		disco   string
		docs    map[string]string
		version string
	}{
		{"only 2.0", `{"links":[{"rel":"http://nodeinfo.diaspora.software/ns/schema/2.0","href":"{base}/ni/2.0"}]}`,
			map[string]string{"/ni/2.0": mastodon20}, "2.0"},
		{"2.1 listed after 2.0", `{"links":[{"rel":"http://nodeinfo.diaspora.software/ns/schema/2.0","href":"{base}/ni/2.0"},{"rel":"http://nodeinfo.diaspora.software/ns/schema/2.1","href":"{base}/ni/2.1"}]}`,
			map[string]string{"/ni/2.0": mastodon20, "/ni/2.1": v21}, "2.1"},
		{"unknown versions ignored", `{"links":[{"rel":"http://nodeinfo.diaspora.software/ns/schema/1.0","href":"{base}/ni/1.0"},{"rel":"http://nodeinfo.diaspora.software/ns/schema/2.0","href":"{base}/ni/2.0"},{"rel":"http://nodeinfo.diaspora.software/ns/schema/9.9","href":"{base}/ni/9"}]}`,
			map[string]string{"/ni/2.0": mastodon20}, "2.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := peer(t, tt.disco, tt.docs)
			doc, err := client().Fetch(context.Background(), hostOf(t, srv))
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if doc.Version != tt.version || doc.Software.Name != "mastodon" || doc.Usage.Users.Total != 100 || doc.Usage.LocalPosts != 9000 {
				t.Errorf("doc = %+v", doc)
			}
		})
	}
}

func TestFetchFollowsDiscoveryRedirect(t *testing.T) {
	web := peer(t, `{"links":[{"rel":"http://nodeinfo.diaspora.software/ns/schema/2.0","href":"{base}/ni/2.0"}]}`,
		map[string]string{"/ni/2.0": mastodon20})
	apex := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, web.URL+r.URL.Path, http.StatusFound)
	}))
	defer apex.Close()
	doc, err := client().Fetch(context.Background(), hostOf(t, apex))
	if err != nil || doc.Software.Name != "mastodon" {
		t.Fatalf("Fetch = %+v, %v", doc, err)
	}
}

func TestFetchErrors(t *testing.T) {
	other := peer(t, "", map[string]string{"/ni/2.0": mastodon20})
	big := strings.Repeat(" ", nodeinfo.DefaultMaxBodyBytes)
	link20 := func(href string) string {
		return `{"links":[{"rel":"http://nodeinfo.diaspora.software/ns/schema/2.0","href":"` + href + `"}]}`
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    error
	}{
		{"no nodeinfo", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }, nodeinfo.ErrNotFound},
		{"server error", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }, nil},
		{"html", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, `<html></html>`)
		}, nodeinfo.ErrContentType},
		{"not JSON", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"links":`)
		}, nodeinfo.ErrMalformed},
		{"too large", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"links":[],"x":"`)
			w.(http.Flusher).Flush()
			fmt.Fprint(w, big+`"}`)
		}, nodeinfo.ErrTooLarge},
		{"only 1.x", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"links":[{"rel":"http://nodeinfo.diaspora.software/ns/schema/1.1","href":"http://%s/ni/1.1"}]}`, r.Host)
		}, nodeinfo.ErrNoSchema},
		{"link to another host", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, link20(other.URL+"/ni/2.0"))
		}, nodeinfo.ErrNoSchema},
		{"link with other scheme", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, link20("file:///etc/passwd"))
		}, nodeinfo.ErrNoSchema},
		{"document of wrong version", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			if r.URL.Path == nodeinfo.PathDiscovery {
				fmt.Fprint(w, link20("http://"+r.Host+"/ni/2.0"))
				return
			}
			fmt.Fprint(w, strings.Replace(mastodon20, `"2.0"`, `"2.1"`, 1))
		}, nodeinfo.ErrMalformed},
		{"document without software", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			if r.URL.Path == nodeinfo.PathDiscovery {
				fmt.Fprint(w, link20("http://"+r.Host+"/ni/2.0"))
				return
			}
			fmt.Fprint(w, `{"version":"2.0"}`)
		}, nodeinfo.ErrMalformed},
		{"document gone", func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == nodeinfo.PathDiscovery {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, link20("http://"+r.Host+"/ni/2.0"))
				return
			}
			w.WriteHeader(http.StatusGone)
		}, nodeinfo.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			_, err := client().Fetch(context.Background(), hostOf(t, srv))
			if tt.want == nil {
				var se *nodeinfo.StatusError
				if !errors.As(err, &se) || se.StatusCode != 500 {
					t.Fatalf("err = %v, want *StatusError 500", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestFetchRejectsBadHost(t *testing.T) {
	for _, host := range []string{"", "a b", "evil.example/path", "user@host"} {
		if _, err := client().Fetch(context.Background(), host); err == nil {
			t.Errorf("Fetch(%q) succeeded", host)
		}
	}
}

// TestFetchThroughTransport runs the client over pub/transport's safe
// client, as the engine wires it.
func TestFetchThroughTransport(t *testing.T) {
	mustTransport := func(allowLoopback bool) *transport.Client {
		cfg := transport.DefaultConfig()
		cfg.AllowHTTP = true
		if allowLoopback {
			cfg.AllowPrefixes = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		}
		tc, err := transport.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(tc.CloseIdleConnections)
		return tc
	}
	srv := mustServer(t, nil)
	missing := httptest.NewServer(http.NotFoundHandler())
	defer missing.Close()

	c := &nodeinfo.Client{HTTP: mustTransport(true), Scheme: "http"}
	doc, err := c.Fetch(context.Background(), hostOf(t, srv))
	if err != nil || doc.Software.Name != "commonroom" || doc.Version != "2.1" {
		t.Fatalf("Fetch = %+v, %v", doc, err)
	}
	if _, err := c.Fetch(context.Background(), hostOf(t, missing)); !errors.Is(err, nodeinfo.ErrNotFound) {
		t.Errorf("404 through transport: err = %v, want ErrNotFound", err)
	}
	c.HTTP = mustTransport(false)
	if _, err := c.Fetch(context.Background(), hostOf(t, srv)); !errors.Is(err, transport.ErrBlockedAddress) {
		t.Errorf("loopback without allow-list: err = %v, want transport.ErrBlockedAddress", err)
	}
}
