package actors_test

import (
	"context"
	"fmt"
	"log"

	"github.com/commonroom/commonroom/actors"
	"github.com/commonroom/commonroom/internal/db"
	"github.com/commonroom/commonroom/internal/users"
	"github.com/commonroom/commonroom/pub"
	"github.com/commonroom/commonroom/streams"
)

// ExampleService builds a Service over an in-memory database and a pub
// engine, and has two local people follow, post and read their home
// timeline. The Publisher here prints what would be federated; a server
// passes actors.FederationPublisher{Federation: fed}.
func ExampleService() {
	ctx := context.Background()
	d, err := db.Open(ctx, db.MemoryDSN)
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	if _, err := db.Migrate(ctx, d.DB, users.Migrations(), actors.Migrations()); err != nil {
		log.Fatal(err)
	}
	cfg := pub.DefaultConfig()
	cfg.BaseURL = "https://school.example"
	engine, err := pub.NewEngine(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	svc, err := actors.NewService(d.DB, actors.Options{
		Config:  actors.DefaultConfig(cfg.BaseURL),
		Fetcher: engine.Fetcher(),
		Keys:    engine.Keys(),
		Publisher: actors.PublisherFunc(func(ctx context.Context, actor string, act *streams.Object) error {
			fmt.Println(actor, "publishes a", act.Type(), "to", act.IRIs("to"))
			return nil
		}),
	})
	if err != nil {
		log.Fatal(err)
	}
	ada, err := svc.CreateLocal(ctx, actors.NewLocal{Username: "ada", DisplayName: "Ada"})
	if err != nil {
		log.Fatal(err)
	}
	bob, err := svc.CreateLocal(ctx, actors.NewLocal{Username: "bob"})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := svc.Follow(ctx, bob.ID, ada.ID); err != nil { // local: nothing to federate
		log.Fatal(err)
	}
	st, err := svc.Post(ctx, ada.ID, actors.NewStatus{Text: "Fractions worksheet for @bob #maths"})
	if err != nil {
		log.Fatal(err)
	}
	tags, _ := svc.Tags(ctx, st.ID)
	timeline, _ := svc.Home(ctx, bob.ID, actors.Page{})
	fmt.Println("tags:", tags)
	fmt.Println("bob's home:", len(timeline), "status")
	// Output:
	// https://school.example/users/ada publishes a Create to [https://www.w3.org/ns/activitystreams#Public]
	// tags: [maths]
	// bob's home: 1 status
}
