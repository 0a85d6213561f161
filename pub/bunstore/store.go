// Package bunstore implements pub's storage interfaces with bun, on SQLite
// and PostgreSQL; [Store] is the durable delivery queue of pub/delivery.
//
// The tables come from the package's own migrations: [Migrations], in the
// NNNN_name[.sqlite|.postgres].sql layout that Commonroom's server runs as
// one migration set, or [Migrate] for programs without a migration runner
// of their own. Use one or the other on a database, not both. Times are
// stored as Unix milliseconds in BIGINT columns. Open SQLite in WAL mode
// with a busy timeout ([OpenSQLite] does); the Store takes SQLite's write
// lock at the start of each of its write transactions, so concurrent writers
// wait for each other rather than fail.
package bunstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/commonroom/commonroom/pub/delivery"
)

// Store is the bun implementation of [delivery.Queue]. It is safe for
// concurrent use, and several Stores (in one process or several) may share
// one database: on PostgreSQL claims lock rows with FOR UPDATE SKIP LOCKED,
// on SQLite they run under the database's single writer lock.
type Store struct {
	db *bun.DB
	pg bool
	// enqueueChunk is how many rows one INSERT statement carries.
	enqueueChunk int
	// candidateFactor: a claim reads up to Limit*candidateFactor due rows to
	// choose Limit of them within per-host caps.
	candidateFactor int
	// The per-job statements, in the dialect's placeholders.
	deleteLeased, recordSuccess, reschedule string
}

var _ delivery.Queue = (*Store)(nil)

// New returns a Store over db, whose tables must have been migrated.
func New(db *bun.DB) *Store {
	s := &Store{db: db, pg: db.Dialect().Name() == dialect.PG, enqueueChunk: 500, candidateFactor: 4}
	s.deleteLeased = s.rebind("DELETE FROM delivery_jobs WHERE " + fence)
	s.recordSuccess = s.rebind(`INSERT INTO delivery_hosts (host, failure_days, last_failure_day, unavailable, last_success_at)
VALUES (?, 0, 0, ?, ?)
ON CONFLICT (host) DO UPDATE SET failure_days = 0, last_failure_day = 0, unavailable = excluded.unavailable,
unavailable_since = NULL, last_success_at = excluded.last_success_at`)
	s.reschedule = s.rebind("UPDATE delivery_jobs SET next_attempt_at = ?, attempts = ?, last_error = ?, lease_owner = NULL WHERE " + fence)
	return s
}

// jobRow is a row of delivery_jobs.
type jobRow struct {
	bun.BaseModel `bun:"table:delivery_jobs"`

	ID            int64   `bun:"id,pk,autoincrement"`
	InboxURL      string  `bun:"inbox_url"`
	Host          string  `bun:"host"`
	KeyID         string  `bun:"key_id"`
	ActivityID    string  `bun:"activity_id"`
	Body          []byte  `bun:"body"`
	Attempts      int     `bun:"attempts"`
	NextAttemptAt int64   `bun:"next_attempt_at"`
	LeaseOwner    *string `bun:"lease_owner"`
	LastError     string  `bun:"last_error"`
	CreatedAt     int64   `bun:"created_at"`
}

const jobColumns = "id, inbox_url, host, key_id, activity_id, body, attempts, next_attempt_at, lease_owner, last_error, created_at"

// candidate is a due job a claim may lease.
type candidate struct {
	ID   int64
	Host string
}

