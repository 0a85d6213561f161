package streams

// This file defines the education vocabulary with nothing but the package's
// public API, exactly as a third party would define and register theirs.

// EducationNamespace is the namespace of the education vocabulary's terms:
// schema.org, where the LRMI learning resource terms live.
const EducationNamespace = SchemaNamespace

// Education returns the vocabulary for learning resources shared by
// educator communities, from schema.org's LRMI terms: the LearningResource
// type (a Document) and license, educationalLevel, learningResourceType,
// inLanguage, teaches, about, isAccessibleForFree, timeRequired,
// educationalUse and keywords. Its terms are defined inline in documents,
// under the "schema" prefix.
func Education() Vocabulary {
	return Vocabulary{
		Name:             "Education (schema.org LRMI)",
		Namespace:        EducationNamespace,
		NamespaceAliases: []string{"http://schema.org#", "https://schema.org/", "https://schema.org#"},
		Prefix:           "schema",
		Types: []TypeDef{
			{Name: "LearningResource", Bases: []string{"Document"}},
			{Name: "DefinedTerm", Bases: []string{"Object"}},
		},
		Properties: []PropertyDef{
			{Name: "license", Kind: KindReference, Functional: true},
			{Name: "educationalLevel", Kind: KindAny},
			{Name: "learningResourceType", Kind: KindAny},
			{Name: "inLanguage", Kind: KindAny},
			{Name: "teaches", Kind: KindAny},
			{Name: "about", Kind: KindAny},
			{Name: "isAccessibleForFree", Kind: KindBool, Functional: true},
			{Name: "timeRequired", Kind: KindDuration, Functional: true},
			{Name: "educationalUse", Kind: KindAny},
			{Name: "keywords", Kind: KindAny},
			{Name: "termCode", Kind: KindString, Functional: true},
			{Name: "inDefinedTermSet", Kind: KindReference, Functional: true},
		},
	}
}
