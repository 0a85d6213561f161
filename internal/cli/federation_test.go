package cli_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/commonroom/commonroom/internal/apptest"
	"github.com/commonroom/commonroom/internal/cli"
	"github.com/commonroom/commonroom/internal/dbtest"
	"github.com/commonroom/commonroom/internal/server"
	"github.com/commonroom/commonroom/pub"
	"github.com/commonroom/commonroom/pub/delivery"
	"github.com/commonroom/commonroom/pub/transport"
)

// MustGetAccept fetches url with an Accept header and returns the response
// with its body read.
func MustGetAccept(tb testing.TB, url, accept string) (*http.Response, []byte) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return res, body
}

// MustJSON decodes body into a map, failing the test if it is not JSON.
func MustJSON(tb testing.TB, body []byte) map[string]any {
	tb.Helper()
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		tb.Fatalf("not JSON: %v\n%s", err, body)
	}
	return v
}

// actorDoc is the part of an actor document the tests look at.
type actorDoc struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	Inbox     string `json:"inbox"`
	PublicKey struct {
		ID    string `json:"id"`
		Owner string `json:"owner"`
		PEM   string `json:"publicKeyPem"`
	} `json:"publicKey"`
	AssertionMethod []struct {
		ID        string `json:"id"`
		Type      string `json:"type"`
		Multibase string `json:"publicKeyMultibase"`
	} `json:"assertionMethod"`
}

// MustInstanceActor fetches and checks /actor.
func MustInstanceActor(tb testing.TB, inst *apptest.Instance, wantID string) actorDoc {
	tb.Helper()
	res, body := MustGetAccept(tb, inst.URL+"/actor", "application/activity+json")
	if res.StatusCode != http.StatusOK {
		tb.Fatalf("/actor = %d\n%s", res.StatusCode, body)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/activity+json" {
		tb.Errorf("/actor Content-Type = %q", ct)
	}
	if v := res.Header.Get("Vary"); !strings.Contains(v, "Accept") {
		tb.Errorf("/actor Vary = %q, want Accept", v)
	}
	var doc actorDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		tb.Fatal(err)
	}
	if doc.ID != wantID || doc.Type != "Application" || doc.PublicKey.ID != wantID+"#main-key" ||
		doc.PublicKey.Owner != wantID || !strings.HasPrefix(doc.PublicKey.PEM, "-----BEGIN PUBLIC KEY-----") {
		tb.Errorf("/actor = %s", body)
	}
	if len(doc.AssertionMethod) != 1 || doc.AssertionMethod[0].Type != "Multikey" ||
		doc.AssertionMethod[0].ID != wantID+"#ed25519-key" || !strings.HasPrefix(doc.AssertionMethod[0].Multibase, "z") {
		tb.Errorf("/actor assertionMethod = %+v", doc.AssertionMethod)
	}
	return doc
}

func TestInstanceActorKeysSurviveRestart(t *testing.T) {
	dbtest.ForEachDSN(t, func(t *testing.T, dsn string) {
		// The same public host both times: the actor's IRI, and so its
		// keys, belong to the host, not to the listening port.
		args := []string{"--host", "school.example"}
		first := apptest.Start(t, apptest.Options{DSN: dsn, Args: args})
		before := MustInstanceActor(t, first, "https://school.example/actor")
		if err := first.Stop(); err != nil {
			t.Fatal(err)
		}
		second := apptest.Start(t, apptest.Options{DSN: dsn, Args: args})
		after := MustInstanceActor(t, second, "https://school.example/actor")
		if before.PublicKey.PEM != after.PublicKey.PEM || before.AssertionMethod[0].Multibase != after.AssertionMethod[0].Multibase {
			t.Errorf("the instance actor's keys changed across a restart:\n%s\n%s", before.PublicKey.PEM, after.PublicKey.PEM)
		}
		// The private keys are never logged.
		for _, inst := range []*apptest.Instance{first, second} {
			if inst.Logs.Contains("PRIVATE KEY") {
				t.Errorf("a private key was logged:\n%s", inst.Logs)
			}
		}
		// The instance actor is served for GET and HEAD only.
		req, _ := http.NewRequest(http.MethodPost, second.URL+"/actor", strings.NewReader("{}"))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST /actor = %d, want 405", res.StatusCode)
		}
	})
}

