package httpsig_test

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/commonroom/commonroom/pub/httpsig"
)

var testNow = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

const (
	testKeyID = "https://good.example/users/alice#main-key"
	inboxBody = `{"@context":"https://www.w3.org/ns/activitystreams","id":"https://good.example/activities/1","type":"Follow","actor":"https://good.example/users/alice","object":"https://local.example/users/bob"}`
)

// inboxPOST returns an inbox delivery as our server receives it: Host,
// Date, Content-Type, Digest and Content-Digest of body, not yet signed.
func inboxPOST(tb testing.TB, path string, date time.Time, body string) (*http.Request, []byte) {
	tb.Helper()
	return mustReadRequest(tb, fmt.Sprintf("POST %s HTTP/1.1\nHost: local.example\nDate: %s\nContent-Type: application/activity+json\nDigest: %s\nContent-Digest: %s\nContent-Length: %d\n\n%s",
		path, date.UTC().Format(http.TimeFormat), sha256Digest(body), sha256ContentDigest(body), len(body), body))
}

// actorGET returns a signed-fetch GET as our server receives it, unsigned.
func actorGET(tb testing.TB, path string, date time.Time) (*http.Request, []byte) {
	tb.Helper()
	return mustReadRequest(tb, fmt.Sprintf("GET %s HTTP/1.1\nHost: local.example\nDate: %s\nAccept: application/activity+json\n\n",
		path, date.UTC().Format(http.TimeFormat)))
}

func testVerifier(mod func(*httpsig.Config)) *httpsig.Verifier {
	cfg := httpsig.DefaultConfig()
	cfg.Now = fixedClock(testNow)
	cfg.Scheme = "https"
	if mod != nil {
		mod(&cfg)
	}
	return httpsig.NewVerifier(cfg)
}

type verifyCase struct {
	name string
	// build returns the request as received and its raw body.
	build   func(t *testing.T) (*http.Request, []byte)
	mod     func(*httpsig.Config)
	wantErr error // nil: verification succeeds
	// wantLookups is how many times the resolver may be called; checks
	// that fail before the key is needed must not fetch it.
	wantLookups int
}

func runVerifyCases(t *testing.T, pub crypto.PublicKey, cases []verifyCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, body := tc.build(t)
			v := testVerifier(tc.mod)
			calls := 0
			sig, err := v.Parse(req)
			var res *httpsig.Result
			if err == nil {
				res, err = v.Verify(context.Background(), sig, body, keyFor(testKeyID, pub, &calls))
			}
			if sig != nil {
				// Check agrees with Verify on every check that needs no key.
				checkErr := v.Check(sig, body)
				if (checkErr == nil) != (err == nil || calls > 0) {
					t.Errorf("Check: %v, but Verify: %v after %d lookups", checkErr, err, calls)
				}
			}
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("want success, got %v", err)
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Fatalf("want %v, got %v", tc.wantErr, err)
			}
			if tc.wantErr == nil {
				if res.KeyID != testKeyID || res.Created.IsZero() {
					t.Errorf("result %+v", res)
				}
				tc.wantLookups = 1
			}
			if calls != tc.wantLookups {
				t.Errorf("resolver called %d times, want %d", calls, tc.wantLookups)
			}
		})
	}
}

// TestSecurity01_Unsigned: no signature at all is told apart from a bad one.
func TestSecurity01_Unsigned(t *testing.T) {
	v := testVerifier(nil)
	for _, hdr := range []string{"", "Authorization: Bearer abc", "Authorization: Signaturex"} {
		raw := "POST /inbox HTTP/1.1\nHost: local.example\n" + hdr + "\n\n{}"
		req, _ := mustReadRequest(t, raw)
		if _, err := v.Parse(req); !errors.Is(err, httpsig.ErrMissingSignature) {
			t.Errorf("%q: %v, want ErrMissingSignature", hdr, err)
		}
	}
	for _, hdr := range []string{`Signature: garbage`, `Signature-Input: sig1=("@method")`, `Signature: keyId="x"`, `Authorization: Signature keyId="x"`} {
		req, _ := mustReadRequest(t, "POST /inbox HTTP/1.1\nHost: local.example\n"+hdr+"\n\n{}")
		_, err := v.Parse(req)
		if !errors.Is(err, httpsig.ErrMalformed) || errors.Is(err, httpsig.ErrMissingSignature) {
			t.Errorf("%q: %v, want ErrMalformed", hdr, err)
		}
	}
}

