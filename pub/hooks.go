package pub

import (
	"context"

	"github.com/commonroom/commonroom/streams"
)

// Inbound is what a hook is told about an inbound activity, after the
// engine applied the protocol's side effects. The objects must be treated as
// read-only.
type Inbound struct {
	// Activity is the activity as received.
	Activity *streams.Object
	// Body is the exact body received.
	Body []byte
	// Actor is the verified actor.
	Actor string
	// Object is the activity's object when the engine holds it in a form
	// it trusts: embedded and vouched for by the actor's origin, or
	// refetched from its own origin (SECURITY rule 11). Nil when the
	// object is only an IRI the engine did not need to fetch, or an
	// embedded object its origin did not confirm.
	Object *streams.Object
	// Undone is, for an Undo, the activity undone (embedded, or recorded
	// earlier); nil otherwise.
	Undone *streams.Object
	// Recipients are the local actors the activity concerns: the owner of
	// the personal inbox it arrived at, local actors it addresses, members
	// of addressed local groups (Hooks.GroupMembers), and local followers
	// of its actor when it is public or addressed to the actor's
	// collections.
	Recipients []string
	// Follow is, for a Follow, the relation as recorded (pending or
	// accepted).
	Follow *Follow
}

// Hook is a host's side effect for an inbound activity. It runs in a
// background worker after the engine's own side effects succeeded, at most
// Workers at once. An error is logged and recorded as the activity's
// result; the activity is not retried. A hook may run twice for one
// activity only when the process dies while it runs (the activity's lease
// then lapses and it is processed again), so hooks should be idempotent.
type Hook func(ctx context.Context, in *Inbound) error

// Hooks are the host's side effects, per activity type.
type Hooks struct {
	// On maps an activity type ("Create", "Follow", "ChatMessage"...) to
	// its hook. It is read-only once the Federation is built.
	On map[string]Hook
	// Fallback receives activities of types the engine has no semantics
	// for and On has no hook for. Nil drops them (recorded as
	// "unhandled type").
	Fallback Hook
	// GroupMembers, when set, resolves an addressed local IRI that is not
	// a local actor (a group's members collection, for instance) to the
	// local actors it stands for; ok is false for IRIs it does not know.
	GroupMembers func(ctx context.Context, iri string) (members []string, ok bool, err error)
}

// coreTypes are the activity types the engine gives built-in semantics.
var coreTypes = map[string]bool{
	"Create": true, "Update": true, "Delete": true, "Follow": true, "Accept": true,
	"Reject": true, "Undo": true, "Like": true, "Announce": true, "Block": true,
	"Add": true, "Remove": true, "Move": true, "Flag": true,
}
