package cli_test

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/commonroom/commonroom/actors"
	"github.com/commonroom/commonroom/internal/apptest"
	"github.com/commonroom/commonroom/internal/dbtest"
	"github.com/commonroom/commonroom/internal/errkind"
	"github.com/commonroom/commonroom/oauth"
)

// MustCreatePerson creates a user on inst through the admin CLI, with the
// server's host and scheme, and returns its person.
func MustCreatePerson(tb testing.TB, inst *apptest.Instance, username string, extra ...string) *actors.Account {
	tb.Helper()
	args := append([]string{"admin", "user", "create", "--db", inst.DSN, "--host", inst.Host, "--insecure-http",
		"--username", username, "--email", username + "@example.org", "--password", "correct horse battery"}, extra...)
	out := MustRun(tb, args...)
	if want := "actor " + inst.URL + "/users/" + username; !strings.Contains(out, want) {
		tb.Errorf("admin user create printed %q, want it to name %s", out, want)
	}
	a, err := inst.Actors.LocalAccount(context.Background(), username)
	if err != nil {
		tb.Fatalf("%s's person: %v", username, err)
	}
	return a
}

// eventually polls cond until it holds, failing the test after 20 s.
func eventually(tb testing.TB, what string, cond func() bool, logs ...*apptest.LogBuffer) {
	tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			var all []string
			for _, l := range logs {
				all = append(all, l.String())
			}
			tb.Fatalf("timed out waiting for %s\nlogs:\n%s", what, strings.Join(all, "\n----\n"))
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// counter returns the value of one series in a /metrics page, or -1.
func counter(body, series string) float64 {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return -1
	}
	return v
}

// otherDSN returns a second, fresh database of dsn's dialect.
func otherDSN(tb testing.TB, dsn string) string {
	if strings.HasPrefix(dsn, "postgres") {
		return dbtest.PostgresDSN(tb)
	}
	return dbtest.SQLiteDSN(tb)
}

