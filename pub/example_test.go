package pub_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"

	"github.com/commonroom/commonroom/pub"
	"github.com/commonroom/commonroom/pub/httpsig"
	"github.com/commonroom/commonroom/streams"
)

// Example runs two servers on loopback. The school's actor ada signs a
// Follow with her key and posts it to the library's inbox, where the Inbox
// middleware verifies it (fetching ada's key from the school, signed as the
// library's instance actor). Then the library fetches ada's actor document.
func Example() {
	ctx := context.Background()
	school := httptest.NewUnstartedServer(nil)
	library := httptest.NewUnstartedServer(nil)
	defer school.Close()
	defer library.Close()
	schoolURL := "http://" + school.Listener.Addr().String()
	libraryURL := "http://" + library.Listener.Addr().String()

	newEngine := func(baseURL string) *pub.Engine {
		cfg := pub.DefaultConfig()
		cfg.BaseURL = baseURL
		// Loopback peers over plain HTTP: tests and local demos only.
		cfg.Transport.AllowHTTP = true
		cfg.Transport.AllowPrefixes = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		e, err := pub.NewEngine(ctx, cfg)
		if err != nil {
			log.Fatal(err)
		}
		return e
	}
	schoolPub, libraryPub := newEngine(schoolURL), newEngine(libraryURL)

	// The school serves its instance actor and its people, with their keys.
	mux := http.NewServeMux()
	schoolPub.Routes(mux)
	mux.HandleFunc("GET /users/{name}", func(w http.ResponseWriter, r *http.Request) {
		id := schoolURL + r.URL.Path
		keys, err := schoolPub.Keys().EnsureLocal(r.Context(), id)
		if err != nil {
			http.Error(w, "no such actor", http.StatusNotFound)
			return
		}
		doc := streams.NewObject("Person")
		doc.SetID(id)
		_ = doc.Set("preferredUsername", streams.String(r.PathValue("name")))
		_ = doc.Set("inbox", streams.IRI(id+"/inbox"))
		if err := pub.PublishKeys(doc, keys); err != nil {
			http.Error(w, "keys", http.StatusInternalServerError)
			return
		}
		data, _ := streams.Marshal(doc)
		w.Header().Set("Content-Type", pub.ContentTypeActivityJSON)
		_, _ = w.Write(data)
	})
	school.Config.Handler = mux
	school.Start()

	// The library's shared inbox only sees verified activities.
	lmux := http.NewServeMux()
	libraryPub.Routes(lmux)
	lmux.Handle("POST /inbox", libraryPub.Authenticator().Inbox(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			signer, _ := pub.SignerFromContext(r.Context())
			act, _, _ := pub.ActivityFromContext(r.Context())
			fmt.Printf("library received a %s signed by %s\n", act.Type(), strings.TrimPrefix(signer.Owner, schoolURL))
			w.WriteHeader(http.StatusAccepted)
		})))
	library.Config.Handler = lmux
	library.Start()

	// Sign: ada's Follow, signed with her RSA key (draft-cavage-12).
	ada := schoolURL + "/users/ada"
	keys, err := schoolPub.Keys().EnsureLocal(ctx, ada)
	if err != nil {
		log.Fatal(err)
	}
	signer, err := keys.RequestSigner(nil)
	if err != nil {
		log.Fatal(err)
	}
	body := []byte(`{"@context":"https://www.w3.org/ns/activitystreams","id":"` + ada + `/follows/1",` +
		`"type":"Follow","actor":"` + ada + `","object":"` + libraryURL + `/actor"}`)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, libraryURL+"/inbox", bytes.NewReader(body))
	req.Header.Set("Content-Type", pub.ContentTypeActivityJSON)
	if err := signer.Sign(req, body, httpsig.Cavage); err != nil {
		log.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println("inbox answered", resp.StatusCode)

	// Fetch: the library dereferences ada, signed as its instance actor.
	actor, err := libraryPub.Fetch(ctx, ada)
	if err != nil {
		log.Fatal(err)
	}
	published, _ := pub.PublishedKeys(actor)
	fmt.Println(actor.Type(), actor.String("preferredUsername"), "publishes", len(published), "keys")

	// Output:
	// library received a Follow signed by /users/ada
	// inbox answered 202
	// Person ada publishes 2 keys
}
