// Package metrics exposes the gateway's Prometheus metrics. It is the only
// package importing the Prometheus client; others call its small methods.
package metrics

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/models"
	"github.com/soteai/gateway/models/releases"
)

// Metrics holds the gateway's collectors on a private registry.
type Metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	ttfb      *prometheus.HistogramVec
	tokens    *prometheus.CounterVec
	tokenRate *prometheus.HistogramVec
	failovers *prometheus.CounterVec
	audit     *prometheus.HistogramVec
	wait      *prometheus.HistogramVec
	pending   prometheus.Gauge
}

// New registers the collectors; stats is read at every scrape for queue
// depth and host health (nil leaves those out).
func New(stats func() models.Stats) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "assist_http_requests_total", Help: "HTTP requests by route, method and status code.",
	}, []string{"route", "method", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "assist_http_request_duration_seconds", Help: "Time to complete HTTP requests.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300},
	}, []string{"route", "method"})
	m.ttfb = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "assist_upstream_first_byte_seconds", Help: "Time until a model host's first response bytes (time to first token for streams).",
		Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 14),
	}, []string{"host"})
	m.tokens = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "assist_tokens_total", Help: "Tokens processed, by model and direction (prompt, output).",
	}, []string{"model", "direction"})
	m.tokenRate = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "assist_output_tokens_per_second", Help: "Generation speed reported by the model host.",
		Buckets: prometheus.ExponentialBuckets(1, 2, 12),
	}, []string{"model"})
	m.failovers = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "assist_upstream_failovers_total", Help: "Requests retried on another host after a failure before the first byte.",
	}, []string{"route"})
	m.audit = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "assist_audit_append_seconds", Help: "Time to durably append an audit record.",
		Buckets: prometheus.ExponentialBuckets(0.0002, 2, 14),
	}, []string{"outcome"})
	m.wait = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "assist_queue_wait_seconds", Help: "Time requests waited for a host slot, by priority class (0 when one was free).",
		Buckets: []float64{0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300},
	}, []string{"class"})
	m.pending = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "assist_migrations_pending", Help: "Migration sets the database lacks (the gateway refuses to start on them).",
	})
	m.reg.MustRegister(m.requests, m.latency, m.ttfb, m.tokens, m.tokenRate, m.failovers, m.audit, m.wait, m.pending,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if stats != nil {
		m.reg.MustRegister(&poolCollector{stats: stats})
	}
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Request records one finished HTTP request.
func (m *Metrics) Request(route, method string, code int, d time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
	m.latency.WithLabelValues(route, method).Observe(d.Seconds())
}

// FirstByte records the time until a host's first response bytes.
func (m *Metrics) FirstByte(host string, d time.Duration) {
	m.ttfb.WithLabelValues(host).Observe(d.Seconds())
}

// Tokens records token counts and the host-reported generation speed.
func (m *Metrics) Tokens(model string, prompt, output int, genSeconds float64) {
	if prompt > 0 {
		m.tokens.WithLabelValues(model, "prompt").Add(float64(prompt))
	}
	if output > 0 {
		m.tokens.WithLabelValues(model, "output").Add(float64(output))
		if genSeconds > 0 {
			m.tokenRate.WithLabelValues(model).Observe(float64(output) / genSeconds)
		}
	}
}

// Failover counts a request that moved to another host.
func (m *Metrics) Failover(route string) { m.failovers.WithLabelValues(route).Inc() }

// AuditAppend records the latency of one audit append.
func (m *Metrics) AuditAppend(d time.Duration, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	m.audit.WithLabelValues(outcome).Observe(d.Seconds())
}

// Names lists the names of every metric the gateway exports (for checks
// of dashboards and alert rules).
func (m *Metrics) Names() []string {
	ch := make(chan *prometheus.Desc, 64)
	go func() { m.reg.Describe(ch); close(ch) }()
	var names []string
	for d := range ch {
		s := d.String() // Desc{fqName: "name", help: ...}
		if i := strings.Index(s, `fqName: "`); i >= 0 {
			rest := s[i+len(`fqName: "`):]
			names = append(names, rest[:strings.IndexByte(rest, '"')])
		}
	}
	return names
}

// QueueWait records one request's wait for a host slot.
func (m *Metrics) QueueWait(prio assist.Priority, d time.Duration) {
	m.wait.WithLabelValues(prio.String()).Observe(d.Seconds())
}

// PendingMigrations sets how many migration sets the database lacks.
func (m *Metrics) PendingMigrations(n int) { m.pending.Set(float64(n)) }

// CheckpointAge exports the age of the audit log's latest signed
// checkpoint, read at each scrape from age (seconds; -1 when none).
func (m *Metrics) CheckpointAge(age func() float64) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "assist_audit_checkpoint_age_seconds", Help: "Seconds since the audit log's latest signed checkpoint (-1: none yet).",
	}, age))
}

type poolCollector struct{ stats func() models.Stats }

