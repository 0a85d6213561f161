package webfinger_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/commonroom/commonroom/pub/webfinger"
)

// directory is a hand-written Resolver over a fixed set of accounts, keyed
// by lowercased name, recording the names it was asked for.
type directory struct {
	accounts map[string]*webfinger.Account
	fail     error
}

func (d *directory) LookupAccount(ctx context.Context, name string) (*webfinger.Account, error) {
	if d.fail != nil {
		return nil, d.fail
	}
	if a, ok := d.accounts[strings.ToLower(name)]; ok {
		return a, nil
	}
	return nil, webfinger.ErrNotFound
}

// newDirectory returns the accounts of a server at base: person alice,
// group biology.
func newDirectory(base string) *directory {
	return &directory{accounts: map[string]*webfinger.Account{
		"alice":   {Username: "alice", Kind: webfinger.KindPerson, ActorIRI: base + "/users/alice", ProfileURL: base + "/@alice"},
		"biology": {Username: "biology", Kind: webfinger.KindGroup, ActorIRI: base + "/groups/biology", ProfileURL: base + "/@biology"},
	}}
}

// mustServer starts a loopback server whose WebFinger handler is configured
// by cfg (BaseURL and Resolver filled in when empty).
func mustServer(tb testing.TB, cfg webfinger.Config) *httptest.Server {
	tb.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	if cfg.BaseURL == "" {
		cfg.BaseURL = srv.URL
	}
	if cfg.Resolver == nil {
		cfg.Resolver = newDirectory(cfg.BaseURL)
	}
	h, err := webfinger.NewHandler(cfg)
	if err != nil {
		tb.Fatalf("NewHandler: %v", err)
	}
	h.Routes(mux)
	return srv
}

// mustGet sends a request with an optional Accept header and returns the
// response with its body read.
func mustGet(tb testing.TB, method, rawURL, accept string) (*http.Response, []byte) {
	tb.Helper()
	req, err := http.NewRequest(method, rawURL, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp, body
}

func wfURL(srv *httptest.Server, query string) string {
	return srv.URL + webfinger.PathWebFinger + "?" + query
}

func res(r string) string { return "resource=" + url.QueryEscape(r) }

func TestServeWebFingerAccounts(t *testing.T) {
	const base = "https://social.example"
	srv := mustServer(t, webfinger.Config{
		BaseURL:           base,
		Hosts:             []string{"Bücher.example", "localhost:8080"},
		SubscribeTemplate: base + "/authorize_interaction?uri={uri}",
	})
	alice := webfinger.JRD{
		Subject: "acct:alice@social.example",
		Aliases: []string{base + "/@alice", base + "/users/alice"},
		Links: []webfinger.Link{
			{Rel: webfinger.RelProfilePage, Type: "text/html", Href: base + "/@alice"},
			{Rel: webfinger.RelSelf, Type: webfinger.MediaTypeActivity, Href: base + "/users/alice",
				Properties: map[string]string{webfinger.PropertyType: "https://www.w3.org/ns/activitystreams#Person"}},
			{Rel: webfinger.RelSubscribe, Template: base + "/authorize_interaction?uri={uri}"},
		},
	}
	tests := []struct {
		name     string
		resource string
		subject  string
		selfType string // the AS type in the self link's properties
	}{
		{"acct person", "acct:alice@social.example", "acct:alice@social.example", "Person"},
		{"acct scheme and names in other case", "ACCT:Alice@SOCIAL.example", "acct:alice@social.example", "Person"},
		{"without scheme", "alice@social.example", "acct:alice@social.example", "Person"},
		{"with leading @", "@alice@social.example", "acct:alice@social.example", "Person"},
		{"trailing dot on host", "acct:alice@social.example.", "acct:alice@social.example", "Person"},
		{"unicode alias host", "acct:alice@BÜCHER.example", "acct:alice@social.example", "Person"},
		{"punycode alias host", "acct:alice@xn--bcher-kva.example", "acct:alice@social.example", "Person"},
		{"alias host with port", "acct:alice@localhost:8080", "acct:alice@social.example", "Person"},
		{"actor URL", base + "/users/alice", "acct:alice@social.example", "Person"},
		{"profile URL", base + "/@alice", "acct:alice@social.example", "Person"},
		{"actor URL, host in other case", "https://SOCIAL.example/users/alice", "acct:alice@social.example", "Person"},
		{"actor URL with default port", "https://social.example:443/users/alice", "acct:alice@social.example", "Person"},
		{"group by acct", "acct:biology@social.example", "acct:biology@social.example", "Group"},
		{"group actor URL", base + "/groups/biology", "acct:biology@social.example", "Group"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := mustGet(t, http.MethodGet, wfURL(srv, res(tt.resource)), "")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != webfinger.MediaTypeJRD {
				t.Errorf("Content-Type = %q, want %q", ct, webfinger.MediaTypeJRD)
			}
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" {
				t.Errorf("Access-Control-Allow-Origin = %q, want *", got)
			}
			var got webfinger.JRD
			dec := json.NewDecoder(strings.NewReader(string(body)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&got); err != nil {
				t.Fatalf("decode %s: %v", body, err)
			}
			if got.Subject != tt.subject {
				t.Errorf("subject = %q, want %q", got.Subject, tt.subject)
			}
			self, ok := got.Find(webfinger.RelSelf, webfinger.IsActivityPubType)
			if !ok {
				t.Fatalf("no self link in %s", body)
			}
			if want := "https://www.w3.org/ns/activitystreams#" + tt.selfType; self.Properties[webfinger.PropertyType] != want {
				t.Errorf("self type property = %q, want %q", self.Properties[webfinger.PropertyType], want)
			}
			if tt.subject == alice.Subject {
				if !jrdEqual(got, alice) {
					t.Errorf("JRD =\n%+v\nwant\n%+v", got, alice)
				}
			}
			if strings.Contains(string(body), `\u0026`) || !strings.Contains(string(body), "{uri}") {
				t.Errorf("template escaped or missing: %s", body)
			}
		})
	}
}

