package discord

import (
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics counts what the bot does, as Prometheus collectors on the
// registry given to NewMetrics, and serves them with /healthz reporting
// whether the gateway is connected. Pass it in Config.Metrics and serve
// Handler (the CLI does, on METRICS_ADDR). A nil *Metrics records nothing.
type Metrics struct {
	reg        *prometheus.Registry
	connected  atomic.Bool
	commands   atomic.Int32           // commandsPending, commandsRegistered or commandsRetrying
	questions  *prometheus.CounterVec // by source
	limited    *prometheus.CounterVec // by reason
	restErrors *prometheus.CounterVec // by status
	refusals   prometheus.Counter
	fallbacks  prometheus.Counter
	errors     prometheus.Counter
	dropped    prometheus.Counter
	latency    prometheus.Histogram
	ack        prometheus.Histogram
}

// Question sources, the "source" label of verbatim_questions_total.
const (
	SourceMention = "mention"
	SourceReply   = "reply"
	SourceDM      = "dm"
	SourceSlash   = "slash"
	// SourceForum (forum posts) and SourceMenu (message context menus)
	// are defined with those features.
)

// NewMetrics registers the bot's collectors, and the Go runtime and process
// collectors, on reg (a new registry if reg is nil) and returns metrics
// recording into them. Like prometheus.MustRegister it panics if reg
// already holds any of them, such as from an earlier NewMetrics.
func NewMetrics(reg *prometheus.Registry) *Metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m := &Metrics{
		reg: reg,
		questions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verbatim_questions_total",
			Help: "Questions received, by source.",
		}, []string{"source"}),
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verbatim_limited_total",
			Help: "Questions turned away, by reason (rate: per-user limit, busy: queue full).",
		}, []string{"reason"}),
		restErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verbatim_discord_rest_errors_total",
			Help: "Discord REST responses that were not 2xx (or failed), by status.",
		}, []string{"status"}),
		refusals: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "verbatim_refusals_total",
			Help: "Questions the articles do not answer.",
		}),
		fallbacks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "verbatim_llm_fallbacks_total",
			Help: "Answers that fell back to extractive mode (LLM error or unusable reply).",
		}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "verbatim_answer_errors_total",
			Help: "Questions that got no answer because of an error.",
		}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "verbatim_quotes_dropped_total",
			Help: "Quotes dropped by verification.",
		}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "verbatim_answer_seconds",
			Help:    "Time from a question's arrival to its answer being delivered (undelivered answers are not counted).",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
		}),
		ack: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "verbatim_interaction_ack_seconds",
			Help:    "Time from an interaction's arrival to its acknowledgement.",
			Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 3},
		}),
	}
	// Known label values start at zero so rates work from the first scrape.
	for _, s := range []string{SourceMention, SourceReply, SourceDM, SourceSlash, SourceForum, SourceMenu} {
		m.questions.WithLabelValues(s)
	}
	for _, r := range []string{"rate", "busy"} {
		m.limited.WithLabelValues(r)
	}
	reg.MustRegister(
		m.questions, m.limited, m.restErrors, m.refusals, m.fallbacks, m.errors, m.dropped, m.latency, m.ack,
		boolGauge("verbatim_discord_connected", "Whether the gateway connection is up.", &m.connected),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "verbatim_discord_commands_registered",
			Help: "Whether the slash commands are registered (0 while registration is being retried)."}, func() float64 {
			if m.commands.Load() == commandsRegistered {
				return 1
			}
			return 0
		}),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

func (m *Metrics) question(source string) {
	if m != nil {
		m.questions.WithLabelValues(source).Inc()
	}
}

func (m *Metrics) limit(reason string) {
	if m != nil {
		m.limited.WithLabelValues(reason).Inc()
	}
}

func (m *Metrics) restError(status string) {
	if m != nil {
		m.restErrors.WithLabelValues(status).Inc()
	}
}

func (m *Metrics) answerError() {
	if m != nil {
		m.errors.Inc()
	}
}

func (m *Metrics) acked(d time.Duration) {
	if m != nil {
		m.ack.Observe(d.Seconds())
	}
}

// boolGauge reports b as 1 or 0.
func boolGauge(name, help string, b *atomic.Bool) prometheus.GaugeFunc {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
		if b.Load() {
			return 1
		}
		return 0
	})
}

func (m *Metrics) setConnected(up bool) {
	if m != nil {
		m.connected.Store(up)
	}
}

// States of the slash-command registration.
const (
	commandsPending    = iota // not tried yet
	commandsRegistered        // registered
	commandsRetrying          // failed; retried with backoff
)

func (m *Metrics) setCommands(ok bool) {
	if m == nil {
		return
	}
	if ok {
		m.commands.Store(commandsRegistered)
	} else {
		m.commands.Store(commandsRetrying)
	}
}

// answered counts an answer made; d, the time to deliver it, only when
// it was delivered.
func (m *Metrics) answered(refused bool, fallback bool, dropped int, d time.Duration, delivered bool) {
	if m == nil {
		return
	}
	if refused {
		m.refusals.Inc()
	}
	if fallback {
		m.fallbacks.Inc()
	}
	m.dropped.Add(float64(dropped))
	if delivered {
		m.latency.Observe(d.Seconds())
	}
}

// Handler serves /metrics from the registry given to NewMetrics, and
// /healthz: 503 until the gateway session is ready (READY or RESUMED
// received) and the slash commands were registered once or are being
// retried; then 200 with "ok", or "degraded" while registration is
// retried (mentions are answered).
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		switch {
		case !m.connected.Load():
			http.Error(w, "not connected to Discord", http.StatusServiceUnavailable)
		case m.commands.Load() == commandsPending:
			http.Error(w, "starting: registering the slash commands", http.StatusServiceUnavailable)
		case m.commands.Load() == commandsRetrying:
			io.WriteString(w, "degraded: slash commands not registered (retrying); mentions are answered\n")
		default:
			io.WriteString(w, "ok\n")
		}
	})
	return mux
}

// countingTransport counts Discord REST responses that are not 2xx.
type countingTransport struct {
	base http.RoundTripper
	m    *Metrics
}

// RoundTrip sends req and counts a failure or a non-2xx status.
func (t countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	switch {
	case err != nil:
		t.m.restError("error")
	case resp.StatusCode >= 300:
		t.m.restError(strconv.Itoa(resp.StatusCode))
	}
	return resp, err
}