var (
	queueDesc    = prometheus.NewDesc("assist_queue_depth", "Requests waiting, by priority class.", []string{"class"}, nil)
	hostUpDesc   = prometheus.NewDesc("assist_host_up", "1 if the host passed its last health check.", []string{"host"}, nil)
	hostOpenDesc = prometheus.NewDesc("assist_host_circuit_open", "1 while the host's circuit breaker keeps it out.", []string{"host"}, nil)
	inflightDesc = prometheus.NewDesc("assist_host_in_flight", "Requests running on the host.", []string{"host"}, nil)
	queuedDesc   = prometheus.NewDesc("assist_queue_waits_total", "Requests that had to wait for a host slot, by class.", []string{"class"}, nil)
	timedOutDesc = prometheus.NewDesc("assist_queue_timeouts_total", "Waits that ran out (answered busy), by class.", []string{"class"}, nil)
	unservDesc   = prometheus.NewDesc("assist_queue_unservable_total", "Waits ended because no healthy host could serve them any more, by class.", []string{"class"}, nil)
	waitedDesc   = prometheus.NewDesc("assist_queue_wait_seconds_total", "Total wait of requests that got a host slot, by class.", []string{"class"}, nil)
	missDesc     = prometheus.NewDesc("assist_host_first_byte_misses_total", "First-byte deadlines the host missed (each also a failover and a breaker failure).", []string{"host"}, nil)
	suspectDesc  = prometheus.NewDesc("assist_host_suspect", "1 while the host is out after a missed first byte, until a one-token probe succeeds.", []string{"host"}, nil)
	idleDesc     = prometheus.NewDesc("assist_queue_idle_host_waits_total", "Queued requests seen while a healthy host with a free slot could serve them (stays 0).", nil, nil)
)

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueDesc
	ch <- hostUpDesc
	ch <- hostOpenDesc
	ch <- inflightDesc
	ch <- queuedDesc
	ch <- timedOutDesc
	ch <- unservDesc
	ch <- waitedDesc
	ch <- idleDesc
	ch <- missDesc
	ch <- suspectDesc
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	for i, n := range s.QueueDepth {
		class := assist.Priority(i).String()
		ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(n), class)
		ch <- prometheus.MustNewConstMetric(queuedDesc, prometheus.CounterValue, float64(s.Queued[i]), class)
		ch <- prometheus.MustNewConstMetric(timedOutDesc, prometheus.CounterValue, float64(s.TimedOut[i]), class)
		ch <- prometheus.MustNewConstMetric(unservDesc, prometheus.CounterValue, float64(s.Unservable[i]), class)
		ch <- prometheus.MustNewConstMetric(waitedDesc, prometheus.CounterValue, s.Waited[i].Seconds(), class)
	}
	ch <- prometheus.MustNewConstMetric(idleDesc, prometheus.CounterValue, float64(s.IdleWhileQueued))
	for _, h := range s.Hosts {
		ch <- prometheus.MustNewConstMetric(hostUpDesc, prometheus.GaugeValue, b2f(h.Up), h.Name)
		ch <- prometheus.MustNewConstMetric(hostOpenDesc, prometheus.GaugeValue, b2f(h.CircuitOpen), h.Name)
		ch <- prometheus.MustNewConstMetric(inflightDesc, prometheus.GaugeValue, float64(h.InFlight), h.Name)
		ch <- prometheus.MustNewConstMetric(missDesc, prometheus.CounterValue, float64(h.FirstByteMisses), h.Name)
		ch <- prometheus.MustNewConstMetric(suspectDesc, prometheus.GaugeValue, b2f(h.Suspect), h.Name)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// WatchReleases exports the hosts that serve another digest under an
// approved release's model name (read at every scrape):
// assist_model_release_mismatch{task,host,model} is 1 for each, and
// assist_model_release_mismatches counts them.
func (m *Metrics) WatchReleases(current func() []releases.Mismatch) {
	m.reg.MustRegister(&releaseCollector{current: current})
}

type releaseCollector struct{ current func() []releases.Mismatch }

var (
	releaseMismatchDesc = prometheus.NewDesc("assist_model_release_mismatch",
		"1 for each host serving another digest under an approved model release's name (not used for that task).",
		[]string{"task", "host", "model"}, nil)
	releaseMismatchesDesc = prometheus.NewDesc("assist_model_release_mismatches",
		"Hosts serving another digest under an approved model release's name.", nil, nil)
)

func (c *releaseCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- releaseMismatchDesc
	ch <- releaseMismatchesDesc
}

func (c *releaseCollector) Collect(ch chan<- prometheus.Metric) {
	mm := c.current()
	for _, x := range mm {
		ch <- prometheus.MustNewConstMetric(releaseMismatchDesc, prometheus.GaugeValue, 1, string(x.Task), x.Host, x.Model)
	}
	ch <- prometheus.MustNewConstMetric(releaseMismatchesDesc, prometheus.GaugeValue, float64(len(mm)))
}