func TestWebFinger(t *testing.T) {
	inst := apptest.Start(t, apptest.Options{Args: []string{"--insecure-http"}})
	// The admin CLI runs with the server's settings, so that ada's IRI is
	// on the server's origin.
	MustRun(t, "admin", "user", "create", "--db", inst.DSN, "--host", inst.Host, "--insecure-http",
		"--username", "ada", "--email", "ada@example.org", "--password", "correct horse")
	host, _, _ := strings.Cut(inst.Host, ":")
	actor := inst.URL + "/actor"
	wf := func(resource string) string {
		return inst.URL + "/.well-known/webfinger?resource=" + url.QueryEscape(resource)
	}
	ada := inst.URL + "/users/ada"
	const application, person = "https://www.w3.org/ns/activitystreams#Application", "https://www.w3.org/ns/activitystreams#Person"
	instanceSubject, adaSubject := "acct:"+host+"@"+inst.Host, "acct:ada@"+inst.Host
	tests := []struct {
		name     string
		url      string
		status   int
		resolves bool
		// subject, self and typ are what a resolving answer names.
		subject, self, typ string
	}{
		{"instance actor by acct", wf("acct:" + host + "@" + inst.Host), http.StatusOK, true, instanceSubject, actor, application},
		{"instance actor by acct in another case", wf("acct:" + strings.ToUpper(host) + "@" + inst.Host), http.StatusOK, true, instanceSubject, actor, application},
		{"instance actor by IRI", wf(actor), http.StatusOK, true, instanceSubject, actor, application},
		{"a user", wf("acct:ada@" + inst.Host), http.StatusOK, true, adaSubject, ada, person},
		{"a user in another case", wf("acct:ADA@" + inst.Host), http.StatusOK, true, adaSubject, ada, person},
		{"a user by IRI", wf(ada), http.StatusOK, true, adaSubject, ada, person},
		{"unknown user", wf("acct:nobody@" + inst.Host), http.StatusNotFound, false, "", "", ""},
		{"another host", wf("acct:" + host + "@elsewhere.example"), http.StatusNotFound, false, "", "", ""},
		{"no resource", inst.URL + "/.well-known/webfinger", http.StatusBadRequest, false, "", "", ""},
		{"malformed resource", wf("acct:a b@" + inst.Host), http.StatusBadRequest, false, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := MustGetAccept(t, tt.url, "")
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d\n%s", res.StatusCode, tt.status, body)
			}
			if res.Header.Get("Access-Control-Allow-Origin") != "*" {
				t.Error("no CORS header")
			}
			if !tt.resolves {
				return
			}
			if ct := res.Header.Get("Content-Type"); ct != "application/jrd+json" {
				t.Errorf("Content-Type = %q", ct)
			}
			var jrd struct {
				Subject string   `json:"subject"`
				Aliases []string `json:"aliases"`
				Links   []struct {
					Rel        string            `json:"rel"`
					Type       string            `json:"type"`
					Href       string            `json:"href"`
					Properties map[string]string `json:"properties"`
				} `json:"links"`
			}
			if err := json.Unmarshal(body, &jrd); err != nil {
				t.Fatal(err)
			}
			if jrd.Subject != tt.subject {
				t.Errorf("subject = %q, want %q", jrd.Subject, tt.subject)
			}
			var self int
			for _, l := range jrd.Links {
				if l.Rel != "self" {
					continue
				}
				self++
				if l.Type != "application/activity+json" || l.Href != tt.self || l.Properties["https://www.w3.org/ns/activitystreams#type"] != tt.typ {
					t.Errorf("self link = %+v, want %s (%s)", l, tt.self, tt.typ)
				}
			}
			if self != 1 {
				t.Errorf("links = %+v, want one self link", jrd.Links)
			}
		})
	}
}

