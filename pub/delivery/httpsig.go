package delivery

import (
	"errors"
	"net/http"
	"sync"

	"github.com/commonroom/commonroom/pub/httpsig"
)

// SendReporter is implemented by signers that learn from the answers to the
// requests they signed. After each send the Pool calls ReportSend on the
// signer it used, with the final status (0 when no response arrived).
type SendReporter interface {
	ReportSend(status int)
}

// HTTPSigSigner is a [Signer] over a pub/httpsig key that signs with the
// scheme Schemes prefers for the request's host (keyed by [HostOf]) (draft-cavage when Schemes
// is nil or knows nothing of the host), and reports back to Schemes which
// scheme the host accepted (a 2xx answer) or refused (a 401).
//
// It remembers the last request it signed, so a [SignerSource] should return
// a new one for each call ([NewHTTPSigSigner] is cheap); it is safe for
// concurrent use, but reports from concurrent sends through one signer may
// be attributed to the wrong request.
type HTTPSigSigner struct {
	signer  *httpsig.Signer
	schemes *httpsig.HostSchemes

	mu     sync.Mutex
	host   string
	scheme httpsig.Scheme
}

var (
	_ Signer       = (*HTTPSigSigner)(nil)
	_ SendReporter = (*HTTPSigSigner)(nil)
)

// NewHTTPSigSigner returns a signer for key; schemes may be nil.
func NewHTTPSigSigner(key *httpsig.Signer, schemes *httpsig.HostSchemes) *HTTPSigSigner {
	return &HTTPSigSigner{signer: key, schemes: schemes}
}

// SignRequest signs req and body.
func (s *HTTPSigSigner) SignRequest(req *http.Request, body []byte) error {
	if s.signer == nil {
		return errors.New("delivery: HTTPSigSigner without a key")
	}
	host := hostKey(req)
	scheme := httpsig.Cavage
	if s.schemes != nil {
		scheme = s.schemes.Preferred(host)
	}
	if err := s.signer.Sign(req, body, scheme); err != nil {
		return err
	}
	s.mu.Lock()
	s.host, s.scheme = host, scheme
	s.mu.Unlock()
	return nil
}

// hostKey is the key Schemes remembers req's host under: the host key of
// [HostOf] (pub/transport's origin rule), so that every spelling of one
// origin shares one memory. A URL HostOf refuses keeps its raw host; the
// transport refuses to send it anyway.
func hostKey(req *http.Request) string {
	if req.URL == nil {
		return req.Host
	}
	if h, err := HostOf(req.URL.String()); err == nil {
		return h
	}
	return req.URL.Host
}

// ReportSend records the outcome of the last signed request in Schemes: a
// 2xx means the host accepted the scheme, a 401 that it refused it (the next
// attempt tries the other one).
func (s *HTTPSigSigner) ReportSend(status int) {
	if s.schemes == nil {
		return
	}
	s.mu.Lock()
	host, scheme := s.host, s.scheme
	s.mu.Unlock()
	switch {
	case host == "":
	case status >= 200 && status <= 299:
		s.schemes.Accepted(host, scheme)
	case status == http.StatusUnauthorized:
		s.schemes.Rejected(host, scheme)
	}
}
