package actors_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/commonroom/commonroom/actors"
	"github.com/commonroom/commonroom/streams"
)

func TestStatusHandler(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		ada, bob := e.local(t, "ada"), e.local(t, "bob")
		pub := mustPost(t, e, ada.ID, actors.NewStatus{Text: "Hello <world>", SpoilerText: "greeting"})
		priv := mustPost(t, e, ada.ID, actors.NewStatus{Text: "secret", Visibility: actors.Private})
		gone := mustPost(t, e, ada.ID, actors.NewStatus{Text: "bye"})
		if err := e.svc.DeleteStatus(ctx, ada.ID, gone.ID); err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /users/{name}/statuses/{id}", e.svc.StatusHandler())
		mux.Handle("GET /", e.svc.StatusHandler()) // the /@{name}/{id} alias
		get := func(path, accept string) (int, string, string) {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodGet, path, nil)
			req.Header.Set("Accept", accept)
			mux.ServeHTTP(rec, req)
			body, _ := io.ReadAll(rec.Body)
			if rec.Header().Get("Vary") != "Accept" {
				t.Errorf("%s: no Vary", path)
			}
			return rec.Code, rec.Header().Get("Content-Type"), string(body)
		}
		code, ct, body := get(fmt.Sprintf("/users/ada/statuses/%d", pub.ID), "application/activity+json")
		if code != 200 || ct != actors.ContentTypeActivityJSON {
			t.Fatalf("%d %s %s", code, ct, body)
		}
		note, err := streams.Parse([]byte(body))
		if err != nil || note.ID() != pub.IRI || note.String("summary") != "greeting" {
			t.Errorf("note %s, %v", body, err)
		}
		code, ct, body = get(fmt.Sprintf("/@ada/%d", pub.ID), "text/html")
		if code != 200 || !strings.HasPrefix(ct, "text/html") || !strings.Contains(body, "Hello &lt;world&gt;") || !strings.Contains(body, "<summary>greeting</summary>") {
			t.Errorf("%d %s %s", code, ct, body)
		}
		for path, want := range map[string]int{
			fmt.Sprintf("/users/ada/statuses/%d", priv.ID):             404,
			fmt.Sprintf("/users/%s/statuses/%d", bob.Username, pub.ID): 404,
			fmt.Sprintf("/users/ada/statuses/%d", gone.ID):             410,
			"/users/ada/statuses/x":                                    404,
			"/users/nobody/statuses/1":                                 404,
		} {
			if code, _, _ := get(path, "application/activity+json"); code != want {
				t.Errorf("%s: %d, want %d", path, code, want)
			}
		}
	})
}
