package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

// HeaderRequestID carries the request ID in requests and responses.
const HeaderRequestID = "X-Request-Id"

type requestIDKey struct{}

// RequestIDFrom returns the request's ID, or "" outside the RequestID
// middleware.
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// RequestID gives every request an ID: the incoming X-Request-Id if it is a
// reasonable token (1-128 characters of letters, digits and -_.:), otherwise a
// fresh random one. The ID is echoed in the response's X-Request-Id header and
// is available from RequestIDFrom.
func RequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(HeaderRequestID)
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set(HeaderRequestID, id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range []byte(id) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':'
		if !ok {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read does not fail on supported platforms
	return hex.EncodeToString(b[:])
}

// routePattern returns the chi route pattern that served r, or "unmatched",
// so that metrics and logs are labelled by route rather than by raw path.
func routePattern(r *http.Request) string {
	if rc := chi.RouteContext(r.Context()); rc != nil {
		if p := rc.RoutePattern(); p != "" {
			return p
		}
	}
	return "unmatched"
}

// AccessLog logs one line per request at Info level: method, route pattern,
// path, status, bytes written, duration, request ID and the client's
// address from clientIP (nil: TrustedProxies(nil).ClientIP, the
// connection's address).
func AccessLog(logger *slog.Logger, clientIP func(*http.Request) string) func(http.Handler) http.Handler {
	if clientIP == nil {
		clientIP = TrustedProxies(nil).ClientIP
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ww := wrap(w, r)
			next.ServeHTTP(ww, r)
			logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
				slog.String("method", r.Method),
				slog.String("route", routePattern(r)),
				slog.String("path", r.URL.Path),
				slog.Int("status", statusOf(ww)),
				slog.Int("bytes", ww.BytesWritten()),
				slog.Duration("duration", time.Since(start)),
				slog.String("request_id", RequestIDFrom(r.Context())),
				slog.String("client_ip", clientIP(r)),
			)
		})
	}
}

// Recover turns a panicking handler into a 500 response. The panic value
// and stack go to the log with the request ID; the client gets only a
// generic message and the request ID. http.ErrAbortHandler is re-panicked,
// as net/http expects.
func Recover(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ww := wrap(w, r)
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if v == http.ErrAbortHandler {
					panic(v)
				}
				logger.ErrorContext(r.Context(), "panic serving request",
					"panic", v,
					"method", r.Method,
					"path", r.URL.Path,
					"request_id", RequestIDFrom(r.Context()),
					"stack", string(debug.Stack()),
				)
				if ww.Status() != 0 {
					// The response has started; all we can do is cut it short.
					panic(http.ErrAbortHandler)
				}
				h := ww.Header()
				for k := range h {
					if k != HeaderRequestID {
						delete(h, k)
					}
				}
				h.Set("Content-Type", "text/plain; charset=utf-8")
				h.Set("X-Content-Type-Options", "nosniff")
				ww.WriteHeader(http.StatusInternalServerError)
				_, _ = ww.Write([]byte("internal server error (request " + RequestIDFrom(r.Context()) + ")\n"))
			}()
			next.ServeHTTP(ww, r)
		})
	}
}

// wrap returns w as a middleware.WrapResponseWriter (which keeps Flusher,
// Hijacker and the other optional interfaces), reusing it if an outer
// middleware already wrapped it.
func wrap(w http.ResponseWriter, r *http.Request) middleware.WrapResponseWriter {
	if ww, ok := w.(middleware.WrapResponseWriter); ok {
		return ww
	}
	return middleware.NewWrapResponseWriter(w, r.ProtoMajor)
}

// statusOf returns the status written, 200 if the handler wrote a body
// without a header, and 200 for a handler that wrote nothing (net/http
// sends 200 then).
func statusOf(ww middleware.WrapResponseWriter) int {
	if s := ww.Status(); s != 0 {
		return s
	}
	return http.StatusOK
}