// scanCandidates reads rows of id, host.
func scanCandidates(rows *sql.Rows, err error) ([]candidate, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []candidate
	for rows.Next() {
		var c candidate
		if err := rows.Scan(&c.ID, &c.Host); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// scanJobs reads rows of jobColumns.
func scanJobs(rows *sql.Rows, err error) ([]jobRow, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []jobRow
	for rows.Next() {
		var r jobRow
		if err := rows.Scan(&r.ID, &r.InboxURL, &r.Host, &r.KeyID, &r.ActivityID, &r.Body,
			&r.Attempts, &r.NextAttemptAt, &r.LeaseOwner, &r.LastError, &r.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (r *jobRow) job() delivery.Job {
	j := delivery.Job{
		ID:            r.ID,
		InboxURL:      r.InboxURL,
		Host:          r.Host,
		KeyID:         r.KeyID,
		ActivityID:    r.ActivityID,
		Body:          r.Body,
		Attempts:      r.Attempts,
		NextAttemptAt: time.UnixMilli(r.NextAttemptAt),
		LastError:     r.LastError,
		CreatedAt:     time.UnixMilli(r.CreatedAt),
	}
	if r.LeaseOwner != nil {
		j.LeaseOwner = *r.LeaseOwner
	}
	return j
}

// hostRow is a row of delivery_hosts.
type hostRow struct {
	bun.BaseModel `bun:"table:delivery_hosts"`

	Host             string `bun:"host,pk"`
	FailureDays      int    `bun:"failure_days"`
	LastFailureDay   int64  `bun:"last_failure_day"`
	Unavailable      bool   `bun:"unavailable"`
	UnavailableSince *int64 `bun:"unavailable_since"`
	LastSuccessAt    *int64 `bun:"last_success_at"`
}

const hostColumns = "host, failure_days, last_failure_day, unavailable, unavailable_since, last_success_at"

// scanHosts reads rows of hostColumns.
func scanHosts(rows *sql.Rows, err error) ([]hostRow, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []hostRow
	for rows.Next() {
		var r hostRow
		if err := rows.Scan(&r.Host, &r.FailureDays, &r.LastFailureDay, &r.Unavailable,
			&r.UnavailableSince, &r.LastSuccessAt); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (r *hostRow) state() delivery.HostState {
	s := delivery.HostState{
		Host:           r.Host,
		FailureDays:    r.FailureDays,
		LastFailureDay: r.LastFailureDay,
		Unavailable:    r.Unavailable,
	}
	if r.UnavailableSince != nil {
		s.UnavailableSince = time.UnixMilli(*r.UnavailableSince)
	}
	if r.LastSuccessAt != nil {
		s.LastSuccessAt = time.UnixMilli(*r.LastSuccessAt)
	}
	return s
}

func ms(t time.Time) int64 { return t.UnixMilli() }

// rebind returns query, written with ? placeholders, in the dialect's own
// placeholders: unchanged on SQLite, $1, $2, ... on PostgreSQL. The queries
// it is given hold no ? other than placeholders.
//
// The hot statements (Enqueue, Claim, Complete, Reschedule, Drop,
// RecordFailure) run on the *sql.DB or *sql.Tx under bun with their
// arguments as bound parameters: bun's NewRaw and ExecContext format the
// arguments into the SQL text (a job's body as a hex literal), so every
// statement is long and new and SQLite parses all of it each time.
func (s *Store) rebind(query string) string {
	if !s.pg {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + len(query)/8)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// placeholders appends n comma-separated ? placeholders to b.
func placeholders(b *strings.Builder, n int) {
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('?')
	}
}

// writeTx runs fn in a transaction that, on SQLite, holds the write lock from
// its first statement, so that reads inside it see what they will update and
// the busy timeout applies (a deferred transaction upgrading from read to
// write fails at once with SQLITE_BUSY instead of waiting).
func (s *Store) writeTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if !s.pg {
			// Writes nothing, but opens a write transaction.
			if _, err := tx.Tx.ExecContext(ctx, "UPDATE delivery_hosts SET failure_days = failure_days WHERE 0 = 1"); err != nil {
				return fmt.Errorf("taking the write lock: %w", err)
			}
		}
		return fn(ctx, tx)
	})
}

// Enqueue implements [delivery.Queue]: one transaction, one multi-row INSERT
// per few hundred jobs. It sets the jobs' IDs and CreatedAt (and
// NextAttemptAt, when zero, to now).
func (s *Store) Enqueue(ctx context.Context, now time.Time, jobs []delivery.Job) error {
	if len(jobs) == 0 {
		return nil
	}
	nowMS := ms(now)
	const insertColumns = "inbox_url, host, key_id, activity_id, body, attempts, next_attempt_at, last_error, created_at"
	const perRow = 9
	args := make([]any, 0, perRow*min(len(jobs), s.enqueueChunk))
	err := s.writeTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var full string // the statement for a whole chunk, built once
		for start := 0; start < len(jobs); start += s.enqueueChunk {
			batch := jobs[start:min(start+s.enqueueChunk, len(jobs))]
			args = args[:0]
			for _, j := range batch {
				next := nowMS
				if !j.NextAttemptAt.IsZero() {
					next = ms(j.NextAttemptAt)
				}
				body := j.Body
				if body == nil {
					body = []byte{}
				}
				args = append(args, j.InboxURL, j.Host, j.KeyID, j.ActivityID, body, j.Attempts, next, j.LastError, nowMS)
			}
			q := full
			if q == "" || len(batch) != s.enqueueChunk {
				var b strings.Builder
				b.WriteString("INSERT INTO delivery_jobs (" + insertColumns + ") VALUES ")
				for i := range batch {
					if i > 0 {
						b.WriteString(", ")
					}
					b.WriteByte('(')
					placeholders(&b, perRow)
					b.WriteByte(')')
				}
				b.WriteString(" RETURNING id")
				q = s.rebind(b.String())
				if len(batch) == s.enqueueChunk {
					full = q
				}
			}
			rows, err := tx.Tx.QueryContext(ctx, q, args...)
			if err != nil {
				return fmt.Errorf("inserting jobs %d-%d: %w", start, start+len(batch)-1, err)
			}
			// Rows come back in the order of VALUES, as bun's
			// model insert assumed before.
			n := 0
			for rows.Next() {
				if n < len(batch) {
					if err := rows.Scan(&batch[n].ID); err != nil {
						rows.Close()
						return fmt.Errorf("inserting jobs %d-%d: reading ids: %w", start, start+len(batch)-1, err)
					}
				}
				n++
			}
			if err := rows.Close(); err != nil {
				return fmt.Errorf("inserting jobs %d-%d: %w", start, start+len(batch)-1, err)
			}
			if err := rows.Err(); err != nil {
				return fmt.Errorf("inserting jobs %d-%d: %w", start, start+len(batch)-1, err)
			}
			if n != len(batch) {
				return fmt.Errorf("inserting jobs %d-%d: %d ids returned", start, start+len(batch)-1, n)
			}
			for i := range batch {
				batch[i].CreatedAt = time.UnixMilli(nowMS)
				batch[i].NextAttemptAt = time.UnixMilli(args[i*perRow+6].(int64))
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("bunstore: enqueue %d jobs: %w", len(jobs), err)
	}
	return nil
}

// claimPasses bounds how many candidate windows one claim reads.
const claimPasses = 4

// Claim implements [delivery.Queue]. In one transaction it reads up to
// 4*Limit due rows, oldest first (on PostgreSQL with FOR UPDATE SKIP LOCKED,
// so concurrent claimers pass over each other's rows), picks up to Limit of
// them within the per-host cap, and leases those with one UPDATE. Rows read
// but not picked are left as they were. When a full window yielded fewer
// than Limit jobs because its hosts reached their cap (a backlog for one
// host ahead of everyone else's jobs), it reads another window without those
// hosts, up to four windows in all.
func (s *Store) Claim(ctx context.Context, req delivery.ClaimRequest) ([]delivery.Job, error) {
	if req.Limit <= 0 {
		return nil, nil
	}
	if req.Owner == "" {
		return nil, errors.New("bunstore: claim: empty owner")
	}
	nowMS := ms(req.Now)
	expires := ms(req.Now.Add(req.Lease))
	if expires <= nowMS {
		return nil, fmt.Errorf("bunstore: claim: lease %v is too short", req.Lease)
	}
	var out []delivery.Job
	err := s.writeTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		out = nil
		taken := map[string]int{}
		full := func(h string) bool {
			return req.MaxPerHost > 0 && req.HostLoad[h]+taken[h] >= req.MaxPerHost
		}
		for pass := 0; pass < claimPasses && len(out) < req.Limit; pass++ {
			var excluded []string
			if req.MaxPerHost > 0 {
				for h := range req.HostLoad {
					if full(h) {
						excluded = append(excluded, h)
					}
				}
				for h := range taken {
					if _, ok := req.HostLoad[h]; !ok && full(h) {
						excluded = append(excluded, h)
					}
				}
			}
			want := req.Limit - len(out)
			window := want * s.candidateFactor
			var q strings.Builder
			args := make([]any, 0, 2+len(excluded))
			args = append(args, nowMS)
			q.WriteString("SELECT id, host FROM delivery_jobs WHERE next_attempt_at <= ?")
			if len(excluded) > 0 {
				q.WriteString(" AND host NOT IN (")
				placeholders(&q, len(excluded))
				q.WriteByte(')')
				for _, h := range excluded {
					args = append(args, h)
				}
			}
			q.WriteString(" ORDER BY next_attempt_at, id LIMIT ?")
			args = append(args, window)
			if s.pg {
				q.WriteString(" FOR UPDATE SKIP LOCKED")
			}
			cands, err := scanCandidates(tx.Tx.QueryContext(ctx, s.rebind(q.String()), args...))
			if err != nil {
				return fmt.Errorf("reading due jobs: %w", err)
			}
			ids := make([]int64, 0, min(len(cands), want))
			for _, c := range cands {
				if len(ids) == want {
					break
				}
				if full(c.Host) {
					continue
				}
				taken[c.Host]++
				ids = append(ids, c.ID)
			}
			if len(ids) > 0 {
				// Leased rows are no longer due, so the next window
				// passes over them.
				q.Reset()
				q.WriteString("UPDATE delivery_jobs SET lease_owner = ?, next_attempt_at = ?, attempts = attempts + 1 WHERE id IN (")
				placeholders(&q, len(ids))
				q.WriteString(") RETURNING " + jobColumns)
				args = append(args[:0], req.Owner, expires)
				for _, id := range ids {
					args = append(args, id)
				}
				rows, err := scanJobs(tx.Tx.QueryContext(ctx, s.rebind(q.String()), args...))
				if err != nil {
					return fmt.Errorf("leasing %d jobs: %w", len(ids), err)
				}
				for i := range rows {
					out = append(out, rows[i].job())
				}
			}
			if len(cands) < window {
				break // every due job was seen
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bunstore: claim: %w", err)
	}
	return out, nil
}

// fence is the WHERE clause matching a job only under the lease it was
// claimed with.
const fence = "id = ? AND lease_owner = ? AND next_attempt_at = ?"

func fenceArgs(j delivery.Job) []any {
	return []any{j.ID, j.LeaseOwner, ms(j.NextAttemptAt)}
}

func leaseLost(res interface{ RowsAffected() (int64, error) }, j delivery.Job) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("rows affected: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("job %d: %w", j.ID, delivery.ErrLeaseLost)
	}
	return nil
}

// Complete implements [delivery.Queue]: it deletes the job and records the
// host's success in one transaction.
func (s *Store) Complete(ctx context.Context, j delivery.Job, now time.Time) error {
	var lost error
	err := s.writeTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.Tx.ExecContext(ctx, s.deleteLeased, fenceArgs(j)...)
		if err != nil {
			return fmt.Errorf("deleting job %d: %w", j.ID, err)
		}
		if lost = leaseLost(res, j); lost != nil && !errors.Is(lost, delivery.ErrLeaseLost) {
			return lost
		}
		if _, err := tx.Tx.ExecContext(ctx, s.recordSuccess, j.Host, false, ms(now)); err != nil {
			return fmt.Errorf("recording success of %s: %w", j.Host, err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("bunstore: complete: %w", err)
	}
	if lost != nil {
		return fmt.Errorf("bunstore: complete: %w", lost)
	}
	return nil
}

// Reschedule implements [delivery.Queue].
func (s *Store) Reschedule(ctx context.Context, j delivery.Job, at time.Time, lastError string) error {
	// PostgreSQL text holds neither invalid UTF-8 nor NUL.
	lastError = strings.ReplaceAll(strings.ToValidUTF8(lastError, "\uFFFD"), "\x00", "")
	args := append([]any{ms(at), j.Attempts, lastError}, fenceArgs(j)...)
	res, err := s.db.DB.ExecContext(ctx, s.reschedule, args...)
	if err != nil {
		return fmt.Errorf("bunstore: reschedule job %d: %w", j.ID, err)
	}
	if err := leaseLost(res, j); err != nil {
		return fmt.Errorf("bunstore: reschedule: %w", err)
	}
	return nil
}

// Drop implements [delivery.Queue].
func (s *Store) Drop(ctx context.Context, j delivery.Job) error {
	res, err := s.db.DB.ExecContext(ctx, s.deleteLeased, fenceArgs(j)...)
	if err != nil {
		return fmt.Errorf("bunstore: drop job %d: %w", j.ID, err)
	}
	if err := leaseLost(res, j); err != nil {
		return fmt.Errorf("bunstore: drop: %w", err)
	}
	return nil
}

// RecordFailure implements [delivery.Queue]: in one transaction it reads the
// host's row (locking it on PostgreSQL) and upserts the failure.
func (s *Store) RecordFailure(ctx context.Context, host string, now time.Time, unavailableDays int) (delivery.HostState, bool, error) {
	day, nowMS := delivery.UTCDay(now), ms(now)
	if unavailableDays < 1 {
		unavailableDays = 1
	}
	first := unavailableDays <= 1
	var firstSince *int64
	if first {
		firstSince = &nowMS
	}
	// Every SET expression reads the row as it was before the update.
	const newDays = "(CASE WHEN delivery_hosts.last_failure_day < excluded.last_failure_day THEN delivery_hosts.failure_days + 1 ELSE delivery_hosts.failure_days END)"
	var row hostRow
	var wasUnavailable bool
	err := s.writeTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		lock := ""
		if s.pg {
			lock = " FOR UPDATE"
		}
		old, err := scanHosts(tx.Tx.QueryContext(ctx, s.rebind("SELECT "+hostColumns+" FROM delivery_hosts WHERE host = ?"+lock), host))
		if err != nil {
			return fmt.Errorf("reading host: %w", err)
		}
		wasUnavailable = len(old) > 0 && old[0].Unavailable
		rows, err := scanHosts(tx.Tx.QueryContext(ctx, s.rebind(`INSERT INTO delivery_hosts (host, failure_days, last_failure_day, unavailable, unavailable_since)
VALUES (?, 1, ?, ?, ?)
ON CONFLICT (host) DO UPDATE SET
failure_days = `+newDays+`,
last_failure_day = (CASE WHEN delivery_hosts.last_failure_day < excluded.last_failure_day THEN excluded.last_failure_day ELSE delivery_hosts.last_failure_day END),
unavailable = (delivery_hosts.unavailable OR `+newDays+` >= ?),
unavailable_since = (CASE WHEN delivery_hosts.unavailable THEN delivery_hosts.unavailable_since WHEN `+newDays+` >= ? THEN ? ELSE NULL END)
RETURNING `+hostColumns),
			host, day, first, firstSince, unavailableDays, unavailableDays, nowMS))
		if err != nil {
			return err
		}
		if len(rows) != 1 {
			return fmt.Errorf("upsert returned %d rows", len(rows))
		}
		row = rows[0]
		return nil
	})
	if err != nil {
		return delivery.HostState{}, false, fmt.Errorf("bunstore: record failure of %s: %w", host, err)
	}
	return row.state(), row.Unavailable && !wasUnavailable, nil
}

// MarkReachable implements [delivery.Queue].
func (s *Store) MarkReachable(ctx context.Context, host string) error {
	if _, err := s.db.NewRaw(`UPDATE delivery_hosts SET failure_days = 0, last_failure_day = 0, unavailable = ?, unavailable_since = NULL
WHERE host = ? AND (failure_days > 0 OR unavailable)`, false, host).Exec(ctx); err != nil {
		return fmt.Errorf("bunstore: mark %s reachable: %w", host, err)
	}
	return nil
}

// Hosts implements [delivery.Queue].
func (s *Store) Hosts(ctx context.Context, hosts []string) (map[string]delivery.HostState, error) {
	out := make(map[string]delivery.HostState)
	if len(hosts) == 0 {
		return out, nil
	}
	var rows []hostRow
	if err := s.db.NewRaw("SELECT "+hostColumns+" FROM delivery_hosts WHERE host IN (?)", bun.In(hosts)).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("bunstore: reading %d hosts: %w", len(hosts), err)
	}
	for i := range rows {
		out[rows[i].Host] = rows[i].state()
	}
	return out, nil
}

// Stats implements [delivery.Queue] with two aggregate queries. They scan
// the tables: fine for a metrics scrape every few seconds, not for a hot
// path.
func (s *Store) Stats(ctx context.Context, now time.Time) (delivery.QueueStats, error) {
	nowMS := ms(now)
	var jobs struct {
		Pending int64  `bun:"pending"`
		Due     int64  `bun:"due"`
		Leased  int64  `bun:"leased"`
		Oldest  *int64 `bun:"oldest"`
	}
	if err := s.db.NewRaw(`SELECT COUNT(*) AS pending,
COUNT(CASE WHEN next_attempt_at <= ? THEN 1 END) AS due,
COUNT(CASE WHEN lease_owner IS NOT NULL AND next_attempt_at > ? THEN 1 END) AS leased,
MIN(CASE WHEN next_attempt_at <= ? THEN created_at END) AS oldest
FROM delivery_jobs`, nowMS, nowMS, nowMS).Scan(ctx, &jobs); err != nil {
		return delivery.QueueStats{}, fmt.Errorf("bunstore: job stats: %w", err)
	}
	var hosts struct {
		Failing     int64 `bun:"failing"`
		Unavailable int64 `bun:"unavailable"`
	}
	if err := s.db.NewRaw(`SELECT COUNT(CASE WHEN failure_days > 0 THEN 1 END) AS failing,
COUNT(CASE WHEN unavailable THEN 1 END) AS unavailable FROM delivery_hosts`).Scan(ctx, &hosts); err != nil {
		return delivery.QueueStats{}, fmt.Errorf("bunstore: host stats: %w", err)
	}
	st := delivery.QueueStats{
		Pending: jobs.Pending, Due: jobs.Due, Leased: jobs.Leased,
		FailingHosts: hosts.Failing, UnavailableHosts: hosts.Unavailable,
	}
	if jobs.Oldest != nil {
		st.OldestDueAt = time.UnixMilli(*jobs.Oldest)
	}
	return st, nil
}
