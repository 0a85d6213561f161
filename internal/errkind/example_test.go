package errkind_test

import (
	"errors"
	"fmt"

	"github.com/commonroom/commonroom/internal/errkind"
)

func Example() {
	// Domain code: a kind, a safe message, the cause for the logs.
	cause := errors.New(`UNIQUE constraint failed: index 'users_username_lower_key'`)
	err := fmt.Errorf("users: create %q: %w", "ada", errkind.Wrap(errkind.Conflict, "username is already taken", cause))

	// Adapter: status and message for the client, full error for the log.
	fmt.Println(errors.Is(err, errkind.Conflict), errkind.Of(err).HTTPStatus(), errkind.Message(err))
	// Output: true 409 username is already taken
}