// TestSecurity02_Strength checks the strength rules for both schemes.
func TestSecurity02_Strength(t *testing.T) {
	key := mustRSAFile(t, "rsa2048.pem")
	date := testNow.Add(-time.Minute)
	cav := func(method string, headers ...string) func(t *testing.T) (*http.Request, []byte) {
		return func(t *testing.T) (*http.Request, []byte) {
			req, body := inboxPOST(t, "/users/bob/inbox", date, inboxBody)
			if method == http.MethodGet {
				req, body = actorGET(t, "/users/bob", date)
			}
			signCavageTest(t, req, key, cavageOpts{keyID: testKeyID, algorithm: "hs2019", headers: headers, created: date.Unix()})
			return req, body
		}
	}
	rfc := func(method string, withQuery bool, created int64, comps ...string) func(t *testing.T) (*http.Request, []byte) {
		return func(t *testing.T) (*http.Request, []byte) {
			path := "/users/bob/inbox"
			if withQuery {
				path += "?page=1"
			}
			req, body := inboxPOST(t, path, date, inboxBody)
			if method == http.MethodGet {
				req, body = actorGET(t, "/users/bob", date)
			}
			sign9421Test(t, req, key, rfcOpts{keyID: testKeyID, components: comps, created: created})
			return req, body
		}
	}
	c := date.Unix()
	runVerifyCases(t, &key.PublicKey, []verifyCase{
		{name: "cavage POST full", build: cav("POST", "(request-target)", "host", "date", "digest")},
		{name: "cavage POST (created) instead of date", build: cav("POST", "(request-target)", "host", "(created)", "digest")},
		{name: "cavage POST without digest", build: cav("POST", "(request-target)", "host", "date"), wantErr: httpsig.ErrWeakSignature},
		{name: "cavage POST without date or (created)", build: cav("POST", "(request-target)", "host", "digest"), wantErr: httpsig.ErrWeakSignature},
		{name: "cavage POST without (request-target)", build: cav("POST", "host", "date", "digest"), wantErr: httpsig.ErrWeakSignature},
		{name: "cavage POST without host", build: cav("POST", "(request-target)", "date", "digest"), wantErr: httpsig.ErrWeakSignature},
		{name: "cavage GET full", build: cav("GET", "(request-target)", "host", "date")},
		{name: "cavage GET without host", build: cav("GET", "(request-target)", "date", "accept"), wantErr: httpsig.ErrWeakSignature},
		{name: "cavage GET without date", build: cav("GET", "(request-target)", "host", "accept"), wantErr: httpsig.ErrWeakSignature},
		{name: "rfc9421 POST full", build: rfc("POST", false, c, "@method", "@target-uri", "content-digest")},
		{name: "rfc9421 POST @authority @path", build: rfc("POST", false, c, "@method", "@authority", "@path", "content-digest")},
		{name: "rfc9421 POST @authority @path @query", build: rfc("POST", true, c, "@method", "@authority", "@path", "@query", "content-digest")},
		{name: "rfc9421 POST @authority @request-target", build: rfc("POST", true, c, "@method", "@authority", "@request-target", "content-digest")},
		{name: "rfc9421 POST query not covered", build: rfc("POST", true, c, "@method", "@authority", "@path", "content-digest"), wantErr: httpsig.ErrWeakSignature},
		{name: "rfc9421 POST without created", build: rfc("POST", false, 0, "@method", "@target-uri", "content-digest"), wantErr: httpsig.ErrWeakSignature},
		{name: "rfc9421 POST without @method", build: rfc("POST", false, c, "@target-uri", "content-digest"), wantErr: httpsig.ErrWeakSignature},
		{name: "rfc9421 POST without target", build: rfc("POST", false, c, "@method", "@path", "content-digest"), wantErr: httpsig.ErrWeakSignature},
		{name: "rfc9421 POST without content-digest", build: rfc("POST", false, c, "@method", "@target-uri"), wantErr: httpsig.ErrWeakSignature},
		{name: "rfc9421 GET full", build: rfc("GET", false, c, "@method", "@target-uri")},
		{name: "rfc9421 GET @authority @path", build: rfc("GET", false, c, "@method", "@authority", "@path")},
		{name: "rfc9421 GET without target", build: rfc("GET", false, c, "@method", "accept"), wantErr: httpsig.ErrWeakSignature},
	})
}

