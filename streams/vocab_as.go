package streams

// Namespaces and context URLs of the vocabularies this package ships.
const (
	// ASNamespace is the ActivityStreams 2.0 namespace.
	ASNamespace = "https://www.w3.org/ns/activitystreams#"
	// ASContextURL is the ActivityStreams 2.0 JSON-LD context.
	ASContextURL = "https://www.w3.org/ns/activitystreams"
	// PublicIRI is the special collection that addresses everyone.
	PublicIRI = ASNamespace + "Public"
	// SecurityNamespace is the W3C security vocabulary namespace.
	SecurityNamespace = "https://w3id.org/security#"
	// SecurityContextURL is the security v1 context (publicKey and friends).
	SecurityContextURL = "https://w3id.org/security/v1"
	// MultikeyContextURL is the context of FEP-521a's Multikey terms.
	MultikeyContextURL = "https://w3id.org/security/multikey/v1"
	// TootNamespace is Mastodon's namespace.
	TootNamespace = "http://joinmastodon.org/ns#"
	// SchemaNamespace is schema.org's canonical namespace here; the
	// spellings "http://schema.org#", "https://schema.org/" and
	// "https://schema.org#" are read as this one.
	SchemaNamespace = "http://schema.org/"
	// LemmyNamespace is Lemmy's namespace.
	LemmyNamespace = "https://join-lemmy.org/ns#"
	// LitePubNamespace is the Pleroma/Akkoma LitePub namespace.
	LitePubNamespace = "http://litepub.social/ns#"
)

// IsPublic reports whether iri names the public collection in any of the
// forms peers use: the full IRI, "as:Public" or "Public".
func IsPublic(iri string) bool {
	return iri == PublicIRI || iri == "as:Public" || iri == "Public" ||
		iri == "http://www.w3.org/ns/activitystreams#Public"
}

