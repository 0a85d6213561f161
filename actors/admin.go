package actors

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/commonroom/commonroom/internal/errkind"
	"github.com/commonroom/commonroom/streams"
)

// MaxReportComment caps a report's comment, in characters.
const MaxReportComment = 1000

// Report is an entry of the moderators' queue.
type Report struct {
	bun.BaseModel `bun:"table:reports"`

	ID         int64 `bun:"id,pk"`
	ReporterID int64 `bun:"reporter_id,notnull"`
	TargetID   int64 `bun:"target_id,notnull"`
	// StatusIDsJSON is the stored form of StatusIDs.
	StatusIDsJSON string    `bun:"status_ids,notnull"`
	Comment       string    `bun:"comment,notnull"`
	IRI           string    `bun:"iri,nullzero"` // the Flag, for remote reports
	CreatedAt     time.Time `bun:"created_at,notnull"`
	ResolvedAt    time.Time `bun:"resolved_at,nullzero"`
	ResolvedBy    int64     `bun:"resolved_by,nullzero"`
}

// StatusIDs returns the reported statuses.
func (r *Report) StatusIDs() []int64 {
	var ids []int64
	if err := json.Unmarshal([]byte(r.StatusIDsJSON), &ids); err != nil {
		return nil
	}
	return ids
}

// requireModerator checks that id is a local person whose sign-in account
// has the moderator or admin role (internal/users).
func (s *Service) requireModerator(ctx context.Context, id int64) error {
	var role string
	err := s.db.NewSelect().TableExpr("actors AS a").ColumnExpr("u.role").
		Join("JOIN users AS u ON u.id = a.user_id").
		Where("a.id = ? AND a.suspended_at IS NULL", id).Scan(ctx, &role)
	if errors.Is(err, sql.ErrNoRows) || err == nil && role != "moderator" && role != "admin" {
		return errkind.New(errkind.Forbidden, "only moderators can do this")
	}
	return err
}

// NewReport is what FileReport needs.
type NewReport struct {
	// TargetID is the account reported.
	TargetID int64
	// StatusIDs are statuses of the target's the report names; optional.
	StatusIDs []int64
	// Comment is the reporter's explanation, at most MaxReportComment
	// characters.
	Comment string
	// Forward, for a remote target, also sends the report to the target's
	// server: a Flag by the instance actor (never naming the reporter),
	// with the account and the statuses as object and the comment as
	// content, delivered to the target's inbox (as Mastodon does).
	Forward bool
}

// Report files a report by the local account reporterID about targetID,
// optionally naming some of the target's statuses, without forwarding it;
// see FileReport.
func (s *Service) Report(ctx context.Context, reporterID, targetID int64, statusIDs []int64, comment string) (*Report, error) {
	return s.FileReport(ctx, reporterID, NewReport{TargetID: targetID, StatusIDs: statusIDs, Comment: comment})
}

// FileReport files a report by the local account reporterID into the
// moderators' queue and, when nr.Forward is set and the target is remote,
// queues its Flag for the target's server in the same transaction.
// Reporting oneself, a status that is not the target's and an over-long
// comment are Invalid, and nothing is stored or sent.
func (s *Service) FileReport(ctx context.Context, reporterID int64, nr NewReport) (*Report, error) {
	r, err := s.report(ctx, reporterID, nr)
	if err != nil {
		return nil, fmt.Errorf("actors: report %d by %d: %w", nr.TargetID, reporterID, err)
	}
	return r, nil
}

