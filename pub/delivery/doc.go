// Package delivery is the durable delivery engine of the federation server:
// every outgoing activity becomes one job per inbox, stored in a [Queue], and a
// [Pool] of workers POSTs each job's body to its inbox, signed at send time as
// the local actor the job names.
//
// The rules (SECURITY.md rule 28):
//
//   - a 2xx answer completes the job and marks the host reachable;
//   - 5xx, 429, 408 and 401 answers, timeouts and network errors are retried
//     with exponential back-off and full jitter, and never sooner than a
//     Retry-After header asks (up to [Config.MaxRetryAfter]);
//   - any other answer (400, 403, 404, 410, ...) drops the job at once;
//   - after [Config.MaxAttempts] attempts (16 by default, about two days) the
//     job is dropped and counted as expired;
//   - a host that failed on [Config.UnavailableDays] distinct UTC days (7, as
//     Mastodon does) is unavailable: its jobs are dropped without a request
//     ("skipped"), except for one probe a day, until it sends us an activity
//     ([Pool.MarkReachable]) or a delivery to it succeeds.
//
// Jobs are leased, not removed, when a worker claims them: a process that dies
// mid-send leaves leases that lapse, and the jobs are claimed again by the
// next worker. Stopping a [Pool] lets in-flight sends finish and record their
// outcome. The bun implementation of [Queue], for SQLite and PostgreSQL, is in
// pub/bunstore.
//
// The package imports no HTTP client of its own: a [Sender] does the POST (the
// server plugs in pub/transport, which refuses private addresses and bounds
// every request) and a [SignerSource] returns the signer for a key id.
package delivery