// TestSecurity03_Digest: the body must match a covered SHA-256 digest.
func TestSecurity03_Digest(t *testing.T) {
	key := mustRSAFile(t, "rsa2048.pem")
	date := testNow.Add(-time.Minute)
	tampered := inboxBody[:len(inboxBody)-1] + `,"extra":1}`
	cav := func(digest string, body string) func(t *testing.T) (*http.Request, []byte) {
		return func(t *testing.T) (*http.Request, []byte) {
			req, _ := inboxPOST(t, "/users/bob/inbox", date, inboxBody)
			if digest != "" {
				req.Header.Set("Digest", digest)
			}
			signCavageTest(t, req, key, cavageOpts{keyID: testKeyID, algorithm: "rsa-sha256", headers: []string{"(request-target)", "host", "date", "digest"}})
			return req, []byte(body)
		}
	}
	rfc := func(digest string, body string) func(t *testing.T) (*http.Request, []byte) {
		return func(t *testing.T) (*http.Request, []byte) {
			req, _ := inboxPOST(t, "/users/bob/inbox", date, inboxBody)
			if digest != "" {
				req.Header.Set("Content-Digest", digest)
			}
			sign9421Test(t, req, key, rfcOpts{keyID: testKeyID, components: []string{"@method", "@target-uri", "content-digest"}, created: date.Unix()})
			return req, []byte(body)
		}
	}
	// resign signs the tampered body's digest with the wrong key holder's
	// signature left as it was: the attacker recomputes the digest.
	swapDigest := func(t *testing.T) (*http.Request, []byte) {
		req, _ := cav("", inboxBody)(t)
		req.Header.Set("Digest", sha256Digest(tampered))
		return req, []byte(tampered)
	}
	swapContentDigest := func(t *testing.T) (*http.Request, []byte) {
		req, _ := rfc("", inboxBody)(t)
		req.Header.Set("Content-Digest", sha256ContentDigest(tampered))
		return req, []byte(tampered)
	}
	runVerifyCases(t, &key.PublicKey, []verifyCase{
		{name: "cavage good", build: cav("", inboxBody)},
		{name: "cavage body tampered, signed digest of the original", build: cav("", tampered), wantErr: httpsig.ErrDigest},
		{name: "cavage digest recomputed for tampered body", build: swapDigest, wantErr: httpsig.ErrBadSignature, wantLookups: 1},
		{name: "cavage MD5 only", build: cav("MD5=Sd/dVLAcvNLSq16eXua5uQ==", inboxBody), wantErr: httpsig.ErrDigest},
		{name: "cavage SHA-1 only", build: cav("SHA=2jmj7l5rSw0yVb/vlWAYkK/YBwk=", inboxBody), wantErr: httpsig.ErrDigest},
		{name: "cavage bad base64", build: cav("SHA-256=!!!not-base64!!!", inboxBody), wantErr: httpsig.ErrDigest},
		{name: "cavage SHA-512 only", build: cav("SHA-512="+sha512B64(inboxBody), inboxBody), wantErr: httpsig.ErrDigest},
		{name: "cavage SHA-256 and SHA-512", build: cav(sha256Digest(inboxBody)+",SHA-512="+sha512B64(inboxBody), inboxBody)},
		{name: "cavage lower-case sha-256", build: cav(strings.Replace(sha256Digest(inboxBody), "SHA-256", "sha-256", 1), inboxBody)},
		{name: "cavage SHA-256 plus unknown", build: cav(sha256Digest(inboxBody)+", unixsum=30637", inboxBody)},
		{name: "cavage good SHA-256 with wrong SHA-512", build: cav(sha256Digest(inboxBody)+", SHA-512=AAAA", inboxBody), wantErr: httpsig.ErrDigest},
		{name: "cavage empty body against a digest", build: cav("", ""), wantErr: httpsig.ErrDigest},
		{name: "rfc9421 good", build: rfc("", inboxBody)},
		{name: "rfc9421 sha-512 accepted", build: rfc(sha512ContentDigest(inboxBody), inboxBody)},
		{name: "rfc9421 sha-512 refused when SHA256Only", build: rfc(sha512ContentDigest(inboxBody), inboxBody), mod: func(c *httpsig.Config) { c.SHA256Only = true }, wantErr: httpsig.ErrDigest},
		{name: "rfc9421 body tampered", build: rfc("", tampered), wantErr: httpsig.ErrDigest},
		{name: "rfc9421 content-digest recomputed for tampered body", build: swapContentDigest, wantErr: httpsig.ErrBadSignature, wantLookups: 1},
		{name: "rfc9421 sha-256 good, sha-512 wrong", build: rfc(sha256ContentDigest(inboxBody)+", sha-512=:AAAA:", inboxBody), wantErr: httpsig.ErrDigest},
		{name: "rfc9421 sha-256 plus unknown", build: rfc(sha256ContentDigest(inboxBody)+", unixsum=:AAAA:", inboxBody)},
		{name: "rfc9421 md5 only", build: rfc("md5=:Sd/dVLAcvNLSq16eXua5uQ==:", inboxBody), wantErr: httpsig.ErrDigest},
		{name: "rfc9421 bad base64", build: rfc("sha-256=:!!!:", inboxBody), wantErr: httpsig.ErrDigest},
		{name: "rfc9421 digest not a byte sequence", build: rfc(`sha-256="abc"`, inboxBody), wantErr: httpsig.ErrDigest},
	})
}

