package streams

// Lemmy returns the group terms of Lemmy and FEP-1b12 communities
// (moderators, postingRestrictedToMods, stickied, matrixUserId,
// distinguished, removeData, language). Lemmy publishes a context at
// https://join-lemmy.org/context.json, recognised when parsing; documents
// we write define the terms inline instead. Lemmy sends most documents
// without any @context, which the registry's terms cover.
func Lemmy() Vocabulary {
	return Vocabulary{
		Name:           "Lemmy",
		Namespace:      LemmyNamespace,
		Prefix:         "lemmy",
		ContextAliases: []string{"https://join-lemmy.org/context.json"},
		Context: []byte(`["https://w3id.org/security/v1", {"lemmy": "https://join-lemmy.org/ns#",
			"litepub": "http://litepub.social/ns#",
			"pt": "https://joinpeertube.org/ns#",
			"sc": "http://schema.org/",
			"ChatMessage": "litepub:ChatMessage",
			"commentsEnabled": "pt:commentsEnabled",
			"sensitive": "as:sensitive",
			"moderators": {"@type": "@id", "@id": "lemmy:moderators"},
			"expires": "as:endTime",
			"language": "sc:inLanguage",
			"identifier": "sc:identifier"}]`),
		Properties: []PropertyDef{
			{Name: "moderators", Kind: KindReference, Functional: true},
			{Name: "postingRestrictedToMods", Kind: KindBool, Functional: true},
			{Name: "stickied", Kind: KindBool, Functional: true},
			{Name: "matrixUserId", Kind: KindString, Functional: true},
			{Name: "distinguished", Kind: KindBool, Functional: true},
			{Name: "removeData", Kind: KindBool, Functional: true},
			{Name: "language", IRI: "schema:inLanguage", Kind: KindAny},
		},
	}
}

// LitePub returns the Pleroma/Akkoma terms seen in the wild (ChatMessage,
// EmojiReact, directMessage...). Pleroma's context URL differs per instance
// (https://<host>/schemas/litepub-0.1.jsonld), so it is never recognised;
// the registry's terms cover documents that name it.
func LitePub() Vocabulary {
	return Vocabulary{
		Name:      "LitePub",
		Namespace: LitePubNamespace,
		Prefix:    "litepub",
		Types: []TypeDef{
			{Name: "ChatMessage", Bases: []string{"Object"}},
			{Name: "EmojiReact", Bases: []string{"Like"}},
		},
		Properties: []PropertyDef{
			{Name: "directMessage", Kind: KindBool, Functional: true},
			{Name: "capabilities", Kind: KindAny, Functional: true},
			{Name: "acceptsChatMessages", Kind: KindBool, Functional: true},
			{Name: "invisible", Kind: KindBool, Functional: true},
			{Name: "listMessage", Kind: KindReference, Functional: true},
			{Name: "oauthRegistrationEndpoint", Kind: KindIRI, Functional: true},
		},
	}
}
