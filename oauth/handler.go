package oauth

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"maps"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/httprate"

	"github.com/commonroom/commonroom/internal/errkind"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static/style.css
var staticFiles embed.FS

// Handler serves the provider's HTTP endpoints: app registration, the
// OAuth endpoints, the metadata document and the sign-in, sign-up and
// consent pages. Build it with NewHandler and mount it with Routes.
type Handler struct {
	svc         *Service
	log         *slog.Logger
	pages       map[string]*template.Template
	clientIP    func(*http.Request) string
	loginLimit  *httprate.RateLimiter
	signUpLimit *httprate.RateLimiter // per email address
	signUpIP    *httprate.RateLimiter
	csrf        *http.CrossOriginProtection
}

// HandlerOptions tune a Handler; the zero value is fine.
type HandlerOptions struct {
	// ClientIP returns the address a request comes from, for throttling.
	// Nil means the host of r.RemoteAddr; behind a reverse proxy pass a
	// function that reads the proxy's trusted header. IPv6 addresses are
	// throttled per /64 either way.
	ClientIP func(r *http.Request) string
}

// NewHandler returns the HTTP side of svc.
func NewHandler(svc *Service, opts HandlerOptions) (*Handler, error) {
	h := &Handler{svc: svc, log: svc.log, clientIP: opts.ClientIP, pages: map[string]*template.Template{}}
	if h.clientIP == nil {
		h.clientIP = remoteHost
	}
	funcs := template.FuncMap{"field": field}
	for _, name := range []string{"sign_in", "sign_up", "authorize", "code", "message"} {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("oauth: parse template %s: %w", name, err)
		}
		h.pages[name] = t
	}
	cfg := svc.cfg
	// The limiters count in memory, per process: enough to stop password
	// guessing and sign-up floods from one address.
	h.loginLimit = httprate.NewRateLimiter(cfg.LoginLimit, cfg.LoginWindow)
	h.signUpLimit = httprate.NewRateLimiter(cfg.SignUpLimit, cfg.SignUpWindow)
	h.signUpIP = httprate.NewRateLimiter(cfg.SignUpIPLimit, cfg.SignUpWindow)
	h.csrf = http.NewCrossOriginProtection()
	h.csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.renderMessage(w, r, http.StatusForbidden, "Request refused", "This form was sent from another site, so it was ignored.")
	}))
	return h, nil
}

// Routes lists every path the package serves.
func (h *Handler) Routes(r chi.Router) {
	r.Get("/.well-known/oauth-authorization-server", h.metadata)

	r.Group(func(r chi.Router) {
		r.Use(cors)
		r.Post("/api/v1/apps", h.registerApp)
		r.With(h.svc.Middleware, RequireAuth).Get("/api/v1/apps/verify_credentials", h.verifyCredentials)
		r.Post("/oauth/token", h.token)
		r.Post("/oauth/revoke", h.revoke)
		r.Options("/api/v1/apps", preflight)
		r.Options("/api/v1/apps/verify_credentials", preflight)
		r.Options("/oauth/token", preflight)
		r.Options("/oauth/revoke", preflight)
	})

	r.Group(func(r chi.Router) {
		r.Use(noStore, h.csrf.Handler)
		r.Get("/oauth/authorize", h.authorizePage)
		r.Post("/oauth/authorize", h.authorizeDecision)
		r.Get("/oauth/sign_in", h.signInPage)
		r.Post("/oauth/sign_in", h.signIn)
		r.Get("/oauth/sign_up", h.signUpPage)
		r.Post("/oauth/sign_up", h.signUp)
		r.Post("/oauth/sign_out", h.signOut)
	})
	r.Handle("/oauth/static/*", http.StripPrefix("/oauth/", http.FileServerFS(staticFiles)))
}

// remoteHost is the host part of r.RemoteAddr.
func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// ipKey is the throttling key of the request's address (IPv6 by /64).
func (h *Handler) ipKey(r *http.Request) string {
	return "ip:" + httprate.CanonicalizeIP(h.clientIP(r))
}

