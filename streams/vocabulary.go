package streams

// Kind is the kind of value a property takes (its RDF range, simplified to
// what JSON can carry). The parser accepts any JSON for any property and
// keeps it; Kind drives the typed getters' expectations, Object.Validate and
// the JSON-LD term definitions written for the property.
type Kind uint8

// Property value kinds.
const (
	// KindAny: any JSON value.
	KindAny Kind = iota
	// KindReference: an object, link or the IRI of one ("@type": "@id").
	KindReference
	// KindIRI: an IRI string only, such as an endpoint URL.
	KindIRI
	// KindString: a plain string (xsd:string).
	KindString
	// KindLangString: natural language text, plain or tagged; the registry
	// also accepts the property's "<name>Map" language map form.
	KindLangString
	// KindInteger: a whole number (xsd:integer, xsd:nonNegativeInteger).
	KindInteger
	// KindNumber: any number (xsd:float, xsd:decimal).
	KindNumber
	// KindBool: true or false.
	KindBool
	// KindDateTime: an xsd:dateTime string (RFC 3339).
	KindDateTime
	// KindDuration: an xsd:duration string ("PT5M").
	KindDuration
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case KindAny:
		return "any"
	case KindReference:
		return "reference"
	case KindIRI:
		return "IRI"
	case KindString:
		return "string"
	case KindLangString:
		return "langString"
	case KindInteger:
		return "integer"
	case KindNumber:
		return "number"
	case KindBool:
		return "boolean"
	case KindDateTime:
		return "dateTime"
	case KindDuration:
		return "duration"
	}
	return "invalid"
}

// TypeDef defines one type (class) of a vocabulary.
type TypeDef struct {
	// Name is the compact term used in documents, such as "ChatMessage".
	Name string
	// IRI is the type's full IRI; empty means the vocabulary's Namespace
	// followed by Name.
	IRI string
	// Bases lists the types this one specialises, as terms known to the
	// registry ("Note"), compact IRIs ("as:Group") or full IRIs. A type is
	// everything its bases are: a ChatMessage based on "Object" is an
	// Object, a type based on "Group" is an actor.
	Bases []string
	// Inline marks a type that the vocabulary's ContextURL does not define:
	// serialized documents define it in an inline @context map.
	Inline bool
}

// PropertyDef defines one property of a vocabulary.
type PropertyDef struct {
	// Name is the compact term used in documents, such as "discoverable".
	Name string
	// IRI is the property's full IRI; empty means Namespace followed by Name.
	IRI string
	// Kind is the kind of value the property takes.
	Kind Kind
	// Functional properties take at most one value.
	Functional bool
	// Container is the JSON-LD container of the term ("@list", "@set") if
	// any; language maps are implied by KindLangString.
	Container string
	// Inline marks a property that the vocabulary's ContextURL does not
	// define (as the "as:" extensions are absent from the AS2 context):
	// serialized documents define it in an inline @context map.
	Inline bool
}

// Vocabulary is an ActivityStreams extension vocabulary, or the core one:
// its namespace, JSON-LD context, types and properties. Register it on a
// Registry to parse, read, validate and write its terms; no code is
// generated. A Vocabulary is plain data: build one as a literal.
type Vocabulary struct {
	// Name is a human readable name, used in error messages.
	Name string
	// Namespace is the canonical namespace IRI, ending in '#' or '/'.
	Namespace string
	// NamespaceAliases are other spellings of Namespace seen in the wild
	// ("http://schema.org#" for "http://schema.org/"); IRIs written with
	// them are rewritten to Namespace when parsed.
	NamespaceAliases []string
	// Prefix is the compact IRI prefix used for the namespace ("toot").
	Prefix string
	// ContextURL is the URL of the vocabulary's JSON-LD context, written
	// into the @context of documents that use its terms. Empty means the
	// vocabulary has no published context: documents define its terms
	// inline, as Mastodon does for "toot".
	ContextURL string
	// ContextAliases are other context URLs recognised as this vocabulary's
	// context when parsing (never written).
	ContextAliases []string
	// Context optionally holds the JSON-LD context document that ContextURL
	// resolves to (the value of its "@context": an object or array). Its
	// term definitions are applied, before those generated from Types and
	// Properties, when a document names ContextURL or an alias. It is never
	// fetched: this is the embedded copy.
	Context []byte
	// Types are the vocabulary's types.
	Types []TypeDef
	// Properties are the vocabulary's properties.
	Properties []PropertyDef
}
