package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"
	"strings"
	"unicode/utf8"
)

// ActivityStreamsProfile is the JSON-LD profile that marks
// application/ld+json as ActivityStreams.
const ActivityStreamsProfile = "https://www.w3.org/ns/activitystreams"

// AcceptActivityPub is the Accept header of every dereference.
const AcceptActivityPub = `application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"`

// maxDocumentDepth bounds the nesting of objects and arrays in a fetched
// document; real ActivityPub documents stay far below it.
const maxDocumentDepth = 64

// Document is an ActivityPub document fetched from its origin.
type Document struct {
	// URL is where the document was finally served from, after redirects,
	// with the host in normalized form.
	URL string
	// ID is the document's "id" as written. It names the same resource as
	// URL: same normalized origin, path and query.
	ID string
	// ContentType is the Content-Type header as served.
	ContentType string
	// Body is the raw JSON, at most MaxBodyBytes long; the caller parses it.
	Body []byte
}

// IsActivityPubContentType reports whether a Content-Type header value names
// an ActivityPub document: application/activity+json (with any parameters),
// or application/ld+json whose profile parameter lists
// https://www.w3.org/ns/activitystreams. application/json, text/html,
// application/ld+json without that profile and unparsable values are not.
func IsActivityPubContentType(value string) bool {
	mediaType, params, err := mime.ParseMediaType(value)
	if err != nil {
		return false
	}
	switch mediaType {
	case ContentTypeActivityJSON:
		return true
	case "application/ld+json":
		for _, p := range strings.Fields(params["profile"]) {
			if p == ActivityStreamsProfile {
				return true
			}
		}
	}
	return false
}

// Dereference fetches the ActivityPub document at iri from its origin
// (SECURITY.md rules 12-18):
//
//   - the request is a signed GET with Accept [AcceptActivityPub], through
//     the address policy, limits and budget of [Client.Get]; a fragment in
//     iri is not sent; a local origin fails with [ErrLocal], unsent;
//   - the response must be 2xx (else a *[StatusError], e.g. 404 or 410) with
//     an ActivityPub content type (else [ErrContentType]), a body within
//     MaxBodyBytes (else [ErrTooLarge]) holding a JSON object with exactly
//     one string id (else [ErrInvalidDocument]);
//   - the id must name the final URL after redirects: a document reached
//     through a redirect belongs to where it was served from. If the id
//     differs but has the same origin as the final URL, the document is
//     fetched once more from the id, and that response's id must name its
//     own final URL. Any other mismatch fails with [ErrIDMismatch].
//
// The returned Document's URL is the final URL and its ID the matching id;
// callers record the object under that id, never under iri.
func (c *Client) Dereference(ctx context.Context, iri string) (*Document, error) {
	doc, err := c.fetchDocument(ctx, iri)
	if err != nil {
		return nil, err
	}
	if err := matchID(doc); err == nil {
		return doc, nil
	} else if !errors.Is(err, errSameOriginMismatch) {
		return nil, fmt.Errorf("dereference %s: %w", iri, err)
	}
	again, err := c.fetchDocument(ctx, doc.ID)
	if err != nil {
		return nil, fmt.Errorf("dereference %s: refetch from id %s: %w", iri, doc.ID, err)
	}
	if err := matchID(again); err != nil {
		return nil, fmt.Errorf("dereference %s: after refetch from id %s: %w", iri, doc.ID, err)
	}
	return again, nil
}

// errSameOriginMismatch marks an id that differs from its URL on the same
// origin: the one case that earns a refetch.
var errSameOriginMismatch = fmt.Errorf("%w: same origin", ErrIDMismatch)

// matchID checks doc.ID against doc.URL.
func matchID(doc *Document) error {
	id, err := url.Parse(doc.ID)
	if err != nil {
		return fmt.Errorf("%w: id %q: %w", ErrInvalidDocument, doc.ID, err)
	}
	final, err := url.Parse(doc.URL)
	if err != nil {
		return fmt.Errorf("%w: final URL %q: %w", ErrInvalidURL, doc.URL, err)
	}
	idOrigin, err := OriginOf(id)
	if err != nil {
		return fmt.Errorf("%w: id %q: %w", ErrInvalidDocument, doc.ID, err)
	}
	finalOrigin, err := OriginOf(final)
	if err != nil {
		return err
	}
	if idOrigin != finalOrigin {
		return fmt.Errorf("%w: id %s is not on %s, where it was served from", ErrIDMismatch, doc.ID, finalOrigin)
	}
	if id.User != nil || id.Fragment != "" || id.ForceQuery ||
		escapedPath(id) != escapedPath(final) || id.RawQuery != final.RawQuery {
		return fmt.Errorf("%w: id %s served from %s", errSameOriginMismatch, doc.ID, doc.URL)
	}
	return nil
}

