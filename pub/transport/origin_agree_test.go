package transport_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/commonroom/commonroom/pub/delivery"
	"github.com/commonroom/commonroom/pub/httpsig"
	"github.com/commonroom/commonroom/pub/nodeinfo"
	"github.com/commonroom/commonroom/pub/transport"
	"github.com/commonroom/commonroom/pub/webfinger"
)

// hostPairs is the one table of host spellings the pub packages must agree
// on: a and b are URL authorities (host[:port]) under scheme, and same says
// whether DESIGN.md's origin rule makes scheme://a and scheme://b one
// origin. strictA and strictB mark hosts pub/webfinger refuses as input
// (it reads user-supplied handles) although pub/transport reads them.
var hostPairs = []struct {
	name             string
	scheme, a, b     string
	same             bool
	strictA, strictB bool
}{
	{name: "case", scheme: "https", a: "Mastodon.Social", b: "mastodon.social", same: true},
	{name: "upper case", scheme: "https", a: "EVIL.example", b: "evil.example", same: true},
	{name: "trailing dot", scheme: "https", a: "evil.example.", b: "evil.example", same: true},
	{name: "case and trailing dot", scheme: "https", a: "EVIL.Example.", b: "evil.example", same: true},
	{name: "IDNA", scheme: "https", a: "Bücher.Example", b: "xn--bcher-kva.example", same: true},
	{name: "IDNA punycode case", scheme: "https", a: "XN--BCHER-KVA.example", b: "bücher.example", same: true},
	{name: "IDNA full width", scheme: "https", a: "ＡＢＣ.example", b: "abc.example", same: true},
	{name: "IDNA different names", scheme: "https", a: "bücher.example", b: "bucher.example"},
	{name: "https default port", scheme: "https", a: "a.example:443", b: "a.example", same: true},
	{name: "http default port", scheme: "http", a: "a.example:80", b: "a.example", same: true},
	{name: "https port 80 is explicit", scheme: "https", a: "a.example:80", b: "a.example"},
	{name: "http port 443 is explicit", scheme: "http", a: "a.example:443", b: "a.example"},
	{name: "explicit port", scheme: "https", a: "a.example:8443", b: "a.example"},
	{name: "explicit ports differ", scheme: "http", a: "127.0.0.1:8080", b: "127.0.0.1:8081"},
	{name: "explicit port leading zero", scheme: "http", a: "127.0.0.1:08080", b: "127.0.0.1:8080", same: true},
	{name: "explicit port with case", scheme: "https", a: "A.Example.:8443", b: "a.example:8443", same: true},
	{name: "IPv6 compressed", scheme: "https", a: "[0:0:0:0:0:0:0:1]", b: "[::1]", same: true},
	{name: "IPv6 default port", scheme: "https", a: "[::1]:443", b: "[::1]", same: true},
	{name: "IPv6 explicit port", scheme: "http", a: "[::1]:8080", b: "[::1]:8081"},
	{name: "IPv6 case", scheme: "https", a: "[::FFFF:127.0.0.1]", b: "[::ffff:7f00:1]", same: true},
	{name: "IPv4-mapped is not IPv4", scheme: "https", a: "[::ffff:127.0.0.1]", b: "127.0.0.1"},
	{name: "IPv4 short form", scheme: "http", a: "127.1", b: "127.0.0.1", same: true, strictA: true},
	{name: "IPv4 decimal", scheme: "http", a: "2130706433", b: "127.0.0.1", same: true, strictA: true},
	{name: "IPv4 hex", scheme: "http", a: "0x7f.0.0.1", b: "127.0.0.1", same: true, strictA: true},
	{name: "IPv4 hex number", scheme: "http", a: "0x7f000001", b: "127.0.0.1", same: true, strictA: true},
	{name: "IPv4 octal", scheme: "http", a: "0177.0.0.1", b: "127.0.0.1", same: true, strictA: true},
	{name: "IPv4 full width", scheme: "http", a: "１２７.０.０.１", b: "127.0.0.1", same: true},
	{name: "IPv4 trailing dot", scheme: "https", a: "1.2.3.4.", b: "1.2.3.4", same: true},
	{name: "IPv4 short form with port", scheme: "http", a: "127.1:8080", b: "127.0.0.1:8080", same: true, strictA: true},
	{name: "CVE-2023-42451 path in host", scheme: "https", a: "mastodon.so/cial", b: "mastodon.social", strictA: true},
	{name: "different hosts", scheme: "https", a: "a.example", b: "b.example"},
	{name: "suffix is another host", scheme: "https", a: "evil.example", b: "evil.example.com"},
}

