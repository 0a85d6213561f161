package oauth

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/uptrace/bun"

	"github.com/commonroom/commonroom/internal/errkind"
)

// Cookie names. The session cookie holds a random 256-bit id whose SHA-256
// is the oauth_sessions key; the CSRF cookie holds a random value that
// signed-out forms (sign-in, sign-up) are bound to.
const (
	sessionCookie = "commonroom_session"
	csrfCookie    = "commonroom_csrf"
	formTokenName = "csrf_token"
)

// sessionRow is a signed-in browser.
type sessionRow struct {
	bun.BaseModel `bun:"table:oauth_sessions,alias:s"`

	ID        int64     `bun:"id,pk"`
	TokenHash string    `bun:"token_hash,notnull"`
	AccountID int64     `bun:"account_id,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
	ExpiresAt time.Time `bun:"expires_at,notnull"`
}

// session is a loaded session: its row, the raw cookie value (the form
// token is derived from it) and its account.
type session struct {
	raw     string
	row     sessionRow
	account *Account
}

func (s *Service) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   !s.cfg.InsecureHTTP,
		SameSite: http.SameSiteLaxMode,
	}
}

// startSession signs the browser in as account a: a new session row and
// cookie, and a fresh CSRF cookie (so a token planted before sign-in is
// worthless after it).
func (s *Service) startSession(ctx context.Context, w http.ResponseWriter, a *Account) (*session, error) {
	raw, err := s.newSecret()
	if err != nil {
		return nil, err
	}
	id, err := s.ids.Next()
	if err != nil {
		return nil, fmt.Errorf("oauth: session: %w", err)
	}
	now := s.now().UTC()
	row := sessionRow{ID: id, TokenHash: hashSecret(raw), AccountID: a.ID, CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL)}
	if _, err := s.db.NewInsert().Model(&row).Exec(ctx); err != nil {
		return nil, fmt.Errorf("oauth: store session: %w", err)
	}
	http.SetCookie(w, s.cookie(sessionCookie, raw, int(s.cfg.SessionTTL/time.Second)))
	http.SetCookie(w, s.cookie(csrfCookie, "", -1))
	return &session{raw: raw, row: row, account: a}, nil
}

// loadSession returns the browser's session, or nil when it has none, an
// expired one, or one whose account is gone (NotFound) or may no longer
// sign in (pending, suspended). Any other failure to load the account is
// an error, not a sign-out: the caller answers 500.
func (s *Service) loadSession(r *http.Request) (*session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return nil, nil
	}
	var row sessionRow
	err = s.db.NewSelect().Model(&row).Where("token_hash = ?", hashSecret(c.Value)).Scan(r.Context())
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("oauth: load session: %w", err)
	}
	if !s.now().Before(row.ExpiresAt) {
		return nil, nil
	}
	a, err := s.accounts.ByID(r.Context(), row.AccountID)
	if errkind.Of(err) == errkind.NotFound {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("oauth: account %d of session: %w", row.AccountID, err)
	}
	if a == nil || !a.Active() {
		return nil, nil
	}
	return &session{raw: c.Value, row: row, account: a}, nil
}

// endSession signs the browser out.
func (s *Service) endSession(ctx context.Context, w http.ResponseWriter, sess *session) error {
	http.SetCookie(w, s.cookie(sessionCookie, "", -1))
	http.SetCookie(w, s.cookie(csrfCookie, "", -1))
	if sess == nil {
		return nil
	}
	if _, err := s.db.NewDelete().Model((*sessionRow)(nil)).Where("id = ?", sess.row.ID).Exec(ctx); err != nil {
		return fmt.Errorf("oauth: end session: %w", err)
	}
	return nil
}

// formToken returns the CSRF token to put in a form: derived from the
// session id when signed in, otherwise from the CSRF cookie (set here if
// the browser has none).
func (s *Service) formToken(w http.ResponseWriter, r *http.Request, sess *session) (string, error) {
	if sess != nil {
		return deriveFormToken(sess.raw), nil
	}
	if v, ok := csrfCookieValue(r); ok {
		return deriveFormToken(v), nil
	}
	v, err := s.newSecret()
	if err != nil {
		return "", err
	}
	http.SetCookie(w, s.cookie(csrfCookie, v, 0))
	// Later code in this request (re-rendering a form) sees the new value.
	r.AddCookie(&http.Cookie{Name: csrfCookie, Value: v})
	return deriveFormToken(v), nil
}

// checkFormToken reports whether the posted form token matches the
// browser's session or CSRF cookie.
func (s *Service) checkFormToken(r *http.Request, sess *session) bool {
	got := r.PostForm.Get(formTokenName)
	if got == "" {
		return false
	}
	var base string
	if sess != nil {
		base = sess.raw
	} else if v, ok := csrfCookieValue(r); ok {
		base = v
	} else {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(deriveFormToken(base))) == 1
}

// csrfCookieValue returns the browser's CSRF cookie when it has a plausible
// length.
func csrfCookieValue(r *http.Request) (string, bool) {
	c, err := r.Cookie(csrfCookie)
	if err != nil || len(c.Value) < 32 || len(c.Value) > 100 {
		return "", false
	}
	return c.Value, true
}

// deriveFormToken is the form token of a session id or CSRF cookie value: a
// hash under a fixed label, so the token reveals nothing of the cookie.
func deriveFormToken(base string) string {
	return hashSecret("commonroom form token\x00" + base)
}
