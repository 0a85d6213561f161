package actors_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/commonroom/commonroom/actors"
	"github.com/commonroom/commonroom/internal/errkind"
	"github.com/commonroom/commonroom/streams"
)

// receive hands e.svc a verified activity given as JSON.
func (e *env) receive(tb testing.TB, actor, body string) {
	tb.Helper()
	act, err := streams.Parse([]byte(body))
	if err != nil {
		tb.Fatalf("parse %s: %v", body, err)
	}
	if err := e.svc.Receive(context.Background(), actors.Incoming{Activity: act, Actor: actor}); err != nil {
		tb.Fatalf("Receive(%s): %v", act.Type(), err)
	}
}

func notificationTypes(tb testing.TB, e *env, id int64) []actors.NotificationType {
	tb.Helper()
	ns, err := e.svc.Notifications(context.Background(), id, actors.NotificationFilter{})
	if err != nil {
		tb.Fatal(err)
	}
	var out []actors.NotificationType
	for _, n := range ns {
		out = append(out, n.Type)
	}
	return out
}

func rel(tb testing.TB, e *env, a, b int64) actors.Relationship {
	tb.Helper()
	r, err := e.svc.Relationship(context.Background(), a, b)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func TestFollowLocal(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		ada, bob := e.local(t, "ada"), e.local(t, "bob")
		cat := e.local(t, "cat", func(nl *actors.NewLocal) { nl.Locked = true })

		if _, err := e.svc.Follow(ctx, ada.ID, bob.ID); err != nil {
			t.Fatal(err)
		}
		if r := rel(t, e, ada.ID, bob.ID); !r.Following || r.Requested {
			t.Errorf("ada → bob %+v", r)
		}
		if r := rel(t, e, bob.ID, ada.ID); !r.FollowedBy {
			t.Errorf("bob → ada %+v", r)
		}
		if got := notificationTypes(t, e, bob.ID); !slices.Equal(got, []actors.NotificationType{actors.NotifyFollow}) {
			t.Errorf("bob's notifications %v", got)
		}
		if len(e.pub.types()) != 0 {
			t.Errorf("a local follow federated: %v", e.pub.types())
		}
		if c, _ := e.svc.Counts(ctx, bob.ID); c.Followers != 1 || c.Following != 0 {
			t.Errorf("bob's counts %+v", c)
		}

		for name, tt := range map[string]struct {
			from, to int64
			kind     errkind.Kind
		}{
			"self":      {ada.ID, ada.ID, errkind.Invalid},
			"duplicate": {ada.ID, bob.ID, errkind.Conflict},
			"unknown":   {ada.ID, 999, errkind.NotFound},
		} {
			t.Run(name, func(t *testing.T) {
				before := count(t, e.db, "follows")
				_, err := e.svc.Follow(ctx, tt.from, tt.to)
				if errkind.Of(err) != tt.kind {
					t.Fatalf("err = %v, want %v", err, tt.kind)
				}
				if count(t, e.db, "follows") != before {
					t.Error("stored a follow")
				}
			})
		}

		// A locked account gets a request.
		if _, err := e.svc.Follow(ctx, ada.ID, cat.ID); err != nil {
			t.Fatal(err)
		}
		if r := rel(t, e, ada.ID, cat.ID); r.Following || !r.Requested {
			t.Errorf("ada → cat %+v", r)
		}
		reqs, err := e.svc.Followers(ctx, cat.ID, true, actors.Page{})
		if err != nil || len(reqs) != 1 || reqs[0].ID != ada.ID {
			t.Errorf("requests %v, %v", reqs, err)
		}
		if err := e.svc.AuthorizeFollow(ctx, cat.ID, ada.ID); err != nil {
			t.Fatal(err)
		}
		if r := rel(t, e, ada.ID, cat.ID); !r.Following {
			t.Errorf("after authorize %+v", r)
		}
		if got := notificationTypes(t, e, cat.ID); !slices.Equal(got, []actors.NotificationType{actors.NotifyFollow, actors.NotifyFollowRequest}) {
			t.Errorf("cat's notifications %v", got)
		}
		if err := e.svc.AuthorizeFollow(ctx, cat.ID, ada.ID); errkind.Of(err) != errkind.NotFound {
			t.Errorf("second authorize: %v", err)
		}
		following, _ := e.svc.Following(ctx, ada.ID, actors.Page{})
		if len(following) != 2 || following[0].ID != cat.ID {
			t.Errorf("ada follows %v", following)
		}

		// Reject, unfollow, remove follower.
		if _, err := e.svc.Follow(ctx, bob.ID, cat.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.RejectFollow(ctx, cat.ID, bob.ID); err != nil {
			t.Fatal(err)
		}
		if r := rel(t, e, bob.ID, cat.ID); r.Following || r.Requested {
			t.Errorf("after reject %+v", r)
		}
		if err := e.svc.Unfollow(ctx, ada.ID, bob.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Unfollow(ctx, ada.ID, bob.ID); errkind.Of(err) != errkind.NotFound {
			t.Errorf("second unfollow: %v", err)
		}
		if err := e.svc.RemoveFollower(ctx, cat.ID, ada.ID); err != nil {
			t.Fatal(err)
		}
		if n := count(t, e.db, "follows"); n != 0 {
			t.Errorf("%d follows left", n)
		}
	})
}

func TestFollowRemote(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		ada := e.local(t, "ada")
		zoe := e.remote(t, "far.example", "zoe", true)

		f, err := e.svc.Follow(ctx, ada.ID, zoe.ID)
		if err != nil {
			t.Fatal(err)
		}
		if r := rel(t, e, ada.ID, zoe.ID); !r.Requested {
			t.Errorf("before Accept %+v", r)
		}
		follow := e.pub.last(t)
		if follow.Type() != "Follow" || follow.ID() != f.IRI || follow.IRI("object") != zoe.IRI || follow.IRI("actor") != ada.IRI ||
			!slices.Equal(follow.IRIs("to"), []string{zoe.IRI}) {
			t.Errorf("published %s %s → %s to %v", follow.Type(), follow.IRI("actor"), follow.IRI("object"), follow.IRIs("to"))
		}
		// An Accept from someone else changes nothing.
		mal := e.remote(t, "evil.example", "mal", false)
		e.receive(t, mal.IRI, fmt.Sprintf(`{"id":"https://evil.example/a/1","type":"Accept","actor":%q,"object":%q}`, mal.IRI, f.IRI))
		if r := rel(t, e, ada.ID, zoe.ID); !r.Requested {
			t.Errorf("accepted by a third party: %+v", r)
		}
		e.receive(t, zoe.IRI, fmt.Sprintf(`{"id":"https://far.example/a/1","type":"Accept","actor":%q,"object":%q}`, zoe.IRI, f.IRI))
		if r := rel(t, e, ada.ID, zoe.ID); !r.Following {
			t.Errorf("after Accept %+v", r)
		}
		if err := e.svc.Unfollow(ctx, ada.ID, zoe.ID); err != nil {
			t.Fatal(err)
		}
		undo := e.pub.last(t)
		if undo.Type() != "Undo" || undo.Object("object").ID() != f.IRI || !undo.Object("object").Is("Follow") {
			t.Errorf("published %s of %v", undo.Type(), undo.Object("object"))
		}
		// Follow again; the remote rejects with an embedded Follow.
		if _, err := e.svc.Follow(ctx, ada.ID, zoe.ID); err != nil {
			t.Fatal(err)
		}
		e.receive(t, zoe.IRI, fmt.Sprintf(`{"id":"https://far.example/a/2","type":"Reject","actor":%q,"object":{"type":"Follow","id":"https://else/x","actor":%q,"object":%q}}`, zoe.IRI, ada.IRI, zoe.IRI))
		if r := rel(t, e, ada.ID, zoe.ID); r.Requested || r.Following {
			t.Errorf("after Reject %+v", r)
		}
	})
}

