package actors

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/commonroom/commonroom/streams"
)

// streamsPublic is the special collection addressing everyone.
const streamsPublic = streams.PublicIRI

// activityIRI is the IRI of a local activity with row id id.
func (s *Service) activityIRI(id int64) string {
	return s.base + "/activities/" + strconv.FormatInt(id, 10)
}

// newActivity builds an activity of type typ by actor about object (an
// IRI string or a *streams.Object), with a fresh id.
func (s *Service) newActivity(typ string, actor *Account, object any) (*streams.Object, error) {
	id, err := s.nextID()
	if err != nil {
		return nil, err
	}
	return s.activityWithID(typ, s.activityIRI(id), actor, object)
}

// activityWithID builds an activity with a known id.
func (s *Service) activityWithID(typ, id string, actor *Account, object any) (*streams.Object, error) {
	act := s.reg.New(typ)
	act.SetID(id)
	if err := act.Set("actor", streams.IRI(actor.IRI)); err != nil {
		return nil, fmt.Errorf("build %s: %w", typ, err)
	}
	var v streams.Value
	switch o := object.(type) {
	case string:
		v = streams.IRI(o)
	case *streams.Object:
		v = streams.ObjectValue(o)
	default:
		return nil, fmt.Errorf("build %s: object of type %T", typ, object)
	}
	if err := act.Set("object", v); err != nil {
		return nil, fmt.Errorf("build %s: %w", typ, err)
	}
	return act, nil
}

// setAudience sets to and cc (omitting empty lists).
func setAudience(o *streams.Object, to, cc []string) error {
	if len(to) > 0 {
		if err := o.Set("to", streams.IRIList(to...)); err != nil {
			return fmt.Errorf("set to: %w", err)
		}
	}
	if len(cc) > 0 {
		if err := o.Set("cc", streams.IRIList(cc...)); err != nil {
			return fmt.Errorf("set cc: %w", err)
		}
	}
	return nil
}

// isHTTPURL reports whether raw is an absolute http or https URL with a host.
func isHTTPURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && u.User == nil
}

// linkURLs writes a token as a link when it is an http(s) URL, escaped text
// otherwise.
func (s *Service) linkURLs(token string) string {
	if (strings.HasPrefix(token, "https://") || strings.HasPrefix(token, "http://")) && isHTTPURL(token) {
		return `<a href="` + htmlAttr(token) + `" rel="nofollow noopener noreferrer">` + htmlText(token) + `</a>`
	}
	return htmlText(token)
}