func jrdEqual(a, b webfinger.JRD) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func TestServeWebFingerErrors(t *testing.T) {
	const base = "https://social.example"
	srv := mustServer(t, webfinger.Config{BaseURL: base, Hosts: []string{"localhost:8080"}})
	tests := []struct {
		name  string
		query string
		want  int
	}{
		{"missing resource", "", http.StatusBadRequest},
		{"empty resource", "resource=", http.StatusBadRequest},
		{"two resources", res("acct:alice@social.example") + "&" + res("acct:biology@social.example"), http.StatusBadRequest},
		{"no host", res("acct:alice"), http.StatusBadRequest},
		{"empty user", res("acct:@social.example"), http.StatusBadRequest},
		{"userinfo injection", res("acct:alice@evil.example@social.example"), http.StatusBadRequest},
		{"path after host", res("acct:alice@social.example/users/alice"), http.StatusBadRequest},
		{"space in user", res("acct:al ice@social.example"), http.StatusBadRequest},
		{"percent in user", res("acct:al%69ce@social.example"), http.StatusBadRequest},
		{"bad host", res("acct:alice@-social.example"), http.StatusBadRequest},
		{"bad port", res("acct:alice@social.example:99999"), http.StatusBadRequest},
		{"URL with query", res(base + "/users/alice?x=1"), http.StatusBadRequest},
		{"URL with userinfo", res("https://eve@social.example/users/alice"), http.StatusBadRequest},
		{"unknown account", res("acct:nobody@social.example"), http.StatusNotFound},
		{"foreign host", res("acct:alice@other.example"), http.StatusNotFound},
		{"host that differs only by suffix", res("acct:alice@social.example.evil"), http.StatusNotFound},
		{"local name, other port", res("acct:alice@localhost:8081"), http.StatusNotFound},
		{"local name, no port", res("acct:alice@localhost"), http.StatusNotFound},
		{"foreign actor URL", res("https://other.example/users/alice"), http.StatusNotFound},
		{"unknown actor URL", res(base + "/users/nobody"), http.StatusNotFound},
		{"person under /groups", res(base + "/groups/alice"), http.StatusNotFound},
		{"group under /users", res(base + "/users/biology"), http.StatusNotFound},
		{"actor URL with wrong scheme", res("http://social.example/users/alice"), http.StatusNotFound},
		{"actor URL with other port", res("https://social.example:8443/users/alice"), http.StatusNotFound},
		{"other local path", res(base + "/about"), http.StatusNotFound},
		{"other URI scheme", res("mailto:alice@social.example"), http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := mustGet(t, http.MethodGet, wfURL(srv, tt.query), "")
			if resp.StatusCode != tt.want {
				t.Fatalf("status = %d (%s), want %d", resp.StatusCode, body, tt.want)
			}
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" {
				t.Errorf("Access-Control-Allow-Origin = %q, want *", got)
			}
		})
	}
}