// TestHostRuleAgrees runs hostPairs through every pub package entry point
// that compares hosts and requires each to call a pair the same exactly
// when transport.SameOrigin does. A package may refuse a host it reads as
// input (webfinger, strictly); it may never tell two accepted hosts apart
// differently.
func TestHostRuleAgrees(t *testing.T) {
	t.Parallel()
	for _, tt := range hostPairs {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ua, ub := tt.scheme+"://"+tt.a+"/inbox", tt.scheme+"://"+tt.b+"/inbox"
			oa, oaErr := transport.ParseOrigin(ua)
			ob, obErr := transport.ParseOrigin(ub)
			if oaErr != nil || obErr != nil {
				t.Fatalf("ParseOrigin(%q), (%q): %v, %v", ua, ub, oaErr, obErr)
			}

			t.Run("transport", func(t *testing.T) {
				if got := transport.SameOrigin(ua, ub); got != tt.same {
					t.Errorf("SameOrigin(%q, %q) = %v, want %v", ua, ub, got, tt.same)
				}
				if got := oa.HostPort() == ob.HostPort(); got != tt.same {
					t.Errorf("HostPort %q, %q: equal = %v, want %v", oa.HostPort(), ob.HostPort(), got, tt.same)
				}
				if !strings.Contains(tt.a, "/") {
					// The host part on its own: NormalizeHost is the
					// origin's Host.
					host := strings.TrimSuffix(strings.TrimPrefix(mustSplitHost(t, tt.a), "["), "]")
					if got, err := transport.NormalizeHost(host); err != nil || got != oa.Host {
						t.Errorf("NormalizeHost(%q) = %q, %v; want %q", host, got, err, oa.Host)
					}
				}
			})

			t.Run("delivery", func(t *testing.T) {
				ha, errA := delivery.HostOf(ua)
				hb, errB := delivery.HostOf(ub)
				if errA != nil || errB != nil {
					t.Fatalf("HostOf(%q), (%q): %v, %v", ua, ub, errA, errB)
				}
				if ha != oa.HostPort() || hb != ob.HostPort() {
					t.Errorf("HostOf = %q, %q; want the HostPorts %q, %q", ha, hb, oa.HostPort(), ob.HostPort())
				}
				if got := ha == hb; got != tt.same {
					t.Errorf("HostOf %q, %q: equal = %v, want %v", ha, hb, got, tt.same)
				}
				if tt.scheme == "https" {
					// A bare host is an https host; a path is not a host.
					bare, err := delivery.HostOf(tt.a)
					switch {
					case strings.Contains(tt.a, "/"):
						if !errors.Is(err, delivery.ErrInvalidJob) {
							t.Errorf("HostOf(%q) = %q, %v; want ErrInvalidJob", tt.a, bare, err)
						}
					case err != nil || bare != ha:
						t.Errorf("HostOf(%q) = %q, %v; want %q", tt.a, bare, err, ha)
					}
				}
			})

			t.Run("webfinger", func(t *testing.T) {
				wa, errA := webfinger.NormalizeHost(tt.a)
				wb, errB := webfinger.NormalizeHost(tt.b)
				if (errA != nil) != tt.strictA || (errB != nil) != tt.strictB {
					t.Fatalf("NormalizeHost(%q), (%q) = %v, %v; want refusals %v, %v", tt.a, tt.b, errA, errB, tt.strictA, tt.strictB)
				}
				if errA != nil || errB != nil {
					return
				}
				// Its canonical form names the same origin, so accepted
				// hosts compare as pub/transport compares them.
				for in, canon := range map[string]string{tt.a: wa, tt.b: wb} {
					want, _ := transport.ParseOrigin(tt.scheme + "://" + in)
					if got, err := transport.ParseOrigin(tt.scheme + "://" + canon); err != nil || got != want {
						t.Errorf("NormalizeHost(%q) = %q, origin %v, %v; want %v", in, canon, got, err, want)
					}
				}
				// The server: an actor URL on b is local to a server at a
				// exactly when they are one origin.
				h, err := webfinger.NewHandler(webfinger.Config{
					BaseURL: tt.scheme + "://" + tt.a,
					Resolver: webfinger.ResolverFunc(func(ctx context.Context, name string) (*webfinger.Account, error) {
						return &webfinger.Account{Username: name, Kind: webfinger.KindPerson, ActorIRI: tt.scheme + "://" + tt.a + "/users/" + name}, nil
					}),
				})
				if err != nil {
					t.Fatal(err)
				}
				_, err = h.Lookup(context.Background(), tt.scheme+"://"+tt.b+"/users/alice")
				if got := err == nil; got != tt.same {
					t.Errorf("server at %s: Lookup of an actor on %s: %v; want found = %v", tt.a, tt.b, err, tt.same)
				}
			})

			t.Run("nodeinfo", func(t *testing.T) {
				if tt.strictA {
					return // Fetch reads its host as webfinger does
				}
				c := nodeinfo.Client{HTTP: nodeinfoGetter(tt.scheme + "://" + tt.b + "/nodeinfo/2.1"), Scheme: tt.scheme}
				_, err := c.Fetch(context.Background(), tt.a)
				if err != nil && !errors.Is(err, nodeinfo.ErrNoSchema) {
					t.Fatalf("Fetch(%q): %v", tt.a, err)
				}
				if got := err == nil; got != tt.same {
					t.Errorf("Fetch(%q) with a document link on %s: %v; want accepted = %v", tt.a, tt.b, err, tt.same)
				}
			})

			t.Run("httpsig", func(t *testing.T) {
				// HostSchemes compares host keys; on pub/transport's keys
				// it agrees with the origin rule.
				s := httpsig.NewHostSchemes(nil, 0)
				s.Accepted(oa.HostPort(), httpsig.RFC9421)
				if got := s.Preferred(ob.HostPort()) == httpsig.RFC9421; got != tt.same {
					t.Errorf("HostSchemes: accepted on %q, prefers RFC 9421 for %q = %v, want %v", oa.HostPort(), ob.HostPort(), got, tt.same)
				}
				// Through delivery's signer, which keys requests by
				// HostOf, the raw URLs agree too: a refusal of cavage
				// reported for a moves b to RFC 9421 exactly when b is a.
				s = httpsig.NewHostSchemes(nil, 0)
				key := mustHTTPSigSigner(t)
				first := delivery.NewHTTPSigSigner(key, s)
				if _, err := signedScheme(first, ua); err != nil {
					t.Fatal(err)
				}
				first.ReportSend(http.StatusUnauthorized)
				got, err := signedScheme(delivery.NewHTTPSigSigner(key, s), ub)
				if err != nil {
					t.Fatal(err)
				}
				if want := map[bool]httpsig.Scheme{true: httpsig.RFC9421, false: httpsig.Cavage}[tt.same]; got != want {
					t.Errorf("HTTPSigSigner: after %s refused cavage, signs for %s with %v, want %v", ua, ub, got, want)
				}
			})
		})
	}
}

