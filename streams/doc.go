// Package streams reads and writes ActivityStreams 2.0 documents (AS2 JSON
// and JSON-LD) with a vocabulary that can be extended while the program
// runs.
//
// Parse turns bytes from the network into an *Object under Limits (body
// size, nesting depth, array length, string length), rejecting a document
// that breaks one with an error wrapping ErrTooLarge, ErrTooDeep and so on.
// An Object keeps every member in order, with the IRI its key expands to
// through the document's @context, and reads them with typed getters:
//
//	act, err := streams.Parse(body)
//	if act.IsActivity() {
//		actor := act.IRI("actor")
//		note := act.Object("object") // nil when the object is only an IRI
//		to := act.IRIs("to")
//	}
//
// Terms come from a Registry of vocabularies. The standard one (Default)
// knows AS2 with the "as:" extension terms, security v1, FEP-521a keys,
// Mastodon's toot terms, schema.org profile fields, Lemmy / FEP-1b12 group
// terms, LitePub and an education vocabulary for learning resources. A
// program registers more with Registry.Register and a Vocabulary literal:
// no code is generated.
//
// JSON-LD: keys are expanded against embedded copies of the well-known
// contexts; remote contexts are never fetched. Prefixed keys ("as:content"),
// full IRIs as keys, @context arrays with inline maps, and documents
// without @context (read as AS2) all give the same IRIs. Unknown terms and
// contexts are kept, so parse then serialize loses nothing.
//
// The go-fed typed view of core types lives in the subpackage
// streams/gofed, so that only code that wants it pays for compiling go-fed.
package streams
