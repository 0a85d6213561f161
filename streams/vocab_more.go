package streams

// Namespaces of the smaller vocabularies this package ships.
const (
	// MisskeyNamespace is Misskey's namespace.
	MisskeyNamespace = "https://misskey-hub.net/ns#"
	// GoToSocialNamespace is GoToSocial's namespace.
	GoToSocialNamespace = "https://gotosocial.org/ns#"
)

// Misskey returns the Misskey (and forks') terms seen on notes, likes and
// actors: the MFM source of a note, quotes, emoji reactions, poll votes
// and isCat. Misskey defines them inline; so does our serializer.
func Misskey() Vocabulary {
	return Vocabulary{
		Name:      "Misskey",
		Namespace: MisskeyNamespace,
		Prefix:    "misskey",
		Properties: []PropertyDef{
			{Name: "_misskey_content", Kind: KindString, Functional: true},
			{Name: "_misskey_summary", Kind: KindString, Functional: true},
			{Name: "_misskey_quote", Kind: KindReference, Functional: true},
			{Name: "_misskey_reaction", Kind: KindString, Functional: true},
			{Name: "_misskey_votes", Kind: KindInteger, Functional: true},
			{Name: "isCat", Kind: KindBool, Functional: true},
		},
	}
}

// GoToSocial returns GoToSocial's interaction policy terms (who may like,
// reply to, announce or quote a post, and the approvals that record it).
// GoToSocial's context URL is recognised when parsing; documents we write
// define the terms inline.
func GoToSocial() Vocabulary {
	ref := func(name string, functional bool) PropertyDef {
		return PropertyDef{Name: name, Kind: KindReference, Functional: functional}
	}
	return Vocabulary{
		Name:           "GoToSocial",
		Namespace:      GoToSocialNamespace,
		Prefix:         "gts",
		ContextAliases: []string{"https://gotosocial.org/ns"},
		Types: []TypeDef{
			{Name: "LikeRequest", Bases: []string{"Like"}},
			{Name: "ReplyRequest", Bases: []string{"Create"}},
			{Name: "AnnounceRequest", Bases: []string{"Announce"}},
			{Name: "LikeAuthorization", Bases: []string{"Object"}},
			{Name: "ReplyAuthorization", Bases: []string{"Object"}},
			{Name: "AnnounceAuthorization", Bases: []string{"Object"}},
		},
		Properties: []PropertyDef{
			ref("interactionPolicy", true),
			ref("canLike", true), ref("canReply", true), ref("canAnnounce", true), ref("canQuote", true),
			ref("always", false), ref("approvalRequired", false),
			ref("automaticApproval", false), ref("manualApproval", false),
			ref("approvedBy", true), ref("interactingObject", true), ref("interactionTarget", true),
		},
	}
}
