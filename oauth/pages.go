package oauth

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/commonroom/commonroom/internal/errkind"
)

// pageData is what the page templates see.
type pageData struct {
	Title       string
	Error       string
	Notice      string
	CSRF        string
	ReturnTo    string
	Values      map[string]string
	FieldErrors map[string]string
	Account     *Account
	SignUpOpen  bool
	Mode        RegistrationMode

	// The consent page.
	App         *App
	Scopes      []scopeItem
	Hidden      []hiddenField
	RedirectURI string
	OOB         bool
	// The out-of-band code page.
	Code        string
	CodeMinutes int
	// Message pages.
	Paragraphs []string

	focusTaken bool
}

type scopeItem struct{ Name, Words string }

type hiddenField struct{ Name, Value string }

// inputData is one labelled input of a form.
type inputData struct {
	Name, Label, Type, Autocomplete, Hint, Value, Error string
	Focus                                               bool
}

// field builds the data of one input: its value (never for passwords),
// its error, and whether it takes the focus (the first field with an
// error, or the first field of a form without errors).
func field(p *pageData, name, label, typ, autocomplete, hint string) inputData {
	in := inputData{Name: name, Label: label, Type: typ, Autocomplete: autocomplete, Hint: hint}
	if typ != "password" {
		in.Value = p.Values[name]
	}
	in.Error = p.FieldErrors[name]
	if !p.focusTaken && (in.Error != "" || len(p.FieldErrors) == 0) {
		in.Focus, p.focusTaken = true, true
	}
	return in
}

func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, page string, p *pageData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := h.pages[page].ExecuteTemplate(w, "layout", p); err != nil {
		h.log.ErrorContext(r.Context(), "oauth: render page", "page", page, "err", err)
	}
}

func (h *Handler) renderMessage(w http.ResponseWriter, r *http.Request, status int, title string, paragraphs ...string) {
	h.render(w, r, status, "message", &pageData{Title: title, Paragraphs: paragraphs})
}

func (h *Handler) internalError(w http.ResponseWriter, r *http.Request, err error) {
	h.log.ErrorContext(r.Context(), "oauth: page failed", "path", r.URL.Path, "err", err)
	h.renderMessage(w, r, http.StatusInternalServerError, "Something went wrong", "Please try again in a moment.")
}

func (h *Handler) tooMany(w http.ResponseWriter, r *http.Request) {
	h.renderMessage(w, r, http.StatusTooManyRequests, "Too many attempts", "Please wait a few minutes before trying again.")
}

