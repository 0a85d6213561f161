package oauth

import (
	"context"
	"net/http"
	"strings"

	"github.com/commonroom/commonroom/internal/errkind"
)

type authKey struct{}

// AuthFrom returns the request's authentication, or nil when the request
// carried no token (Middleware has run) or Middleware did not run.
func AuthFrom(ctx context.Context) *Auth {
	a, _ := ctx.Value(authKey{}).(*Auth)
	return a
}

// WithAuth returns ctx carrying a. Adapters' tests use it to call handlers
// as an authenticated client without a token.
func WithAuth(ctx context.Context, a *Auth) context.Context {
	return context.WithValue(ctx, authKey{}, a)
}

// bearerToken returns the token of an "Authorization: Bearer" header, and,
// when allowed, of an access_token query parameter.
func bearerToken(r *http.Request, query bool) string {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(token)
		}
		return ""
	}
	if query {
		return r.URL.Query().Get("access_token")
	}
	return ""
}

// Middleware authenticates the request's bearer token, checking it against
// the database on every request (so a revoked token or a suspended account
// fails on the next request), and stores the result for AuthFrom. A request
// without a token passes through unauthenticated; one with a bad token is
// answered 401 {"error": "The access token is invalid"}. With
// Config.QueryToken, an access_token query parameter counts too (for
// streaming clients that cannot send headers).
func (s *Service) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := bearerToken(r, s.cfg.QueryToken)
		if token == "" {
			next.ServeHTTP(w, r)
			return
		}
		auth, err := s.AuthenticateToken(r.Context(), token)
		if err != nil {
			if errkind.Of(err) == errkind.Unauthorized {
				unauthorized(w, `Bearer error="invalid_token"`)
				return
			}
			s.log.ErrorContext(r.Context(), "oauth: authenticate token", "err", err)
			mastodonError(w, http.StatusInternalServerError, "internal server error")
			return
		}
		next.ServeHTTP(w, r.WithContext(WithAuth(r.Context(), auth)))
	})
}

func unauthorized(w http.ResponseWriter, challenge string) {
	w.Header().Set("WWW-Authenticate", challenge)
	mastodonError(w, http.StatusUnauthorized, "The access token is invalid")
}

// RequireAuth answers 401 unless Middleware authenticated a token (of an
// app or of an account).
func RequireAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if AuthFrom(r.Context()) == nil {
			unauthorized(w, `Bearer realm="commonroom"`)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// RequireUser answers 401 without a token and, as Mastodon does, 422
// {"error": "This method requires an authenticated user"} for an app token.
func RequireUser(next http.Handler) http.Handler {
	return RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if AuthFrom(r.Context()).Account == nil {
			mastodonError(w, http.StatusUnprocessableEntity, "This method requires an authenticated user")
			return
		}
		next.ServeHTTP(w, r)
	}))
}

// RequireScope returns middleware (after Middleware) that answers 401 when
// the request has no valid token and 403 {"error": "This action is outside
// the authorized scopes"} when its token does not grant scope under
// Mastodon's inclusion rules (Scopes.Has).
func RequireScope(scope string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			a := AuthFrom(r.Context())
			if a == nil {
				unauthorized(w, `Bearer realm="commonroom", scope="`+scope+`"`)
				return
			}
			if !a.Scopes.Has(scope) {
				w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="`+scope+`"`)
				mastodonError(w, http.StatusForbidden, "This action is outside the authorized scopes")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
