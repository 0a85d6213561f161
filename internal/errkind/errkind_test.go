package errkind_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/commonroom/commonroom/internal/errkind"
)

func TestKindThroughWrapping(t *testing.T) {
	cause := errors.New("UNIQUE constraint failed: users.email")
	base := errkind.Wrap(errkind.Conflict, "email already registered", cause)
	wrapped := fmt.Errorf("users: create %q: %w", "ada", base)

	tests := []struct {
		name     string
		err      error
		kind     errkind.Kind
		message  string
		isTarget errkind.Kind
		is       bool
	}{
		{"direct", base, errkind.Conflict, "email already registered", errkind.Conflict, true},
		{"wrapped", wrapped, errkind.Conflict, "email already registered", errkind.Conflict, true},
		{"wrapped is not another kind", wrapped, errkind.Conflict, "email already registered", errkind.NotFound, false},
		{"plain error is internal", cause, errkind.Internal, "internal", errkind.Conflict, false},
		{"internal hides its message", errkind.New(errkind.Internal, "db password is hunter2"), errkind.Internal, "internal", errkind.Internal, true},
		{"empty message falls back to kind", errkind.New(errkind.Gone, ""), errkind.Gone, "gone", errkind.Gone, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errkind.Of(tt.err); got != tt.kind {
				t.Errorf("Of = %v, want %v", got, tt.kind)
			}
			if got := errkind.Message(tt.err); got != tt.message {
				t.Errorf("Message = %q, want %q", got, tt.message)
			}
			if got := errors.Is(tt.err, tt.isTarget); got != tt.is {
				t.Errorf("errors.Is(err, %v) = %v, want %v", tt.isTarget, got, tt.is)
			}
		})
	}
	if !errors.Is(wrapped, cause) {
		t.Error("the cause is not reachable with errors.Is")
	}
	var e *errkind.Error
	if !errors.As(wrapped, &e) || e.Kind != errkind.Conflict {
		t.Errorf("errors.As = %v", e)
	}
}

func TestHTTPStatusCoversEveryKind(t *testing.T) {
	want := map[errkind.Kind]int{
		errkind.Internal:     http.StatusInternalServerError,
		errkind.NotFound:     http.StatusNotFound,
		errkind.Invalid:      http.StatusUnprocessableEntity,
		errkind.Unauthorized: http.StatusUnauthorized,
		errkind.Forbidden:    http.StatusForbidden,
		errkind.Conflict:     http.StatusConflict,
		errkind.Gone:         http.StatusGone,
		errkind.TooLarge:     http.StatusRequestEntityTooLarge,
		errkind.RateLimited:  http.StatusTooManyRequests,
	}
	kinds := errkind.Kinds()
	if len(kinds) != len(want) {
		t.Fatalf("Kinds() has %d kinds, want %d", len(kinds), len(want))
	}
	names := map[string]bool{}
	for _, k := range kinds {
		if got := k.HTTPStatus(); got != want[k] {
			t.Errorf("%v.HTTPStatus() = %d, want %d", k, got, want[k])
		}
		if names[k.String()] {
			t.Errorf("duplicate name %q", k.String())
		}
		names[k.String()] = true
	}
}
