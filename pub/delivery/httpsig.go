package delivery

import (
	"errors"
	"net/http"

	"github.com/commonroom/commonroom/pub/httpsig"
)

// HTTPSigSigner is a [Signer] over a pub/httpsig key: it signs with the scheme
// Schemes prefers for the request's host (draft-cavage when Schemes is nil
// or knows nothing of the host). A [SignerSource] returns one per local key.
// It is safe for concurrent use.
type HTTPSigSigner struct {
	Signer  *httpsig.Signer
	Schemes *httpsig.HostSchemes
}

var _ Signer = HTTPSigSigner{}

// SignRequest signs req and body.
func (s HTTPSigSigner) SignRequest(req *http.Request, body []byte) error {
	if s.Signer == nil {
		return errors.New("delivery: HTTPSigSigner without a key")
	}
	scheme := httpsig.Cavage
	if s.Schemes != nil {
		scheme = s.Schemes.Preferred(req.URL.Host)
	}
	return s.Signer.Sign(req, body, scheme)
}
