package nodeinfo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/commonroom/commonroom/pub/nodeinfo"
)

// The schema20 and schema21 types mirror the NodeInfo JSON schemas
// (http://nodeinfo.diaspora.software/ns/schema/2.0 and 2.1): every object in
// them has additionalProperties false except metadata, so decoding our
// output with DisallowUnknownFields proves we send no field the schema does
// not name. Pointers let the tests see which fields were present.
type schemaUsers struct {
	Total          *int64 `json:"total"`
	ActiveHalfyear *int64 `json:"activeHalfyear"`
	ActiveMonth    *int64 `json:"activeMonth"`
}

type schemaUsage struct {
	Users         *schemaUsers `json:"users"`
	LocalPosts    *int64       `json:"localPosts"`
	LocalComments *int64       `json:"localComments"`
}

type schemaServices struct {
	Inbound  *[]string `json:"inbound"`
	Outbound *[]string `json:"outbound"`
}

type schemaSoftware20 struct {
	Name    *string `json:"name"`
	Version *string `json:"version"`
}

type schemaSoftware21 struct {
	Name       *string `json:"name"`
	Version    *string `json:"version"`
	Repository *string `json:"repository"`
	Homepage   *string `json:"homepage"`
}

type schema20 struct {
	Version           *string           `json:"version"`
	Software          *schemaSoftware20 `json:"software"`
	Protocols         *[]string         `json:"protocols"`
	Services          *schemaServices   `json:"services"`
	OpenRegistrations *bool             `json:"openRegistrations"`
	Usage             *schemaUsage      `json:"usage"`
	Metadata          *map[string]any   `json:"metadata"`
}

type schema21 struct {
	Version           *string           `json:"version"`
	Software          *schemaSoftware21 `json:"software"`
	Protocols         *[]string         `json:"protocols"`
	Services          *schemaServices   `json:"services"`
	OpenRegistrations *bool             `json:"openRegistrations"`
	Usage             *schemaUsage      `json:"usage"`
	Metadata          *map[string]any   `json:"metadata"`
}

// fixedUsage returns a UsageSource with fixed counts.
func fixedUsage(u nodeinfo.Usage, err error) nodeinfo.UsageSource {
	return nodeinfo.UsageFunc(func(context.Context) (nodeinfo.Usage, error) { return u, err })
}

var testUsage = nodeinfo.Usage{
	Users:      nodeinfo.Users{Total: 42, ActiveHalfyear: 30, ActiveMonth: 12},
	LocalPosts: 1000, LocalComments: 250,
}

// mustServer starts a loopback server with a NodeInfo handler configured by
// edit on top of DefaultConfig.
func mustServer(tb testing.TB, edit func(*nodeinfo.Config)) *httptest.Server {
	tb.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	cfg := nodeinfo.DefaultConfig(srv.URL, "1.2.3")
	cfg.Usage = fixedUsage(testUsage, nil)
	cfg.OpenRegistrations = true
	cfg.NodeName = "Science teachers"
	cfg.NodeDescription = "A home for science educators"
	if edit != nil {
		edit(&cfg)
	}
	h, err := nodeinfo.NewHandler(cfg)
	if err != nil {
		tb.Fatalf("NewHandler: %v", err)
	}
	h.Routes(mux)
	return srv
}

func mustDo(tb testing.TB, method, rawURL string) (*http.Response, []byte) {
	tb.Helper()
	req, err := http.NewRequest(method, rawURL, nil)
	if err != nil {
		tb.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp, body
}

func strictDecode(tb testing.TB, body []byte, v any) {
	tb.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		tb.Fatalf("decode %s: %v", body, err)
	}
}