func TestReceiveFollow(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		ada := e.local(t, "ada")
		cat := e.local(t, "cat", func(nl *actors.NewLocal) { nl.Locked = true })
		zoeIRI := "https://far.example/users/zoe"
		e.fetch.put(zoeIRI, remoteDoc(zoeIRI, "zoe", false))

		// The follower is fetched from its own document; the Follow is
		// recorded once however often it arrives.
		for range 2 {
			e.receive(t, zoeIRI, fmt.Sprintf(`{"id":"https://far.example/f/1","type":"Follow","actor":%q,"object":%q}`, zoeIRI, ada.IRI))
		}
		zoe, err := e.svc.AccountByIRI(ctx, zoeIRI)
		if err != nil {
			t.Fatal(err)
		}
		if r := rel(t, e, ada.ID, zoe.ID); !r.FollowedBy {
			t.Errorf("ada ← zoe %+v", r)
		}
		if got := notificationTypes(t, e, ada.ID); !slices.Equal(got, []actors.NotificationType{actors.NotifyFollow}) {
			t.Errorf("notifications %v", got)
		}
		// Locked: a request, answered with an Accept embedding the Follow.
		e.receive(t, zoeIRI, fmt.Sprintf(`{"id":"https://far.example/f/2","type":"Follow","actor":%q,"object":%q}`, zoeIRI, cat.IRI))
		if r := rel(t, e, cat.ID, zoe.ID); !r.RequestedBy {
			t.Errorf("cat ← zoe %+v", r)
		}
		if err := e.svc.AuthorizeFollow(ctx, cat.ID, zoe.ID); err != nil {
			t.Fatal(err)
		}
		acc := e.pub.last(t)
		if acc.Type() != "Accept" || acc.IRI("actor") != cat.IRI || acc.Object("object").ID() != "https://far.example/f/2" ||
			acc.Object("object").IRI("actor") != zoeIRI || !slices.Equal(acc.IRIs("to"), []string{zoeIRI}) {
			t.Errorf("published %s %v", acc.Type(), acc.Object("object"))
		}
		if err := e.svc.RemoveFollower(ctx, cat.ID, zoe.ID); err != nil {
			t.Fatal(err)
		}
		if rej := e.pub.last(t); rej.Type() != "Reject" || rej.Object("object").ID() != "https://far.example/f/2" {
			t.Errorf("published %s", rej.Type())
		}
		// Undo by id.
		e.receive(t, zoeIRI, fmt.Sprintf(`{"id":"https://far.example/u/1","type":"Undo","actor":%q,"object":"https://far.example/f/1"}`, zoeIRI))
		if r := rel(t, e, ada.ID, zoe.ID); r.FollowedBy {
			t.Errorf("after Undo %+v", r)
		}
		// A Follow of a non-local or unknown account is refused.
		act, _ := streams.Parse([]byte(fmt.Sprintf(`{"id":"https://far.example/f/3","type":"Follow","actor":%q,"object":"%s/users/nobody"}`, zoeIRI, testBase)))
		if err := e.svc.Receive(ctx, actors.Incoming{Activity: act, Actor: zoeIRI}); errkind.Of(err) != errkind.NotFound {
			t.Errorf("follow of nobody: %v", err)
		}
	})
}