// TestSecurity04_TimeWindow checks Date, created and expires against the
// window (1 h by default) and the 12 h hard cap.
func TestSecurity04_TimeWindow(t *testing.T) {
	key := mustRSAFile(t, "rsa2048.pem")
	cavDate := func(date time.Time) func(t *testing.T) (*http.Request, []byte) {
		return func(t *testing.T) (*http.Request, []byte) {
			req, body := inboxPOST(t, "/users/bob/inbox", date, inboxBody)
			signCavageTest(t, req, key, cavageOpts{keyID: testKeyID, algorithm: "rsa-sha256", headers: []string{"(request-target)", "host", "date", "digest"}})
			return req, body
		}
	}
	cavRawDate := func(date string) func(t *testing.T) (*http.Request, []byte) {
		return func(t *testing.T) (*http.Request, []byte) {
			req, body := inboxPOST(t, "/users/bob/inbox", testNow, inboxBody)
			req.Header.Set("Date", date)
			signCavageTest(t, req, key, cavageOpts{keyID: testKeyID, algorithm: "rsa-sha256", headers: []string{"(request-target)", "host", "date", "digest"}})
			return req, body
		}
	}
	cavCreated := func(created, expires time.Time) func(t *testing.T) (*http.Request, []byte) {
		return func(t *testing.T) (*http.Request, []byte) {
			req, body := inboxPOST(t, "/users/bob/inbox", testNow, inboxBody)
			h := []string{"(request-target)", "host", "(created)", "digest"}
			o := cavageOpts{keyID: testKeyID, algorithm: "hs2019", headers: h, created: created.Unix()}
			if !expires.IsZero() {
				o.headers = append(h, "(expires)")
				o.expires = expires.Unix()
			}
			signCavageTest(t, req, key, o)
			return req, body
		}
	}
	rfc := func(created, expires time.Time) func(t *testing.T) (*http.Request, []byte) {
		return func(t *testing.T) (*http.Request, []byte) {
			req, body := inboxPOST(t, "/users/bob/inbox", testNow, inboxBody)
			o := rfcOpts{keyID: testKeyID, components: []string{"@method", "@target-uri", "content-digest"}, created: created.Unix()}
			if !expires.IsZero() {
				o.expires = expires.Unix()
			}
			sign9421Test(t, req, key, o)
			return req, body
		}
	}
	var none time.Time
	ago := func(d time.Duration) time.Time { return testNow.Add(-d) }
	runVerifyCases(t, &key.PublicKey, []verifyCase{
		{name: "cavage Date now", build: cavDate(testNow)},
		{name: "cavage Date 10 min old", build: cavDate(ago(10 * time.Minute))},
		{name: "cavage Date 59 min old", build: cavDate(ago(59 * time.Minute))},
		{name: "cavage Date 2 h old", build: cavDate(ago(2 * time.Hour)), wantErr: httpsig.ErrTimeWindow},
		{name: "cavage Date 2 h ahead", build: cavDate(ago(-2 * time.Hour)), wantErr: httpsig.ErrTimeWindow},
		{name: "cavage Date 30 min ahead", build: cavDate(ago(-30 * time.Minute))},
		{name: "cavage Date 2 h old, window 3 h", build: cavDate(ago(2 * time.Hour)), mod: func(c *httpsig.Config) { c.Window = 3 * time.Hour }},
		{name: "cavage Date unparsable", build: cavRawDate("yesterday"), wantErr: httpsig.ErrTimeWindow},
		{name: "cavage Date in RFC 850 form", build: cavRawDate("Saturday, 21-Nov-26 11:55:00 GMT")},
		{name: "cavage (created) 10 min old", build: cavCreated(ago(10*time.Minute), none)},
		{name: "cavage (created) 2 h old", build: cavCreated(ago(2*time.Hour), none), wantErr: httpsig.ErrTimeWindow},
		{name: "cavage (created) 2 h old, (expires) ahead", build: cavCreated(ago(2*time.Hour), ago(-time.Hour))},
		{name: "cavage (created) 13 h old, (expires) ahead: hard cap", build: cavCreated(ago(13*time.Hour), ago(-time.Hour)), wantErr: httpsig.ErrTimeWindow},
		{name: "cavage (expires) passed", build: cavCreated(ago(10*time.Minute), ago(time.Minute)), wantErr: httpsig.ErrTimeWindow},
		{name: "cavage (created) 2 h ahead", build: cavCreated(ago(-2*time.Hour), none), wantErr: httpsig.ErrTimeWindow},
		{name: "rfc9421 created now", build: rfc(testNow, none)},
		{name: "rfc9421 created 10 min old", build: rfc(ago(10*time.Minute), none)},
		{name: "rfc9421 created 2 h old", build: rfc(ago(2*time.Hour), none), wantErr: httpsig.ErrTimeWindow},
		{name: "rfc9421 created 2 h ahead", build: rfc(ago(-2*time.Hour), none), wantErr: httpsig.ErrTimeWindow},
		{name: "rfc9421 created 2 h old, expires ahead", build: rfc(ago(2*time.Hour), ago(-time.Minute))},
		{name: "rfc9421 created 13 h old, expires ahead: hard cap", build: rfc(ago(13*time.Hour), ago(-time.Hour)), wantErr: httpsig.ErrTimeWindow},
		{name: "rfc9421 expires passed", build: rfc(ago(5*time.Minute), ago(time.Second)), wantErr: httpsig.ErrTimeWindow},
		{name: "rfc9421 expires before created", build: rfc(ago(5*time.Minute), ago(6*time.Minute)), wantErr: httpsig.ErrTimeWindow},
	})
}