func TestHostMeta(t *testing.T) {
	inst := apptest.Start(t, apptest.Options{Args: []string{"--insecure-http"}})
	template := inst.URL + "/.well-known/webfinger?resource={uri}"

	res, body := MustGetAccept(t, inst.URL+"/.well-known/host-meta", "")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/xrd+xml") {
		t.Fatalf("host-meta = %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	var xrd struct {
		Links []struct {
			Rel      string `xml:"rel,attr"`
			Template string `xml:"template,attr"`
		} `xml:"Link"`
	}
	if err := xml.Unmarshal(body, &xrd); err != nil {
		t.Fatal(err)
	}
	if len(xrd.Links) != 1 || xrd.Links[0].Rel != "lrdd" || xrd.Links[0].Template != template {
		t.Errorf("host-meta = %s", body)
	}

	for _, u := range []string{inst.URL + "/.well-known/host-meta.json", inst.URL + "/.well-known/host-meta"} {
		res, body := MustGetAccept(t, u, "application/json")
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("%s = %d %s", u, res.StatusCode, res.Header.Get("Content-Type"))
		}
		links, _ := MustJSON(t, body)["links"].([]any)
		if len(links) != 1 || links[0].(map[string]any)["template"] != template {
			t.Errorf("%s = %s", u, body)
		}
	}
}

func TestNodeInfo(t *testing.T) {
	dbtest.ForEachDSN(t, func(t *testing.T, dsn string) {
		inst := apptest.Start(t, apptest.Options{DSN: dsn, Args: []string{
			"--insecure-http", "--registration", "open", "--instance-name", "Maple School",
			"--instance-description", "Teachers of the Maple district",
		}})
		res, body := MustGetAccept(t, inst.URL+"/.well-known/nodeinfo", "")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("discovery = %d", res.StatusCode)
		}
		var disco struct {
			Links []struct{ Rel, Href string }
		}
		if err := json.Unmarshal(body, &disco); err != nil {
			t.Fatal(err)
		}
		wantLinks := map[string]string{
			"http://nodeinfo.diaspora.software/ns/schema/2.0": inst.URL + "/nodeinfo/2.0",
			"http://nodeinfo.diaspora.software/ns/schema/2.1": inst.URL + "/nodeinfo/2.1",
		}
		if len(disco.Links) != 2 || wantLinks[disco.Links[0].Rel] != disco.Links[0].Href || wantLinks[disco.Links[1].Rel] != disco.Links[1].Href {
			t.Errorf("discovery = %s", body)
		}

		usersTotal := func(version string) (map[string]any, float64) {
			t.Helper()
			res, body := MustGetAccept(t, inst.URL+"/nodeinfo/"+version, "")
			if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Content-Type"), "nodeinfo.diaspora.software/ns/schema/"+version) {
				t.Fatalf("/nodeinfo/%s = %d %s", version, res.StatusCode, res.Header.Get("Content-Type"))
			}
			doc := MustJSON(t, body)
			users := doc["usage"].(map[string]any)["users"].(map[string]any)
			return doc, users["total"].(float64)
		}
		if _, n := usersTotal("2.1"); n != 0 {
			t.Errorf("users before any was created = %v", n)
		}
		MustRun(t, "admin", "user", "create", "--db", dsn, "--username", "ada", "--email", "ada@example.org", "--password", "correct horse")
		MustRun(t, "admin", "user", "create", "--db", dsn, "--username", "bea", "--email", "bea@example.org", "--password", "correct horse")
		doc, n := usersTotal("2.1")
		if n != 2 {
			t.Errorf("users.total = %v after creating two, want 2", n)
		}
		sw := doc["software"].(map[string]any)
		meta := doc["metadata"].(map[string]any)
		usage := doc["usage"].(map[string]any)
		users := usage["users"].(map[string]any)
		if doc["version"] != "2.1" || sw["name"] != "commonroom" || sw["version"] != cli.Version || sw["repository"] == nil ||
			doc["openRegistrations"] != true || meta["nodeName"] != "Maple School" || meta["nodeDescription"] != "Teachers of the Maple district" ||
			usage["localPosts"] != 0.0 || users["activeMonth"] != 0.0 || users["activeHalfyear"] != 0.0 {
			t.Errorf("/nodeinfo/2.1 = %v", doc)
		}
		if protocols, _ := doc["protocols"].([]any); len(protocols) != 1 || protocols[0] != "activitypub" {
			t.Errorf("protocols = %v", doc["protocols"])
		}
		doc, n = usersTotal("2.0")
		if n != 2 || doc["version"] != "2.0" || doc["software"].(map[string]any)["repository"] != nil {
			t.Errorf("/nodeinfo/2.0 = %v", doc)
		}
	})
}

