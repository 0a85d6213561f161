// Package errkind defines the closed set of error kinds Commonroom code uses
// to say what went wrong, independent of transport.
//
// Domain code returns errors built with [New] or [Wrap], adding context with
// fmt.Errorf("...: %w", err) as they travel up. Only adapters (REST, GraphQL,
// federation handlers) look at the kind, with [Of] or errors.Is, and turn it
// into a status code and a safe message; the wrapped detail goes to the log,
// never to the client.
package errkind

import (
	"errors"
	"net/http"
)

// Kind classifies an error. The zero value is Internal. The set is closed:
// adapters map every Kind to a response and nothing else.
type Kind uint8

// The kinds of error. Internal is the zero value so that an error with no
// kind is treated as a server fault.
const (
	Internal     Kind = iota // a fault on our side; the detail is logged, never shown
	NotFound                 // the thing does not exist (or the caller may not know it does)
	Invalid                  // the input is malformed or breaks a rule
	Unauthorized             // the caller is not authenticated
	Forbidden                // the caller is authenticated but not allowed
	Conflict                 // the change clashes with existing state (for example a duplicate)
	Gone                     // the thing existed and was deleted
	TooLarge                 // the input is over a size limit
	RateLimited              // the caller must slow down
)

var kindNames = [...]string{
	Internal:     "internal",
	NotFound:     "not found",
	Invalid:      "invalid",
	Unauthorized: "unauthorized",
	Forbidden:    "forbidden",
	Conflict:     "conflict",
	Gone:         "gone",
	TooLarge:     "too large",
	RateLimited:  "rate limited",
}

// Kinds lists every kind, in declaration order.
func Kinds() []Kind {
	return []Kind{Internal, NotFound, Invalid, Unauthorized, Forbidden, Conflict, Gone, TooLarge, RateLimited}
}

// String returns a short lower-case name such as "not found".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "internal"
}

// Error makes a Kind usable as a target for errors.Is:
// errors.Is(err, errkind.Conflict) reports whether err has kind Conflict.
func (k Kind) Error() string { return k.String() }

// HTTPStatus returns the HTTP status code adapters answer with for k.
func (k Kind) HTTPStatus() int {
	switch k {
	case NotFound:
		return http.StatusNotFound
	case Invalid:
		return http.StatusUnprocessableEntity
	case Unauthorized:
		return http.StatusUnauthorized
	case Forbidden:
		return http.StatusForbidden
	case Conflict:
		return http.StatusConflict
	case Gone:
		return http.StatusGone
	case TooLarge:
		return http.StatusRequestEntityTooLarge
	case RateLimited:
		return http.StatusTooManyRequests
	default:
		return http.StatusInternalServerError
	}
}

// Error is an error with a kind and a message that is safe to show to the
// client. Err, if set, is the underlying cause; it is for logs only.
type Error struct {
	Kind    Kind
	Message string // safe to show to the client
	Err     error  // the cause, if any; never shown to clients
}

// New returns an error of kind k whose client-safe message is msg.
func New(k Kind, msg string) *Error {
	return &Error{Kind: k, Message: msg}
}

// Wrap returns an error of kind k with the client-safe message msg and cause
// err. If err is nil, Wrap is the same as New.
func Wrap(k Kind, msg string, err error) *Error {
	return &Error{Kind: k, Message: msg, Err: err}
}

// Error returns the message followed by the cause, if there is one.
func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = e.Kind.String()
	}
	if e.Err != nil {
		return msg + ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is e's Kind, so that errors.Is(err, errkind.NotFound)
// works through any number of %w wrappings.
func (e *Error) Is(target error) bool {
	k, ok := target.(Kind)
	return ok && k == e.Kind
}

// Of returns the kind of the outermost *Error in err's chain, Internal if
// there is none, and Internal for a nil error too (callers check nil first).
func Of(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// Message returns the client-safe message of the outermost *Error in err's
// chain, or the generic text of its kind. It never returns internal detail.
func Message(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Message != "" {
		if e.Kind == Internal {
			return Internal.String()
		}
		return e.Message
	}
	return Of(err).String()
}