// ActivityStreams returns the ActivityStreams 2.0 core and extended
// vocabulary, with the ActivityPub terms (inbox, outbox, endpoints...) and
// the "as:" extension terms servers use outside the official context
// (sensitive, manuallyApprovesFollowers, Hashtag, movedTo, alsoKnownAs),
// which are marked Inline so that serialized documents define them.
func ActivityStreams() Vocabulary {
	obj := []string{"Object"}
	act := []string{"Activity"}
	intr := []string{"IntransitiveActivity"}
	doc := []string{"Document"}
	types := []TypeDef{
		{Name: "Object"}, {Name: "Link"},
		{Name: "Activity", Bases: obj}, {Name: "IntransitiveActivity", Bases: act},
		{Name: "Collection", Bases: obj}, {Name: "OrderedCollection", Bases: []string{"Collection"}},
		{Name: "CollectionPage", Bases: []string{"Collection"}},
		{Name: "OrderedCollectionPage", Bases: []string{"CollectionPage", "OrderedCollection"}},
		// Activities.
		{Name: "Accept", Bases: act}, {Name: "TentativeAccept", Bases: []string{"Accept"}},
		{Name: "Add", Bases: act}, {Name: "Arrive", Bases: intr}, {Name: "Create", Bases: act},
		{Name: "Delete", Bases: act}, {Name: "Follow", Bases: act}, {Name: "Ignore", Bases: act},
		{Name: "Join", Bases: act}, {Name: "Leave", Bases: act}, {Name: "Like", Bases: act},
		{Name: "Offer", Bases: act}, {Name: "Invite", Bases: []string{"Offer"}},
		{Name: "Reject", Bases: act}, {Name: "TentativeReject", Bases: []string{"Reject"}},
		{Name: "Remove", Bases: act}, {Name: "Undo", Bases: act}, {Name: "Update", Bases: act},
		{Name: "View", Bases: act}, {Name: "Listen", Bases: act}, {Name: "Read", Bases: act},
		{Name: "Move", Bases: act}, {Name: "Travel", Bases: intr}, {Name: "Announce", Bases: act},
		{Name: "Block", Bases: []string{"Ignore"}}, {Name: "Flag", Bases: act},
		{Name: "Dislike", Bases: act}, {Name: "Question", Bases: intr},
		// Actors.
		{Name: "Application", Bases: obj}, {Name: "Group", Bases: obj},
		{Name: "Organization", Bases: obj}, {Name: "Person", Bases: obj},
		{Name: "Service", Bases: obj},
		// Objects.
		{Name: "Relationship", Bases: obj}, {Name: "Article", Bases: obj},
		{Name: "Document", Bases: obj}, {Name: "Audio", Bases: doc}, {Name: "Image", Bases: doc},
		{Name: "Video", Bases: doc}, {Name: "Note", Bases: obj}, {Name: "Page", Bases: doc},
		{Name: "Event", Bases: obj}, {Name: "Place", Bases: obj},
		{Name: "Mention", Bases: []string{"Link"}}, {Name: "Profile", Bases: obj},
		{Name: "Tombstone", Bases: obj},
		// Relationship values.
		{Name: "IsFollowing"}, {Name: "IsFollowedBy"}, {Name: "IsContact"}, {Name: "IsMember"},
		// Extension terms used outside the official context.
		{Name: "Hashtag", Bases: []string{"Link"}, Inline: true},
	}
	ref := func(name string, functional bool) PropertyDef {
		return PropertyDef{Name: name, Kind: KindReference, Functional: functional}
	}
	props := []PropertyDef{
		ref("actor", false), ref("attachment", false), ref("attributedTo", false),
		ref("audience", false), ref("bcc", false), ref("bto", false), ref("cc", false),
		ref("context", false), ref("current", true), ref("first", true), ref("generator", false),
		ref("icon", false), ref("image", false), ref("inReplyTo", false), ref("instrument", false),
		ref("last", true), ref("location", false), ref("items", false),
		{Name: "orderedItems", IRI: "as:items", Kind: KindReference, Container: "@list"},
		ref("oneOf", false), ref("anyOf", false), {Name: "closed", Kind: KindAny},
		ref("origin", false), ref("next", true), ref("object", false), ref("prev", true),
		ref("preview", false), ref("result", false), ref("replies", true), ref("tag", false),
		ref("target", false), ref("to", false), ref("url", false),
		{Name: "accuracy", Kind: KindNumber, Functional: true},
		{Name: "altitude", Kind: KindNumber, Functional: true},
		{Name: "content", Kind: KindLangString},
		{Name: "name", Kind: KindLangString},
		{Name: "duration", Kind: KindDuration, Functional: true},
		{Name: "height", Kind: KindInteger, Functional: true},
		{Name: "href", Kind: KindIRI, Functional: true},
		{Name: "hreflang", Kind: KindString, Functional: true},
		ref("partOf", true),
		{Name: "latitude", Kind: KindNumber, Functional: true},
		{Name: "longitude", Kind: KindNumber, Functional: true},
		{Name: "mediaType", Kind: KindString, Functional: true},
		{Name: "endTime", Kind: KindDateTime, Functional: true},
		{Name: "published", Kind: KindDateTime, Functional: true},
		ref("source", true),
		{Name: "startTime", Kind: KindDateTime, Functional: true},
		{Name: "radius", Kind: KindNumber, Functional: true},
		{Name: "rel", Kind: KindString},
		{Name: "startIndex", Kind: KindInteger, Functional: true},
		{Name: "summary", Kind: KindLangString},
		{Name: "totalItems", Kind: KindInteger, Functional: true},
		{Name: "units", Kind: KindString, Functional: true},
		{Name: "updated", Kind: KindDateTime, Functional: true},
		{Name: "width", Kind: KindInteger, Functional: true},
		ref("subject", true), ref("relationship", false), ref("describes", true),
		{Name: "formerType", Kind: KindAny},
		{Name: "deleted", Kind: KindDateTime, Functional: true},
		// ActivityPub.
		{Name: "inbox", IRI: "http://www.w3.org/ns/ldp#inbox", Kind: KindReference, Functional: true},
		ref("outbox", true), ref("following", true), ref("followers", true), ref("liked", true),
		ref("likes", true), ref("shares", true), ref("streams", false),
		{Name: "preferredUsername", Kind: KindLangString, Functional: true},
		ref("endpoints", true),
		{Name: "proxyUrl", Kind: KindIRI, Functional: true},
		{Name: "oauthAuthorizationEndpoint", Kind: KindIRI, Functional: true},
		{Name: "oauthTokenEndpoint", Kind: KindIRI, Functional: true},
		{Name: "provideClientKey", Kind: KindIRI, Functional: true},
		{Name: "signClientKey", Kind: KindIRI, Functional: true},
		{Name: "sharedInbox", Kind: KindIRI, Functional: true},
		{Name: "uploadMedia", Kind: KindIRI, Functional: true},
		// Extension terms used outside the official context.
		{Name: "sensitive", Kind: KindBool, Functional: true, Inline: true},
		{Name: "manuallyApprovesFollowers", Kind: KindBool, Functional: true, Inline: true},
		{Name: "movedTo", Kind: KindReference, Functional: true, Inline: true},
		{Name: "alsoKnownAs", Kind: KindReference, Inline: true},
	}
	return Vocabulary{
		Name:             "ActivityStreams 2.0",
		Namespace:        ASNamespace,
		NamespaceAliases: []string{"http://www.w3.org/ns/activitystreams#"},
		Prefix:           "as",
		ContextURL:       ASContextURL,
		ContextAliases: []string{
			"http://www.w3.org/ns/activitystreams",
			"https://www.w3.org/ns/activitystreams.jsonld",
			"http://www.w3.org/ns/activitystreams.jsonld",
			"https://www.w3.org/ns/activitystreams#",
		},
		Context: []byte(`{"xsd": "http://www.w3.org/2001/XMLSchema#",
			"ldp": "http://www.w3.org/ns/ldp#",
			"vcard": "http://www.w3.org/2006/vcard/ns#"}`),
		Types:      types,
		Properties: props,
	}
}
