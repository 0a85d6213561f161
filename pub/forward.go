package pub

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/commonroom/commonroom/pub/delivery"
)

// forward implements inbox forwarding (ActivityPub 7.1.2): a remote
// activity seen for the first time (processing runs once per activity id)
// that is addressed to a local actor's followers collection and whose
// object, target or inReplyTo is a local object is sent, body unchanged, to
// that collection's members, signed by the collection's owner. Inboxes on
// the sender's origin are skipped (they have it), each inbox gets one
// copy, and activities of local actors are never forwarded, so copies do
// not loop between servers.
func (f *Federation) forward(ctx context.Context, in *Inbound, a InboundActivity) error {
	if f.isLocal(a.Actor) {
		return nil
	}
	refs := []string{in.Activity.IRI("object"), in.Activity.IRI("target")}
	if o := in.Activity.Object("object"); o != nil {
		refs = append(refs, o.IRI("inReplyTo"))
	}
	ours := false
	for _, r := range refs {
		ok, err := f.localObject(ctx, r)
		if err != nil {
			return err
		}
		if ok {
			ours = true
			break
		}
	}
	if !ours {
		return nil
	}
	var inboxes []string
	var jobs []delivery.Job
	for _, p := range []string{"to", "cc", "audience"} {
		for _, iri := range in.Activity.IRIs(p) {
			owner, ok := strings.CutSuffix(iri, "/followers")
			if !ok || !f.isLocal(iri) {
				continue
			}
			local, err := f.actors.LocalActor(ctx, owner)
			if err != nil {
				continue
			}
			fs, _, err := f.store.Follows(ctx, FollowQuery{Followee: local.ID, State: FollowAccepted})
			if err != nil {
				return fmt.Errorf("pub: forward %s: %w", a.ID, err)
			}
			for _, fl := range fs {
				inbox := fl.SharedInbox
				if inbox == "" {
					inbox = fl.Inbox
				}
				if f.isLocal(fl.Follower) || sameOrigin(fl.Follower, a.Actor) || inbox == "" || slices.Contains(inboxes, inbox) {
					continue
				}
				inboxes = append(inboxes, inbox)
				j, err := delivery.NewJob(inbox, local.Keys.RSAKeyID(), a.ID, a.Body)
				if err != nil {
					continue
				}
				jobs = append(jobs, j)
			}
		}
	}
	if err := f.pool.Enqueue(ctx, jobs...); err != nil {
		return fmt.Errorf("pub: forward %s: %w", a.ID, err)
	}
	return nil
}
