package retrieval

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sashabaranov/go-openai"

	"github.com/verbatim-bot/verbatim/retrieval/openaifake"
	"github.com/verbatim-bot/verbatim/retrieval/openaihttp"
)

const openaiTestKey = "sk-test-SECRET-0123456789"

// openaiWaits records the delays an OpenAIEmbedder asked to sleep, without
// sleeping.
type openaiWaits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *openaiWaits) sleep(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	w.d = append(w.d, d)
	w.mu.Unlock()
	return ctx.Err()
}

func (w *openaiWaits) get() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.d)
}

// newTestOpenAI returns an embedder talking to srv whose waits are recorded
// instead of slept; cfg.BaseURL, APIKey and Model default to the fake, the
// test key and "test-embed".
func newTestOpenAI(t *testing.T, srv *openaifake.Server, cfg OpenAIConfig) (*OpenAIEmbedder, *openaiWaits) {
	t.Helper()
	if cfg.BaseURL == "" {
		cfg.BaseURL = srv.URL()
	}
	if cfg.APIKey == "" {
		cfg.APIKey = openaiTestKey
	}
	if cfg.Model == "" {
		cfg.Model = "test-embed"
	}
	w := &openaiWaits{}
	if cfg.Retry.Sleep == nil {
		cfg.Retry.Sleep = w.sleep
	}
	e, err := NewOpenAI(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e, w
}

// openaiWant is the normalised vector the fake returns for text.
func openaiWant(text string, dims int) []float32 {
	v := openaifake.Vector(text, dims)
	normalizeL2(v)
	return v
}

func openaiTexts(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "paragraph number " + strconv.Itoa(i)
	}
	return out
}

