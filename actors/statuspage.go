package actors

import (
	"bytes"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/commonroom/commonroom/internal/errkind"
	"github.com/commonroom/commonroom/pub"
)

// StatusHandler serves a local status at /users/{name}/statuses/{id} and
// its alias /@{name}/{id}: the Note as AS2 to ActivityPub clients and a
// readable page to browsers, always with Vary: Accept. Requests are
// anonymous, so only public and unlisted statuses are shown; others, boosts
// and statuses of someone else are 404, and deleted ones 410. The name and
// id are the {name} and {id} path values, or else read from a /@name/id
// path.
func (s *Service) StatusHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Vary", "Accept")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		ctx := r.Context()
		name, rawID := r.PathValue("name"), r.PathValue("id")
		if name == "" {
			name, rawID, _ = strings.Cut(strings.TrimPrefix(r.URL.Path, "/@"), "/")
		}
		id, err := strconv.ParseInt(rawID, 10, 64)
		if err != nil || id <= 0 {
			http.Error(w, "no such status", http.StatusNotFound)
			return
		}
		author, err := s.LocalAccount(ctx, name)
		if err != nil {
			s.httpError(ctx, w, err)
			return
		}
		st, err := s.visibleStatus(ctx, s.db, 0, id)
		if err == nil && (st.ActorID != author.ID || st.ReblogOfID != 0) {
			err = errkind.New(errkind.NotFound, "no such status")
		}
		if errkind.Of(err) == errkind.NotFound {
			if dead, terr := s.tombstoned(ctx, s.db, s.statusIRI(author, id)); terr == nil && dead {
				err = errkind.New(errkind.Gone, "the status was deleted")
			}
		}
		if err != nil {
			s.httpError(ctx, w, err)
			return
		}
		var body []byte
		if pub.WantsActivityStreams(r.Header.Get("Accept")) {
			note, err := s.noteObject(ctx, s.db, st, author)
			if err == nil {
				body, err = note.MarshalJSON()
			}
			if err != nil {
				s.httpError(ctx, w, err)
				return
			}
			w.Header().Set("Content-Type", ContentTypeActivityJSON)
		} else {
			var buf bytes.Buffer
			err := statusTemplate.Execute(&buf, statusPage{
				Author: author, Status: st, Acct: author.Username + "@" + s.domainOf(author),
				Content: template.HTML(st.Content), //nolint:gosec // sanitized by bluemonday when stored
			})
			if err != nil {
				s.httpError(ctx, w, err)
				return
			}
			body = buf.Bytes()
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		if r.Method == http.MethodGet {
			_, _ = w.Write(body)
		}
	})
}

// statusPage is what the status template reads.
type statusPage struct {
	Author  *Account
	Status  *Status
	Acct    string
	Content template.HTML
}

var statusTemplate = template.Must(template.New("status").Parse(`<!DOCTYPE html>
<html lang="{{with .Status.Language}}{{.}}{{else}}en{{end}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{or .Author.DisplayName .Author.Username}} (@{{.Acct}})</title>
<link rel="alternate" type="application/activity+json" href="{{.Status.IRI}}">
</head>
<body>
<article class="status">
<header><a href="{{.Author.URL}}">{{or .Author.DisplayName .Author.Username}}</a> <span class="acct">@{{.Acct}}</span></header>
{{if .Status.SpoilerText}}<details><summary>{{.Status.SpoilerText}}</summary>{{.Content}}</details>{{else}}<div class="content">{{.Content}}</div>{{end}}
<footer><time datetime="{{.Status.CreatedAt.Format "2006-01-02T15:04:05Z07:00"}}">{{.Status.CreatedAt.Format "2 Jan 2006 15:04"}}</time>{{if not .Status.EditedAt.IsZero}} (edited){{end}}</footer>
</article>
</body>
</html>
`))