func TestBlocksAndMutes(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		ada, bob := e.local(t, "ada"), e.local(t, "bob")
		zoe := e.remote(t, "far.example", "zoe", false)
		// zoe follows ada, ada follows zoe.
		e.receive(t, zoe.IRI, fmt.Sprintf(`{"id":"https://far.example/f/1","type":"Follow","actor":%q,"object":%q}`, zoe.IRI, ada.IRI))
		f, err := e.svc.Follow(ctx, ada.ID, zoe.ID)
		if err != nil {
			t.Fatal(err)
		}
		e.receive(t, zoe.IRI, fmt.Sprintf(`{"id":"https://far.example/a/1","type":"Accept","actor":%q,"object":%q}`, zoe.IRI, f.IRI))
		e.pub.reset()

		if _, err := e.svc.Block(ctx, ada.ID, zoe.ID); err != nil {
			t.Fatal(err)
		}
		if got := e.pub.types(); !slices.Equal(got, []string{"Undo", "Reject", "Block"}) {
			t.Errorf("published %v", got)
		}
		if r := rel(t, e, ada.ID, zoe.ID); !r.Blocking || r.Following || r.FollowedBy {
			t.Errorf("after block %+v", r)
		}
		if _, err := e.svc.Block(ctx, ada.ID, zoe.ID); errkind.Of(err) != errkind.Conflict {
			t.Errorf("second block: %v", err)
		}
		if _, err := e.svc.Follow(ctx, ada.ID, zoe.ID); errkind.Of(err) != errkind.Forbidden {
			t.Errorf("follow of a blocked account: %v", err)
		}
		// A blocked remote's Follow is answered with a Reject.
		e.pub.reset()
		e.receive(t, zoe.IRI, fmt.Sprintf(`{"id":"https://far.example/f/2","type":"Follow","actor":%q,"object":%q}`, zoe.IRI, ada.IRI))
		if got := e.pub.types(); !slices.Equal(got, []string{"Reject"}) || rel(t, e, ada.ID, zoe.ID).FollowedBy {
			t.Errorf("blocked follower: published %v", got)
		}
		if err := e.svc.Unblock(ctx, ada.ID, zoe.ID); err != nil {
			t.Fatal(err)
		}
		if u := e.pub.last(t); u.Type() != "Undo" || !u.Object("object").Is("Block") {
			t.Errorf("published %s", u.Type())
		}

		// A remote block of a local account ends follows both ways.
		if _, err := e.svc.Follow(ctx, bob.ID, zoe.ID); err != nil {
			t.Fatal(err)
		}
		e.receive(t, zoe.IRI, fmt.Sprintf(`{"id":"https://far.example/b/1","type":"Block","actor":%q,"object":%q}`, zoe.IRI, bob.IRI))
		if r := rel(t, e, bob.ID, zoe.ID); !r.BlockedBy || r.Requested {
			t.Errorf("after remote block %+v", r)
		}
		e.receive(t, zoe.IRI, fmt.Sprintf(`{"id":"https://far.example/u/9","type":"Undo","actor":%q,"object":"https://far.example/b/1"}`, zoe.IRI))
		if r := rel(t, e, bob.ID, zoe.ID); r.BlockedBy {
			t.Errorf("after Undo Block %+v", r)
		}

		// Mutes are local and private.
		e.pub.reset()
		if err := e.svc.Mute(ctx, ada.ID, bob.ID, true); err != nil {
			t.Fatal(err)
		}
		if !rel(t, e, ada.ID, bob.ID).Muting || len(e.pub.types()) != 0 {
			t.Error("mute not recorded, or federated")
		}
		if _, err := e.svc.Follow(ctx, bob.ID, ada.ID); err != nil {
			t.Fatal(err)
		}
		ns, _ := e.svc.Notifications(ctx, ada.ID, actors.NotificationFilter{})
		for _, n := range ns {
			if n.FromActorID == bob.ID {
				t.Errorf("muted account notified: %+v", n)
			}
		}
		if err := e.svc.Mute(ctx, ada.ID, ada.ID, true); errkind.Of(err) != errkind.Invalid {
			t.Errorf("self mute: %v", err)
		}
		if err := e.svc.Unmute(ctx, ada.ID, bob.ID); err != nil || rel(t, e, ada.ID, bob.ID).Muting {
			t.Errorf("unmute: %v", err)
		}
	})
}