func TestServeWebFingerResolverFailureIsHidden(t *testing.T) {
	d := &directory{fail: errors.New("database is on fire at 10.0.0.7")}
	srv := mustServer(t, webfinger.Config{Resolver: d})
	u, _ := url.Parse(srv.URL)
	resp, body := mustGet(t, http.MethodGet, wfURL(srv, res("acct:alice@"+u.Host)), "")
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("status = %d, want 500", resp.StatusCode)
	}
	if strings.Contains(string(body), "10.0.0.7") {
		t.Errorf("internal detail leaked: %s", body)
	}
}

func TestServeWebFingerRelFilter(t *testing.T) {
	srv := mustServer(t, webfinger.Config{SubscribeTemplate: "https://x.example/i?uri={uri}"})
	u, _ := url.Parse(srv.URL)
	r := res("acct:alice@" + u.Host)
	tests := []struct {
		name  string
		query string
		rels  []string
	}{
		{"no rel keeps all", r, []string{webfinger.RelProfilePage, webfinger.RelSelf, webfinger.RelSubscribe}},
		{"self", r + "&rel=self", []string{webfinger.RelSelf}},
		{"two rels", r + "&rel=self&rel=" + url.QueryEscape(webfinger.RelProfilePage), []string{webfinger.RelProfilePage, webfinger.RelSelf}},
		{"unknown rel", r + "&rel=http%3A%2F%2Fexample.org%2Frel%2Fnone", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := mustGet(t, http.MethodGet, wfURL(srv, tt.query), "")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			var got webfinger.JRD
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			var rels []string
			for _, l := range got.Links {
				rels = append(rels, l.Rel)
			}
			if !slices.Equal(rels, tt.rels) {
				t.Errorf("rels = %q, want %q", rels, tt.rels)
			}
			if got.Subject != "acct:alice@"+u.Host || len(got.Aliases) != 2 {
				t.Errorf("filtering must keep subject and aliases: %s", body)
			}
		})
	}
}