// TestPeopleFederate runs two servers on loopback, each with a person made
// by the admin CLI: B finds ada on A through WebFinger, bob on B follows
// her, and her public post reaches bob's home timeline on B; the documents
// negotiate AS2 and HTML, and the metrics show the traffic.
func TestPeopleFederate(t *testing.T) {
	dbtest.ForEachDSN(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		a := apptest.Start(t, apptest.Options{DSN: dsn, Args: []string{"--insecure-http"}})
		b := apptest.Start(t, apptest.Options{DSN: otherDSN(t, dsn), Args: []string{"--insecure-http"}})
		ada := MustCreatePerson(t, a, "ada")
		bob := MustCreatePerson(t, b, "bob")
		if ada.IRI != a.URL+"/users/ada" || ada.UserID == 0 {
			t.Fatalf("ada = %+v", ada)
		}

		// ada's documents on A.
		res, body := MustGetAccept(t, a.URL+"/users/ada", "application/activity+json")
		if res.StatusCode != http.StatusOK || res.Header.Get("Vary") == "" || !strings.Contains(res.Header.Get("Vary"), "Accept") {
			t.Fatalf("AS2 GET /users/ada = %d, Vary %q\n%s", res.StatusCode, res.Header.Get("Vary"), body)
		}
		if doc := MustJSON(t, body); doc["id"] != ada.IRI || doc["type"] != "Person" || doc["inbox"] != ada.IRI+"/inbox" {
			t.Errorf("ada's actor document: %v", doc)
		}
		for _, path := range []string{"/users/ada", "/@ada"} {
			res, body = MustGetAccept(t, a.URL+path, "text/html,application/xhtml+xml;q=0.9")
			if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") ||
				!strings.Contains(res.Header.Get("Vary"), "Accept") || !strings.Contains(string(body), "@ada") {
				t.Errorf("HTML GET %s = %d %q, Vary %q\n%s", path, res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Vary"), body)
			}
		}
		for _, path := range []string{"/users/ada/outbox", "/users/ada/followers", "/users/ada/following"} {
			if res, body := MustGetAccept(t, a.URL+path, "application/activity+json"); res.StatusCode != http.StatusOK {
				t.Errorf("GET %s = %d\n%s", path, res.StatusCode, body)
			}
		}

		// B resolves acct:ada@A through WebFinger and her document.
		adaAtB, err := b.Actors.ResolveAccount(ctx, "acct:ada@"+a.Host)
		if err != nil {
			t.Fatalf("B resolving ada@%s: %v\nA's logs:\n%s", a.Host, err, a.Logs)
		}
		if adaAtB.IRI != ada.IRI || adaAtB.Local() {
			t.Fatalf("ada as B sees her: %+v", adaAtB)
		}

		// bob follows ada (not locked: A accepts at once).
		if _, err := b.Actors.Follow(ctx, bob.ID, adaAtB.ID); err != nil {
			t.Fatal(err)
		}
		eventually(t, "bob following ada", func() bool {
			r, err := b.Actors.Relationship(ctx, bob.ID, adaAtB.ID)
			return err == nil && r.Following
		}, a.Logs, b.Logs)
		eventually(t, "ada's follower at A", func() bool {
			fs, err := a.Actors.Followers(ctx, ada.ID, false, actors.Page{})
			return err == nil && len(fs) == 1 && fs[0].IRI == bob.IRI
		}, a.Logs, b.Logs)

		// ada posts; it lands in bob's home on B.
		post, err := a.Actors.Post(ctx, ada.ID, actors.NewStatus{Text: "Fractions on Monday #maths", Language: "en"})
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, "ada's post in bob's home", func() bool {
			home, err := b.Actors.Home(ctx, bob.ID, actors.Page{})
			if err != nil {
				return false
			}
			for _, s := range home {
				if s.IRI == post.IRI && strings.Contains(s.Content, "Fractions") {
					return true
				}
			}
			return false
		}, a.Logs, b.Logs)

		// The status's own URL negotiates too.
		res, body = MustGetAccept(t, post.IRI, "application/activity+json")
		if res.StatusCode != http.StatusOK || MustJSON(t, body)["id"] != post.IRI {
			t.Errorf("AS2 GET %s = %d\n%s", post.IRI, res.StatusCode, body)
		}
		for _, u := range []string{post.IRI, post.URL} {
			res, body = MustGetAccept(t, u, "text/html")
			if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") ||
				!strings.Contains(res.Header.Get("Vary"), "Accept") || !strings.Contains(string(body), "Fractions") {
				t.Errorf("HTML GET %s = %d %q, Vary %q", u, res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Vary"))
			}
		}

		// A delivered (the Accept and the Create), B's inboxes accepted
		// them, and NodeInfo counts ada and her post.
		eventually(t, "A's delivery metrics", func() bool {
			return counter(MustGet(t, a.URL+"/metrics").body, `commonroom_deliveries_total{outcome="delivered"}`) >= 2
		}, a.Logs)
		eventually(t, "B's inbox metrics", func() bool {
			return counter(MustGet(t, b.URL+"/metrics").body, `commonroom_inbox_requests_total{outcome="accepted",reason=""}`) >= 2
		}, b.Logs)
		usage := MustJSON(t, []byte(MustGet(t, a.URL+"/nodeinfo/2.1").body))["usage"].(map[string]any)
		if usage["localPosts"] != 1.0 || usage["users"].(map[string]any)["total"] != 1.0 || usage["users"].(map[string]any)["activeMonth"] != 1.0 {
			t.Errorf("A's NodeInfo usage = %v", usage)
		}
	})
}

// TestAuthorizedFetchPeople: with --authorized-fetch, a person's AS2
// document needs a signed GET, the HTML page and the instance actor do not,
// and another server's signed fetch gets through.
func TestAuthorizedFetchPeople(t *testing.T) {
	a := apptest.Start(t, apptest.Options{Args: []string{"--insecure-http", "--authorized-fetch"}})
	b := apptest.Start(t, apptest.Options{Args: []string{"--insecure-http"}})
	MustCreatePerson(t, a, "ada")
	for _, tt := range []struct {
		path, accept string
		want         int
	}{
		{"/users/ada", "application/activity+json", http.StatusUnauthorized},
		{"/users/ada", "", http.StatusUnauthorized},
		{"/@ada", "application/activity+json", http.StatusUnauthorized},
		{"/users/ada", "text/html", http.StatusOK},
		{"/actor", "application/activity+json", http.StatusOK},
	} {
		if res, body := MustGetAccept(t, a.URL+tt.path, tt.accept); res.StatusCode != tt.want {
			t.Errorf("unsigned GET %s (Accept %q) = %d, want %d\n%s", tt.path, tt.accept, res.StatusCode, tt.want, body)
		}
	}
	doc, err := b.Federation.Engine().Fetch(context.Background(), a.URL+"/users/ada")
	if err != nil {
		t.Fatalf("B's signed fetch of ada: %v\nA's logs:\n%s", err, a.Logs)
	}
	if doc.ID() != a.URL+"/users/ada" {
		t.Errorf("fetched %s", doc.ID())
	}
}

