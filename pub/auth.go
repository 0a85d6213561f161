package pub

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/commonroom/commonroom/pub/httpsig"
	"github.com/commonroom/commonroom/pub/transport"
	"github.com/commonroom/commonroom/streams"
)

// AuthConfig configures [NewAuthenticator]. Start from [DefaultAuthConfig].
type AuthConfig struct {
	// Keys resolves signers' keys. Required.
	Keys *Keys
	// Blocker is the domain-block policy, asked before any key fetch. Nil
	// blocks nothing.
	Blocker DomainBlocker
	// Clock is the clock of the signature time window.
	Clock Clock
	// Logger receives rejections (Info) and security events (Warn, with a
	// "security_event" attribute). Nil discards them.
	Logger *slog.Logger
	// Window is how far a signature's creation time may be from now, either
	// way (SECURITY rule 4). Default 1 h.
	Window time.Duration
	// MaxAge caps a signature's age even when its expires is later.
	// Default 12 h.
	MaxAge time.Duration
	// MaxBodyBytes caps inbox bodies; a longer one is answered 413 before it
	// is parsed (rule 19). Default 1 MiB.
	MaxBodyBytes int64
	// Registry parses inbox activities; nil means streams.Default().
	Registry *streams.Registry
	// Limits bound the activity parse (zero fields take streams' defaults);
	// a breach is answered 400 (rule 19).
	Limits streams.Limits
	// FetchBudget is how many HTTP requests handling one inbound request may
	// make, key fetches included (rule 20, Lemmy's http_fetch_limit).
	// Default 20.
	FetchBudget int
	// Scheme is the URI scheme requests arrived with, for RFC 9421's
	// @target-uri, when it cannot be told from the request (set "https"
	// behind a TLS-terminating proxy). "" reads it from the request.
	Scheme string
	// ExemptPaths are served by AuthorizedFetch without a signature: the
	// instance actor's path, so that peers can fetch our key to verify us
	// without a loop.
	ExemptPaths []string
}

// DefaultAuthConfig returns the defaults: 1 h window, 12 h maximum age,
// 1 MiB bodies, 20 fetches per request, streams' default limits, the system
// clock. Keys must still be set.
func DefaultAuthConfig() AuthConfig {
	return AuthConfig{
		Clock:        SystemClock{},
		Window:       time.Hour,
		MaxAge:       12 * time.Hour,
		MaxBodyBytes: 1 << 20,
		Limits:       streams.DefaultLimits(),
		FetchBudget:  20,
	}
}

// Authenticator verifies signed requests. Authenticate is the plain
// function; Inbox and AuthorizedFetch are the middlewares built on it. An
// Authenticator is safe for concurrent use.
type Authenticator struct {
	cfg      AuthConfig
	verifier *httpsig.Verifier
	log      *slog.Logger
}

