package actors

import (
	"context"
	"fmt"
	"strings"

	"github.com/uptrace/bun"

	"github.com/commonroom/commonroom/internal/errkind"
)

// MaxThreadDepth bounds how far Context walks up and down a thread.
const MaxThreadDepth = 100

// hideFrom adds the filters every timeline applies for viewer (0: nobody
// signed in) to a query over statuses aliased "status" whose author row is
// joined as "author": suspended authors and domains, and for a viewer, accounts blocked
// either way, muted, or on a domain the viewer blocks.
func hideFrom(q *bun.SelectQuery, viewer int64) *bun.SelectQuery {
	q = q.Where("author.suspended_at IS NULL").
		Where("NOT EXISTS (SELECT 1 FROM domain_blocks AS sdb WHERE sdb.severity = 'suspend' AND " + domainMatch("author.domain", "sdb.domain") + ")")
	if viewer == 0 {
		return q
	}
	return q.
		Where("NOT EXISTS (SELECT 1 FROM blocks AS b WHERE (b.actor_id = ? AND b.target_id = status.actor_id) OR (b.actor_id = status.actor_id AND b.target_id = ?))", viewer, viewer).
		Where("NOT EXISTS (SELECT 1 FROM mutes AS m WHERE m.actor_id = ? AND m.target_id = status.actor_id)", viewer).
		Where("NOT EXISTS (SELECT 1 FROM actor_domain_blocks AS udb WHERE udb.actor_id = ? AND "+domainMatch("author.domain", "udb.domain")+")", viewer)
}

// domainMatch is SQL true when the stored domain col (host[:port]) is
// block or a subdomain of it.
func domainMatch(col, block string) string {
	return "(" + col + " = " + block + " OR " + col + " LIKE " + block + " || ':%' OR " +
		col + " LIKE '%.' || " + block + " OR " + col + " LIKE '%.' || " + block + " || ':%')"
}

// notSilenced keeps silenced accounts and domains out of public lists.
func notSilenced(q *bun.SelectQuery) *bun.SelectQuery {
	return q.Where("author.silenced_at IS NULL").
		Where("NOT EXISTS (SELECT 1 FROM domain_blocks AS db WHERE db.severity IN ('silence', 'suspend') AND " + domainMatch("author.domain", "db.domain") + ")")
}

// Home returns viewer's home timeline, newest first: one indexed range
// over the rows fan-out wrote, minus what the viewer has muted or blocked
// since, what suspended accounts wrote, and boosts of statuses by
// suspended, muted or blocked accounts.
func (s *Service) Home(ctx context.Context, viewer int64, p Page) ([]Status, error) {
	var out []Status
	q := s.db.NewSelect().Model(&out).
		Join("JOIN home_feed AS h ON h.status_id = status.id").
		Join("JOIN actors AS author ON author.id = status.actor_id").
		Where("h.actor_id = ?", viewer).
		// A boost shows only while its original may be seen (rule 32).
		Where(`NOT EXISTS (SELECT 1 FROM statuses AS o JOIN actors AS oa ON oa.id = o.actor_id
			WHERE o.id = status.reblog_of_id AND (oa.suspended_at IS NOT NULL
			OR EXISTS (SELECT 1 FROM mutes AS m2 WHERE m2.actor_id = ? AND m2.target_id = oa.id)
			OR EXISTS (SELECT 1 FROM blocks AS b2 WHERE (b2.actor_id = ? AND b2.target_id = oa.id) OR (b2.actor_id = oa.id AND b2.target_id = ?))))`,
			viewer, viewer, viewer)
	q = hideFrom(q, viewer)
	// Ordered by the feed's own key, so the primary key (actor_id,
	// status_id) serves the range and the order.
	if err := p.apply(q, "h.status_id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("actors: home of %d: %w", viewer, err)
	}
	return out, nil
}

// PublicTimeline lists public statuses (not boosts), newest first: local
// ones only when local is true, all known ones otherwise. Silenced
// accounts and domains stay out, as do what viewer blocks or mutes.
func (s *Service) PublicTimeline(ctx context.Context, viewer int64, local bool, p Page) ([]Status, error) {
	var out []Status
	q := s.db.NewSelect().Model(&out).
		Join("JOIN actors AS author ON author.id = status.actor_id").
		Where("status.visibility = ?", Public).
		Where("status.reblog_of_id IS NULL")
	if local {
		q = q.Where("status.local = ?", true)
	}
	q = notSilenced(hideFrom(q, viewer))
	if err := p.apply(q, "status.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("actors: public timeline: %w", err)
	}
	return out, nil
}