func escapedPath(u *url.URL) string {
	if p := u.EscapedPath(); p != "" {
		return p
	}
	return "/"
}

// fetchDocument GETs one document and checks its content type and id syntax;
// it does not compare the id with the URL.
func (c *Client) fetchDocument(ctx context.Context, iri string) (*Document, error) {
	resp, err := c.Get(ctx, iri, AcceptActivityPub)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	final := resp.Request.URL.String()
	ct := resp.Header.Get("Content-Type")
	if !IsActivityPubContentType(ct) {
		return nil, fmt.Errorf("%w: %s served %q", ErrContentType, final, ct)
	}
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("transport: reading %s: %w", final, err)
	}
	id, err := DocumentID(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", final, err)
	}
	return &Document{URL: final, ID: id, ContentType: ct, Body: raw}, nil
}

// DocumentID extracts the "id" of a JSON document without decoding the rest:
// the document must be a single valid JSON object, nested at most 64 levels,
// with exactly one id member (spelled "id" or "@id"; other spellings that
// differ only in case, such as "ID", count as duplicates, since
// case-insensitive decoders would read them) whose value is an absolute
// http(s) URL without user information. Errors wrap [ErrInvalidDocument]. It
// runs in time linear in len(data) with a few small allocations; callers
// still cap the size first.
func DocumentID(data []byte) (string, error) {
	if !json.Valid(data) {
		return "", fmt.Errorf("%w: not valid JSON", ErrInvalidDocument)
	}
	i := skipSpace(data, 0)
	if data[i] != '{' {
		return "", fmt.Errorf("%w: not a JSON object", ErrInvalidDocument)
	}
	// data is valid JSON, so a scan that skips strings and counts brackets
	// finds the structure: at depth 1 the string after '{' or ',' is a key.
	var id string
	seen, depth, expectKey := 0, 0, false
	for ; i < len(data); i++ {
		switch data[i] {
		case '{', '[':
			depth++
			if depth > maxDocumentDepth {
				return "", fmt.Errorf("%w: nested deeper than %d", ErrInvalidDocument, maxDocumentDepth)
			}
			expectKey = depth == 1
		case '}', ']':
			depth--
		case ',':
			expectKey = depth == 1
		case '"':
			end := stringEnd(data, i)
			if expectKey {
				expectKey = false
				key, err := jsonString(data[i:end])
				if err != nil {
					return "", err
				}
				if strings.EqualFold(key, "id") || strings.EqualFold(key, "@id") {
					seen++
					if seen > 1 {
						return "", fmt.Errorf("%w: more than one id member", ErrInvalidDocument)
					}
					if key != "id" && key != "@id" {
						return "", fmt.Errorf("%w: id member spelled %q", ErrInvalidDocument, key)
					}
					v := skipSpace(data, skipSpace(data, end)+1) // past the ':'
					if data[v] != '"' {
						return "", fmt.Errorf("%w: id is not a string", ErrInvalidDocument)
					}
					vend := stringEnd(data, v)
					if id, err = jsonString(data[v:vend]); err != nil {
						return "", err
					}
					end = vend
				}
			}
			i = end - 1
		}
	}
	if seen == 0 {
		return "", fmt.Errorf("%w: no id", ErrInvalidDocument)
	}
	u, err := url.Parse(id)
	if err != nil {
		return "", fmt.Errorf("%w: id %q: %w", ErrInvalidDocument, id, err)
	}
	if _, err := OriginOf(u); err != nil {
		return "", fmt.Errorf("%w: id %q: %w", ErrInvalidDocument, id, err)
	}
	if u.User != nil {
		return "", fmt.Errorf("%w: id %q carries user information", ErrInvalidDocument, id)
	}
	return id, nil
}

// skipSpace returns the index of the first non-whitespace byte at or after i.
func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the JSON string starting at i
// (data[i] == '"'); data is known to be valid JSON.
func stringEnd(data []byte, i int) int {
	for i++; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(data)
}

// jsonString decodes a JSON string literal, quotes included.
func jsonString(lit []byte) (string, error) {
	if !bytes.ContainsRune(lit, '\\') && utf8.Valid(lit) {
		return string(lit[1 : len(lit)-1]), nil
	}
	var s string
	if err := json.Unmarshal(lit, &s); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidDocument, err)
	}
	return s, nil
}