// TestSecurity05_Replay: a valid signature replayed to another path,
// method, host or query fails.
func TestSecurity05_Replay(t *testing.T) {
	key := mustRSAFile(t, "rsa2048.pem")
	date := testNow.Add(-time.Minute)
	type alter func(r *http.Request)
	toPath := func(p string) alter { return func(r *http.Request) { r.RequestURI = p } }
	toHost := func(h string) alter { return func(r *http.Request) { r.Host = h } }
	toMethod := func(m string) alter { return func(r *http.Request) { r.Method = m } }
	post := func(sign func(*testing.T, *http.Request), a alter) func(t *testing.T) (*http.Request, []byte) {
		return func(t *testing.T) (*http.Request, []byte) {
			req, body := inboxPOST(t, "/users/a/inbox", date, inboxBody)
			sign(t, req)
			if a != nil {
				a(req)
			}
			return req, body
		}
	}
	get := func(sign func(*testing.T, *http.Request), a alter) func(t *testing.T) (*http.Request, []byte) {
		return func(t *testing.T) (*http.Request, []byte) {
			req, body := actorGET(t, "/users/a", date)
			sign(t, req)
			a(req)
			return req, body
		}
	}
	cavPOST := func(t *testing.T, r *http.Request) {
		signCavageTest(t, r, key, cavageOpts{keyID: testKeyID, algorithm: "hs2019", headers: []string{"(request-target)", "host", "date", "digest"}})
	}
	cavGET := func(t *testing.T, r *http.Request) {
		signCavageTest(t, r, key, cavageOpts{keyID: testKeyID, algorithm: "hs2019", headers: []string{"(request-target)", "host", "date"}})
	}
	rfcPOST := func(t *testing.T, r *http.Request) {
		sign9421Test(t, r, key, rfcOpts{keyID: testKeyID, components: []string{"@method", "@target-uri", "content-digest"}, created: date.Unix()})
	}
	rfcPOSTParts := func(t *testing.T, r *http.Request) {
		sign9421Test(t, r, key, rfcOpts{keyID: testKeyID, components: []string{"@method", "@authority", "@path", "content-digest"}, created: date.Unix()})
	}
	rfcGET := func(t *testing.T, r *http.Request) {
		sign9421Test(t, r, key, rfcOpts{keyID: testKeyID, components: []string{"@method", "@target-uri"}, created: date.Unix()})
	}
	bad := httpsig.ErrBadSignature
	runVerifyCases(t, &key.PublicKey, []verifyCase{
		{name: "cavage original", build: post(cavPOST, nil)},
		{name: "cavage other path", build: post(cavPOST, toPath("/users/b/inbox")), wantErr: bad, wantLookups: 1},
		{name: "cavage added query", build: post(cavPOST, toPath("/users/a/inbox?x=1")), wantErr: bad, wantLookups: 1},
		{name: "cavage other host", build: post(cavPOST, toHost("other.example")), wantErr: bad, wantLookups: 1},
		{name: "cavage POST as PUT", build: post(cavPOST, toMethod("PUT")), wantErr: bad, wantLookups: 1},
		{name: "cavage GET as POST", build: get(cavGET, toMethod("POST")), wantErr: httpsig.ErrWeakSignature},
		{name: "cavage GET other path", build: get(cavGET, toPath("/users/b")), wantErr: bad, wantLookups: 1},
		{name: "cavage GET other query", build: get(cavGET, toPath("/users/a?page=2")), wantErr: bad, wantLookups: 1},
		{name: "rfc9421 original", build: post(rfcPOST, nil)},
		{name: "rfc9421 other path", build: post(rfcPOST, toPath("/users/b/inbox")), wantErr: bad, wantLookups: 1},
		{name: "rfc9421 added query", build: post(rfcPOST, toPath("/users/a/inbox?x=1")), wantErr: bad, wantLookups: 1},
		{name: "rfc9421 other host", build: post(rfcPOST, toHost("other.example")), wantErr: bad, wantLookups: 1},
		{name: "rfc9421 POST as PUT", build: post(rfcPOST, toMethod("PUT")), wantErr: bad, wantLookups: 1},
		{name: "rfc9421 parts: added query", build: post(rfcPOSTParts, toPath("/users/a/inbox?x=1")), wantErr: httpsig.ErrWeakSignature},
		{name: "rfc9421 parts: other path", build: post(rfcPOSTParts, toPath("/users/b/inbox")), wantErr: bad, wantLookups: 1},
		{name: "rfc9421 GET as POST", build: get(rfcGET, toMethod("POST")), wantErr: httpsig.ErrWeakSignature},
		{name: "rfc9421 GET as DELETE", build: get(rfcGET, toMethod("DELETE")), wantErr: httpsig.ErrWeakSignature},
		{name: "rfc9421 GET other path", build: get(rfcGET, toPath("/users/b")), wantErr: bad, wantLookups: 1},
		{name: "rfc9421 GET other host", build: get(rfcGET, toHost("other.example")), wantErr: bad, wantLookups: 1},
	})
}

