package actors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/uptrace/bun"

	"github.com/commonroom/commonroom/pub"
	"github.com/commonroom/commonroom/streams"
)

// outboxRow is a row of actor_outbox: an activity waiting to be handed to
// the Publisher.
type outboxRow struct {
	bun.BaseModel `bun:"table:actor_outbox"`

	ID        int64     `bun:"id,pk"`
	ActorIRI  string    `bun:"actor_iri,notnull"`
	Activity  string    `bun:"activity,notnull"`
	Attempts  int       `bun:"attempts,notnull"`
	LastError string    `bun:"last_error,notnull"`
	ClaimedAt time.Time `bun:"claimed_at,nullzero"`
	CreatedAt time.Time `bun:"created_at,notnull"`
}

// outboxLease is how long a hand-over may take before another flush may
// retry the row.
const outboxLease = 2 * time.Minute

// MaxOutboxAttempts is how often an activity is handed to the Publisher
// before it is dropped (and logged as an error).
const MaxOutboxAttempts = 20

// ErrUndeliverable marks a Publisher error that retrying cannot fix (the
// engine refused the activity). The activity is dropped at once.
var ErrUndeliverable = errors.New("actors: activity refused by the federation engine")

// permanent reports whether a Publisher error will not go away.
func permanent(err error) bool {
	return errors.Is(err, ErrUndeliverable) || errors.Is(err, pub.ErrRejected) ||
		errors.Is(err, pub.ErrInvalidActivity) || errors.Is(err, pub.ErrNotFound)
}

// txState collects what a transaction queued for publishing.
type txState struct{ outbox []int64 }

type txKey struct{}

// tx runs fn in a transaction and, once it committed, hands the activities
// fn queued (publish) to the Publisher. A hand-over that fails is logged
// and left for FlushOutbox: the change itself stands.
func (s *Service) tx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	st := &txState{}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		ctx = context.WithValue(context.WithValue(ctx, txKey{}, st), txHandleKey{}, bun.IDB(tx))
		return fn(ctx, tx)
	})
	if err != nil {
		return err
	}
	for _, id := range st.outbox {
		if err := s.handOver(ctx, id); err != nil {
			s.log.WarnContext(ctx, "actors: activity left for retry", slog.Int64("outbox_id", id), slog.Any("error", err))
			break // keep the order of what one change announced
		}
	}
	return nil
}

// publish queues act by the local actor a, in the transaction of ctx
// (which must come from Service.tx).
func (s *Service) publish(ctx context.Context, a *Account, act *streams.Object) error {
	st, ok := ctx.Value(txKey{}).(*txState)
	if !ok {
		return fmt.Errorf("publish %s: not inside a transaction", act.Type())
	}
	body, err := act.MarshalJSON()
	if err != nil {
		return fmt.Errorf("publish %s: %w", act.Type(), err)
	}
	id, err := s.nextID()
	if err != nil {
		return err
	}
	tx, ok := ctx.Value(txHandleKey{}).(bun.IDB)
	if !ok {
		return fmt.Errorf("publish %s: no transaction handle", act.Type())
	}
	row := &outboxRow{ID: id, ActorIRI: a.IRI, Activity: string(body), CreatedAt: s.timestamp()}
	if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
		return fmt.Errorf("publish %s: queue: %w", act.Type(), err)
	}
	st.outbox = append(st.outbox, id)
	return nil
}

type txHandleKey struct{}

// handOver claims one queued activity, gives it to the Publisher and
// deletes it; on failure it records the error and releases the claim.
func (s *Service) handOver(ctx context.Context, id int64) error {
	now := s.timestamp()
	res, err := s.db.NewUpdate().Model((*outboxRow)(nil)).
		Set("claimed_at = ?", now).
		Where("id = ?", id).
		Where("claimed_at IS NULL OR claimed_at < ?", now.Add(-outboxLease)).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("claim: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // another flush has it, or it is done
	}
	row := new(outboxRow)
	if err := s.db.NewSelect().Model(row).Where("id = ?", id).Scan(ctx); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	act, err := s.reg.Parse([]byte(row.Activity))
	if err == nil {
		err = s.pub.Publish(ctx, row.ActorIRI, act)
	}
	if err != nil && (permanent(err) || row.Attempts+1 >= MaxOutboxAttempts) {
		s.log.ErrorContext(ctx, "actors: activity dropped", slog.Int64("outbox_id", id),
			slog.String("actor", row.ActorIRI), slog.Int("attempts", row.Attempts+1), slog.Any("error", err))
		if _, derr := s.db.NewDelete().Model((*outboxRow)(nil)).Where("id = ?", id).Exec(ctx); derr != nil {
			return fmt.Errorf("drop: %w", derr)
		}
		return fmt.Errorf("dropped: %w", err)
	}
	if err != nil {
		msg := err.Error()
		if len(msg) > 500 {
			msg = msg[:500]
		}
		_, uerr := s.db.NewUpdate().Model((*outboxRow)(nil)).
			Set("attempts = attempts + 1").Set("last_error = ?", msg).Set("claimed_at = NULL").
			Where("id = ?", id).Exec(ctx)
		if uerr != nil {
			s.log.ErrorContext(ctx, "actors: record hand-over failure", slog.Int64("outbox_id", id), slog.Any("error", uerr))
		}
		return fmt.Errorf("publish: %w", err)
	}
	if _, err := s.db.NewDelete().Model((*outboxRow)(nil)).Where("id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	return nil
}

// FlushOutbox hands queued activities to the Publisher, oldest first (at
// most 1000 per call), and returns how many it handed over and the first
// error. A failing activity does not hold up the others; it is retried on
// the next flush, up to MaxOutboxAttempts, and dropped at once when the
// engine refuses it (ErrUndeliverable, pub.ErrRejected,
// pub.ErrInvalidActivity, or pub.ErrNotFound: the actor was suspended or
// the object is gone). Servers call it periodically and at start, so
// that activities whose hand-over failed (the engine was down) still go
// out.
func (s *Service) FlushOutbox(ctx context.Context) (int, error) {
	var ids []int64
	if err := s.db.NewSelect().Model((*outboxRow)(nil)).Column("id").Order("id").Limit(1000).Scan(ctx, &ids); err != nil {
		return 0, fmt.Errorf("actors: flush outbox: %w", err)
	}
	var first error
	n := 0
	for _, id := range ids {
		if err := s.handOver(ctx, id); err != nil {
			if first == nil {
				first = fmt.Errorf("actors: flush outbox: %w", err)
			}
			continue
		}
		n++
	}
	return n, first
}

// PendingOutbox returns the number of activities waiting for hand-over.
func (s *Service) PendingOutbox(ctx context.Context) (int, error) {
	n, err := s.db.NewSelect().Model((*outboxRow)(nil)).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("actors: pending outbox: %w", err)
	}
	return int(n), nil
}