func TestServeDiscovery(t *testing.T) {
	srv := mustServer(t, nil)
	resp, body := mustDo(t, http.MethodGet, srv.URL+nodeinfo.PathDiscovery)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Error("missing CORS header")
	}
	var doc struct {
		Links []struct {
			Rel  string `json:"rel"`
			Href string `json:"href"`
		} `json:"links"`
	}
	strictDecode(t, body, &doc)
	want := map[string]string{
		"http://nodeinfo.diaspora.software/ns/schema/2.0": srv.URL + "/nodeinfo/2.0",
		"http://nodeinfo.diaspora.software/ns/schema/2.1": srv.URL + "/nodeinfo/2.1",
	}
	if len(doc.Links) != len(want) {
		t.Fatalf("links = %+v", doc.Links)
	}
	for _, l := range doc.Links {
		if want[l.Rel] != l.Href {
			t.Errorf("link %s -> %s, want %s", l.Rel, l.Href, want[l.Rel])
		}
		// Each link must lead to a document of its version.
		resp, body := mustDo(t, http.MethodGet, l.Href)
		var v struct {
			Version string `json:"version"`
		}
		if err := json.Unmarshal(body, &v); err != nil || resp.StatusCode != 200 || !strings.HasSuffix(l.Rel, "/"+v.Version) {
			t.Errorf("GET %s: %d %s", l.Href, resp.StatusCode, body)
		}
	}
}

func TestServeDocument20(t *testing.T) {
	srv := mustServer(t, nil)
	resp, body := mustDo(t, http.MethodGet, srv.URL+"/nodeinfo/2.0")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != `application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.0#"` {
		t.Errorf("Content-Type = %q", ct)
	}
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Error("missing CORS header")
	}
	var doc schema20
	strictDecode(t, body, &doc) // 2.0 software has no repository or homepage
	checkCommon(t, "2.0", doc.Version, doc.Protocols, doc.Services, doc.OpenRegistrations, doc.Usage, doc.Metadata)
	if doc.Software == nil || doc.Software.Name == nil || *doc.Software.Name != "commonroom" || doc.Software.Version == nil || *doc.Software.Version != "1.2.3" {
		t.Errorf("software = %s", body)
	}
}

func TestServeDocument21(t *testing.T) {
	srv := mustServer(t, nil)
	resp, body := mustDo(t, http.MethodGet, srv.URL+"/nodeinfo/2.1")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != `application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.1#"` {
		t.Errorf("Content-Type = %q", ct)
	}
	var doc schema21
	strictDecode(t, body, &doc)
	checkCommon(t, "2.1", doc.Version, doc.Protocols, doc.Services, doc.OpenRegistrations, doc.Usage, doc.Metadata)
	sw := doc.Software
	if sw == nil || sw.Name == nil || *sw.Name != "commonroom" || sw.Version == nil || *sw.Version != "1.2.3" ||
		sw.Repository == nil || *sw.Repository != nodeinfo.SoftwareRepository || sw.Homepage == nil || *sw.Homepage != nodeinfo.SoftwareHomepage {
		t.Errorf("software = %s", body)
	}
}

// checkCommon checks the required fields both versions share.
func checkCommon(t *testing.T, version string, v *string, protocols *[]string, services *schemaServices,
	open *bool, usage *schemaUsage, metadata *map[string]any) {
	t.Helper()
	if v == nil || *v != version {
		t.Errorf("version = %v, want %s", v, version)
	}
	if protocols == nil || !slices.Equal(*protocols, []string{"activitypub"}) {
		t.Errorf("protocols = %v", protocols)
	}
	if services == nil || services.Inbound == nil || services.Outbound == nil || len(*services.Inbound) != 0 || len(*services.Outbound) != 0 {
		t.Errorf("services must be present with empty inbound and outbound lists: %+v", services)
	}
	if open == nil || !*open {
		t.Errorf("openRegistrations = %v, want true", open)
	}
	if usage == nil || usage.Users == nil || usage.Users.Total == nil || *usage.Users.Total != 42 ||
		usage.Users.ActiveHalfyear == nil || *usage.Users.ActiveHalfyear != 30 ||
		usage.Users.ActiveMonth == nil || *usage.Users.ActiveMonth != 12 ||
		usage.LocalPosts == nil || *usage.LocalPosts != 1000 || usage.LocalComments == nil || *usage.LocalComments != 250 {
		t.Errorf("usage = %+v", usage)
	}
	if metadata == nil || (*metadata)["nodeName"] != "Science teachers" || (*metadata)["nodeDescription"] != "A home for science educators" {
		t.Errorf("metadata = %v", metadata)
	}
}

