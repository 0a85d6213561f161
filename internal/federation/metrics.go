package federation

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/commonroom/commonroom/pub/delivery"
)

// maxHostLabels bounds the host label of the per-host failure counter;
// failures to further hosts are counted under host="other".
const maxHostLabels = 1000

// deliveryMetrics turns the delivery pool's events into Prometheus metrics.
// It is the pool's delivery.Observer, and its queue collector reads the
// pool's Stats at every scrape.
type deliveryMetrics struct {
	attempts     *prometheus.CounterVec
	duration     prometheus.Histogram
	hostFailures *prometheus.CounterVec

	mu    sync.Mutex
	hosts map[string]struct{}
}

var _ delivery.Observer = (*deliveryMetrics)(nil)

// outcomes lists every delivery outcome, so each series exists from the
// start.
var outcomes = []delivery.Outcome{delivery.Delivered, delivery.Retried, delivery.Rejected, delivery.Expired, delivery.Skipped}

func newDeliveryMetrics() *deliveryMetrics {
	m := &deliveryMetrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "commonroom_deliveries_total",
			Help: "Delivery attempts by outcome: delivered, retried, rejected (final failure), expired (out of attempts), skipped (host unavailable).",
		}, []string{"outcome"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "commonroom_delivery_duration_seconds",
			Help:    "Time to send one delivery (attempts that made a request).",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}),
		hostFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "commonroom_delivery_host_failures_total",
			Help: "Delivery attempts that failed for the remote host's sake (no answer or a 5xx), by host; hosts beyond the first 1000 count as \"other\".",
		}, []string{"host"}),
		hosts: make(map[string]struct{}),
	}
	for _, o := range outcomes {
		m.attempts.WithLabelValues(o.String())
	}
	return m
}

// ObserveDelivery records one attempt.
func (m *deliveryMetrics) ObserveDelivery(e delivery.Event) {
	m.attempts.WithLabelValues(e.Outcome.String()).Inc()
	if !sent(e) {
		return
	}
	m.duration.Observe(e.Duration.Seconds())
	if hostFailure(e) {
		m.hostFailures.WithLabelValues(m.hostLabel(e.Host)).Inc()
	}
}

// hostFailure reports whether an attempt counts against the remote host, as
// the pool counts it towards marking the host unavailable: it was sent and
// got no answer or a 5xx. Final refusals (4xx, our own address policy) and
// failures to sign are not the host's.
func hostFailure(e delivery.Event) bool {
	if e.Outcome != delivery.Retried && e.Outcome != delivery.Expired {
		return false
	}
	return sent(e) && (e.StatusCode == 0 || e.StatusCode >= 500)
}

// sent reports whether the attempt made a request: skipped jobs and jobs
// that could not be signed have no send time.
func sent(e delivery.Event) bool {
	return e.Outcome != delivery.Skipped && (e.Duration > 0 || e.StatusCode != 0)
}

func (m *deliveryMetrics) hostLabel(host string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.hosts[host]; ok {
		return host
	}
	if len(m.hosts) >= maxHostLabels {
		return "other"
	}
	m.hosts[host] = struct{}{}
	return host
}

// register adds the metrics, and a collector of pool's queue statistics, to
// reg.
func (m *deliveryMetrics) register(reg prometheus.Registerer, pool *delivery.Pool, logger *slog.Logger) error {
	for _, c := range []prometheus.Collector{m.attempts, m.duration, m.hostFailures, newQueueCollector(pool, logger)} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register delivery metrics: %w", err)
		}
	}
	return nil
}

// queueCollector reports the delivery queue at scrape time.
type queueCollector struct {
	pool   *delivery.Pool
	logger *slog.Logger

	jobs      *prometheus.Desc
	oldestAge *prometheus.Desc
	hosts     *prometheus.Desc
	inFlight  *prometheus.Desc
}

