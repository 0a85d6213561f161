package actors

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/uptrace/bun"

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

// FlushOutbox hands every queued activity to the Publisher, oldest first,
// and returns how many it handed over. It stops at the first failure,
// which it returns. Servers call it periodically and at start, so that
// activities whose hand-over failed (the engine was down) still go out.
func (s *Service) FlushOutbox(ctx context.Context) (int, error) {
	var ids []int64
	if err := s.db.NewSelect().Model((*outboxRow)(nil)).Column("id").Order("id").Limit(1000).Scan(ctx, &ids); err != nil {
		return 0, fmt.Errorf("actors: flush outbox: %w", err)
	}
	for i, id := range ids {
		if err := s.handOver(ctx, id); err != nil {
			return i, fmt.Errorf("actors: flush outbox: %w", err)
		}
	}
	return len(ids), nil
}

// PendingOutbox returns the number of activities waiting for hand-over.
func (s *Service) PendingOutbox(ctx context.Context) (int, error) {
	n, err := s.db.NewSelect().Model((*outboxRow)(nil)).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("actors: pending outbox: %w", err)
	}
	return int(n), nil
}
