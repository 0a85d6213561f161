package streams

// Mastodon returns Mastodon's "toot" vocabulary. It has no published
// context: documents define its terms inline, and so does our serializer.
func Mastodon() Vocabulary {
	return Vocabulary{
		Name:      "Mastodon",
		Namespace: TootNamespace,
		Prefix:    "toot",
		Types: []TypeDef{
			{Name: "Emoji", Bases: []string{"Object"}},
			{Name: "IdentityProof", Bases: []string{"Object"}},
		},
		Properties: []PropertyDef{
			{Name: "discoverable", Kind: KindBool, Functional: true},
			{Name: "indexable", Kind: KindBool, Functional: true},
			{Name: "featured", Kind: KindReference, Functional: true},
			{Name: "featuredTags", Kind: KindReference, Functional: true},
			{Name: "blurhash", Kind: KindString, Functional: true},
			{Name: "focalPoint", Kind: KindNumber, Container: "@list"},
			{Name: "memorial", Kind: KindBool, Functional: true},
			{Name: "suspended", Kind: KindBool, Functional: true},
			{Name: "votersCount", Kind: KindInteger, Functional: true},
			{Name: "attributionDomains", Kind: KindString},
			{Name: "devices", Kind: KindReference, Functional: true},
		},
	}
}

// Schema returns the schema.org terms fediverse servers use in profiles
// and metadata (Mastodon's PropertyValue / value profile fields, identifier,
// inLanguage). schema.org is written three ways in the wild; all read as
// SchemaNamespace.
func Schema() Vocabulary {
	return Vocabulary{
		Name:             "schema.org",
		Namespace:        SchemaNamespace,
		NamespaceAliases: []string{"http://schema.org#", "https://schema.org/", "https://schema.org#"},
		Prefix:           "schema",
		Types: []TypeDef{
			{Name: "PropertyValue", Bases: []string{"Object"}},
		},
		Properties: []PropertyDef{
			{Name: "value", Kind: KindString, Functional: true},
			{Name: "identifier", Kind: KindString, Functional: true},
			{Name: "inLanguage", Kind: KindAny},
		},
	}
}