// TestPeerShapes verifies requests shaped as Mastodon and GoToSocial send
// them (RSA keys; "rsa-sha256" and "hs2019").
func TestPeerShapes(t *testing.T) {
	key := mustRSAFile(t, "rsa2048.pem")
	date := testNow.Add(-3 * time.Second)
	shape := func(get bool, o cavageOpts) func(t *testing.T) (*http.Request, []byte) {
		return func(t *testing.T) (*http.Request, []byte) {
			req, body := inboxPOST(t, "/users/bob/inbox", date, inboxBody)
			if get {
				req, body = actorGET(t, "/users/bob", date)
			}
			signCavageTest(t, req, key, o)
			return req, body
		}
	}
	runVerifyCases(t, &key.PublicKey, []verifyCase{
		{name: "Mastodon POST", build: shape(false, cavageOpts{keyID: testKeyID, algorithm: "rsa-sha256", headers: []string{"(request-target)", "host", "date", "digest", "content-type"}})},
		{name: "Mastodon GET", build: shape(true, cavageOpts{keyID: testKeyID, algorithm: "rsa-sha256", headers: []string{"(request-target)", "host", "date", "accept"}})},
		{name: "GoToSocial POST", build: shape(false, cavageOpts{keyID: testKeyID, algorithm: "hs2019", headers: []string{"(request-target)", "host", "date", "digest"}})},
		{name: "GoToSocial GET", build: shape(true, cavageOpts{keyID: testKeyID, algorithm: "hs2019", headers: []string{"(request-target)", "host", "date"}})},
		{name: "no algorithm parameter", build: shape(false, cavageOpts{keyID: testKeyID, headers: []string{"(request-target)", "host", "date", "digest"}})},
		{name: "algorithm ed25519 with an RSA key", build: shape(false, cavageOpts{keyID: testKeyID, algorithm: "ed25519", headers: []string{"(request-target)", "host", "date", "digest"}}), wantErr: httpsig.ErrUnsupportedAlgorithm, wantLookups: 1},
		{name: "algorithm hmac-sha256", build: shape(false, cavageOpts{keyID: testKeyID, algorithm: "hmac-sha256", headers: []string{"(request-target)", "host", "date", "digest"}}), wantErr: httpsig.ErrUnsupportedAlgorithm},
		{name: "(created) with rsa-sha256", build: shape(false, cavageOpts{keyID: testKeyID, algorithm: "rsa-sha256", created: date.Unix(), headers: []string{"(request-target)", "host", "(created)", "digest"}}), wantErr: httpsig.ErrMalformed},
		{name: "signed header missing", build: shape(false, cavageOpts{keyID: testKeyID, algorithm: "rsa-sha256", headers: []string{"(request-target)", "host", "date", "digest", "x-absent"}}), wantErr: httpsig.ErrMalformed},
	})
}

