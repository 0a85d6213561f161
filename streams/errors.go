package streams

import (
	"errors"
	"fmt"
)

// Errors returned by parsing. Every error a parse returns wraps exactly one
// of them, so callers test with errors.Is; a document that breaks a limit is
// rejected whole, nothing of it is returned.
var (
	// ErrTooLarge: the body is longer than Limits.MaxBytes.
	ErrTooLarge = errors.New("streams: document too large")
	// ErrTooDeep: arrays and objects nest deeper than Limits.MaxDepth.
	ErrTooDeep = errors.New("streams: document nested too deeply")
	// ErrArrayTooLong: an array has more than Limits.MaxArrayLen elements.
	ErrArrayTooLong = errors.New("streams: array too long")
	// ErrTooManyMembers: an object has more than Limits.MaxMembers members.
	ErrTooManyMembers = errors.New("streams: object has too many members")
	// ErrTooManyValues: the document holds more than Limits.MaxValues values.
	ErrTooManyValues = errors.New("streams: document holds too many values")
	// ErrStringTooLong: a string or key is longer than Limits.MaxStringBytes.
	ErrStringTooLong = errors.New("streams: string too long")
	// ErrSyntax: the body is not valid JSON.
	ErrSyntax = errors.New("streams: invalid JSON")
	// ErrInvalidUTF8: a string holds bytes that are not UTF-8.
	ErrInvalidUTF8 = errors.New("streams: invalid UTF-8")
	// ErrTooManyContexts: the document embeds more @context values below
	// its top level than Limits.MaxContexts.
	ErrTooManyContexts = errors.New("streams: too many embedded contexts")
	// ErrNotObject: the top level value is not a JSON object.
	ErrNotObject = errors.New("streams: top level value is not an object")
	// ErrDuplicateKey: an object has the same key twice, or both "id" and
	// "@id" (or "type" and "@type"), which peers could read differently.
	ErrDuplicateKey = errors.New("streams: duplicate key")

	// ErrUnknownTerm: a name given to a getter, setter or builder is neither
	// a term of the registry, a known prefix:suffix compact IRI, nor an
	// absolute IRI.
	ErrUnknownTerm = errors.New("streams: unknown term")
	// ErrFrozen: Register was called on a registry that may not change,
	// such as the one Default returns.
	ErrFrozen = errors.New("streams: registry is frozen")
	// ErrConflict: a vocabulary defines a term or namespace already bound to
	// something else in the registry.
	ErrConflict = errors.New("streams: conflicting definition")
	// ErrInvalid: a value does not match its property's declared kind, or a
	// functional property has several values (see Object.Validate), or a
	// vocabulary definition is malformed.
	ErrInvalid = errors.New("streams: invalid")
)

// SyntaxError locates a parse failure in the input. It wraps one of the
// Err* values above (ErrSyntax, ErrTooDeep...), so errors.Is works on it.
type SyntaxError struct {
	// Offset is the byte offset in the input where the problem was found.
	Offset int
	// Msg says what was expected or found.
	Msg string
	// Err is the kind of failure, one of the package's Err* values.
	Err error
}

// Error describes the failure with its offset.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%v at offset %d: %s", e.Err, e.Offset, e.Msg)
}

// Unwrap returns the kind of failure.
func (e *SyntaxError) Unwrap() error { return e.Err }