func TestNodeInfoDefaults(t *testing.T) {
	inst := apptest.Start(t, apptest.Options{})
	_, body := MustGetAccept(t, inst.URL+"/nodeinfo/2.1", "")
	doc := MustJSON(t, body)
	if doc["openRegistrations"] != false {
		t.Errorf("openRegistrations = %v by default (registration closed), want false", doc["openRegistrations"])
	}
	if meta := doc["metadata"].(map[string]any); len(meta) != 0 {
		t.Errorf("metadata = %v with no instance name or description", meta)
	}
}

// seenRequest is what a protected test document saw of a request.
type seenRequest struct {
	signer    pub.VerifiedSigner
	userAgent string
}

// protectedDoc serves /private, a stand-in for the actor and object
// documents to come, behind the server's own Federation.Protect, and
// reports every request that got through on seen.
func protectedDoc(inst *atomic.Pointer[apptest.Instance], seen chan<- seenRequest) server.Router {
	return server.RouterFunc(func(r chi.Router) {
		r.Get("/private", func(w http.ResponseWriter, r *http.Request) {
			inst.Load().Federation.Protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				signer, _ := pub.SignerFromContext(r.Context())
				seen <- seenRequest{signer, r.UserAgent()}
				id := inst.Load().URL + "/private"
				w.Header().Set("Content-Type", pub.ContentTypeActivityJSON)
				fmt.Fprintf(w, `{"@context":"https://www.w3.org/ns/activitystreams","id":%q,"type":"Note","content":"for signed eyes"}`, id)
			})).ServeHTTP(w, r)
		})
	})
}

