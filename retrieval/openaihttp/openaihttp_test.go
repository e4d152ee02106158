package openaihttp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		header http.Header
		want   time.Duration
	}{
		{http.Header{}, 0},
		{http.Header{"Retry-After": {"7"}}, 7 * time.Second},
		{http.Header{"Retry-After": {"1.5"}}, 1500 * time.Millisecond},
		{http.Header{"Retry-After": {"-3"}}, 0},
		{http.Header{"Retry-After": {"99999"}}, 99999 * time.Second},
		{http.Header{"Retry-After": {now.Add(90 * time.Second).Format(http.TimeFormat)}}, 90 * time.Second},
		{http.Header{"Retry-After": {now.Add(-time.Hour).Format(http.TimeFormat)}}, 0},
		{http.Header{"Retry-After": {"soon"}}, 0},
		{http.Header{"Retry-After-Ms": {"120"}, "Retry-After": {"1"}}, 120 * time.Millisecond},
		{http.Header{"Retry-After-Ms": {"1e30"}}, 1e12 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := retryAfter(tt.header, now); got != tt.want {
			t.Errorf("retryAfter(%v) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

func TestBaseURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "https://api.openai.com/v1"},
		{"http://localhost:11434", "http://localhost:11434/v1"},
		{"http://localhost:11434/", "http://localhost:11434/v1"},
		{"http://localhost:8080/v1/", "http://localhost:8080/v1"},
		{"https://example.com/api/openai/v1", "https://example.com/api/openai/v1"},
	}
	for _, tt := range tests {
		got, err := BaseURL(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("BaseURL(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"localhost:11434", "ftp://example.com/v1", "http://"} {
		if _, err := BaseURL(bad); err == nil {
			t.Errorf("BaseURL(%q) accepted", bad)
		}
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Incorrect API key provided: sk-live-0123456789abc.", "Incorrect API key provided: [redacted]."},
		{`echo: {"Authorization": "Bearer abc.def-123"}`, `echo: {"Authorization": "Bearer [redacted]"}`},
		{"the key MYSECRET leaked", "the key [redacted] leaked"},
		{"nothing to hide here", "nothing to hide here"},
	}
	for _, tt := range tests {
		if got := Redact(tt.in, "MYSECRET"); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	inner := &openai.APIError{HTTPStatusCode: 401, Message: "bad key MYSECRET"}
	err := RedactError(fmt.Errorf("embedder: %w", inner), "MYSECRET")
	var ae *openai.APIError
	if strings.Contains(err.Error(), "MYSECRET") || !errors.As(err, &ae) || ae != inner {
		t.Errorf("RedactError = %v (as APIError: %v)", err, errors.As(err, &ae))
	}
	if plain := errors.New("no key"); RedactError(plain, "MYSECRET") != plain {
		t.Error("an error with nothing to redact was wrapped")
	}
}

// script is a test server answering each request with the next reply.
type script struct {
	mu      sync.Mutex
	replies []func(http.ResponseWriter)
	bodies  []string
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.bodies = append(s.bodies, string(b))
	reply := func(w http.ResponseWriter) { w.Write([]byte(`{"ok":true}`)) }
	if len(s.replies) > 0 {
		reply, s.replies = s.replies[0], s.replies[1:]
	}
	s.mu.Unlock()
	reply(w)
}

func status(code int, header ...string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(code)
		w.Write([]byte(`{"error":{"message":"Bearer sk-echoed-0123456789 was sent"}}`))
	}
}

func body(s string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) { w.Write([]byte(s)) }
}

func TestDoRetries(t *testing.T) {
	tests := []struct {
		name       string
		replies    []func(http.ResponseWriter)
		deadline   time.Duration // 0: none
		wantStatus int
		wantCalls  int
		wantWaits  []time.Duration // nil: only their count (wantCalls-1) is checked
		wantReport Report
	}{
		{"success", nil, 0, 200, 1, []time.Duration{}, Report{Attempts: 1}},
		{"400 is final", []func(http.ResponseWriter){status(400)}, 0, 400, 1, []time.Duration{}, Report{Attempts: 1}},
		{"404 is final", []func(http.ResponseWriter){status(404)}, 0, 404, 1, []time.Duration{}, Report{Attempts: 1}},
		{"408, 409, 429, 500 are retried", []func(http.ResponseWriter){status(408), status(409), status(429)}, 0, 200, 4, nil, Report{Attempts: 4}},
		{"Retry-After honoured", []func(http.ResponseWriter){status(503, "Retry-After", "2")}, 0, 200, 2, []time.Duration{2 * time.Second}, Report{Attempts: 2}},
		{"Retry-After-Ms honoured", []func(http.ResponseWriter){status(429, "Retry-After-Ms", "250")}, 0, 200, 2, []time.Duration{250 * time.Millisecond}, Report{Attempts: 2}},
		{"Retry-After beyond the cap ends at once", []func(http.ResponseWriter){status(429, "Retry-After", "99999")}, 0, 429, 1, []time.Duration{},
			Report{Attempts: 1, Retryable: true, RetryAfter: 99999 * time.Second}},
		{"Retry-After beyond the deadline ends at once", []func(http.ResponseWriter){status(429, "Retry-After", "30")}, 5 * time.Second, 429, 1, []time.Duration{},
			Report{Attempts: 1, Retryable: true, RetryAfter: 30 * time.Second}},
		{"retries run out", slices.Repeat([]func(http.ResponseWriter){status(500)}, 5), 0, 500, 4, nil, Report{Attempts: 4, Retryable: true}},
		{"JSON cut short is retried", []func(http.ResponseWriter){body(`{"data":[1,`)}, 0, 200, 2, nil, Report{Attempts: 2}},
		{"JSON that is wrong otherwise is final", []func(http.ResponseWriter){body(`<html>`)}, 0, 200, 1, []time.Duration{}, Report{Attempts: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := &script{replies: tt.replies}
			ts := httptest.NewServer(srv)
			defer ts.Close()
			var waits []time.Duration
			var logs bytes.Buffer
			d := New(Config{Policy: Policy{Sleep: func(_ context.Context, d time.Duration) error {
				waits = append(waits, d)
				return nil
			}}, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			ctx := context.Background()
			if tt.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.deadline)
				defer cancel()
			}
			ctx, report := WithReport(ctx)
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, ts.URL, strings.NewReader(`{"q":1}`))
			resp, err := d.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus || len(srv.bodies) != tt.wantCalls {
				t.Errorf("status %d after %d calls, want %d after %d", resp.StatusCode, len(srv.bodies), tt.wantStatus, tt.wantCalls)
			}
			for i, b := range srv.bodies {
				if b != `{"q":1}` {
					t.Errorf("attempt %d sent body %q", i+1, b)
				}
			}
			if tt.wantWaits != nil && !slices.Equal(waits, tt.wantWaits) || len(waits) != tt.wantCalls-1 {
				t.Errorf("waits %v, want %v (%d)", waits, tt.wantWaits, tt.wantCalls-1)
			}
			if *report != tt.wantReport {
				t.Errorf("report %+v, want %+v", *report, tt.wantReport)
			}
			if strings.Contains(logs.String(), "sk-echoed") {
				t.Errorf("the log shows a key:\n%s", logs.String())
			}
		})
	}
}

func TestDoBackoff(t *testing.T) {
	srv := &script{replies: slices.Repeat([]func(http.ResponseWriter){status(502)}, 5)}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	var waits []time.Duration
	d := New(Config{Policy: Policy{MaxRetries: 4, Sleep: func(_ context.Context, d time.Duration) error {
		waits = append(waits, d)
		return nil
	}}})
	req, _ := http.NewRequest(http.MethodGet, ts.URL, nil)
	resp, err := d.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	base := 500 * time.Millisecond
	for i, w := range waits {
		if w < base*3/4 || w > base*5/4 {
			t.Errorf("wait %d = %v, want %v ± 25%%", i, w, base)
		}
		base *= 2
	}
	if len(waits) != 4 {
		t.Errorf("waits %v, want 4", waits)
	}
}

func TestDoAttemptTimeout(t *testing.T) {
	release := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer ts.Close()
	defer close(release)
	var waits int
	d := New(Config{AttemptTimeout: 20 * time.Millisecond, Policy: Policy{MaxRetries: 1, Sleep: func(context.Context, time.Duration) error {
		waits++
		return nil
	}}})
	req, _ := http.NewRequest(http.MethodGet, ts.URL, nil)
	_, err := d.Do(req)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timed out after 20ms") || waits != 1 {
		t.Errorf("err = %v after %d waits, want a timeout retried once", err, waits)
	}
}