func TestOpenAIBatchesAndRestoresOrder(t *testing.T) {
	srv := openaifake.New()
	defer srv.Close()
	// Every reply lists its embeddings in reverse order.
	srv.Embeddings.Script(openaifake.Response{Reverse: true}, openaifake.Response{Reverse: true}, openaifake.Response{Reverse: true})
	e, w := newTestOpenAI(t, srv, OpenAIConfig{})
	in := openaiTexts(300)
	vs, err := e.Embed(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != len(in) {
		t.Fatalf("%d vectors for %d texts", len(vs), len(in))
	}
	for i, v := range vs {
		if !slices.Equal(v, openaiWant(in[i], openaifake.DefaultDims)) {
			t.Fatalf("vector %d is not the normalised vector of its text", i)
		}
	}
	reqs := srv.Embeddings.Requests()
	var sizes []int
	for _, r := range reqs {
		sizes = append(sizes, len(r.Input))
		if r.Model != "test-embed" || r.EncodingFormat != "float" || r.Dimensions != 0 || r.Authorization != "Bearer "+openaiTestKey {
			t.Errorf("request = model %q format %q dims %d auth %q", r.Model, r.EncodingFormat, r.Dimensions, r.Authorization)
		}
	}
	if !slices.Equal(sizes, []int{128, 128, 44}) {
		t.Errorf("batch sizes = %v, want [128 128 44]", sizes)
	}
	if !slices.Equal(reqs[1].Input, in[128:256]) {
		t.Error("second batch is not texts 128..255 in order")
	}
	if len(w.get()) != 0 {
		t.Errorf("waited %v without any failure", w.get())
	}
}

func TestOpenAIDimensionsAndNoKey(t *testing.T) {
	srv := openaifake.New()
	defer srv.Close()
	e, err := NewOpenAI(OpenAIConfig{BaseURL: srv.URL(), Model: "nomic-embed-text", Dimensions: 8, BatchSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	vs, err := e.Embed(context.Background(), []string{"a", "b", "c"})
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 3 || !slices.Equal(vs[2], openaiWant("c", 8)) {
		t.Fatalf("vectors = %v", vs)
	}
	for _, r := range srv.Embeddings.Requests() {
		if r.Authorization != "" || r.Dimensions != 8 {
			t.Errorf("request auth %q dims %d: want no Authorization header and dimensions 8", r.Authorization, r.Dimensions)
		}
	}
}

func TestOpenAIRetries(t *testing.T) {
	tests := []struct {
		name      string
		script    []openaifake.Response
		wantReqs  int
		wantWaits func(t *testing.T, ws []time.Duration)
	}{
		{"429 with Retry-After seconds",
			[]openaifake.Response{openaifake.RateLimited("3")}, 2,
			openaiExactly(3 * time.Second)},
		{"429 with retry-after-ms",
			[]openaifake.Response{{Status: 429, Header: http.Header{"Retry-After-Ms": {"250"}}, Body: `{"error":{"message":"slow down","type":"requests","code":"rate_limit_exceeded"}}`}}, 2,
			openaiExactly(250 * time.Millisecond)},
		{"429 without Retry-After",
			[]openaifake.Response{openaifake.RateLimited("")}, 2,
			openaiBackoff(1)},
		{"500 then success",
			[]openaifake.Response{openaifake.Error(500, "The server had an error")}, 2,
			openaiBackoff(1)},
		{"503 with an HTML body",
			[]openaifake.Response{{Status: 503, Body: "<html>Service Unavailable</html>"}}, 2,
			openaiBackoff(1)},
		{"500 with a string error",
			[]openaifake.Response{{Status: 500, Body: `{"error":"model is loading"}`}}, 2,
			openaiBackoff(1)},
		{"truncated body",
			[]openaifake.Response{{Body: `{"object":"list","data":[{"object":"embedding","index":0,`}}, 2,
			openaiBackoff(1)},
		{"three failures then success",
			[]openaifake.Response{openaifake.Error(502, "bad gateway"), openaifake.Error(500, "x"), openaifake.Error(504, "y")}, 4,
			openaiBackoff(3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := openaifake.New()
			defer srv.Close()
			srv.Embeddings.Script(tt.script...)
			var logs bytes.Buffer
			e, w := newTestOpenAI(t, srv, OpenAIConfig{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			vs, err := e.Embed(context.Background(), []string{"one", "two"})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(vs[1], openaiWant("two", openaifake.DefaultDims)) {
				t.Error("wrong vector after retry")
			}
			if got := len(srv.Embeddings.Requests()); got != tt.wantReqs {
				t.Errorf("requests = %d, want %d", got, tt.wantReqs)
			}
			tt.wantWaits(t, w.get())
			if !strings.Contains(logs.String(), "retrying") || strings.Contains(logs.String(), openaiTestKey) {
				t.Errorf("log must report the retry without the key:\n%s", logs.String())
			}
		})
	}
}

func openaiExactly(d time.Duration) func(*testing.T, []time.Duration) {
	return func(t *testing.T, ws []time.Duration) {
		t.Helper()
		if !slices.Equal(ws, []time.Duration{d}) {
			t.Errorf("waits = %v, want [%v]", ws, d)
		}
	}
}

// openaiBackoff checks n exponential waits: 500ms, 1s, 2s, ... each ±50%.
func openaiBackoff(n int) func(*testing.T, []time.Duration) {
	return func(t *testing.T, ws []time.Duration) {
		t.Helper()
		if len(ws) != n {
			t.Fatalf("waits = %v, want %d", ws, n)
		}
		base := 500 * time.Millisecond
		for i, d := range ws {
			if d < base/2 || d > base*3/2 {
				t.Errorf("wait %d = %v, want %v ± 50%%", i, d, base)
			}
			base *= 2
		}
	}
}

func TestOpenAIFailures(t *testing.T) {
	key401 := openaifake.Error(401, "Incorrect API key provided: "+openaiTestKey+". You can find your API key at https://platform.openai.com/account/api-keys.")
	tests := []struct {
		name       string
		cfg        OpenAIConfig
		script     []openaifake.Response
		wantReqs   int
		wantWaits  int
		wantStatus int      // checked through *openai.APIError or *openai.RequestError
		wantIn     []string // substrings of the error message
	}{
		{"401 fails at once without the key", OpenAIConfig{},
			[]openaifake.Response{key401}, 1, 0, 401,
			[]string{"refused the API key", "[redacted]"}},
		{"403 fails at once", OpenAIConfig{},
			[]openaifake.Response{openaifake.Error(403, "forbidden")}, 1, 0, 403, []string{"refused the API key"}},
		{"400 fails at once", OpenAIConfig{},
			[]openaifake.Response{openaifake.Error(400, "input too long")}, 1, 0, 400, []string{"input too long"}},
		{"404 fails at once with a hint", OpenAIConfig{},
			[]openaifake.Response{{Status: 404, Body: "404 page not found"}}, 1, 0, 404, []string{"/v1"}},
		{"persistent 500 gives up after MaxRetries", OpenAIConfig{Retry: openaihttp.Policy{MaxRetries: 2}},
			slices.Repeat([]openaifake.Response{openaifake.Error(500, "boom")}, 3), 3, 2, 500,
			[]string{"giving up after 3 attempts", "boom"}},
		{"no retries when MaxRetries is negative", OpenAIConfig{Retry: openaihttp.Policy{MaxRetries: -1}},
			[]openaifake.Response{openaifake.Error(500, "boom")}, 1, 0, 500, []string{"giving up after 1 attempts"}},
		{"Retry-After beyond a minute gives up", OpenAIConfig{},
			[]openaifake.Response{openaifake.RateLimited("3600")}, 1, 0, 429, []string{"retry after 1h0m0s"}},
		{"malformed JSON fails at once", OpenAIConfig{},
			[]openaifake.Response{{Body: `<html>not an API</html>`}}, 1, 0, 0, []string{"invalid character"}},
		{"fewer embeddings than texts", OpenAIConfig{},
			[]openaifake.Response{{Body: `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[1,0]}]}`}}, 1, 0, 0,
			[]string{"1 embeddings for 2 texts"}},
		{"repeated index", OpenAIConfig{},
			[]openaifake.Response{{Body: `{"object":"list","data":[{"index":0,"embedding":[1,0]},{"index":0,"embedding":[0,1]}]}`}}, 1, 0, 0,
			[]string{"repeated index 0"}},
		{"zero vector", OpenAIConfig{},
			[]openaifake.Response{{Body: `{"object":"list","data":[{"index":0,"embedding":[1,0]},{"index":1,"embedding":[0,0]}]}`}}, 1, 0, 0,
			[]string{"zero or non-finite vector for text 1"}},
		{"server ignores dimensions", OpenAIConfig{Dimensions: 16},
			[]openaifake.Response{{Dims: 32}}, 1, 0, 0, []string{"asked for 16 dimensions, server returned 32"}},
		{"dimensions differ between batches", OpenAIConfig{BatchSize: 1},
			[]openaifake.Response{{}, {Dims: 8}}, 2, 0, 0, []string{"8-dimensional vectors after 32-dimensional"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := openaifake.New()
			defer srv.Close()
			srv.Embeddings.Script(tt.script...)
			var logs bytes.Buffer
			tt.cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			e, w := newTestOpenAI(t, srv, tt.cfg)
			vs, err := e.Embed(context.Background(), []string{"one", "two"})
			if err == nil {
				t.Fatalf("no error; %d vectors", len(vs))
			}
			msg := err.Error()
			if strings.Contains(msg, openaiTestKey) || strings.Contains(logs.String(), openaiTestKey) {
				t.Errorf("the API key leaked: %s\n%s", msg, logs.String())
			}
			for _, s := range tt.wantIn {
				if !strings.Contains(msg, s) {
					t.Errorf("error %q does not contain %q", msg, s)
				}
			}
			if got := openaiStatus(err); got != tt.wantStatus {
				t.Errorf("status = %d, want %d (err %v)", got, tt.wantStatus, err)
			}
			if got := len(srv.Embeddings.Requests()); got != tt.wantReqs {
				t.Errorf("requests = %d, want %d", got, tt.wantReqs)
			}
			if got := len(w.get()); got != tt.wantWaits {
				t.Errorf("waits = %d, want %d", got, tt.wantWaits)
			}
		})
	}
}

func openaiStatus(err error) int {
	var reqErr *openai.RequestError
	var apiErr *openai.APIError
	switch {
	case errors.As(err, &reqErr):
		return reqErr.HTTPStatusCode
	case errors.As(err, &apiErr):
		return apiErr.HTTPStatusCode
	}
	return 0
}

func TestOpenAITimeout(t *testing.T) {
	srv := openaifake.New()
	defer srv.Close()
	srv.Embeddings.Script(openaifake.Response{Hang: true}, openaifake.Response{Hang: true})
	e, w := newTestOpenAI(t, srv, OpenAIConfig{Timeout: 50 * time.Millisecond, Retry: openaihttp.Policy{MaxRetries: 1}})
	ctx := context.Background()
	_, err := e.Embed(ctx, []string{"one"})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timed out after 50ms") {
		t.Fatalf("err = %v, want a per-request timeout", err)
	}
	if got := len(w.get()); got != 1 {
		t.Errorf("waits = %d, want 1 (a timeout is retried)", got)
	}
}

func TestOpenAICancelDuringBackoff(t *testing.T) {
	srv := openaifake.New()
	defer srv.Close()
	srv.Embeddings.Script(openaifake.RateLimited("30"))
	ctx, cancel := context.WithCancel(context.Background())
	waiting := make(chan time.Duration, 1)
	e, _ := newTestOpenAI(t, srv, OpenAIConfig{Retry: openaihttp.Policy{Sleep: func(ctx context.Context, d time.Duration) error {
		waiting <- d
		<-ctx.Done() // the real wait: only cancel ends it
		return ctx.Err()
	}}})
	go func() {
		<-waiting
		cancel()
	}()
	_, err := e.Embed(ctx, []string{"one"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if got := len(srv.Embeddings.Requests()); got != 1 {
		t.Errorf("requests = %d, want 1", got)
	}
}

func TestOpenAICancelledBeforeStart(t *testing.T) {
	srv := openaifake.New()
	defer srv.Close()
	e, _ := newTestOpenAI(t, srv, OpenAIConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Embed(ctx, []string{"one"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if got := len(srv.Embeddings.Requests()); got != 0 {
		t.Errorf("requests = %d, want 0", got)
	}
}

func TestOpenAIConnectionRefusedIsRetried(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	w := &openaiWaits{}
	e, err := NewOpenAI(OpenAIConfig{BaseURL: "http://" + addr, Model: "m", Retry: openaihttp.Policy{MaxRetries: 2, Sleep: w.sleep}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Embed(context.Background(), []string{"one"})
	var opErr *net.OpError
	if !errors.As(err, &opErr) {
		t.Fatalf("err = %v, want a network error", err)
	}
	if got := len(w.get()); got != 2 {
		t.Errorf("waits = %d, want 2", got)
	}
}

func TestOpenAINoRequest(t *testing.T) {
	srv := openaifake.New()
	defer srv.Close()
	e, _ := newTestOpenAI(t, srv, OpenAIConfig{})
	if vs, err := e.Embed(context.Background(), nil); vs != nil || err != nil {
		t.Errorf("Embed(nil) = %v, %v; want nil, nil", vs, err)
	}
	if _, err := e.Embed(context.Background(), []string{"one", ""}); err == nil || !strings.Contains(err.Error(), "text 1 is empty") {
		t.Errorf("Embed with an empty text: err = %v", err)
	}
	if got := len(srv.Embeddings.Requests()); got != 0 {
		t.Errorf("requests = %d, want 0", got)
	}
}

func TestNewOpenAIConfig(t *testing.T) {
	tests := []struct {
		cfg       OpenAIConfig
		wantModel string
		wantErr   string
	}{
		{OpenAIConfig{APIKey: "k", Model: "text-embedding-3-small"}, "openai:text-embedding-3-small", ""},
		{OpenAIConfig{APIKey: "k", Model: "text-embedding-3-large", Dimensions: 512}, "openai:text-embedding-3-large@512", ""},
		{OpenAIConfig{BaseURL: "http://localhost:11434", Model: "nomic-embed-text"}, "openai:nomic-embed-text", ""},
		{OpenAIConfig{APIKey: "k"}, "", "Model is required"},
		{OpenAIConfig{Model: "text-embedding-3-small"}, "", "API key is required"},
		{OpenAIConfig{BaseURL: "localhost:11434", Model: "m"}, "", "http:// or https://"},
		{OpenAIConfig{BaseURL: "ftp://example.com/v1", Model: "m"}, "", "http:// or https://"},
		{OpenAIConfig{Model: "m", BaseURL: "http://h/v1", BatchSize: -1}, "", "must not be negative"},
	}
	for _, tt := range tests {
		e, err := NewOpenAI(tt.cfg)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("NewOpenAI(%+v) err = %v, want %q", tt.cfg, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("NewOpenAI(%+v): %v", tt.cfg, err)
			continue
		}
		if got := e.Model(); got != tt.wantModel {
			t.Errorf("Model() = %q, want %q", got, tt.wantModel)
		}
	}
}

func TestOpenAIBaseURL(t *testing.T) {
	// A base URL without /v1 reaches the fake's /v1/embeddings.
	srv := openaifake.New()
	defer srv.Close()
	e, err := NewOpenAI(OpenAIConfig{BaseURL: strings.TrimSuffix(srv.URL(), "/v1"), Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Embed(context.Background(), []string{"one"}); err != nil {
		t.Fatal(err)
	}
}