func newQueueCollector(pool *delivery.Pool, logger *slog.Logger) *queueCollector {
	return &queueCollector{
		pool:   pool,
		logger: logger,
		jobs: prometheus.NewDesc("commonroom_delivery_queue_jobs",
			"Delivery jobs in the queue (all processes): pending (every stored job), due (due now and not leased), leased (being sent).",
			[]string{"state"}, nil),
		oldestAge: prometheus.NewDesc("commonroom_delivery_queue_oldest_due_age_seconds",
			"Age of the oldest job that is due and not yet sent: how far delivery lags; 0 when nothing is due.", nil, nil),
		hosts: prometheus.NewDesc("commonroom_delivery_hosts",
			"Remote hosts with delivery failures: failing (at least one failure day since the last success), unavailable (skipped until they answer).",
			[]string{"state"}, nil),
		inFlight: prometheus.NewDesc("commonroom_delivery_in_flight",
			"Deliveries this process is sending now.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.jobs
	ch <- c.oldestAge
	ch <- c.hosts
	ch <- c.inFlight
}

// Collect implements prometheus.Collector. A failing queue query is logged
// and its gauges left out, so that /metrics keeps answering.
func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := c.pool.Stats(ctx)
	ch <- prometheus.MustNewConstMetric(c.inFlight, prometheus.GaugeValue, float64(s.InFlight))
	if err != nil {
		c.logger.Error("metrics: reading the delivery queue", "err", err)
		return
	}
	q := s.Queue
	ch <- prometheus.MustNewConstMetric(c.jobs, prometheus.GaugeValue, float64(q.Pending), "pending")
	ch <- prometheus.MustNewConstMetric(c.jobs, prometheus.GaugeValue, float64(q.Due), "due")
	ch <- prometheus.MustNewConstMetric(c.jobs, prometheus.GaugeValue, float64(q.Leased), "leased")
	age := 0.0
	if !q.OldestDueAt.IsZero() {
		age = max(time.Since(q.OldestDueAt).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(c.oldestAge, prometheus.GaugeValue, age)
	ch <- prometheus.MustNewConstMetric(c.hosts, prometheus.GaugeValue, float64(q.FailingHosts), "failing")
	ch <- prometheus.MustNewConstMetric(c.hosts, prometheus.GaugeValue, float64(q.UnavailableHosts), "unavailable")
}

// inboxMetrics counts what the inboxes answer. pub exposes no observer of
// its inbox checks, so the outcome is read from the response status, which
// pub chooses by reason: 202 accepted (a duplicate included), 400 a
// malformed or misshapen activity, 401 a missing, invalid or unverifiable
// signature, 403 a blocked domain or actor, 404 an unknown recipient, 413 a
// body too large, 415 a wrong content type, 429 rate limited, 5xx our own
// failure.
type inboxMetrics struct {
	requests *prometheus.CounterVec
}

// inboxReason names the outcome and reason labels of an inbox answer.
func inboxReason(status int) (outcome, reason string) {
	switch {
	case status >= 200 && status < 300:
		return "accepted", ""
	case status == http.StatusBadRequest:
		return "rejected", "invalid"
	case status == http.StatusUnauthorized:
		return "rejected", "signature"
	case status == http.StatusForbidden:
		return "rejected", "blocked"
	case status == http.StatusNotFound:
		return "rejected", "unknown_recipient"
	case status == http.StatusMethodNotAllowed:
		return "rejected", "method"
	case status == http.StatusRequestEntityTooLarge:
		return "rejected", "too_large"
	case status == http.StatusUnsupportedMediaType:
		return "rejected", "content_type"
	case status == http.StatusTooManyRequests:
		return "rejected", "rate_limited"
	case status >= 500:
		return "rejected", "internal"
	default:
		return "rejected", "other"
	}
}

func newInboxMetrics() *inboxMetrics {
	m := &inboxMetrics{requests: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "commonroom_inbox_requests_total",
		Help: "Activities POSTed to the inboxes, by outcome (accepted, rejected) and reason of a rejection: invalid, signature, blocked, unknown_recipient, method, too_large, content_type, rate_limited, internal, other.",
	}, []string{"outcome", "reason"})}
	// Every series exists from the start: one status of each reason.
	for _, status := range []int{
		http.StatusAccepted, http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden,
		http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusRequestEntityTooLarge,
		http.StatusUnsupportedMediaType, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusTeapot, // other
	} {
		m.requests.WithLabelValues(inboxReason(status))
	}
	return m
}

func (m *inboxMetrics) register(reg prometheus.Registerer) error {
	if err := reg.Register(m.requests); err != nil {
		return fmt.Errorf("register inbox metrics: %w", err)
	}
	return nil
}

// wrap counts the answers h gives.
func (m *inboxMetrics) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		m.requests.WithLabelValues(inboxReason(sw.status)).Inc()
	})
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status  int
	written bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.written {
		w.status, w.written = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	w.written = true
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