// TestHostRuleRefusesPaths is SECURITY.md rule 10's CVE-2023-42451 case for
// the entry points that read a bare host: a host with a path in it is
// refused, never read as another host.
func TestHostRuleRefusesPaths(t *testing.T) {
	t.Parallel()
	for _, host := range []string{"mastodon.so/cial", "evil.example/@good.example", "good.example@evil.example", "evil.example?x", "evil.example#x"} {
		t.Run(host, func(t *testing.T) {
			if got, err := transport.NormalizeHost(host); err == nil {
				t.Errorf("transport.NormalizeHost(%q) = %q, want an error", host, got)
			}
			if got, err := delivery.HostOf(host); err == nil {
				t.Errorf("delivery.HostOf(%q) = %q, want an error", host, got)
			}
			if got, err := webfinger.NormalizeHost(host); err == nil {
				t.Errorf("webfinger.NormalizeHost(%q) = %q, want an error", host, got)
			}
			if _, err := (&nodeinfo.Client{HTTP: nodeinfoGetter("https://mastodon.social/nodeinfo/2.1")}).Fetch(context.Background(), host); err == nil {
				t.Errorf("nodeinfo Fetch(%q) succeeded, want an error", host)
			}
		})
	}
}

// mustSplitHost returns the host part of an authority, brackets kept.
func mustSplitHost(tb testing.TB, authority string) string {
	tb.Helper()
	if strings.HasPrefix(authority, "[") {
		end := strings.IndexByte(authority, ']')
		if end < 0 {
			tb.Fatalf("bad authority %q", authority)
		}
		return authority[:end+1]
	}
	host, _, _ := strings.Cut(authority, ":")
	return host
}

// nodeinfoGetter serves a NodeInfo discovery document linking to docURL,
// and a 2.1 document for every other URL, without a network.
type nodeinfoGetter string

func (g nodeinfoGetter) Get(ctx context.Context, rawURL, accept string) (*http.Response, error) {
	body := `{"version":"2.1","software":{"name":"test","version":"1"},"protocols":["activitypub"],"usage":{"users":{}},"openRegistrations":false,"metadata":{}}`
	if strings.HasSuffix(rawURL, nodeinfo.PathDiscovery) {
		body = `{"links":[{"rel":"` + nodeinfo.RelPrefix + nodeinfo.Version21 + `","href":"` + string(g) + `"}]}`
	}
	return &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(strings.NewReader(body)),
	}, nil
}

// mustHTTPSigSigner returns a signer over a fresh Ed25519 key.
func mustHTTPSigSigner(tb testing.TB) *httpsig.Signer {
	tb.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := httpsig.NewSigner(priv, "https://local.example/actor#main-key", func() time.Time { return time.Unix(1_700_000_000, 0) })
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// signedScheme signs a POST to rawURL with s and reports the scheme used.
func signedScheme(s *delivery.HTTPSigSigner, rawURL string) (httpsig.Scheme, error) {
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader("{}"))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/activity+json")
	if err := s.SignRequest(req, []byte("{}")); err != nil {
		return 0, err
	}
	if req.Header.Get("Signature-Input") != "" {
		return httpsig.RFC9421, nil
	}
	return httpsig.Cavage, nil
}