// NewAuthenticator checks cfg and returns an Authenticator.
func NewAuthenticator(cfg AuthConfig) (*Authenticator, error) {
	if cfg.Keys == nil {
		return nil, errors.New("pub: authenticator: nil Keys")
	}
	def := DefaultAuthConfig()
	if cfg.Clock == nil {
		cfg.Clock = def.Clock
	}
	if cfg.Window <= 0 {
		cfg.Window = def.Window
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = def.MaxAge
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = def.MaxBodyBytes
	}
	if cfg.FetchBudget <= 0 {
		cfg.FetchBudget = def.FetchBudget
	}
	if cfg.Registry == nil {
		cfg.Registry = streams.Default()
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	v := httpsig.NewVerifier(httpsig.Config{
		Window:     cfg.Window,
		MaxAge:     cfg.MaxAge,
		Now:        cfg.Clock.Now,
		MinRSABits: MinRSABits,
		Scheme:     cfg.Scheme,
		SHA256Only: true,
	})
	return &Authenticator{cfg: cfg, verifier: v, log: log}, nil
}

// errPrechecked is what the probe resolver returns: every check that needs
// no key has passed.
var errPrechecked = errors.New("pub: prechecks passed")

// Authenticate verifies r's signature over body (the exact raw body; nil
// for a GET) and returns the verified signer. In order, with no network
// call before step 4:
//
//  1. no signature → ErrUnsigned (rule 1); a malformed one → ErrBadSignature;
//  2. a key id that is not an http(s) URL (acct:...) → ErrBadSignature; a
//     key id whose host the Blocker blocks → ErrBlocked (rule 10);
//  3. strength rules, time window and body digest (rules 2-5) →
//     ErrBadSignature;
//  4. the key is resolved through Keys.Verify (local keys, cache, fetch with
//     owner binding, refetch cool-off, tombstones: rules 7, 9, 24, 25) and
//     the signature checked.
//
// Authenticate does not read r.Body. Wrap ctx with transport.WithBudget to
// bound the fetches it may make.
func (a *Authenticator) Authenticate(ctx context.Context, r *http.Request, body []byte) (VerifiedSigner, error) {
	sig, err := a.precheck(ctx, r, body)
	if err != nil {
		return VerifiedSigner{}, err
	}
	return a.verify(ctx, sig, body)
}

// precheck runs steps 1-3 of Authenticate.
func (a *Authenticator) precheck(ctx context.Context, r *http.Request, body []byte) (*httpsig.Signature, error) {
	sig, err := a.verifier.Parse(r)
	if err != nil {
		if errors.Is(err, httpsig.ErrMissingSignature) {
			return nil, fmt.Errorf("%w: %w", ErrUnsigned, err)
		}
		return nil, fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	if _, err := transport.ParseOrigin(sig.KeyID); err != nil {
		return nil, fmt.Errorf("%w: key id %q is not an http(s) URL", ErrBadSignature, sig.KeyID)
	}
	if err := a.checkBlocked(ctx, sig.KeyID); err != nil {
		return nil, err
	}
	_, err = a.verifier.Verify(ctx, sig, body, func(context.Context, string) (crypto.PublicKey, error) {
		return nil, errPrechecked
	})
	if !errors.Is(err, errPrechecked) {
		return nil, fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	return sig, nil
}

// checkBlocked returns ErrBlocked when iri's host is domain-blocked. An
// iri that is not an http(s) URL is left to the other checks.
func (a *Authenticator) checkBlocked(ctx context.Context, iri string) error {
	if a.cfg.Blocker == nil {
		return nil
	}
	o, err := transport.ParseOrigin(iri)
	if err != nil {
		return nil
	}
	blocked, err := a.cfg.Blocker.DomainBlocked(ctx, o.Host)
	if err != nil {
		return fmt.Errorf("pub: domain block check for %s: %w", o.Host, err)
	}
	if blocked {
		return fmt.Errorf("%s: %w", iri, ErrBlocked)
	}
	return nil
}

// verify runs step 4 of Authenticate.
func (a *Authenticator) verify(ctx context.Context, sig *httpsig.Signature, body []byte) (VerifiedSigner, error) {
	return a.cfg.Keys.Verify(ctx, sig.KeyID, func(pub crypto.PublicKey) error {
		_, err := a.verifier.Verify(ctx, sig, body, func(context.Context, string) (crypto.PublicKey, error) {
			return pub, nil
		})
		return err
	})
}

// verifyCached is verify with Keys.VerifyCached: no fetch, stale keys
// accepted.
func (a *Authenticator) verifyCached(ctx context.Context, sig *httpsig.Signature, body []byte) (VerifiedSigner, error) {
	return a.cfg.Keys.VerifyCached(ctx, sig.KeyID, func(pub crypto.PublicKey) error {
		_, err := a.verifier.Verify(ctx, sig, body, func(context.Context, string) (crypto.PublicKey, error) {
			return pub, nil
		})
		return err
	})
}

type ctxKey uint8

const (
	signerKey ctxKey = iota
	activityKey
	checkKey
)

// ContextWithSigner returns ctx carrying s, as the middlewares do.
func ContextWithSigner(ctx context.Context, s VerifiedSigner) context.Context {
	return context.WithValue(ctx, signerKey, s)
}

// SignerFromContext returns the verified signer Inbox or AuthorizedFetch
// put in the request context, and false when there is none (the request was
// not authenticated, or was exempt).
func SignerFromContext(ctx context.Context) (VerifiedSigner, bool) {
	s, ok := ctx.Value(signerKey).(VerifiedSigner)
	return s, ok
}

// ActivityFromContext returns the parsed activity Inbox put in the request
// context, and the result of CheckActivity on it. The object must be treated
// as read-only.
func ActivityFromContext(ctx context.Context) (*streams.Object, ActivityCheck, bool) {
	act, ok := ctx.Value(activityKey).(*streams.Object)
	check, _ := ctx.Value(checkKey).(ActivityCheck)
	return act, check, ok
}

// Inbox is the middleware in front of an inbox (personal or shared). For a
// POST it: caps the body (413 before parsing, rule 19); refuses unsigned
// requests (401, rule 1); checks the key id against the domain blocks (403,
// rule 10) and the signature's strength, time window and digest (401, rules
// 2-5); parses the activity under streams limits (400, rule 19); checks the
// activity's actor against the domain blocks too (403); answers 202
// to a self-Delete of an actor whose key was never cached, without fetching,
// and verifies any other self-Delete with the cached key only, even a stale
// one (rule 25); verifies the key (401, or 202 for a gone key); refuses an
// activity whose actor is on our origin when the signer is not local (401 and
// a security event, rule 9) and runs CheckActivity (401 rule 6, 403 rule 8).
// All this runs within a transport fetch budget (rule 20) that next shares.
//
// On success next is called with the signer and the activity in the context
// (SignerFromContext, ActivityFromContext) and r.Body replaced by the bytes
// read. On failure Inbox writes the response itself and next is not called.
// Methods other than POST get 405.
func (a *Authenticator) Inbox(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		ctx := transport.WithBudget(r.Context(), a.cfg.FetchBudget)
		signer, act, check, err := a.inbox(ctx, r)
		if err != nil {
			a.reject(ctx, w, r, err)
			return
		}
		ctx = ContextWithSigner(ctx, signer)
		ctx = context.WithValue(ctx, activityKey, act)
		ctx = context.WithValue(ctx, checkKey, check)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func (a *Authenticator) inbox(ctx context.Context, r *http.Request) (VerifiedSigner, *streams.Object, ActivityCheck, error) {
	var none ActivityCheck
	body, err := readCapped(r, a.cfg.MaxBodyBytes)
	if err != nil {
		return VerifiedSigner{}, nil, none, err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	sig, err := a.precheck(ctx, r, body)
	if err != nil {
		return VerifiedSigner{}, nil, none, err
	}
	act, err := a.cfg.Registry.ParseLimits(body, a.cfg.Limits)
	if err != nil {
		return VerifiedSigner{}, nil, none, fmt.Errorf("%w: %w", ErrInvalidActivity, err)
	}
	if actor := act.IRI("actor"); actor != "" {
		if err := a.checkBlocked(ctx, actor); err != nil {
			return VerifiedSigner{}, nil, none, err
		}
	}
	verify := a.verify
	if isSelfDelete(act) {
		if _, err := a.cfg.Keys.Cached(ctx, sig.KeyID); errors.Is(err, ErrNotFound) && !a.cfg.Keys.IsLocal(sig.KeyID) {
			return VerifiedSigner{}, nil, none, fmt.Errorf("delete of %s: %w", act.IRI("actor"), ErrUnknownActorDeleted)
		}
		// The actor's documents are gone: verify with the key we have.
		verify = a.verifyCached
	}
	signer, err := verify(ctx, sig, body)
	if err != nil {
		return VerifiedSigner{}, nil, none, err
	}
	if actor := act.IRI("actor"); !signer.Local && a.cfg.Keys.IsLocal(actor) {
		a.security(ctx, "local_actor_claimed", slog.String("actor", actor), slog.String("key_id", signer.KeyID))
		return VerifiedSigner{}, nil, none, fmt.Errorf("activity by local actor %s signed by %s: %w", actor, signer.KeyID, ErrLocalImpersonation)
	}
	check, err := CheckActivity(signer, act)
	if err != nil {
		return VerifiedSigner{}, nil, none, err
	}
	return signer, act, check, nil
}

// isSelfDelete reports whether act is a Delete whose object is its actor.
func isSelfDelete(act *streams.Object) bool {
	actor := act.IRI("actor")
	return act.Is("Delete") && actor != "" && act.IRI("object") == actor
}

// readCapped reads r's body, refusing more than max bytes (by Content-Length
// before reading, or while reading) with ErrBodyTooLarge.
func readCapped(r *http.Request, max int64) ([]byte, error) {
	if r.ContentLength > max {
		return nil, fmt.Errorf("body of %d bytes, cap %d: %w", r.ContentLength, max, ErrBodyTooLarge)
	}
	if r.Body == nil {
		return nil, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		return nil, fmt.Errorf("%w: read body: %w", ErrInvalidActivity, err)
	}
	if int64(len(body)) > max {
		return nil, fmt.Errorf("body over %d bytes: %w", max, ErrBodyTooLarge)
	}
	return body, nil
}

// AuthorizedFetch is the middleware for GETs of actors and objects in
// authorized-fetch mode: a GET or HEAD must carry a valid signature from a
// non-blocked domain (401 unsigned or invalid, 403 blocked); the verified
// signer is put in the context for next. Requests for ExemptPaths (the
// instance actor) pass unsigned, so that key resolution cannot loop between
// two servers in this mode. Other methods pass through unchanged, and so
// does a request whose context already carries a verified signer (an outer
// AuthorizedFetch checked it), so that nesting verifies once.
func (a *Authenticator) AuthorizedFetch(next http.Handler) http.Handler {
	exempt := make(map[string]bool, len(a.cfg.ExemptPaths))
	for _, p := range a.cfg.ExemptPaths {
		exempt[p] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (r.Method != http.MethodGet && r.Method != http.MethodHead) || exempt[r.URL.Path] {
			next.ServeHTTP(w, r)
			return
		}
		if _, ok := SignerFromContext(r.Context()); ok {
			next.ServeHTTP(w, r)
			return
		}
		ctx := transport.WithBudget(r.Context(), a.cfg.FetchBudget)
		signer, err := a.Authenticate(ctx, r, nil)
		if err != nil {
			if errors.Is(err, ErrKeyGone) {
				err = fmt.Errorf("%w: %w", ErrBadSignature, err)
			}
			a.reject(ctx, w, r, err)
			return
		}
		w.Header().Add("Vary", "Signature")
		next.ServeHTTP(w, r.WithContext(ContextWithSigner(r.Context(), signer)))
	})
}

// reject answers a refused request with StatusFor(err) and a short text
// body, and logs the reason. 401 answers carry no detail beyond the status.
func (a *Authenticator) reject(ctx context.Context, w http.ResponseWriter, r *http.Request, err error) {
	status := StatusFor(err)
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	a.log.LogAttrs(ctx, level, "pub: request refused",
		slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.Int("status", status), slog.Any("error", err))
	if status == http.StatusAccepted {
		w.WriteHeader(status)
		return
	}
	http.Error(w, http.StatusText(status), status)
}

func (a *Authenticator) security(ctx context.Context, event string, attrs ...slog.Attr) {
	a.log.LogAttrs(ctx, slog.LevelWarn, "pub: security event",
		append([]slog.Attr{slog.String("security_event", event)}, attrs...)...)
}
