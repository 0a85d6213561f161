// Package nodeinfo serves and reads NodeInfo 2.0 and 2.1
// (http://nodeinfo.diaspora.software), the documents through which
// fediverse servers tell each other and crawlers what software they run,
// which protocols they speak, how many people use them and whether anyone
// may sign up.
//
// Handler serves /.well-known/nodeinfo (a JRD listing both schema versions)
// and the /nodeinfo/2.0 and /nodeinfo/2.1 documents, with usage counts from
// a UsageSource the host implements. Client reads a remote server's
// discovery document and then the highest schema version it offers.
package nodeinfo

import (
	"errors"
	"fmt"
)

// Schema versions, relations, paths and media types.
const (
	// Version20 and Version21 are the schema versions this package
	// serves and reads.
	Version20 = "2.0"
	Version21 = "2.1"

	// RelPrefix followed by a version is the link relation of that schema
	// version in the discovery document.
	RelPrefix = "http://nodeinfo.diaspora.software/ns/schema/"
	// Rel20 and Rel21 are the relations of the 2.0 and 2.1 documents.
	Rel20 = RelPrefix + Version20
	Rel21 = RelPrefix + Version21

	// PathDiscovery is the well-known discovery path.
	PathDiscovery = "/.well-known/nodeinfo"
	// Path20 and Path21 are where Handler serves the documents.
	Path20 = "/nodeinfo/2.0"
	Path21 = "/nodeinfo/2.1"

	// ContentType20 and ContentType21 are the media types of the
	// documents, naming their schema as the spec asks.
	ContentType20 = `application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.0#"`
	ContentType21 = `application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.1#"`

	// ProtocolActivityPub is the protocol name of ActivityPub.
	ProtocolActivityPub = "activitypub"

	// SoftwareName is the name Commonroom reports: lowercase, as the
	// schema's ^[a-z0-9-]+$ requires.
	SoftwareName = "commonroom"
	// SoftwareRepository and SoftwareHomepage are what Commonroom reports
	// in 2.1 documents unless configured otherwise.
	SoftwareRepository = "https://github.com/commonroom/commonroom"
	SoftwareHomepage   = "https://github.com/commonroom/commonroom"
)

// Document is a NodeInfo 2.0 or 2.1 document. Field names and JSON keys
// follow the schemas; 2.0 documents have no Software.Repository or
// Software.Homepage.
type Document struct {
	Version           string         `json:"version"`
	Software          Software       `json:"software"`
	Protocols         []string       `json:"protocols"`
	Services          Services       `json:"services"`
	OpenRegistrations bool           `json:"openRegistrations"`
	Usage             Usage          `json:"usage"`
	Metadata          map[string]any `json:"metadata"`
}

// Software describes the server software.
type Software struct {
	// Name is the canonical name, matching ^[a-z0-9-]+$.
	Name string `json:"name"`
	// Version is the software version, free form.
	Version string `json:"version"`
	// Repository is the source code URL (2.1 only).
	Repository string `json:"repository,omitempty"`
	// Homepage is the software's home page URL (2.1 only).
	Homepage string `json:"homepage,omitempty"`
}

// Services lists third-party sites the server reads from (Inbound) or
// publishes to (Outbound). Commonroom has none: both are empty, never null.
type Services struct {
	Inbound  []string `json:"inbound"`
	Outbound []string `json:"outbound"`
}

// Usage holds the usage statistics of a server.
type Usage struct {
	Users Users `json:"users"`
	// LocalPosts counts posts made by local users.
	LocalPosts int64 `json:"localPosts"`
	// LocalComments counts comments (replies) made by local users.
	LocalComments int64 `json:"localComments"`
}

// Users counts a server's users.
type Users struct {
	// Total counts registered users.
	Total int64 `json:"total"`
	// ActiveHalfyear counts users active in the last 180 days.
	ActiveHalfyear int64 `json:"activeHalfyear"`
	// ActiveMonth counts users active in the last 30 days.
	ActiveMonth int64 `json:"activeMonth"`
}

// validate reports the first count below zero, which the schema forbids.
func (u Usage) validate() error {
	for name, n := range map[string]int64{
		"users.total": u.Users.Total, "users.activeHalfyear": u.Users.ActiveHalfyear,
		"users.activeMonth": u.Users.ActiveMonth, "localPosts": u.LocalPosts, "localComments": u.LocalComments,
	} {
		if n < 0 {
			return fmt.Errorf("nodeinfo: usage %s is negative (%d)", name, n)
		}
	}
	return nil
}

// Error kinds the Client returns; test with errors.Is.
var (
	// ErrNotFound marks a host that does not offer NodeInfo (404 or 410 on
	// the discovery document or the schema document).
	ErrNotFound = errors.New("nodeinfo: not found")
	// ErrNoSchema marks a discovery document that links no schema version
	// this package reads, or links it somewhere the Client may not go.
	ErrNoSchema = errors.New("nodeinfo: no supported schema version")
	// ErrTooLarge marks a response over the Client's size cap.
	ErrTooLarge = errors.New("nodeinfo: response too large")
	// ErrContentType marks a response that is not JSON.
	ErrContentType = errors.New("nodeinfo: response is not JSON")
	// ErrMalformed marks JSON that is not the expected document.
	ErrMalformed = errors.New("nodeinfo: malformed document")
)

// StatusError reports a response with an HTTP status the Client does not
// handle (anything but 200, 404 and 410).
type StatusError struct {
	URL        string
	StatusCode int
}

// Error implements error.
func (e *StatusError) Error() string {
	return fmt.Sprintf("nodeinfo: GET %s: unexpected status %d", e.URL, e.StatusCode)
}