func TestDomainBlocks(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		ada := e.local(t, "ada")
		zoe := e.remote(t, "sub.far.example", "zoe", false)
		e.receive(t, zoe.IRI, fmt.Sprintf(`{"id":"https://sub.far.example/f/1","type":"Follow","actor":%q,"object":%q}`, zoe.IRI, ada.IRI))
		if _, err := e.svc.Follow(ctx, ada.ID, zoe.ID); err != nil {
			t.Fatal(err)
		}
		e.pub.reset()
		if err := e.svc.BlockDomainForUser(ctx, ada.ID, "FAR.example."); err != nil {
			t.Fatal(err)
		}
		if got := e.pub.types(); !slices.Equal(got, []string{"Undo", "Reject"}) {
			t.Errorf("published %v", got)
		}
		if r := rel(t, e, ada.ID, zoe.ID); r.Following || r.Requested || r.FollowedBy || !r.DomainBlocking {
			t.Errorf("after domain block %+v", r)
		}
		if _, err := e.svc.Follow(ctx, ada.ID, zoe.ID); errkind.Of(err) != errkind.Forbidden {
			t.Errorf("follow into a blocked domain: %v", err)
		}
		for _, bad := range []string{"mastodon.so/cial", "", "school.example"} {
			if err := e.svc.BlockDomainForUser(ctx, ada.ID, bad); errkind.Of(err) != errkind.Invalid {
				t.Errorf("BlockDomainForUser(%q) = %v", bad, err)
			}
		}
		if err := e.svc.UnblockDomainForUser(ctx, ada.ID, "far.example"); err != nil {
			t.Fatal(err)
		}

		// An instance suspension severs follows, hides what the domain's
		// accounts wrote and drops their activities without fetching
		// anything.
		f, err := e.svc.Follow(ctx, ada.ID, zoe.ID)
		if err != nil {
			t.Fatal(err)
		}
		e.receive(t, zoe.IRI, fmt.Sprintf(`{"id":"https://sub.far.example/a/1","type":"Accept","actor":%q,"object":%q}`, zoe.IRI, f.IRI))
		if err := e.receiveCreate(t, zoe.IRI, noteJSON("https://sub.far.example/n/1", zoe.IRI, "hi", "")); err != nil {
			t.Fatal(err)
		}
		if h := home(t, e, ada.ID); len(h) != 1 {
			t.Fatalf("ada's home %v", h)
		}
		if _, err := e.svc.BlockDomain(ctx, actors.DomainBlock{Domain: "far.example", Severity: actors.SeveritySuspend}); err != nil {
			t.Fatal(err)
		}
		if n, _ := e.db.NewSelect().Table("follows").Where("follower_id = ? OR target_id = ?", zoe.ID, zoe.ID).Count(ctx); n != 0 {
			t.Errorf("%d follows survive the suspension", n)
		}
		if _, err := e.svc.Follow(ctx, ada.ID, zoe.ID); errkind.Of(err) != errkind.Forbidden {
			t.Errorf("follow into a suspended domain: %v", err)
		}
		if h := home(t, e, ada.ID); len(h) != 0 {
			t.Errorf("suspended domain's status in home: %v", h)
		}
		if blocked, _ := e.svc.DomainBlocked(ctx, "SUB.Far.Example."); !blocked {
			t.Error("DomainBlocked(sub) = false")
		}
		if blocked, _ := e.svc.DomainBlocked(ctx, "notfar.example"); blocked {
			t.Error("DomainBlocked(notfar.example) = true")
		}
		calls := e.fetch.count()
		e.receive(t, "https://new.far.example/users/x", fmt.Sprintf(`{"id":"https://new.far.example/f/1","type":"Follow","actor":"https://new.far.example/users/x","object":%q}`, ada.IRI))
		if e.fetch.count() != calls || count(t, e.db, "follows") != 0 {
			t.Error("an activity from a suspended domain was processed")
		}
		if _, err := e.svc.BlockDomain(ctx, actors.DomainBlock{Domain: "mastodon.so/cial"}); errkind.Of(err) != errkind.Invalid {
			t.Errorf("bad domain: %v", err)
		}
		if err := e.svc.UnblockDomain(ctx, "far.example"); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.UnblockDomain(ctx, "far.example"); errkind.Of(err) != errkind.NotFound {
			t.Errorf("second unblock: %v", err)
		}
	})
}
