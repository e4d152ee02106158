package discord

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestMetricsRecorded(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	m.question(SourceMention)
	m.question(SourceMention)
	m.question(SourceSlash)
	m.limit("busy")
	m.restError("429")
	m.restError("error")
	m.answerError()
	m.acked(20 * time.Millisecond)
	m.answered(true, false, 0, 300*time.Millisecond, true)
	m.answered(false, true, 2, 2*time.Second, true)
	m.answered(false, false, 0, 40*time.Second, false) // not delivered: no latency
	m.setConnected(true)

	body := scrape(t, m, "/metrics")
	for _, want := range []string{
		`verbatim_questions_total{source="mention"} 2`,
		`verbatim_questions_total{source="slash"} 1`,
		`verbatim_questions_total{source="dm"} 0`,
		`verbatim_limited_total{reason="busy"} 1`,
		`verbatim_limited_total{reason="rate"} 0`,
		`verbatim_discord_rest_errors_total{status="429"} 1`,
		`verbatim_discord_rest_errors_total{status="error"} 1`,
		`verbatim_answer_errors_total 1`,
		`verbatim_refusals_total 1`,
		`verbatim_llm_fallbacks_total 1`,
		`verbatim_quotes_dropped_total 2`,
		`verbatim_answer_seconds_bucket{le="0.5"} 1`,
		`verbatim_answer_seconds_bucket{le="2.5"} 2`,
		`verbatim_answer_seconds_count 2`,
		`verbatim_interaction_ack_seconds_bucket{le="0.025"} 1`,
		`verbatim_interaction_ack_seconds_count 1`,
		`verbatim_discord_connected 1`,
		`go_goroutines `,
	} {
		if !strings.Contains(body, want+"\n") && !strings.Contains(body, "\n"+want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if t.Failed() {
		t.Logf("scraped:\n%s", body)
	}

	// The collectors are on the caller's registry, not a global one.
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, mf := range mfs {
		found = found || mf.GetName() == "verbatim_questions_total"
	}
	if !found {
		t.Error("verbatim_questions_total not on the given registry")
	}
}

// TestMetricsHealthz checks that /healthz says ready only once the
// gateway session is ready and the commands were registered (or are being
// retried, degraded).
func TestMetricsHealthz(t *testing.T) {
	t.Parallel()
	m := NewMetrics(nil)
	for _, tc := range []struct {
		name     string
		up       bool
		commands *bool // nil: leave as it is
		code     int
		body     string
	}{
		{"before READY", false, nil, http.StatusServiceUnavailable, "not connected to Discord\n"},
		{"READY, commands not yet registered", true, nil, http.StatusServiceUnavailable, "starting: registering the slash commands\n"},
		{"registration failed, retrying", true, ptr(false), http.StatusOK, "degraded: slash commands not registered (retrying); mentions are answered\n"},
		{"registered", true, ptr(true), http.StatusOK, "ok\n"},
		{"disconnected", false, nil, http.StatusServiceUnavailable, "not connected to Discord\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m.setConnected(tc.up)
			if tc.commands != nil {
				m.setCommands(*tc.commands)
			}
			rec := httptest.NewRecorder()
			m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
			if rec.Code != tc.code || rec.Body.String() != tc.body {
				t.Errorf("/healthz = %d %q, want %d %q", rec.Code, rec.Body.String(), tc.code, tc.body)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestNilMetricsRecordsNothing(t *testing.T) {
	t.Parallel()
	var m *Metrics
	m.question(SourceDM)
	m.limit("rate")
	m.restError("500")
	m.answerError()
	m.acked(time.Second)
	m.setConnected(true)
	m.answered(true, true, 1, time.Second, true)
	rt := countingTransport{base: roundTripFunc(func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusInternalServerError}, nil
	}), m: m}
	if resp, err := rt.RoundTrip(httptest.NewRequest(http.MethodGet, "/", nil)); err != nil || resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("RoundTrip = %v, %v", resp, err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
