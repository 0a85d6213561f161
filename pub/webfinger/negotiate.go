package webfinger

import (
	"mime"
	"strconv"
	"strings"
)

// negotiate picks the offer the Accept header value prefers (RFC 9110
// §12.5.1): the highest quality, the most specific matching range deciding a
// type's quality, earlier offers winning ties. An empty header, or one that
// accepts none of the offers, yields offers[0]: discovery documents are
// answered in their default type rather than with 406.
func negotiate(accept string, offers ...string) string {
	if strings.TrimSpace(accept) == "" {
		return offers[0]
	}
	best, bestQ := offers[0], 0.0
	for _, offer := range offers {
		if q := quality(accept, offer); q > bestQ {
			best, bestQ = offer, q
		}
	}
	return best
}

// quality returns the q-value the header gives offer, from its most specific
// matching media range, or 0.
func quality(accept, offer string) float64 {
	otype, osub, _ := strings.Cut(offer, "/")
	q, specificity := 0.0, -1
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		rtype, rsub, _ := strings.Cut(mt, "/")
		var spec int
		switch {
		case rtype == otype && rsub == osub:
			spec = 2
		case rtype == otype && rsub == "*":
			spec = 1
		case rtype == "*" && rsub == "*":
			spec = 0
		default:
			continue
		}
		if spec <= specificity {
			continue
		}
		specificity, q = spec, 1
		if v, ok := params["q"]; ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f > 1 {
				f = 0
			}
			q = f
		}
	}
	return q
}