func TestServeWebFingerNegotiationAndMethods(t *testing.T) {
	srv := mustServer(t, webfinger.Config{})
	u, _ := url.Parse(srv.URL)
	target := wfURL(srv, res("acct:alice@"+u.Host))
	tests := []struct {
		name, method, accept string
		status               int
		contentType          string
		emptyBody            bool
	}{
		{"no Accept", http.MethodGet, "", 200, webfinger.MediaTypeJRD, false},
		{"jrd", http.MethodGet, "application/jrd+json", 200, webfinger.MediaTypeJRD, false},
		{"json only", http.MethodGet, "application/json", 200, "application/json", false},
		{"json preferred", http.MethodGet, "application/jrd+json;q=0.5, application/json", 200, "application/json", false},
		{"anything", http.MethodGet, "*/*", 200, webfinger.MediaTypeJRD, false},
		{"html browser", http.MethodGet, "text/html,application/xhtml+xml", 200, webfinger.MediaTypeJRD, false},
		{"HEAD", http.MethodHead, "", 200, webfinger.MediaTypeJRD, true},
		{"OPTIONS preflight", http.MethodOptions, "", 204, "", true},
		{"POST", http.MethodPost, "", 405, "text/plain; charset=utf-8", false},
		{"DELETE", http.MethodDelete, "", 405, "text/plain; charset=utf-8", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := mustGet(t, tt.method, target, tt.accept)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			if ct := resp.Header.Get("Content-Type"); ct != tt.contentType {
				t.Errorf("Content-Type = %q, want %q", ct, tt.contentType)
			}
			if (len(body) == 0) != tt.emptyBody {
				t.Errorf("body = %q, want empty: %v", body, tt.emptyBody)
			}
			if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
				t.Error("missing CORS header")
			}
			if tt.status == 405 && resp.Header.Get("Allow") != "GET, HEAD, OPTIONS" {
				t.Errorf("Allow = %q", resp.Header.Get("Allow"))
			}
		})
	}
}

func TestServeHostMeta(t *testing.T) {
	srv := mustServer(t, webfinger.Config{})
	template := srv.URL + "/.well-known/webfinger?resource={uri}"
	tests := []struct {
		name, path, accept string
		contentType        string
		xml                bool
	}{
		{"xml by default", webfinger.PathHostMeta, "", webfinger.MediaTypeXRD + "; charset=utf-8", true},
		{"xml asked", webfinger.PathHostMeta, "application/xrd+xml", webfinger.MediaTypeXRD + "; charset=utf-8", true},
		{"json asked", webfinger.PathHostMeta, "application/json", "application/json", false},
		{"jrd asked", webfinger.PathHostMeta, "application/jrd+json", "application/json", false},
		{"json preferred over xml", webfinger.PathHostMeta, "application/xrd+xml;q=0.1, application/json", "application/json", false},
		{"json path", webfinger.PathHostMetaJSON, "", "application/json", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := mustGet(t, http.MethodGet, srv.URL+tt.path, tt.accept)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if ct := resp.Header.Get("Content-Type"); ct != tt.contentType {
				t.Errorf("Content-Type = %q, want %q", ct, tt.contentType)
			}
			if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
				t.Error("missing CORS header")
			}
			var links []struct{ Rel, Type, Template string }
			if tt.xml {
				var doc struct {
					XMLName xml.Name
					Links   []struct {
						Rel      string `xml:"rel,attr"`
						Type     string `xml:"type,attr"`
						Template string `xml:"template,attr"`
					} `xml:"Link"`
				}
				if err := xml.Unmarshal(body, &doc); err != nil {
					t.Fatalf("parse %s: %v", body, err)
				}
				if doc.XMLName.Space != "http://docs.oasis-open.org/ns/xri/xrd-1.0" || doc.XMLName.Local != "XRD" {
					t.Errorf("root element = %v", doc.XMLName)
				}
				for _, l := range doc.Links {
					links = append(links, struct{ Rel, Type, Template string }{l.Rel, l.Type, l.Template})
				}
			} else {
				var doc webfinger.JRD
				if err := json.Unmarshal(body, &doc); err != nil {
					t.Fatalf("parse %s: %v", body, err)
				}
				for _, l := range doc.Links {
					links = append(links, struct{ Rel, Type, Template string }{l.Rel, l.Type, l.Template})
				}
			}
			if len(links) != 1 || links[0].Rel != "lrdd" || links[0].Template != template {
				t.Errorf("links = %+v, want one lrdd with template %s", links, template)
			}
		})
	}
	resp, _ := mustGet(t, http.MethodPut, srv.URL+webfinger.PathHostMeta, "")
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("PUT host-meta: status %d, want 405", resp.StatusCode)
	}
}

