package transport_test

import (
	"encoding/json"
	"mime"
	"net/url"
	"testing"
	"time"

	"github.com/commonroom/commonroom/pub/transport"
)

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"0", "120", "99999999999999999999", "-1", "Sat, 21 Nov 2026 07:00:10 GMT",
		"Saturday, 21-Nov-26 08:00:00 GMT", "Sat Nov 21 07:01:00 2026", "", " 5 ", "1e3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := transport.ParseRetryAfter(s, frozen)
		if d < 0 {
			t.Fatalf("ParseRetryAfter(%q) = %v, negative", s, d)
		}
		if !ok && d != 0 {
			t.Fatalf("ParseRetryAfter(%q) = %v with ok false", s, d)
		}
		// The clock only matters for dates: a later clock never gives a
		// longer delay.
		if d2, ok2 := transport.ParseRetryAfter(s, frozen.Add(time.Hour)); ok2 != ok || d2 > d {
			t.Fatalf("ParseRetryAfter(%q): %v,%v then %v,%v an hour later", s, d, ok, d2, ok2)
		}
	})
}

func FuzzIsActivityPubContentType(f *testing.F) {
	for _, s := range []string{"application/activity+json", `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`,
		"application/ld+json", "application/json", "text/html; charset=utf-8", `application/ld+json; profile="a b"`, ";;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !transport.IsActivityPubContentType(s) {
			return
		}
		mt, params, err := mime.ParseMediaType(s)
		if err != nil {
			t.Fatalf("%q accepted but does not parse: %v", s, err)
		}
		if mt != "application/activity+json" && (mt != "application/ld+json" || params["profile"] == "") {
			t.Fatalf("%q accepted as ActivityPub", s)
		}
	})
}

func FuzzDocumentID(f *testing.F) {
	for _, s := range []string{`{"id":"https://a.example/x"}`, `{"id":"https://a.example/x","id":"https://b.example/"}`,
		`{"ID":"https://a.example/x"}`, `{"a":[[[{"b":1}]]],"id":"http://a.example:8080/x?y=1"}`, `[]`, `{"id":1}`, `{"@id":"https://a.example/"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		id, err := transport.DocumentID(data)
		if err != nil {
			return
		}
		if !json.Valid(data) {
			t.Fatalf("id %q extracted from invalid JSON %q", id, data)
		}
		var obj map[string]any
		if err := json.Unmarshal(data, &obj); err != nil {
			t.Fatalf("id %q extracted from a non-object %q: %v", id, data, err)
		}
		if obj["id"] != id && obj["@id"] != id {
			t.Fatalf("DocumentID = %q, encoding/json reads id %v / @id %v", id, obj["id"], obj["@id"])
		}
		u, err := url.Parse(id)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			t.Fatalf("id %q is not an absolute http(s) URL", id)
		}
	})
}

func FuzzParseOrigin(f *testing.F) {
	for _, s := range []string{"https://EVIL.example./x", "https://mastodon.so/cial", "http://[::1]:8080", "https://bücher.example",
		"https://a.example:0443", "https://good.example@evil.example/", "http://127.0.0.1:80/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := transport.ParseOrigin(s)
		if err != nil {
			return
		}
		again, err := transport.ParseOrigin(o.String())
		if err != nil || again != o {
			t.Fatalf("ParseOrigin(%q) = %+v, but its String %q parses to %+v, %v", s, o, o.String(), again, err)
		}
		if !transport.SameOrigin(s, o.String()) {
			t.Fatalf("%q is not same-origin with its own origin %q", s, o)
		}
	})
}