func TestDoStreamNotBuffered(t *testing.T) {
	next := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write([]byte("data: 1\n\n"))
		w.(http.Flusher).Flush()
		<-next
		w.Write([]byte("data: [DONE]\n\n"))
	}))
	defer ts.Close()
	d := New(Config{AttemptTimeout: time.Minute})
	req, _ := http.NewRequest(http.MethodGet, ts.URL, nil)
	resp, err := d.Do(req) // returns before the stream ends
	if err != nil {
		t.Fatal(err)
	}
	close(next)
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(b) != "data: 1\n\ndata: [DONE]\n\n" {
		t.Errorf("stream %q, %v", b, err)
	}
}

func TestDoCancelledWhileWaiting(t *testing.T) {
	srv := &script{replies: []func(http.ResponseWriter){status(503)}}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	ctx, cancel := context.WithCancel(context.Background())
	d := New(Config{Policy: Policy{Sleep: func(ctx context.Context, _ time.Duration) error {
		cancel()
		<-ctx.Done()
		return ctx.Err()
	}}})
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL, nil)
	if _, err := d.Do(req); !errors.Is(err, context.Canceled) || len(srv.bodies) != 1 {
		t.Errorf("err = %v after %d calls, want context.Canceled after 1", err, len(srv.bodies))
	}
}

