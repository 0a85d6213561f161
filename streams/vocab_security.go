package streams

// Security returns the security v1 vocabulary as fediverse servers use it:
// the publicKey of an actor (id, owner, publicKeyPem) and the terms of
// linked data signatures (signature, creator, created, nonce...).
func Security() Vocabulary {
	return Vocabulary{
		Name:       "Security v1",
		Namespace:  SecurityNamespace,
		Prefix:     "sec",
		ContextURL: SecurityContextURL,
		ContextAliases: []string{
			"http://w3id.org/security/v1",
			"https://w3id.org/security/v1.jsonld",
		},
		Context: []byte(`{"dc": "http://purl.org/dc/terms/"}`),
		Types: []TypeDef{
			{Name: "Key"},
			{Name: "CryptographicKey", IRI: "sec:Key"},
			{Name: "RsaSignature2017", Inline: true},
			{Name: "LinkedDataSignature2015"},
		},
		Properties: []PropertyDef{
			{Name: "publicKey", Kind: KindReference},
			{Name: "owner", Kind: KindReference, Functional: true},
			{Name: "publicKeyPem", Kind: KindString, Functional: true},
			{Name: "signature", Kind: KindReference},
			{Name: "signatureValue", Kind: KindString, Functional: true},
			{Name: "signatureAlgorithm", IRI: "sec:signingAlgorithm", Kind: KindAny, Functional: true},
			{Name: "creator", IRI: "http://purl.org/dc/terms/creator", Kind: KindReference, Functional: true},
			{Name: "created", IRI: "http://purl.org/dc/terms/created", Kind: KindDateTime, Functional: true},
			{Name: "nonce", Kind: KindString, Functional: true},
			{Name: "expires", IRI: "sec:expiration", Kind: KindDateTime, Functional: true},
			{Name: "expiration", Kind: KindDateTime, Functional: true},
			{Name: "domain", Kind: KindString, Functional: true},
			{Name: "revoked", Kind: KindDateTime, Functional: true},
		},
	}
}

// DataIntegrity returns the FEP-521a key terms (Multikey, controller,
// publicKeyMultibase, assertionMethod) and the data integrity proof terms
// (DataIntegrityProof, proof, cryptosuite, proofPurpose, proofValue,
// verificationMethod), all in the security namespace.
func DataIntegrity() Vocabulary {
	return Vocabulary{
		Name:       "Multikey and Data Integrity (FEP-521a)",
		Namespace:  SecurityNamespace,
		Prefix:     "sec",
		ContextURL: MultikeyContextURL,
		ContextAliases: []string{
			"https://w3id.org/security/data-integrity/v1",
			"https://w3id.org/security/data-integrity/v2",
			"https://www.w3.org/ns/cid/v1",
			"https://www.w3.org/ns/did/v1",
		},
		Types: []TypeDef{
			{Name: "Multikey"},
			{Name: "DataIntegrityProof", Inline: true},
		},
		Properties: []PropertyDef{
			{Name: "controller", Kind: KindReference, Functional: true},
			{Name: "publicKeyMultibase", Kind: KindString, Functional: true},
			{Name: "assertionMethod", Kind: KindReference, Container: "@set", Inline: true},
			{Name: "proof", Kind: KindReference, Inline: true},
			{Name: "cryptosuite", Kind: KindString, Functional: true, Inline: true},
			{Name: "proofPurpose", Kind: KindString, Functional: true, Inline: true},
			{Name: "proofValue", Kind: KindString, Functional: true, Inline: true},
			{Name: "verificationMethod", Kind: KindReference, Functional: true, Inline: true},
		},
	}
}
