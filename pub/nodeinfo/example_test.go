package nodeinfo_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/commonroom/commonroom/pub/nodeinfo"
	"github.com/commonroom/commonroom/pub/webfinger"
)

// A server publishes its NodeInfo, and a client on another server reads it
// to learn the peer's software.
func Example() {
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()

	cfg := nodeinfo.DefaultConfig(srv.URL, "0.4.0")
	cfg.NodeName = "Biology teachers"
	cfg.Usage = nodeinfo.UsageFunc(func(ctx context.Context) (nodeinfo.Usage, error) {
		return nodeinfo.Usage{Users: nodeinfo.Users{Total: 12, ActiveMonth: 7, ActiveHalfyear: 10}, LocalPosts: 340}, nil
	})
	h, err := nodeinfo.NewHandler(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	h.Routes(mux)

	// Scheme "http" only because the example server is plain loopback.
	c := &nodeinfo.Client{HTTP: webfinger.HTTPGetter{Client: srv.Client()}, Scheme: "http"}
	u, _ := url.Parse(srv.URL)
	doc, err := c.Fetch(context.Background(), u.Host)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(doc.Version, doc.Software.Name, doc.Software.Version, doc.Protocols, doc.Usage.Users.Total, doc.Metadata["nodeName"])
	// Output: 2.1 commonroom 0.4.0 [activitypub] 12 Biology teachers
}
