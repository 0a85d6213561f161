package httpsig_test

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/commonroom/commonroom/pub/httpsig"
)

// Signing a delivery, then verifying it in two steps as an inbox does: the
// key id is known (and can be checked against block lists) before the key is
// looked up.
func ExampleVerifier() {
	_, priv, _ := ed25519.GenerateKey(nil)
	now := func() time.Time { return time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC) }
	const keyID = "https://good.example/users/alice#main-key"

	signer, err := httpsig.NewSigner(priv, keyID, now)
	if err != nil {
		panic(err)
	}
	body := []byte(`{"type":"Follow"}`)
	req, _ := http.NewRequest(http.MethodPost, "https://local.example/users/bob/inbox", nil)
	if err := signer.Sign(req, body, httpsig.Cavage); err != nil {
		panic(err)
	}

	v := httpsig.NewVerifier(httpsig.Config{Now: now})
	sig, err := v.Parse(req)
	if errors.Is(err, httpsig.ErrMissingSignature) {
		fmt.Println("401: unsigned")
		return
	} else if err != nil {
		fmt.Println("401:", err)
		return
	}
	if strings.Contains(sig.KeyID, "evil.example") {
		fmt.Println("403: blocked domain")
		return
	}
	res, err := v.Verify(context.Background(), sig, body, func(_ context.Context, id string) (crypto.PublicKey, error) {
		return priv.Public(), nil // a real resolver fetches and caches the actor's key
	})
	if err != nil {
		fmt.Println("401:", err)
		return
	}
	fmt.Println(res.KeyID, res.Scheme, res.Algorithm, res.Components)
	// Output: https://good.example/users/alice#main-key draft-cavage-12 ed25519 [(request-target) host date digest]
}

// Signing a GET with RFC 9421.
func ExampleSigner_Sign() {
	seed := make([]byte, ed25519.SeedSize)
	signer, _ := httpsig.NewSigner(ed25519.NewKeyFromSeed(seed), "https://local.example/actor#main-key",
		func() time.Time { return time.Unix(1795262400, 0) })
	req, _ := http.NewRequest(http.MethodGet, "https://remote.example/users/bob", nil)
	if err := signer.Sign(req, nil, httpsig.RFC9421); err != nil {
		panic(err)
	}
	fmt.Println(req.Header.Get("Signature-Input"))
	// Output: sig1=("@method" "@target-uri");created=1795262400;keyid="https://local.example/actor#main-key";alg="ed25519"
}

// The delivery code asks which scheme to sign with and reports the outcome.
func ExampleHostSchemes() {
	schemes := httpsig.NewHostSchemes(nil, 0)
	fmt.Println(schemes.Order("mastodon.example"))
	schemes.Accepted("mastodon.example", httpsig.RFC9421)
	fmt.Println(schemes.Order("mastodon.example"))
	schemes.Rejected("mastodon.example", httpsig.RFC9421)
	fmt.Println(schemes.Preferred("mastodon.example"))
	// Output:
	// [draft-cavage-12 rfc9421]
	// [rfc9421 draft-cavage-12]
	// draft-cavage-12
}

// Reading the key forms actor documents publish.
func ExampleParseMultikey() {
	pub, err := httpsig.ParseMultikey("z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp")
	if err != nil {
		panic(err)
	}
	pemText, _ := httpsig.EncodePublicKeyPEM(pub)
	fmt.Print(pemText)
	// Output:
	// -----BEGIN PUBLIC KEY-----
	// MCowBQYDK2VwAyEAO2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik=
	// -----END PUBLIC KEY-----
}