func TestServeDocumentMetadataAndZeroValues(t *testing.T) {
	srv := mustServer(t, func(c *nodeinfo.Config) {
		c.OpenRegistrations = false
		c.NodeName, c.NodeDescription = "", ""
		c.Metadata = map[string]any{"nodeName": "from map", "features": []string{"groups"}}
		c.Usage = fixedUsage(nodeinfo.Usage{}, nil)
	})
	_, body := mustDo(t, http.MethodGet, srv.URL+"/nodeinfo/2.1")
	var raw map[string]any
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	if raw["openRegistrations"] != false {
		t.Errorf("openRegistrations = %v, want false present", raw["openRegistrations"])
	}
	users := raw["usage"].(map[string]any)["users"].(map[string]any)
	for _, k := range []string{"total", "activeHalfyear", "activeMonth"} {
		if users[k] != 0.0 {
			t.Errorf("users.%s = %v, want 0 present", k, users[k])
		}
	}
	meta := raw["metadata"].(map[string]any)
	if meta["nodeName"] != "from map" || meta["features"] == nil {
		t.Errorf("metadata = %v", meta)
	}
}

func TestServeDocumentErrors(t *testing.T) {
	tests := []struct {
		name   string
		usage  nodeinfo.UsageSource
		method string
		path   string
		want   int
	}{
		{"usage fails", fixedUsage(nodeinfo.Usage{}, errors.New("db down at 10.0.0.7")), http.MethodGet, "/nodeinfo/2.1", 500},
		{"negative count", fixedUsage(nodeinfo.Usage{LocalPosts: -1}, nil), http.MethodGet, "/nodeinfo/2.0", 500},
		{"POST document", nil, http.MethodPost, "/nodeinfo/2.1", 405},
		{"PUT discovery", nil, http.MethodPut, nodeinfo.PathDiscovery, 405},
		{"OPTIONS", nil, http.MethodOptions, "/nodeinfo/2.1", 204},
		{"HEAD", nil, http.MethodHead, "/nodeinfo/2.1", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := mustServer(t, func(c *nodeinfo.Config) {
				if tt.usage != nil {
					c.Usage = tt.usage
				}
			})
			resp, body := mustDo(t, tt.method, srv.URL+tt.path)
			if resp.StatusCode != tt.want {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.want)
			}
			if strings.Contains(string(body), "10.0.0.7") {
				t.Errorf("internal detail leaked: %s", body)
			}
			if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
				t.Error("missing CORS header")
			}
		})
	}
}

func TestNewHandlerRejectsBadConfig(t *testing.T) {
	usage := fixedUsage(testUsage, nil)
	tests := []struct {
		name string
		edit func(*nodeinfo.Config)
	}{
		{"no base", func(c *nodeinfo.Config) { c.BaseURL = "" }},
		{"base with path", func(c *nodeinfo.Config) { c.BaseURL = "https://social.example/x" }},
		{"uppercase name", func(c *nodeinfo.Config) { c.Software.Name = "Commonroom" }},
		{"name with space", func(c *nodeinfo.Config) { c.Software.Name = "common room" }},
		{"no version", func(c *nodeinfo.Config) { c.Software.Version = "" }},
		{"relative repository", func(c *nodeinfo.Config) { c.Software.Repository = "commonroom/commonroom" }},
		{"no usage", func(c *nodeinfo.Config) { c.Usage = nil }},
		{"metadata not JSON", func(c *nodeinfo.Config) { c.Metadata = map[string]any{"f": func() {}} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := nodeinfo.DefaultConfig("https://social.example", "1.0.0")
			cfg.Usage = usage
			tt.edit(&cfg)
			if _, err := nodeinfo.NewHandler(cfg); err == nil {
				t.Error("NewHandler accepted a bad config")
			}
		})
	}
	cfg := nodeinfo.Config{BaseURL: "https://social.example", Software: nodeinfo.Software{Version: "1"}, Usage: usage}
	h, err := nodeinfo.NewHandler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := h.Document(context.Background(), nodeinfo.Version21)
	if err != nil || doc.Software.Name != "commonroom" {
		t.Errorf("empty name must default to commonroom: %+v, %v", doc, err)
	}
	if _, err := h.Document(context.Background(), "1.0"); err == nil {
		t.Error("Document(1.0) must fail")
	}
}
