package delivery_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/commonroom/commonroom/pub/bunstore"
	"github.com/commonroom/commonroom/pub/delivery"
	"github.com/commonroom/commonroom/pub/httpsig"
	"github.com/commonroom/commonroom/pub/transport"
)

// Example wires a Pool the way a server does: a bun queue, pub/transport
// with a ContextSigner, and a SignerSource that returns each local actor's
// signer. It delivers one activity to a loopback inbox.
func Example() {
	ctx := context.Background()
	inbox := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
	}))
	defer inbox.Close()

	// The queue: a SQLite file, migrated.
	dir, err := os.MkdirTemp("", "delivery-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := bunstore.OpenSQLite(ctx, filepath.Join(dir, "queue.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if err := bunstore.Migrate(ctx, db); err != nil {
		log.Fatal(err)
	}

	// The transport signs each request as the job's actor. Loopback and
	// plain http are allowed here only because the inbox is a test server.
	tcfg := transport.DefaultConfig()
	tcfg.Signer = delivery.ContextSigner{}
	tcfg.AllowHTTP = true
	tcfg.AllowPrefixes = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	client, err := transport.New(tcfg)
	if err != nil {
		log.Fatal(err)
	}

	// Local actors' keys, looked up by key id when a job is sent.
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	const keyID = "https://school.example/users/ada#main-key"
	alice, err := httpsig.NewSigner(key, keyID, nil)
	if err != nil {
		log.Fatal(err)
	}
	signers := delivery.SignerSourceFunc(func(ctx context.Context, id string) (delivery.Signer, error) {
		if id != keyID {
			return nil, fmt.Errorf("%w: no key %s", delivery.ErrPermanent, id)
		}
		return delivery.NewHTTPSigSigner(alice, nil), nil
	})

	pool, err := delivery.New(delivery.DefaultConfig(), bunstore.New(db), delivery.TransportSender{Client: client}, signers)
	if err != nil {
		log.Fatal(err)
	}
	job, err := delivery.NewJob(inbox.URL+"/inbox", keyID, "https://school.example/activities/1",
		[]byte(`{"id":"https://school.example/activities/1","type":"Create"}`))
	if err != nil {
		log.Fatal(err)
	}
	if err := pool.Enqueue(ctx, job); err != nil {
		log.Fatal(err)
	}

	// A server calls pool.Run(ctx) once; Step delivers one batch.
	if _, err := pool.Step(ctx); err != nil {
		log.Fatal(err)
	}
	stats, err := pool.Stats(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("delivered:", stats.Count(delivery.Delivered), "pending:", stats.Queue.Pending)
	// Output: delivered: 1 pending: 0
}
