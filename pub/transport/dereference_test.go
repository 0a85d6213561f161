package transport_test

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/commonroom/commonroom/pub/transport"
)

func TestDocumentID(t *testing.T) {
	t.Parallel()
	nested := func(depth int) string {
		return `{"id":"https://a.example/x","deep":` + strings.Repeat("[", depth-1) + strings.Repeat("]", depth-1) + `}`
	}
	tests := []struct {
		name, in, want string // want "" : ErrInvalidDocument
	}{
		{"plain", `{"id":"https://a.example/x","type":"Note"}`, "https://a.example/x"},
		{"id last", `{"type":"Note","object":{"id":"https://b.example/y"},"id":"https://a.example/x"}`, "https://a.example/x"},
		{"@id", `{"@id":"https://a.example/x"}`, "https://a.example/x"},
		{"escaped key", `{"\u0069d":"https://a.example/x"}`, "https://a.example/x"},
		{"nested id ignored", `{"object":{"id":"https://b.example/y"}}`, ""},
		{"huge number", `{"n":1e999,"id":"https://a.example/x"}`, "https://a.example/x"},
		{"depth 64", nested(64), "https://a.example/x"},
		{"depth 65", nested(65), ""},
		{"depth 10000", nested(10000), ""},
		{"brackets inside strings", `{"id":"https://a.example/x","s":"` + strings.Repeat("[{", 100) + `"}`, "https://a.example/x"},
		{"escaped quotes", `{"s":"\",\"id\":\"https://evil.example/\"","id":"https://a.example/x"}`, "https://a.example/x"},
		{"id-like value", `{"type":"id","id":"https://a.example/x","name":"@id"}`, "https://a.example/x"},
		{"nested id only", `{"object":{"id":"https://a.example/x"},"to":[{"id":"https://b.example/"}]}`, ""},
		{"invalid UTF-8 in id", "{\"id\":\"https://a.example/\xff\"}", "https://a.example/\ufffd"},
		{"duplicate id", `{"id":"https://a.example/x","id":"https://evil.example/x"}`, ""},
		{"id and ID", `{"id":"https://a.example/x","ID":"https://evil.example/x"}`, ""},
		{"id and @id", `{"id":"https://a.example/x","@id":"https://evil.example/x"}`, ""},
		{"only Id", `{"Id":"https://a.example/x"}`, ""},
		{"id number", `{"id":42}`, ""},
		{"id null", `{"id":null}`, ""},
		{"id object", `{"id":{"href":"https://a.example/x"}}`, ""},
		{"id array", `{"id":["https://a.example/x"]}`, ""},
		{"relative id", `{"id":"/x"}`, ""},
		{"acct id", `{"id":"acct:alice@a.example"}`, ""},
		{"javascript id", `{"id":"javascript:alert(1)"}`, ""},
		{"id with userinfo", `{"id":"https://good.example@evil.example/x"}`, ""},
		{"array", `[{"id":"https://a.example/x"}]`, ""},
		{"string", `"https://a.example/x"`, ""},
		{"trailing object", `{"id":"https://a.example/x"}{"id":"https://evil.example/"}`, ""},
		{"trailing garbage", `{"id":"https://a.example/x"} x`, ""},
		{"truncated", `{"id":"https://a.example/x"`, ""},
		{"empty", ``, ""},
		{"no id", `{}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := transport.DocumentID([]byte(tt.in))
			if tt.want == "" {
				if !errors.Is(err, transport.ErrInvalidDocument) {
					t.Fatalf("DocumentID = %q, %v; want ErrInvalidDocument", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("DocumentID = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestIsActivityPubContentType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want bool
	}{
		{"application/activity+json", true},
		{"application/activity+json; charset=utf-8", true},
		{`application/ld+json; profile="https://www.w3.org/ns/activitystreams"`, true},
		{`application/ld+json;profile="https://www.w3.org/ns/activitystreams"`, true},
		{`application/ld+json; profile=https://www.w3.org/ns/activitystreams`, false}, // '/' needs quoting
		{`application/ld+json; profile="https://www.w3.org/ns/activitystreams#"`, false},
		{"application/ld+json", false},
		{"application/json", false},
		{"text/html", false},
		{"image/png", false},
		{"application/activity+json+xml", false},
		{"", false},
		{";", false},
	}
	for _, tt := range tests {
		if got := transport.IsActivityPubContentType(tt.in); got != tt.want {
			t.Errorf("IsActivityPubContentType(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestDereferenceStatus(t *testing.T) {
	t.Parallel()
	for _, status := range []int{404, 410, 500} {
		w := newWorld(t)
		w.handle("a.example", "/x", func(rw http.ResponseWriter, r *http.Request) {
			rw.WriteHeader(status)
		})
		doc, err := mustClient(t, w.config()).Dereference(t.Context(), w.url("a.example", "/x"))
		var se *transport.StatusError
		if doc != nil || !errors.As(err, &se) || se.StatusCode != status {
			t.Fatalf("status %d: doc %v, err %v; want a StatusError", status, doc, err)
		}
		if msg := se.Error(); !strings.Contains(msg, strconv.Itoa(status)) || !strings.Contains(msg, "a.example") {
			t.Errorf("status %d: message %q names neither the status nor the URL", status, msg)
		}
	}
}

func TestDereferenceSendsAcceptAndUserAgent(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var accept, agent string
	w.handle("a.example", "/x", func(rw http.ResponseWriter, r *http.Request) {
		accept, agent = r.Header.Get("Accept"), r.UserAgent()
		serveDoc(transport.ContentTypeActivityJSON, w.url("a.example", "/x"))(rw, r)
	})
	doc, err := mustClient(t, w.config()).Dereference(t.Context(), w.url("a.example", "/x#fragment"))
	assertErr(t, err, nil)
	if accept != `application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"` {
		t.Errorf("Accept = %q", accept)
	}
	if agent != "Commonroom/0.1 (+http://school.example/)" {
		t.Errorf("User-Agent = %q", agent)
	}
	if doc.ContentType != transport.ContentTypeActivityJSON || !strings.Contains(string(doc.Body), `"type":"Note"`) {
		t.Errorf("document %+v", doc)
	}
}