func (s *Service) report(ctx context.Context, reporterID int64, nr NewReport) (*Report, error) {
	if err := s.checkText("comment", nr.Comment, MaxReportComment); err != nil {
		return nil, err
	}
	_, target, err := s.pair(ctx, s.db, reporterID, nr.TargetID)
	if err != nil {
		return nil, err
	}
	var statuses []Status
	if len(nr.StatusIDs) > 0 {
		err := s.db.NewSelect().Model(&statuses).
			Where("id IN (?) AND actor_id = ?", bun.In(nr.StatusIDs), nr.TargetID).Order("id").Scan(ctx)
		if err != nil {
			return nil, err
		}
		if len(statuses) != len(nr.StatusIDs) {
			return nil, errkind.New(errkind.Invalid, "a reported status is not the reported account's")
		}
	}
	id, err := s.nextID()
	if err != nil {
		return nil, err
	}
	r := &Report{ID: id, ReporterID: reporterID, TargetID: nr.TargetID, StatusIDsJSON: mustJSON(nonNil(nr.StatusIDs)),
		Comment: strings.TrimSpace(nr.Comment), CreatedAt: s.timestamp()}
	err = s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(r).Exec(ctx); err != nil {
			return mapGraphError(err, "already reported")
		}
		if !nr.Forward || target.Local() {
			return nil
		}
		return s.publishFlag(ctx, target, statuses, r.Comment)
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// InstanceActorIRI is the IRI of the server's own actor (pub's instance
// actor at /actor), which forwarded reports are sent as.
func (s *Service) InstanceActorIRI() string { return s.base + "/actor" }

// publishFlag queues the Flag forwarding a report about the remote account
// target, by the instance actor, to target. It must run inside Service.tx.
func (s *Service) publishFlag(ctx context.Context, target *Account, statuses []Status, comment string) error {
	instance := &Account{IRI: s.InstanceActorIRI()}
	objects := []string{target.IRI}
	for _, st := range statuses {
		objects = append(objects, st.IRI)
	}
	flag, err := s.newActivity("Flag", instance, target.IRI)
	if err != nil {
		return err
	}
	if err := flag.Set("object", streams.IRIList(objects...)); err != nil {
		return fmt.Errorf("build Flag: %w", err)
	}
	if comment != "" {
		if err := flag.Set("content", streams.String(comment)); err != nil {
			return fmt.Errorf("build Flag: %w", err)
		}
	}
	if err := setAudience(flag, []string{target.IRI}, nil); err != nil {
		return err
	}
	return s.publish(ctx, instance, flag)
}

func nonNil(ids []int64) []int64 {
	if ids == nil {
		return []int64{}
	}
	return ids
}

// receiveFlag files a report from another server about a local account
// (and the local statuses the Flag names).
func (s *Service) receiveFlag(ctx context.Context, actor *Account, act *streams.Object) error {
	var target *Account
	var statusIDs []int64
	for _, iri := range act.IRIs("object") {
		if a, err := s.localTarget(ctx, s.db, iri); err == nil {
			if target == nil {
				target = a
			}
			continue
		}
		if st, err := s.statusByIRI(ctx, s.db, iri); err == nil && st.Local && len(statusIDs) < 100 {
			statusIDs = append(statusIDs, st.ID)
		}
	}
	if target == nil {
		return nil // about nobody here
	}
	if len(statusIDs) > 0 {
		n, err := s.db.NewSelect().Model((*Status)(nil)).Where("id IN (?) AND actor_id = ?", bun.In(statusIDs), target.ID).Count(ctx)
		if err != nil {
			return err
		}
		if int(n) != len(statusIDs) {
			statusIDs = nil
		}
	}
	id, err := s.nextID()
	if err != nil {
		return err
	}
	r := &Report{ID: id, ReporterID: actor.ID, TargetID: target.ID, StatusIDsJSON: mustJSON(nonNil(statusIDs)),
		Comment: truncateRunes(plainLine(act.String("content")), MaxReportComment), IRI: act.ID(), CreatedAt: s.timestamp()}
	if r.IRI == "" {
		r.IRI = s.activityIRI(id) + "#flag"
	}
	_, err = s.db.NewInsert().Model(r).On("CONFLICT DO NOTHING").Exec(ctx)
	return err
}

// Reports lists reports for a moderator: open ones (resolved false) or
// resolved ones, newest first.
func (s *Service) Reports(ctx context.Context, moderatorID int64, resolved bool, p Page) ([]Report, error) {
	if err := s.requireModerator(ctx, moderatorID); err != nil {
		return nil, fmt.Errorf("actors: reports: %w", err)
	}
	var out []Report
	q := s.db.NewSelect().Model(&out)
	if resolved {
		q = q.Where("resolved_at IS NOT NULL")
	} else {
		q = q.Where("resolved_at IS NULL")
	}
	if err := p.apply(q, "id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("actors: reports: %w", err)
	}
	return out, nil
}

// ResolveReport closes a report; NotFound when it is not open.
func (s *Service) ResolveReport(ctx context.Context, moderatorID, reportID int64) error {
	if err := s.requireModerator(ctx, moderatorID); err != nil {
		return fmt.Errorf("actors: resolve report %d: %w", reportID, err)
	}
	res, err := s.db.NewUpdate().Model((*Report)(nil)).
		Set("resolved_at = ?", s.timestamp()).Set("resolved_by = ?", moderatorID).
		Where("id = ? AND resolved_at IS NULL", reportID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("actors: resolve report %d: %w", reportID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("actors: resolve report %d: %w", reportID, errkind.New(errkind.NotFound, "no such open report"))
	}
	return nil
}

// Moderation is an action a moderator takes on an account.
type Moderation string

// The moderation actions.
const (
	Suspend   Moderation = "suspend"
	Unsuspend Moderation = "unsuspend"
	Silence   Moderation = "silence"
	Unsilence Moderation = "unsilence"
)

// Moderate suspends, silences or restores an account. A suspended account
// disappears: its documents, WebFinger, statuses (and boosts of them) and
// notifications are hidden everywhere, nothing it sends is accepted but
// Delete, Undo, Update and Reject (rule 32), and follows with it end. A
// silenced account stays out of public timelines and reaches only its
// followers' notifications. Moderators cannot moderate themselves.
func (s *Service) Moderate(ctx context.Context, moderatorID, targetID int64, action Moderation) error {
	if err := s.requireModerator(ctx, moderatorID); err != nil {
		return fmt.Errorf("actors: %s %d: %w", action, targetID, err)
	}
	if moderatorID == targetID {
		return fmt.Errorf("actors: %s %d: %w", action, targetID, errkind.New(errkind.Invalid, "moderators cannot moderate themselves"))
	}
	now := s.timestamp()
	var set string
	var arg any
	switch action {
	case Suspend:
		set, arg = "suspended_at = ?", now
	case Unsuspend:
		set, arg = "suspended_at = ?", nil
	case Silence:
		set, arg = "silenced_at = ?", now
	case Unsilence:
		set, arg = "silenced_at = ?", nil
	default:
		return fmt.Errorf("actors: moderate %d: %w", targetID, errkind.New(errkind.Invalid, "action must be suspend, unsuspend, silence or unsilence"))
	}
	err := s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewUpdate().Model((*Account)(nil)).Set(set, arg).Where("id = ?", targetID).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errkind.New(errkind.NotFound, "no such account")
		}
		if action != Suspend {
			return nil
		}
		_, err = tx.NewDelete().Model((*Follow)(nil)).Where("follower_id = ? OR target_id = ?", targetID, targetID).Exec(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("actors: %s %d: %w", action, targetID, err)
	}
	return nil
}
