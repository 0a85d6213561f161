package pub_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/commonroom/commonroom/pub"
	"github.com/commonroom/commonroom/streams"
)

// FuzzAuthenticate feeds arbitrary signature headers and bodies to
// Authenticate, with a fetcher that always fails: garbage is refused with
// one of pub's errors that maps to 401 (or 202 for a gone key), never
// accepted and never a panic.
func FuzzAuthenticate(f *testing.F) {
	f.Add(`keyId="https://a.example/u#k",algorithm="rsa-sha256",headers="(request-target) host date digest",signature="AAAA"`, "", "SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", `{}`)
	f.Add("", `sig1=("@method" "@target-uri" "content-digest");created=1;keyid="https://a.example/k"`, "", `{"type":"Create"}`)
	f.Add(`keyId="acct:x@y",headers="date",signature="=="`, "", "", "")
	f.Add(`keyId="https://school.example/users/me#main-key",headers="(request-target) host date digest",signature="AAAA"`, "", "", `[`)
	f.Fuzz(func(t *testing.T, signature, input, digest, body string) {
		docs := &fakeDocs{fetch: func(ctx context.Context, iri string) (*streams.Object, error) {
			return nil, errors.New("no network in this test")
		}}
		k, _ := newTestKeys(t, docs, newFakeClock())
		auth, err := pub.NewAuthenticator(pub.AuthConfig{Keys: k, Clock: newFakeClock()})
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, localOrigin+"/inbox", bytes.NewReader([]byte(body)))
		for name, v := range map[string]string{"Signature": signature, "Signature-Input": input, "Digest": digest} {
			if v != "" {
				req.Header.Set(name, v)
			}
		}
		req.Header.Set("Date", "Sat, 21 Nov 2026 12:00:00 GMT")
		_, err = auth.Authenticate(context.Background(), req, []byte(body))
		if err == nil {
			t.Fatal("garbage authenticated")
		}
		if s := pub.StatusFor(err); s != http.StatusUnauthorized && s != http.StatusAccepted {
			t.Errorf("status %d for %v", s, err)
		}
	})
}