// TestVerifyKeys covers the key checks: wrong key, small key, unknown key
// id, Ed25519 under both schemes.
func TestVerifyKeys(t *testing.T) {
	key := mustRSAFile(t, "rsa2048.pem")
	other := mustRSAFile(t, "rsa2048-b.pem")
	small := mustRSAPrivate(t, cavageTestPrivate)
	_, edPriv, _ := ed25519.GenerateKey(nil)
	date := testNow.Add(-time.Minute)
	signed := func(k crypto.Signer, rfc bool) (*http.Request, []byte) {
		req, body := inboxPOST(t, "/users/bob/inbox", date, inboxBody)
		if rfc {
			sign9421Test(t, req, k, rfcOpts{keyID: testKeyID, components: []string{"@method", "@target-uri", "content-digest"}, created: date.Unix()})
		} else {
			signCavageTest(t, req, k, cavageOpts{keyID: testKeyID, algorithm: "hs2019", headers: []string{"(request-target)", "host", "date", "digest"}})
		}
		return req, body
	}
	tests := []struct {
		name     string
		signWith crypto.Signer
		rfc      bool
		resolve  crypto.PublicKey
		keyErr   error
		mod      func(*httpsig.Config)
		wantErr  error
		wantAlg  string
	}{
		{name: "cavage wrong key", signWith: other, resolve: &key.PublicKey, wantErr: httpsig.ErrBadSignature},
		{name: "rfc9421 wrong key", signWith: other, rfc: true, resolve: &key.PublicKey, wantErr: httpsig.ErrBadSignature},
		{name: "1024-bit key refused", signWith: small, resolve: &small.PublicKey, wantErr: httpsig.ErrWeakKey},
		{name: "1024-bit key allowed by config", signWith: small, resolve: &small.PublicKey, mod: func(c *httpsig.Config) { c.MinRSABits = 1024 }, wantAlg: httpsig.RSAv15SHA256},
		{name: "cavage hs2019 ed25519", signWith: edPriv, resolve: edPriv.Public(), wantAlg: httpsig.Ed25519},
		{name: "rfc9421 ed25519", signWith: edPriv, rfc: true, resolve: edPriv.Public(), wantAlg: httpsig.Ed25519},
		{name: "ed25519 signature, RSA key", signWith: edPriv, resolve: &key.PublicKey, wantErr: httpsig.ErrBadSignature},
		{name: "resolver error", signWith: key, keyErr: errUnknownKey, wantErr: httpsig.ErrKeyLookup},
		{name: "unsupported key type", signWith: key, resolve: "not a key", wantErr: httpsig.ErrWeakKey},
		{name: "RSA key over 8192 bits", signWith: key, resolve: &rsa.PublicKey{N: new(big.Int).Lsh(big.NewInt(1), 8200), E: 65537}, wantErr: httpsig.ErrWeakKey},
		{name: "nil RSA key", signWith: key, resolve: (*rsa.PublicKey)(nil), wantErr: httpsig.ErrWeakKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, body := signed(tt.signWith, tt.rfc)
			v := testVerifier(tt.mod)
			sig, err := v.Parse(req)
			if err != nil {
				t.Fatal(err)
			}
			res, err := v.Verify(t.Context(), sig, body, func(context.Context, string) (crypto.PublicKey, error) {
				return tt.resolve, tt.keyErr
			})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got %v, want %v", err, tt.wantErr)
				}
				if tt.keyErr != nil && !errors.Is(err, tt.keyErr) {
					t.Errorf("resolver error not wrapped: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Algorithm != tt.wantAlg {
				t.Errorf("algorithm %s, want %s", res.Algorithm, tt.wantAlg)
			}
		})
	}
}

