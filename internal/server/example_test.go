package server_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

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