// noStore keeps pages with forms and codes out of caches.
func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'")
		next.ServeHTTP(w, r)
	})
}

// cors lets browser-based clients register apps and get tokens. These
// endpoints use no cookies, so any origin may call them.
func cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Origin") != "" {
			w.Header().Set("Access-Control-Allow-Origin", "*")
		}
		next.ServeHTTP(w, r)
	})
}

func preflight(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
	w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
	w.Header().Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}

// writeJSON writes v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// mastodonError writes {"error": msg} with status, as Mastodon's API does.
func mastodonError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// oauthError writes an RFC 6749 error: {"error": code, "error_description": desc}.
func oauthError(w http.ResponseWriter, status int, code, desc string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="oauth"`)
	}
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// bodyError is a request body that could not be read, with the status to
// answer.
type bodyError struct {
	status int
	msg    string
}

func (e *bodyError) Error() string { return e.msg }

// readParams reads a request's parameters from a JSON object or a form
// (urlencoded or multipart) body of at most limit bytes. JSON strings,
// numbers and booleans become single values, arrays of them several
// values. An empty body gives no values.
func readParams(w http.ResponseWriter, r *http.Request, limit int64) (url.Values, error) {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	tooLarge := func(err error) error {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &bodyError{http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", limit)}
		}
		return nil
	}
	switch ct {
	case "application/json":
		body, err := io.ReadAll(r.Body)
		if err != nil {
			if e := tooLarge(err); e != nil {
				return nil, e
			}
			return nil, &bodyError{http.StatusBadRequest, "could not read the request body"}
		}
		return jsonParams(body)
	case "application/x-www-form-urlencoded", "multipart/form-data":
		var err error
		if ct == "multipart/form-data" {
			err = r.ParseMultipartForm(limit)
		} else {
			err = r.ParseForm()
		}
		if err != nil {
			if e := tooLarge(err); e != nil {
				return nil, e
			}
			return nil, &bodyError{http.StatusBadRequest, "malformed form body"}
		}
		// ParseMultipartForm adds the multipart values to PostForm too.
		return maps.Clone(r.PostForm), nil
	case "":
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			if e := tooLarge(err); e != nil {
				return nil, e
			}
		}
		if n == 0 {
			return url.Values{}, nil
		}
		return nil, &bodyError{http.StatusUnsupportedMediaType, "send the body as application/json or a form"}
	default:
		return nil, &bodyError{http.StatusUnsupportedMediaType, "send the body as application/json or a form"}
	}
}

func jsonParams(body []byte) (url.Values, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return url.Values{}, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return nil, &bodyError{http.StatusBadRequest, "the request body is not a JSON object"}
	}
	vals := url.Values{}
	for k, raw := range obj {
		var one any
		if err := json.Unmarshal(raw, &one); err != nil {
			return nil, &bodyError{http.StatusBadRequest, "the request body is not valid JSON"}
		}
		switch v := one.(type) {
		case nil:
		case string:
			vals.Add(k, v)
		case bool, float64:
			vals.Add(k, strings.TrimSpace(string(raw)))
		case []any:
			for _, item := range v {
				s, ok := item.(string)
				if !ok {
					return nil, &bodyError{http.StatusBadRequest, fmt.Sprintf("%s must be a string or an array of strings", k)}
				}
				vals.Add(k, s)
			}
		default:
			return nil, &bodyError{http.StatusBadRequest, fmt.Sprintf("%s must not be an object", k)}
		}
	}
	return vals, nil
}

// statusOf maps an error to the HTTP status adapters answer with, logging
// internal faults.
func (h *Handler) statusOf(r *http.Request, err error) (int, string) {
	var be *bodyError
	if errors.As(err, &be) {
		return be.status, be.msg
	}
	k := errkind.Of(err)
	if k == errkind.Internal {
		h.log.ErrorContext(r.Context(), "oauth: request failed", "path", r.URL.Path, "err", err)
	}
	return k.HTTPStatus(), errkind.Message(err)
}
