// Package metrics is vitrine's Prometheus instrumentation, the one package
// that imports the Prometheus client. httpapi and jobs declare the few
// methods they call as interfaces of their own, and *Metrics satisfies
// them; Handler serves /metrics. There is no global registry: each
// process makes one Metrics and passes it where it is needed.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// JobCountsFunc returns the number of jobs per kind and state now, read
// from the job table at scrape time.
type JobCountsFunc func(ctx context.Context) (map[[2]string]int, error)

// Metrics holds every metric of one process.
type Metrics struct {
	reg *prometheus.Registry

	requests *prometheus.HistogramVec // route, method, status
	uploads  *prometheus.CounterVec   // outcome: stored, rejected; reason
	checks   prometheus.Histogram     // wait of an upload for its decode
	renders  *prometheus.HistogramVec // rendition
	jobDone  *prometheus.CounterVec   // kind, outcome
	sweeps   *prometheus.CounterVec   // what: deleted, missing, runs
}

// New registers every metric, plus the Go runtime and process collectors,
// and the job counts read by jobCounts at each scrape (nil: none).
func New(log *slog.Logger, jobCounts JobCountsFunc) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "vitrine_http_request_duration_seconds",
			Help:    "HTTP requests by route pattern, method and status, and their latency.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method", "status"}),
		uploads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vitrine_uploads_total",
			Help: "Uploaded image files by outcome (stored, rejected) and, when rejected, why.",
		}, []string{"outcome", "reason"}),
		checks: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "vitrine_upload_check_wait_seconds",
			Help:    "Time each received upload waited for its turn to be decoded and verified (VITRINE_UPLOAD_CHECKS at once).",
			Buckets: []float64{.001, .01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}),
		renders: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "vitrine_render_duration_seconds",
			Help:    "Time to render one image, by the renditions made (all, or the names of a partial render).",
			Buckets: []float64{.05, .1, .25, .5, 1, 2, 4, 8, 16, 32},
		}, []string{"renditions"}),
		jobDone: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vitrine_job_attempts_total",
			Help: "Job attempts by kind and outcome: completed, retried (failed, to be tried again), failed (given up).",
		}, []string{"kind", "outcome"}),
		sweeps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vitrine_sweep_total",
			Help: "Storage sweeps (runs), the unreferenced files they deleted, and the rows they found pointing to missing files.",
		}, []string{"what"}),
	}
	reg.MustRegister(m.requests, m.uploads, m.checks, m.renders, m.jobDone, m.sweeps,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if jobCounts != nil {
		reg.MustRegister(&jobCollector{counts: jobCounts, log: log})
	}
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// ObserveRequest records one HTTP request.
func (m *Metrics) ObserveRequest(route, method string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Observe(d.Seconds())
}

// Upload records one uploaded file: stored, or rejected for reason (a
// short, fixed word such as "size", "format", "dimensions", "corrupt").
func (m *Metrics) Upload(stored bool, reason string) {
	if stored {
		m.uploads.WithLabelValues("stored", "").Inc()
		return
	}
	m.uploads.WithLabelValues("rejected", reason).Inc()
}

// ObserveCheckWait records how long one upload waited to be decoded.
func (m *Metrics) ObserveCheckWait(d time.Duration) {
	m.checks.Observe(d.Seconds())
}

// ObserveRender records one render of an image.
func (m *Metrics) ObserveRender(renditions string, d time.Duration) {
	m.renders.WithLabelValues(renditions).Observe(d.Seconds())
}

// JobAttempt records one job attempt's outcome: "completed", "retried" or
// "failed".
func (m *Metrics) JobAttempt(kind, outcome string) {
	m.jobDone.WithLabelValues(kind, outcome).Inc()
}

// Swept records one storage sweep.
func (m *Metrics) Swept(deleted, missing int) {
	m.sweeps.WithLabelValues("runs").Inc()
	m.sweeps.WithLabelValues("deleted").Add(float64(deleted))
	m.sweeps.WithLabelValues("missing").Add(float64(missing))
}

// jobCollector reports the job table's counts at each scrape, so that the
// numbers are the database's, shared by every node, not one process's.
type jobCollector struct {
	counts JobCountsFunc
	log    *slog.Logger
}

var jobsDesc = prometheus.NewDesc("vitrine_jobs", "Jobs in the job table by kind and state (available, running, retryable, scheduled, completed, cancelled, discarded).", []string{"kind", "state"}, nil)

func (c *jobCollector) Describe(ch chan<- *prometheus.Desc) { ch <- jobsDesc }

func (c *jobCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := c.counts(ctx)
	if err != nil {
		c.log.Warn("metrics: job counts", "err", err)
		return
	}
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(jobsDesc, prometheus.GaugeValue, float64(n), k[0], k[1])
	}
}