// TagTimeline lists public statuses with a hashtag (without its '#',
// any case), newest first, filtered as PublicTimeline.
func (s *Service) TagTimeline(ctx context.Context, viewer int64, tag string, local bool, p Page) ([]Status, error) {
	var out []Status
	q := s.db.NewSelect().Model(&out).
		Join("JOIN status_tags AS t ON t.status_id = status.id").
		Join("JOIN actors AS author ON author.id = status.actor_id").
		Where("t.tag = ?", strings.ToLower(strings.TrimPrefix(tag, "#"))).
		Where("status.visibility = ?", Public)
	if local {
		q = q.Where("status.local = ?", true)
	}
	q = notSilenced(hideFrom(q, viewer))
	if err := p.apply(q, "status.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("actors: tag timeline %q: %w", tag, err)
	}
	return out, nil
}

// AccountStatuses lists the statuses of account that viewer may see,
// newest first.
func (s *Service) AccountStatuses(ctx context.Context, viewer, account int64, p Page) ([]Status, error) {
	var out []Status
	q := s.db.NewSelect().Model(&out).
		Join("JOIN actors AS author ON author.id = status.actor_id").
		Where("status.actor_id = ?", account)
	if viewer != account {
		q = q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			q = q.Where("status.visibility IN (?)", bun.In([]Visibility{Public, Unlisted}))
			if viewer != 0 {
				q = q.WhereOr("EXISTS (SELECT 1 FROM status_mentions AS sm WHERE sm.status_id = status.id AND sm.actor_id = ?)", viewer).
					WhereOr("status.visibility = ? AND EXISTS (SELECT 1 FROM follows AS f WHERE f.follower_id = ? AND f.target_id = status.actor_id AND f.accepted = ?)", Private, viewer, true)
			}
			return q
		})
	}
	q = hideFrom(q, viewer)
	if err := p.apply(q, "status.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("actors: statuses of %d: %w", account, err)
	}
	return out, nil
}

// Thread is a status's place in its conversation.
type Thread struct {
	// Ancestors run from the root down to the parent.
	Ancestors []Status
	// Descendants are the replies below, in the order they were written.
	Descendants []Status
}

// Context returns the ancestors and descendants of status id that viewer
// may see, at most MaxThreadDepth levels either way. A status viewer may
// not see is NotFound; hidden ancestors end the walk up, hidden
// descendants are left out.
func (s *Service) Context(ctx context.Context, viewer, id int64) (Thread, error) {
	var t Thread
	st, err := s.visibleStatus(ctx, s.db, viewer, id)
	if err != nil {
		return t, fmt.Errorf("actors: context of %d: %w", id, err)
	}
	seen := map[int64]bool{st.ID: true}
	for parent := st.InReplyToID; parent != 0 && len(t.Ancestors) < MaxThreadDepth && !seen[parent]; {
		seen[parent] = true
		p, err := s.visibleStatus(ctx, s.db, viewer, parent)
		if errkind.Of(err) == errkind.NotFound {
			break
		}
		if err != nil {
			return t, fmt.Errorf("actors: context of %d: %w", id, err)
		}
		t.Ancestors = append([]Status{*p}, t.Ancestors...)
		parent = p.InReplyToID
	}
	var ids []int64
	err = s.db.NewRaw(`WITH RECURSIVE thread (id, depth) AS (
		SELECT id, 1 FROM statuses WHERE in_reply_to_id = ?
		UNION ALL
		SELECT s.id, thread.depth + 1 FROM statuses AS s JOIN thread ON s.in_reply_to_id = thread.id WHERE thread.depth < ?
	) SELECT DISTINCT id FROM thread ORDER BY id`, st.ID, MaxThreadDepth).Scan(ctx, &ids)
	if err != nil {
		return t, fmt.Errorf("actors: context of %d: %w", id, err)
	}
	for _, d := range ids {
		if seen[d] {
			continue
		}
		ds, err := s.visibleStatus(ctx, s.db, viewer, d)
		if errkind.Of(err) == errkind.NotFound {
			continue
		}
		if err != nil {
			return t, fmt.Errorf("actors: context of %d: %w", id, err)
		}
		t.Descendants = append(t.Descendants, *ds)
	}
	return t, nil
}