// TestDoStreamOutlivesAttemptTimeout checks that the attempt timeout bounds
// a stream's headers, not the stream, and that a stream is recognised by
// what was asked even when the server labels it otherwise.
func TestDoStreamOutlivesAttemptTimeout(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("data: 1\n\n"))
		w.(http.Flusher).Flush()
		time.Sleep(100 * time.Millisecond)
		w.Write([]byte("data: [DONE]\n\n"))
	}))
	defer ts.Close()
	d := New(Config{AttemptTimeout: 30 * time.Millisecond})
	req, _ := http.NewRequest(http.MethodPost, ts.URL, strings.NewReader("{}"))
	req.Header.Set("Accept", "text/event-stream")
	resp, err := d.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(b) != "data: 1\n\ndata: [DONE]\n\n" {
		t.Errorf("stream %q, %v: cut by the attempt timeout", b, err)
	}
}

// TestDoBodyNotRewindable checks that a request whose body cannot be read
// again is sent once, not retried with an empty body.
func TestDoBodyNotRewindable(t *testing.T) {
	srv := &script{replies: []func(http.ResponseWriter){status(503)}}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	d := New(Config{Policy: Policy{Sleep: func(context.Context, time.Duration) error { return nil }}})
	req, _ := http.NewRequest(http.MethodPost, ts.URL, io.NopCloser(strings.NewReader(`{"input":"x"}`)))
	resp, err := d.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || len(srv.bodies) != 1 {
		t.Errorf("status %d after %d calls (%q): want the 503, once", resp.StatusCode, len(srv.bodies), srv.bodies)
	}
}