// TestTwoServersFederate runs two servers in one process: A fetches B's
// instance actor through its engine, and fetches a document B serves in
// authorized-fetch mode, signed as A's instance actor; B verifies the
// signature by fetching A's instance actor over loopback.
func TestTwoServersFederate(t *testing.T) {
	var aInst, bInst atomic.Pointer[apptest.Instance]
	got := make(chan seenRequest, 4)
	a := apptest.Start(t, apptest.Options{
		Args:    []string{"--insecure-http"},
		Routers: []server.Router{protectedDoc(&aInst, got)},
	})
	aInst.Store(a)
	b := apptest.Start(t, apptest.Options{
		Args:    []string{"--insecure-http", "--authorized-fetch"},
		Routers: []server.Router{protectedDoc(&bInst, got)},
	})
	bInst.Store(b)
	ctx := context.Background()
	engineA := a.Federation.Engine()

	// Unsigned, A (authorized fetch off) serves the document and B (on)
	// refuses it.
	for _, tt := range []struct {
		inst *apptest.Instance
		want int
	}{{a, http.StatusOK}, {b, http.StatusUnauthorized}} {
		if res, _ := MustGetAccept(t, tt.inst.URL+"/private", "application/activity+json"); res.StatusCode != tt.want {
			t.Errorf("unsigned GET %s/private = %d, want %d", tt.inst.URL, res.StatusCode, tt.want)
		}
	}
	if s := <-got; s.signer.KeyID != "" {
		t.Errorf("an unsigned request has signer %+v", s.signer)
	}

	// A's engine fetches B's instance actor over loopback.
	actor, err := engineA.Fetch(ctx, b.URL+"/actor")
	if err != nil {
		t.Fatalf("A fetching B's actor: %v\nB's logs:\n%s", err, b.Logs)
	}
	if actor.ID() != b.URL+"/actor" || actor.Type() != "Application" {
		t.Errorf("A fetched %s %s", actor.Type(), actor.ID())
	}
	keys, err := pub.PublishedKeys(actor)
	if err != nil || len(keys) != 2 || keys[0].ID != b.URL+"/actor#main-key" {
		t.Errorf("B's actor publishes %+v, %v", keys, err)
	}

	// Signed by A's instance actor, B accepts it.
	note, err := engineA.Fetch(ctx, b.URL+"/private")
	if err != nil {
		t.Fatalf("A's signed fetch: %v\nB's logs:\n%s", err, b.Logs)
	}
	if note.String("content") != "for signed eyes" {
		t.Errorf("fetched %v", note)
	}
	select {
	case s := <-got:
		if s.signer.KeyID != a.URL+"/actor#main-key" || s.signer.Owner != a.URL+"/actor" {
			t.Errorf("B saw signer %+v, want A's instance actor", s.signer)
		}
		if want := transport.UserAgent(cli.Version, a.URL+"/"); s.userAgent != want {
			t.Errorf("User-Agent %q, want %q", s.userAgent, want)
		}
	default:
		t.Error("B's protected handler never ran")
	}
}

