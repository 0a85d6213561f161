package server_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"

	"github.com/go-chi/chi/v5"

	"github.com/commonroom/commonroom/internal/server"
)

// greeter is a package's HTTP front: its Routes method lists its paths.
type greeter struct{ greeting string }

func (g greeter) Routes(r chi.Router) {
	r.Get("/greet/{name}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, g.greeting+", "+chi.URLParam(r, "name"))
	})
}

func ExampleNew() {
	s, err := server.New(server.Options{Routers: []server.Router{greeter{"hello"}}})
	if err != nil {
		panic(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()

	res, err := http.Get(ts.URL + "/greet/ada")
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	fmt.Println(res.StatusCode, string(body), res.Header.Get("X-Request-Id") != "")
	// Output: 200 hello, ada true
}

// A request that came through the proxy at 10.0.0.2 is attributed to the
// address the proxy forwarded; the same header from anyone else is ignored.
func ExampleTrustedProxies_ClientIP() {
	proxies := server.TrustedProxies{netip.MustParsePrefix("10.0.0.0/8")}

	viaProxy := httptest.NewRequest(http.MethodGet, "/api/v1/instance", nil)
	viaProxy.RemoteAddr = "10.0.0.2:51000"
	viaProxy.Header.Set("X-Forwarded-For", "6.6.6.6, 198.51.100.7")
	fmt.Println(proxies.ClientIP(viaProxy))

	direct := httptest.NewRequest(http.MethodGet, "/api/v1/instance", nil)
	direct.RemoteAddr = "203.0.113.5:40000"
	direct.Header.Set("X-Forwarded-For", "198.51.100.7")
	fmt.Println(proxies.ClientIP(direct))
	// Output:
	// 198.51.100.7
	// 203.0.113.5
}
