package webfinger

import (
	"bytes"
	"encoding/json"
	"mime"
	"strings"

	"github.com/commonroom/commonroom/pub/transport"
)

// Media types and link relations this package reads and writes.
const (
	// MediaTypeJRD is the JSON Resource Descriptor type (RFC 7033 §10.2).
	MediaTypeJRD = "application/jrd+json"
	// MediaTypeXRD is the XML Resource Descriptor type host-meta uses
	// (RFC 6415).
	MediaTypeXRD = "application/xrd+xml"
	// MediaTypeActivity is the ActivityPub media type of actor documents.
	MediaTypeActivity = "application/activity+json"
	// MediaTypeLDActivity is the JSON-LD form of MediaTypeActivity that
	// ActivityPub also allows.
	MediaTypeLDActivity = `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`

	// RelSelf links a subject to its ActivityPub actor.
	RelSelf = "self"
	// RelProfilePage links a subject to its HTML profile.
	RelProfilePage = "http://webfinger.net/rel/profile-page"
	// RelSubscribe carries the remote-follow template ({uri} is replaced
	// with the IRI of the account or object to interact with).
	RelSubscribe = "http://ostatus.org/schema/1.0/subscribe"
	// RelLRDD is the host-meta relation whose template locates WebFinger.
	RelLRDD = "lrdd"

	// PropertyType is the link property Lemmy and others read to tell a
	// person from a community with the same name; its value is the
	// ActivityStreams type IRI of the actor.
	PropertyType = "https://www.w3.org/ns/activitystreams#type"

	activityStreamsNS = "https://www.w3.org/ns/activitystreams"
)

// JRD is a JSON Resource Descriptor (RFC 7033 §4.4). Property values that are
// JSON null read as "".
type JRD struct {
	Subject    string            `json:"subject,omitempty"`
	Aliases    []string          `json:"aliases,omitempty"`
	Properties map[string]string `json:"properties,omitempty"`
	Links      []Link            `json:"links,omitempty"`
}

// Link is one link relation of a JRD (RFC 7033 §4.4.4). Template is the
// RFC 6415 extension used by subscribe and lrdd links.
type Link struct {
	Rel        string            `json:"rel"`
	Type       string            `json:"type,omitempty"`
	Href       string            `json:"href,omitempty"`
	Template   string            `json:"template,omitempty"`
	Titles     map[string]string `json:"titles,omitempty"`
	Properties map[string]string `json:"properties,omitempty"`
}

// Find returns the first link with relation rel whose type satisfies
// match (nil matches any type), and whether there was one.
func (j *JRD) Find(rel string, match func(mediaType string) bool) (Link, bool) {
	for _, l := range j.Links {
		if l.Rel == rel && (match == nil || match(l.Type)) {
			return l, true
		}
	}
	return Link{}, false
}

// Filter returns a copy of j that keeps only the links whose relation is one
// of rels (RFC 7033 §4.3). With no rels it returns j unchanged.
func (j JRD) Filter(rels ...string) JRD {
	if len(rels) == 0 {
		return j
	}
	kept := make([]Link, 0, len(j.Links))
	for _, l := range j.Links {
		for _, r := range rels {
			if l.Rel == r {
				kept = append(kept, l)
				break
			}
		}
	}
	j.Links = kept
	return j
}

// IsActivityPubType reports whether mediaType names an ActivityPub document:
// application/activity+json, or application/ld+json with the ActivityStreams
// profile (among others, if the profile parameter lists several). It is
// [transport.IsActivityPubContentType], so that links and fetched documents
// are judged by one rule.
func IsActivityPubType(mediaType string) bool {
	return transport.IsActivityPubContentType(mediaType)
}

// isJSONType reports whether a Content-Type header names JSON:
// application/json or any application/*+json type.
func isJSONType(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")
}

// marshalJSON encodes v without HTML escaping, so templates keep their
// literal "{uri}" and "&".
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