// safeReturnTo accepts only a path on this server (no scheme, no host, no
// "//" or "/\" prefix), so sign-in cannot be used to redirect elsewhere.
func safeReturnTo(s string) string {
	if s == "" || len(s) > 4000 || !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.HasPrefix(s, "/\\") {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || strings.ContainsAny(s, "\r\n\t") {
		return ""
	}
	return s
}

func (h *Handler) signUpOpen() bool { return h.svc.cfg.Registration != RegistrationClosed }

// formPage prepares a form page: the session (if any) and its form token.
func (h *Handler) formPage(w http.ResponseWriter, r *http.Request, title string) (*pageData, *session, error) {
	sess, err := h.svc.loadSession(r)
	if err != nil {
		return nil, nil, err
	}
	token, err := h.svc.formToken(w, r, sess)
	if err != nil {
		return nil, nil, err
	}
	p := &pageData{Title: title, CSRF: token, Values: map[string]string{}, FieldErrors: map[string]string{}, SignUpOpen: h.signUpOpen(), Mode: h.svc.cfg.Registration}
	if sess != nil {
		p.Account = sess.account
	}
	return p, sess, nil
}

// readForm parses a page's form body (size-limited) and checks its CSRF
// token; it has answered the request when it returns false.
func (h *Handler) readForm(w http.ResponseWriter, r *http.Request, sess *session) bool {
	r.Body = http.MaxBytesReader(w, r.Body, h.svc.cfg.MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		h.renderMessage(w, r, http.StatusBadRequest, "Request refused", "The form could not be read.")
		return false
	}
	if !h.svc.checkFormToken(r, sess) {
		h.renderMessage(w, r, http.StatusForbidden, "Request refused", "This form has expired or did not come from this site. Go back, reload the page and try again.")
		return false
	}
	return true
}

func (h *Handler) signInPage(w http.ResponseWriter, r *http.Request) {
	p, _, err := h.formPage(w, r, "Sign in")
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	p.ReturnTo = safeReturnTo(r.URL.Query().Get("return_to"))
	switch {
	case p.Account != nil && r.URL.Query().Get("force") == "1":
		// Show the form although someone is signed in (force_login).
		p.Notice = "You are signed in as " + p.Account.Username + ". Sign in with the account you want to use."
		p.Account = nil
	case p.Account != nil && p.ReturnTo != "":
		http.Redirect(w, r, p.ReturnTo, http.StatusSeeOther)
		return
	case p.Account != nil:
		p.Title = "Signed in"
	}
	h.render(w, r, http.StatusOK, "sign_in", p)
}

// signIn checks the credentials: throttled per IP address (SECURITY.md rule
// 31), CSRF-checked, and on success a new session replaces any old one.
func (h *Handler) signIn(w http.ResponseWriter, r *http.Request) {
	if h.loginLimit.OnLimit(w, r, h.ipKey(r)) {
		h.tooMany(w, r)
		return
	}
	p, sess, err := h.formPage(w, r, "Sign in")
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	if !h.readForm(w, r, sess) {
		return
	}
	p.ReturnTo = safeReturnTo(r.PostForm.Get("return_to"))
	username := strings.TrimSpace(r.PostForm.Get("username"))
	password := r.PostForm.Get("password")
	p.Values["username"] = username
	if username == "" || password == "" {
		if username == "" {
			p.FieldErrors["username"] = "Enter your username."
		}
		if password == "" {
			p.FieldErrors["password"] = "Enter your password."
		}
		p.Error = "Please fill in both fields."
		h.render(w, r, http.StatusUnprocessableEntity, "sign_in", p)
		return
	}
	a, err := h.svc.accounts.Authenticate(r.Context(), username, password)
	if err != nil {
		if k := errkind.Of(err); k == errkind.Unauthorized || k == errkind.NotFound || k == errkind.Invalid {
			p.Error = "The username or password is not right."
			p.FieldErrors["password"] = "Check your password and try again."
			h.render(w, r, http.StatusUnauthorized, "sign_in", p)
			return
		}
		h.internalError(w, r, err)
		return
	}
	if !a.Active() {
		p.Error = errkind.Message(errAccountInactive(a))
		h.render(w, r, http.StatusForbidden, "sign_in", p)
		return
	}
	h.switchSession(w, r, sess, a, p.ReturnTo)
}

// switchSession signs a in: it ends the old session, if any, starts a new
// one and redirects to returnTo, or to the sign-in page when that is empty.
func (h *Handler) switchSession(w http.ResponseWriter, r *http.Request, old *session, a *Account, returnTo string) {
	if old != nil {
		if err := h.svc.endSession(r.Context(), w, old); err != nil {
			h.internalError(w, r, err)
			return
		}
	}
	if _, err := h.svc.startSession(r.Context(), w, a); err != nil {
		h.internalError(w, r, err)
		return
	}
	if returnTo == "" {
		returnTo = "/oauth/sign_in"
	}
	http.Redirect(w, r, returnTo, http.StatusSeeOther)
}

func (h *Handler) signOut(w http.ResponseWriter, r *http.Request) {
	sess, err := h.svc.loadSession(r)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	if !h.readForm(w, r, sess) {
		return
	}
	if err := h.svc.endSession(r.Context(), w, sess); err != nil {
		h.internalError(w, r, err)
		return
	}
	http.Redirect(w, r, "/oauth/sign_in", http.StatusSeeOther)
}

func (h *Handler) signUpPage(w http.ResponseWriter, r *http.Request) {
	p, _, err := h.formPage(w, r, "Create an account")
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	p.ReturnTo = safeReturnTo(r.URL.Query().Get("return_to"))
	status := http.StatusOK
	if !p.SignUpOpen {
		p.Title = "Sign-ups are closed"
		status = http.StatusForbidden
	}
	h.render(w, r, status, "sign_up", p)
}

// signUp creates an account according to the registration mode. It is
// throttled per email address (the endpoint would send mail) and per IP
// address; bad input stores nothing.
func (h *Handler) signUp(w http.ResponseWriter, r *http.Request) {
	p, sess, err := h.formPage(w, r, "Create an account")
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	if !p.SignUpOpen {
		p.Title = "Sign-ups are closed"
		h.render(w, r, http.StatusForbidden, "sign_up", p)
		return
	}
	if !h.readForm(w, r, sess) {
		return
	}
	f := r.PostForm
	email := strings.TrimSpace(f.Get("email"))
	if (email != "" && h.signUpLimit.OnLimit(w, r, "email:"+strings.ToLower(email))) || h.signUpIP.OnLimit(w, r, h.ipKey(r)) {
		h.tooMany(w, r)
		return
	}
	p.ReturnTo = safeReturnTo(f.Get("return_to"))
	na := NewAccount{
		Username: strings.TrimSpace(f.Get("username")),
		Email:    email,
		Password: f.Get("password"),
		Pending:  h.svc.cfg.Registration == RegistrationApproval,
	}
	p.Values["username"], p.Values["email"], p.Values["invite_code"] = na.Username, na.Email, f.Get("invite_code")
	fail := func(status int, fieldName, msg string) {
		p.FieldErrors[fieldName] = msg
		p.Error = "Please correct the highlighted field."
		h.render(w, r, status, "sign_up", p)
	}
	switch {
	case na.Username == "":
		fail(http.StatusUnprocessableEntity, "username", "Choose a username.")
		return
	case na.Email == "":
		fail(http.StatusUnprocessableEntity, "email", "Enter your email address.")
		return
	case na.Password == "":
		fail(http.StatusUnprocessableEntity, "password", "Choose a password.")
		return
	case na.Password != f.Get("password_confirmation"):
		fail(http.StatusUnprocessableEntity, "password_confirmation", "The two passwords are not the same.")
		return
	}
	var invite *inviteUse
	if h.svc.cfg.Registration == RegistrationInvite {
		invite, err = h.svc.useInvite(r.Context(), strings.TrimSpace(f.Get("invite_code")))
		if err != nil {
			if errkind.Of(err) == errkind.Internal {
				h.internalError(w, r, err)
				return
			}
			fail(http.StatusForbidden, "invite_code", errkind.Message(err))
			return
		}
	}
	a, err := h.svc.accounts.Create(r.Context(), na)
	if err != nil {
		if invite != nil {
			if rerr := invite.release(r.Context()); rerr != nil {
				h.log.ErrorContext(r.Context(), "oauth: give back invite use", "err", rerr)
			}
		}
		switch errkind.Of(err) {
		case errkind.Invalid, errkind.Conflict:
			fail(errkind.Of(err).HTTPStatus(), fieldOf(errkind.Message(err)), sentence(errkind.Message(err)))
		default:
			h.internalError(w, r, err)
		}
		return
	}
	if a.Pending {
		h.render(w, r, http.StatusOK, "message", &pageData{
			Title:      "Thanks for signing up",
			Paragraphs: []string{fmt.Sprintf("Your account %s has been created.", a.Username), "A moderator will review it; you can sign in once it is approved."},
		})
		return
	}
	h.switchSession(w, r, sess, a, p.ReturnTo)
}

// fieldOf guesses which sign-up field an account-store message is about.
func fieldOf(msg string) string {
	m := strings.ToLower(msg)
	switch {
	case strings.Contains(m, "email"):
		return "email"
	case strings.Contains(m, "password"):
		return "password"
	default:
		return "username"
	}
}

// sentence capitalises msg and ends it with a full stop.
func sentence(msg string) string {
	if msg == "" {
		return msg
	}
	msg = strings.ToUpper(msg[:1]) + msg[1:]
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}