// TestAccountsArePeople: an account made through oauth's sign-up seam is a
// person too (once approved, for a pending one), a name a person holds is
// refused, and suspending a local person through the Moderator stops their
// tokens at once (SECURITY.md rule 32).
func TestAccountsArePeople(t *testing.T) {
	dbtest.ForEachDSN(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		inst := apptest.Start(t, apptest.Options{DSN: dsn, Args: []string{"--insecure-http"}})
		mod := MustCreatePerson(t, inst, "mod", "--role", "moderator")

		// Sign-up: the person exists as soon as the account does.
		acct, err := inst.OAuth.Accounts().Create(ctx, oauth.NewAccount{Username: "cleo", Email: "cleo@example.org", Password: "correct horse battery"})
		if err != nil {
			t.Fatal(err)
		}
		cleo, err := inst.Actors.AccountByUser(ctx, acct.ID)
		if err != nil || cleo.Username != "cleo" || cleo.IRI != inst.URL+"/users/cleo" {
			t.Fatalf("cleo's person: %+v, %v", cleo, err)
		}
		if res, _ := MustGetAccept(t, inst.URL+"/users/cleo", "application/activity+json"); res.StatusCode != http.StatusOK {
			t.Errorf("GET /users/cleo = %d", res.StatusCode)
		}
		// A name taken by a person is refused before a user is stored.
		if _, err := inst.OAuth.Accounts().Create(ctx, oauth.NewAccount{Username: "CLEO", Email: "c2@example.org", Password: "correct horse battery"}); errkind.Of(err) != errkind.Conflict {
			t.Errorf("a second cleo: %v, want Conflict", err)
		}

		// A pending sign-up has no person until it is approved.
		pending, err := inst.OAuth.Accounts().Create(ctx, oauth.NewAccount{Username: "dora", Email: "dora@example.org", Password: "correct horse battery", Pending: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := inst.Actors.AccountByUser(ctx, pending.ID); errkind.Of(err) != errkind.NotFound {
			t.Errorf("a pending account's person: %v, want NotFound", err)
		}
		MustRun(t, "admin", "user", "approve", "--db", inst.DSN, "--host", inst.Host, "--insecure-http", "--username", "dora")
		if _, err := inst.Actors.AccountByUser(ctx, pending.ID); err != nil {
			t.Errorf("an approved account's person: %v", err)
		}

		// Suspension reaches the tokens.
		token := strings.TrimSpace(MustRun(t, "admin", "token", "--db", inst.DSN, "--host", inst.Host, "--insecure-http", "--username", "cleo"))
		if _, err := inst.OAuth.AuthenticateToken(ctx, token); err != nil {
			t.Fatalf("cleo's token before suspension: %v", err)
		}
		if err := inst.Moderator.Moderate(ctx, cleo.ID, mod.ID, actors.Suspend); errkind.Of(err) != errkind.Forbidden {
			t.Errorf("cleo suspending a moderator: %v, want Forbidden", err)
		}
		if err := inst.Moderator.Moderate(ctx, mod.ID, cleo.ID, actors.Suspend); err != nil {
			t.Fatal(err)
		}
		if _, err := inst.OAuth.AuthenticateToken(ctx, token); errkind.Of(err) != errkind.Unauthorized {
			t.Errorf("cleo's token after suspension: %v, want Unauthorized", err)
		}
		if a, err := inst.OAuth.Accounts().ByID(ctx, acct.ID); err != nil || !a.Suspended {
			t.Errorf("cleo's sign-in account after suspension: %+v, %v", a, err)
		}
		if res, _ := MustGetAccept(t, inst.URL+"/users/cleo", "application/activity+json"); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET /users/cleo after suspension = %d, want 404", res.StatusCode)
		}
		// Lifting it lets cleo sign in again; the old token stays revoked.
		if err := inst.Moderator.Moderate(ctx, mod.ID, cleo.ID, actors.Unsuspend); err != nil {
			t.Fatal(err)
		}
		if a, err := inst.OAuth.Accounts().ByID(ctx, acct.ID); err != nil || a.Suspended {
			t.Errorf("cleo's sign-in account after unsuspension: %+v, %v", a, err)
		}
		if _, err := inst.OAuth.AuthenticateToken(ctx, token); errkind.Of(err) != errkind.Unauthorized {
			t.Errorf("cleo's old token after unsuspension: %v, want Unauthorized", err)
		}
	})
}