// TestDeliveryMetrics delivers from A to an inbox on B that verifies
// signatures, and to a missing inbox, and reads A's metrics.
func TestDeliveryMetrics(t *testing.T) {
	var (
		bInst    atomic.Pointer[apptest.Instance]
		mu       sync.Mutex
		received []string
	)
	a := apptest.Start(t, apptest.Options{Args: []string{"--insecure-http"}})
	b := apptest.Start(t, apptest.Options{
		Args: []string{"--insecure-http"},
		Routers: []server.Router{server.RouterFunc(func(r chi.Router) {
			// An inbox that only verifies signatures (the real ones process what they get).
			r.Post("/test-inbox", func(w http.ResponseWriter, r *http.Request) {
				bInst.Load().Federation.Engine().Authenticator().Inbox(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					signer, _ := pub.SignerFromContext(r.Context())
					mu.Lock()
					received = append(received, signer.KeyID)
					mu.Unlock()
					w.WriteHeader(http.StatusAccepted)
				})).ServeHTTP(w, r)
			})
		})},
	})
	bInst.Store(b)

	metrics := func() string { return MustGet(t, a.URL+"/metrics").body }
	for _, want := range []string{
		`commonroom_deliveries_total{outcome="delivered"} 0`,
		`commonroom_deliveries_total{outcome="skipped"} 0`,
		`commonroom_delivery_queue_jobs{state="pending"} 0`,
		`commonroom_delivery_queue_oldest_due_age_seconds 0`,
		`commonroom_delivery_hosts{state="unavailable"} 0`,
		`commonroom_delivery_in_flight 0`,
	} {
		if body := metrics(); !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// A port nobody listens on: connection refused, a failure of that host.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := ln.Addr().String()
	ln.Close()

	ctx := context.Background()
	instance := a.Federation.Engine().InstanceActor()
	follow := fmt.Sprintf(`{"@context":"https://www.w3.org/ns/activitystreams","id":%q,"type":"Follow","actor":%q,"object":%q}`,
		a.URL+"/activities/1", instance.ID(), b.URL+"/actor")
	var jobs []delivery.Job
	for _, tt := range []struct{ inbox, keyID string }{
		{b.URL + "/test-inbox", instance.KeyID()},                           // delivered
		{b.URL + "/no-inbox-here", instance.KeyID()},                        // 404: rejected
		{"http://" + down + "/inbox", instance.KeyID()},                     // no answer: retried later
		{b.URL + "/test-inbox", a.URL + "/users/nobody#main-key"},           // no such local actor: rejected unsent
		{b.URL + "/test-inbox", "https://elsewhere.example/actor#main-key"}, // not ours: rejected unsent
	} {
		j, err := delivery.NewJob(tt.inbox, tt.keyID, a.URL+"/activities/1", []byte(follow))
		if err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, j)
	}
	if err := a.Federation.Delivery().Enqueue(ctx, jobs...); err != nil {
		t.Fatal(err)
	}

	want := []string{
		`commonroom_deliveries_total{outcome="delivered"} 1`,
		`commonroom_deliveries_total{outcome="rejected"} 3`,
		`commonroom_deliveries_total{outcome="retried"} 1`,
		`commonroom_delivery_host_failures_total{host="` + down + `"} 1`,
		`commonroom_delivery_queue_jobs{state="pending"} 1`,
		`commonroom_delivery_queue_jobs{state="due"} 0`,
		`commonroom_delivery_hosts{state="failing"} 1`,
		`commonroom_delivery_duration_seconds_count 3`,
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		body, missing := metrics(), ""
		for _, w := range want {
			if !strings.Contains(body, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics still lacks %s:\n%s\nA's logs:\n%s", missing, grepLines(body, "commonroom_deliver"), a.Logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if body := metrics(); strings.Contains(body, `commonroom_delivery_host_failures_total{host="`+b.Host+`"}`) {
		t.Errorf("a 404 and unsigned jobs counted as failures of %s:\n%s", b.Host, grepLines(body, "host_failures"))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(received) != 1 || received[0] != instance.KeyID() {
		t.Errorf("B's inbox received %v, want one activity signed by %s", received, instance.KeyID())
	}
}

func grepLines(text, substr string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestStopLetsDeliveriesFinish stops a server while a delivery is being
// sent: the send completes and its outcome is recorded before the database
// closes, so the job is not sent again on the next start.
func TestStopLetsDeliveriesFinish(t *testing.T) {
	dbtest.ForEachDSN(t, func(t *testing.T, dsn string) {
		started := make(chan struct{})
		var finished atomic.Bool
		b := apptest.Start(t, apptest.Options{
			Args: []string{"--insecure-http"},
			Routers: []server.Router{server.RouterFunc(func(r chi.Router) {
				r.Post("/slow-inbox", func(w http.ResponseWriter, r *http.Request) {
					close(started)
					time.Sleep(300 * time.Millisecond)
					finished.Store(true)
					w.WriteHeader(http.StatusAccepted)
				})
			})},
		})
		a := apptest.Start(t, apptest.Options{DSN: dsn, Args: []string{"--insecure-http"}})
		instance := a.Federation.Engine().InstanceActor()
		j, err := delivery.NewJob(b.URL+"/slow-inbox", instance.KeyID(), a.URL+"/activities/1",
			[]byte(`{"@context":"https://www.w3.org/ns/activitystreams","type":"Follow"}`))
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Federation.Delivery().Enqueue(context.Background(), j); err != nil {
			t.Fatal(err)
		}
		select {
		case <-started:
		case <-time.After(30 * time.Second):
			t.Fatalf("the delivery never started\n%s", a.Logs)
		}
		if err := a.Stop(); err != nil {
			t.Fatalf("stop: %v", err)
		}
		if !finished.Load() {
			t.Error("Run returned before the delivery in flight finished")
		}
		d := dbtest.MustOpen(t, dsn)
		n, err := d.NewSelect().Table("delivery_jobs").Count(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%d jobs left after a delivery that succeeded during shutdown\n%s", n, a.Logs)
		}
		if a.Logs.Contains("recording delivery") {
			t.Errorf("the outcome was not recorded:\n%s", a.Logs)
		}
	})
}
