// Package transport is the outbound HTTP side of the federation engine: a
// client that refuses to reach private networks, dereferences ActivityPub
// documents with origin containment, and delivers signed activities.
//
// Everything the server fetches or delivers goes through a [Client]. The client
//
//   - resolves host names itself and dials only addresses that pass the
//     address policy (no loopback, private, link-local, CGNAT, multicast,
//     documentation or reserved ranges unless explicitly allow-listed), so a
//     DNS answer that changes between a check and the connection cannot reach
//     an internal service, and every redirect hop is checked again;
//   - bounds every request: connect, read and total timeouts, a body cap, at
//     most a few redirects, and an optional per-operation fetch budget carried
//     in the context ([WithBudget]);
//   - signs every request, and every redirect hop again, through a [Signer]
//     supplied by the caller (the pub core signs as the instance actor);
//   - never fetches the server's own origins over HTTP ([ErrLocal]).
//
// [Client.Dereference] adds the ActivityPub rules on top: an ActivityPub
// content type, and a document id equal to the URL it was finally served
// from, with at most one refetch from a same-origin id.
//
// The package imports only the standard library and golang.org/x/net/idna.
package transport