func TestNewHandlerRejectsBadConfig(t *testing.T) {
	ok := newDirectory("https://social.example")
	tests := []struct {
		name string
		cfg  webfinger.Config
	}{
		{"no base", webfinger.Config{Resolver: ok}},
		{"base with path", webfinger.Config{BaseURL: "https://social.example/app", Resolver: ok}},
		{"base not http", webfinger.Config{BaseURL: "ftp://social.example", Resolver: ok}},
		{"no resolver", webfinger.Config{BaseURL: "https://social.example"}},
		{"bad domain", webfinger.Config{BaseURL: "https://social.example", Domain: "a b", Resolver: ok}},
		{"bad alias host", webfinger.Config{BaseURL: "https://social.example", Hosts: []string{"x/y"}, Resolver: ok}},
		{"template without {uri}", webfinger.Config{BaseURL: "https://social.example", SubscribeTemplate: "https://x/", Resolver: ok}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := webfinger.NewHandler(tt.cfg); err == nil {
				t.Error("NewHandler accepted a bad config")
			}
		})
	}
}

func TestHandlerIsLocal(t *testing.T) {
	h, err := webfinger.NewHandler(webfinger.Config{
		BaseURL: "https://social.example", Domain: "Example.COM", Hosts: []string{"localhost:8080"},
		Resolver: newDirectory("https://social.example"),
	})
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]bool{
		"social.example": true, "SOCIAL.example.": true, "example.com": true, "localhost:8080": true,
		"localhost": false, "evil.example": false, "social.example:443": false, "": false,
	} {
		if got := h.IsLocal(host); got != want {
			t.Errorf("IsLocal(%q) = %v, want %v", host, got, want)
		}
	}
}

// FuzzLookup feeds arbitrary resources to the server side: it must never
// panic, must fail only with ErrInvalidResource or ErrNotFound, and must
// answer only for the accounts it has, under the configured domain.
func FuzzLookup(f *testing.F) {
	const base = "https://social.example"
	h, err := webfinger.NewHandler(webfinger.Config{BaseURL: base, Hosts: []string{"localhost:8080"}, Resolver: newDirectory(base)})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		"acct:alice@social.example", "alice@localhost:8080", base + "/users/alice", base + "/@biology",
		"https://SOCIAL.example/groups/biology", "acct:alice@evil.example@social.example", "mailto:a@b",
		"https://social.example/users/alice/../alice", "https://social.example:443/users/alice", "acct:",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, resource string) {
		jrd, err := h.Lookup(context.Background(), resource)
		if err != nil {
			if !errors.Is(err, webfinger.ErrInvalidResource) && !errors.Is(err, webfinger.ErrNotFound) {
				t.Fatalf("Lookup(%q): unexpected error kind: %v", resource, err)
			}
			return
		}
		if jrd.Subject != "acct:alice@social.example" && jrd.Subject != "acct:biology@social.example" {
			t.Fatalf("Lookup(%q) answered for %q", resource, jrd.Subject)
		}
	})
}

func TestServeWebFingerInstanceActor(t *testing.T) {
	const base = "https://social.example"
	srv := mustServer(t, webfinger.Config{BaseURL: base, InstanceActor: &webfinger.Account{
		Username: "social.example", ActorIRI: base + "/actor",
	}})
	for _, r := range []string{"acct:social.example@social.example", base + "/actor"} {
		resp, body := mustGet(t, http.MethodGet, wfURL(srv, res(r)), "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", r, resp.StatusCode)
		}
		var got webfinger.JRD
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		self, ok := got.Find(webfinger.RelSelf, webfinger.IsActivityPubType)
		if got.Subject != "acct:social.example@social.example" || !ok || self.Href != base+"/actor" ||
			self.Properties[webfinger.PropertyType] != "https://www.w3.org/ns/activitystreams#Application" {
			t.Errorf("%s: %s", r, body)
		}
	}
	if _, err := webfinger.NewHandler(webfinger.Config{BaseURL: base, Resolver: newDirectory(base),
		InstanceActor: &webfinger.Account{Username: "x"}}); err == nil {
		t.Error("InstanceActor without ActorIRI accepted")
	}
}
