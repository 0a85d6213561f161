package federation

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/commonroom/commonroom/pub"
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

// inboxMetrics counts inbox requests by the outcome pub reports for each
// (it is the pub.FederationConfig Observer): accepted, duplicate (already
// recorded, answered 202), or rejected with pub's reason (unsigned,
// signature, digest, time_window, key, gone, blocked, local_actor,
// actor_mismatch, invalid, too_large, unknown_recipient, method,
// overloaded, internal).
type inboxMetrics struct {
	requests *prometheus.CounterVec
}

func newInboxMetrics() *inboxMetrics {
	m := &inboxMetrics{requests: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "commonroom_inbox_requests_total",
		Help: "Requests to the inboxes, by outcome (accepted, duplicate, rejected) and reason of a rejection: unsigned, signature, digest, time_window, key, gone, blocked, local_actor, actor_mismatch, invalid, too_large, unknown_recipient, method, overloaded, internal.",
	}, []string{"outcome", "reason"})}
	// Every series exists from the start.
	m.requests.WithLabelValues(pub.InboxAccepted.String(), "")
	m.requests.WithLabelValues(pub.InboxDuplicate.String(), "")
	for _, r := range pub.InboxReasons() {
		m.requests.WithLabelValues(pub.InboxRejected.String(), string(r))
	}
	return m
}

func (m *inboxMetrics) register(reg prometheus.Registerer) error {
	if err := reg.Register(m.requests); err != nil {
		return fmt.Errorf("register inbox metrics: %w", err)
	}
	return nil
}

// observe counts one inbox request; it is the Federation's inbox observer.
func (m *inboxMetrics) observe(e pub.InboxEvent) {
	m.requests.WithLabelValues(e.Outcome.String(), string(e.Reason)).Inc()
}
