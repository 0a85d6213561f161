package pub_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/commonroom/commonroom/pub"
	"github.com/commonroom/commonroom/pub/bunstore"
	"github.com/commonroom/commonroom/streams"
)

// ExampleFederation is a complete federating program, run twice on
// loopback: a school where ada publishes notes, and a library where bob
// follows her and receives them. Each server is an Engine, a Federation
// over SQLite (pub/bunstore), and its routes on an http.ServeMux.
func ExampleFederation() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir, err := os.MkdirTemp("", "pub-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	received := make(chan string, 1)

	start := func(name string) (*pub.Federation, *pub.ActorDirectory) {
		srv := httptest.NewUnstartedServer(nil)
		cfg := pub.DefaultConfig()
		cfg.BaseURL = "http://" + srv.Listener.Addr().String()
		cfg.Transport.AllowHTTP = true // loopback peers: tests and demos only
		cfg.Transport.AllowPrefixes = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		engine, err := pub.NewEngine(ctx, cfg)
		if err != nil {
			log.Fatal(err)
		}
		db, err := bunstore.OpenSQLite(ctx, filepath.Join(dir, name+".db"))
		if err != nil {
			log.Fatal(err)
		}
		if err := bunstore.Migrate(ctx, db); err != nil {
			log.Fatal(err)
		}
		actors := pub.NewActorDirectory(engine)
		fed, err := pub.NewFederation(engine, pub.FederationConfig{
			Store:  bunstore.NewFederationStore(db), // inbox, objects, follows, collections
			Queue:  bunstore.New(db),                // durable deliveries
			Actors: actors,
			Hooks: pub.Hooks{On: map[string]pub.Hook{
				"Create": func(ctx context.Context, in *pub.Inbound) error {
					received <- fmt.Sprintf("%s got %q for %d local actor(s)", name, in.Object.String("content"), len(in.Recipients))
					return nil
				},
			}},
		})
		if err != nil {
			log.Fatal(err)
		}
		mux := http.NewServeMux()
		fed.Routes(mux) // inboxes, actors, outboxes, followers, objects, /actor
		srv.Config.Handler = mux
		srv.Start()
		go func() { _ = fed.Run(ctx) }() // background processing and delivery
		return fed, actors
	}
	school, schoolActors := start("school")
	library, libraryActors := start("library")

	ada, err := schoolActors.Add(ctx, pub.ActorSpec{Name: "ada", DisplayName: "Ada"})
	if err != nil {
		log.Fatal(err)
	}
	bob, err := libraryActors.Add(ctx, pub.ActorSpec{Name: "bob"})
	if err != nil {
		log.Fatal(err)
	}

	// bob follows ada; the school accepts at once, and the library records
	// the Accept.
	follow := streams.NewObject("Follow")
	_ = follow.Set("object", streams.IRI(ada.ID))
	if _, err := library.Publish(ctx, bob.ID, follow); err != nil {
		log.Fatal(err)
	}
	for {
		f, err := library.Store().GetFollow(ctx, bob.ID, ada.ID)
		if err == nil && f.State == pub.FollowAccepted {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Println("bob follows ada")

	// ada publishes a public note; it reaches her followers.
	note := streams.NewObject("Note")
	_ = note.Set("content", streams.String("Fractions worksheet for Monday"))
	_ = note.Set("to", streams.IRIList(streams.PublicIRI))
	_ = note.Set("cc", streams.IRIList(ada.Followers()))
	create, err := school.Publish(ctx, ada.ID, note)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("ada published a", create.Type())
	fmt.Println(<-received)

	// Output:
	// bob follows ada
	// ada published a Create
	// library got "Fractions worksheet for Monday" for 1 local actor(s)
}