// TestCreateUserNameOfGroup: admin user create refuses a name a group
// holds (names are unique across people and groups) and stores no user.
func TestCreateUserNameOfGroup(t *testing.T) {
	ctx := context.Background()
	inst := apptest.Start(t, apptest.Options{Args: []string{"--insecure-http"}})
	if _, err := inst.Actors.CreateLocal(ctx, actors.NewLocal{Kind: actors.KindGroup, Username: "maths"}); err != nil {
		t.Fatal(err)
	}
	_, _, err := run([]string{"admin", "user", "create", "--db", inst.DSN, "--host", inst.Host, "--insecure-http",
		"--username", "Maths", "--email", "m@example.org", "--password", "correct horse battery"}, nil)
	if !errors.Is(err, errkind.Conflict) {
		t.Fatalf("admin user create over a group's name: %v, want Conflict", err)
	}
	d := dbtest.MustOpen(t, inst.DSN)
	if n, err := d.NewSelect().Table("users").Where("lower(username) = 'maths'").Count(ctx); err != nil || n != 0 {
		t.Errorf("%d users named maths (%v), want none", n, err)
	}
}

// TestInboxMetrics: unsigned POSTs to the shared and a personal inbox are
// refused and counted by reason.
func TestInboxMetrics(t *testing.T) {
	inst := apptest.Start(t, apptest.Options{Args: []string{"--insecure-http"}})
	MustCreatePerson(t, inst, "ada")
	for _, path := range []string{"/inbox", "/users/ada/inbox", "/actor/inbox"} {
		res, err := http.Post(inst.URL+path, "application/activity+json",
			strings.NewReader(`{"@context":"https://www.w3.org/ns/activitystreams","id":"http://127.0.0.2/a","type":"Follow","actor":"http://127.0.0.2/u","object":"`+inst.URL+`/users/ada"}`))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("unsigned POST %s = %d, want 401", path, res.StatusCode)
		}
	}
	body := MustGet(t, inst.URL+"/metrics").body
	if n := counter(body, `commonroom_inbox_requests_total{outcome="rejected",reason="unsigned"}`); n != 3 {
		t.Errorf("inbox rejections of unsigned requests = %v, want 3\n%s", n, grepLines(body, "commonroom_inbox"))
	}
	if n := counter(body, `commonroom_inbox_requests_total{outcome="accepted",reason=""}`); n != 0 {
		t.Errorf("inbox acceptances = %v, want 0", n)
	}

	// The same activity, signed by another server, twice: accepted once,
	// then counted as a duplicate (both answered 202).
	other := apptest.Start(t, apptest.Options{Args: []string{"--insecure-http"}})
	actor := other.URL + "/actor"
	act := `{"@context":"https://www.w3.org/ns/activitystreams","id":"` + actor + `#likes/1","type":"Like","actor":"` + actor + `","object":"` + inst.URL + `/users/ada"}`
	for i := range 2 {
		req, err := http.NewRequest(http.MethodPost, inst.URL+"/users/ada/inbox", strings.NewReader(act))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/activity+json")
		if err := other.Federation.Engine().InstanceActor().SignRequest(req, []byte(act)); err != nil {
			t.Fatal(err)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusAccepted {
			t.Errorf("signed POST %d = %d, want 202", i+1, res.StatusCode)
		}
	}
	body = MustGet(t, inst.URL+"/metrics").body
	for _, tt := range []struct {
		series string
		want   float64
	}{
		{`commonroom_inbox_requests_total{outcome="accepted",reason=""}`, 1},
		{`commonroom_inbox_requests_total{outcome="duplicate",reason=""}`, 1},
		{`commonroom_inbox_requests_total{outcome="rejected",reason="unsigned"}`, 3},
	} {
		if n := counter(body, tt.series); n != tt.want {
			t.Errorf("%s = %v, want %v\n%s", tt.series, n, tt.want, grepLines(body, "commonroom_inbox"))
		}
	}
}