// TestResult checks what a successful verification reports, and that the
// key id is available before any lookup (SECURITY.md rule 10).
func TestResult(t *testing.T) {
	key := mustRSAFile(t, "rsa2048.pem")
	date := testNow.Add(-time.Minute)
	req, body := inboxPOST(t, "/users/bob/inbox", date, inboxBody)
	sign9421Test(t, req, key, rfcOpts{keyID: testKeyID, components: []string{"@method", "@target-uri", "content-digest", "content-type"}, created: date.Unix(), expires: date.Add(time.Hour).Unix(), alg: "rsa-pss-sha512"})
	v := testVerifier(nil)
	sig, err := v.Parse(req)
	if err != nil {
		t.Fatal(err)
	}
	if sig.KeyID != testKeyID || sig.Scheme != httpsig.RFC9421 || sig.DeclaredAlgorithm != "rsa-pss-sha512" {
		t.Fatalf("parsed %+v", sig)
	}
	calls := 0
	res, err := v.Verify(t.Context(), sig, body, keyFor(testKeyID, &key.PublicKey, &calls))
	if err != nil {
		t.Fatal(err)
	}
	want := httpsig.Result{
		KeyID: testKeyID, Key: &key.PublicKey, Scheme: httpsig.RFC9421, Algorithm: httpsig.RSAPSSSHA512,
		Components: []string{"@method", "@target-uri", "content-digest", "content-type"},
		Created:    time.Unix(date.Unix(), 0), Expires: time.Unix(date.Add(time.Hour).Unix(), 0), Label: "sig1",
	}
	if res.KeyID != want.KeyID || res.Scheme != want.Scheme || res.Algorithm != want.Algorithm ||
		!slices.Equal(res.Components, want.Components) || !res.Created.Equal(want.Created) ||
		!res.Expires.Equal(want.Expires) || res.Label != want.Label || calls != 1 {
		t.Errorf("result %+v, want %+v (lookups %d)", res, want, calls)
	}
}
