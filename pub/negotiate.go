package pub

import (
	"mime"
	"strconv"
	"strings"
)

// WantsActivityStreams reports whether an HTTP Accept header prefers an
// ActivityStreams document (application/activity+json, or
// application/ld+json with the ActivityStreams profile) to HTML, so that one
// URL can serve both fetchers and browsers. An empty header counts as
// ActivityStreams, since ActivityPub clients often send none and browsers
// always send one. Ties go to ActivityStreams; a media range with q=0 is
// refused, as RFC 9110 says. Callers that serve both forms must also set
// "Vary: Accept".
func WantsActivityStreams(accept string) bool {
	if strings.TrimSpace(accept) == "" {
		return true
	}
	as2, html := -1.0, -1.0
	for part := range strings.SplitSeq(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		switch {
		case mt == "application/activity+json",
			mt == "application/ld+json" && strings.Contains(params["profile"], "https://www.w3.org/ns/activitystreams"):
			as2 = max(as2, q)
		case mt == "text/html", mt == "application/xhtml+xml":
			html = max(html, q)
		}
	}
	return as2 > 0 && as2 >= html
}
