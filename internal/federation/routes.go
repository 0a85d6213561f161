package federation

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/commonroom/commonroom/pub"
)

// Routes mounts what the layer serves. pub.Federation registers its paths
// on an http.ServeMux (its patterns carry methods); chi hands that mux the
// requests for the paths it alone serves, and the paths that also have an
// HTML page go through negotiate, so that no path is registered twice:
//
//	/actor                            the instance actor (never behind a signature check)
//	/actor/inbox                      POST: the instance actor's inbox, the shared inbox's handler
//	/actor/outbox                     the instance actor's outbox (pub; AS2)
//	/inbox                            POST: the shared inbox
//	/users/{name}                     a person: AS2 or HTML by Accept (actors.ProfileHandler)
//	/users/{name}/inbox               POST: a person's inbox
//	/users/{name}/outbox, /followers, /following, /liked, /featured
//	                                  collections (pub)
//	/users/{name}/statuses/{id}       a status: AS2 (pub, audience-checked) or HTML (actors.StatusHandler)
//	/groups/{name}, and the same subpaths
//	                                  groups (pub; AS2 only)
//	/activities/{id}                  activities (pub; AS2)
//	/@{name}, /@{name}/{id}           HTML aliases of people and statuses (actors)
//	/.well-known/webfinger            WebFinger (pub/webfinger over actors)
//	/.well-known/host-meta[.json]     host-meta (pub/webfinger)
//	/.well-known/nodeinfo             NodeInfo discovery (pub/nodeinfo)
//	/nodeinfo/2.0, /nodeinfo/2.1      NodeInfo documents (pub/nodeinfo)
//
// With AuthorizedFetch, AS2 answers of actors and objects require a signed
// GET (the instance actor stays exempt); HTML pages do not, and carry no
// AS2.
func (f *Federation) Routes(r chi.Router) {
	mux := http.NewServeMux()
	f.fed.Routes(mux)
	profile := f.negotiate(f.actors.ProfileHandler(), f.actors.ProfileHandler())
	status := f.negotiate(mux, f.actors.StatusHandler())

	r.Handle("/actor", mux)
	r.Post("/actor/inbox", f.fed.SharedInbox().ServeHTTP)
	r.Handle("/actor/outbox", mux)
	r.Handle("/inbox", mux)
	r.Handle("/activities/{id}", mux)
	r.Handle("/users/{name}", profile)
	r.Handle("/users/{name}/statuses/{id}", status)
	r.Handle("/groups/{name}", mux)
	r.Handle("/groups/{name}/statuses/{id}", mux)
	for _, dir := range []string{"/users/{name}", "/groups/{name}"} {
		r.Handle(dir+"/inbox", mux)
		for _, c := range []string{"outbox", "followers", "following", "liked", "featured"} {
			r.Handle(dir+"/"+c, mux)
		}
	}
	r.Handle("/@{name}", profile)
	r.Handle("/@{name}/{id}", f.negotiate(f.actors.StatusHandler(), f.actors.StatusHandler()))
	f.webfinger.Routes(r)
	f.nodeinfo.Routes(r)
}

// negotiate serves a document URL by its Accept header, always with Vary:
// Accept: ActivityStreams clients (and requests without Accept) get as2
// behind the engine's Protect (signed GETs under AuthorizedFetch), browsers
// get html, which sees the request with Accept: text/html only, so that it
// never answers AS2 outside Protect.
func (f *Federation) negotiate(as2, html http.Handler) http.Handler {
	protected := f.engine.Protect(as2)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Accept")
		if pub.WantsActivityStreams(r.Header.Get("Accept")) {
			protected.ServeHTTP(w, r)
			return
		}
		r = r.Clone(r.Context())
		r.Header.Set("Accept", "text/html")
		html.ServeHTTP(w, r)
	})
}
