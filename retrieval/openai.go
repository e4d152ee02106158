package retrieval

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/sashabaranov/go-openai"
)

// OpenAIConfig configures an OpenAIEmbedder. Only Model is required.
type OpenAIConfig struct {
	// APIKey is sent as a bearer token. Empty sends no Authorization
	// header, which local servers (Ollama, vLLM, LM Studio, llama.cpp)
	// accept; it is required for api.openai.com.
	APIKey string
	// BaseURL is the API base including its version path, e.g.
	// "http://localhost:11434/v1" for Ollama. Empty means
	// "https://api.openai.com/v1"; a URL with no path at all gets "/v1"
	// appended; any other path is used as given.
	BaseURL string
	// Model is the embedding model, e.g. "text-embedding-3-small" or
	// "nomic-embed-text".
	Model string
	// Dimensions asks for vectors of this size (text-embedding-3 and later
	// models); 0 means the model's default. A reply of another size is an
	// error, since servers that ignore the parameter would silently break
	// the index.
	Dimensions int
	// BatchSize is the number of texts per request; 0 means 128.
	BatchSize int
	// MaxRetries is how many times a failed request is retried after the
	// first attempt; 0 means 4 and a negative value disables retries.
	MaxRetries int
	// Timeout bounds each request (every retry gets its own); 0 means 30s.
	Timeout time.Duration
	// HTTPClient sends the requests; nil means a new http.Client.
	HTTPClient *http.Client
	// Logger receives a warning for each retried request; nil discards.
	Logger *slog.Logger
}

// maxRetryAfter is the longest Retry-After honoured; a server asking for
// more fails the call rather than stalling an index build.
const maxRetryAfter = time.Minute

// OpenAIEmbedder embeds texts with an OpenAI-compatible /v1/embeddings
// endpoint through go-openai: texts are sent in batches, one batch at a
// time; the vectors are put back in input order, checked and L2-normalised
// (some servers do not normalise). A request that fails with 408, 409, 429,
// a 5xx status, a timeout or a network error is retried with exponential
// backoff and jitter, or after the server's Retry-After; other statuses
// (400, 401, 403, 404, ...) fail at once. Errors never contain the API key.
// It is safe for concurrent use.
type OpenAIEmbedder struct {
	client  *openai.Client
	model   string
	dims    int
	batch   int
	retries int
	timeout time.Duration
	key     string // only to redact it from errors
	log     *slog.Logger
	// replyDims is the vector size of the first reply; every later reply
	// must match it.
	replyDims atomic.Int64
	// sleep waits d or until ctx is done; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error
}

// NewOpenAI returns an OpenAIEmbedder for cfg. It makes no request.
func NewOpenAI(cfg OpenAIConfig) (*OpenAIEmbedder, error) {
	if cfg.Model == "" {
		return nil, errors.New("openai embedder: Model is required")
	}
	if cfg.Dimensions < 0 || cfg.BatchSize < 0 || cfg.Timeout < 0 {
		return nil, errors.New("openai embedder: Dimensions, BatchSize and Timeout must not be negative")
	}
	base, err := openaiBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	if cfg.APIKey == "" && strings.HasPrefix(base, "https://api.openai.com/") {
		return nil, errors.New("openai embedder: an API key is required for api.openai.com")
	}
	oc := openai.DefaultConfig(cfg.APIKey)
	oc.BaseURL = base
	if cfg.HTTPClient != nil {
		oc.HTTPClient = cfg.HTTPClient
	}
	e := &OpenAIEmbedder{
		client:  openai.NewClientWithConfig(oc),
		model:   cfg.Model,
		dims:    cfg.Dimensions,
		batch:   cfg.BatchSize,
		retries: cfg.MaxRetries,
		timeout: cfg.Timeout,
		key:     cfg.APIKey,
		log:     cfg.Logger,
		sleep:   sleepCtx,
	}
	if e.batch == 0 {
		e.batch = 128
	}
	switch {
	case e.retries == 0:
		e.retries = 4
	case e.retries < 0:
		e.retries = 0
	}
	if e.timeout == 0 {
		e.timeout = 30 * time.Second
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	return e, nil
}

// openaiBaseURL validates and completes a configured base URL.
func openaiBaseURL(raw string) (string, error) {
	if raw == "" {
		return "https://api.openai.com/v1", nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", errors.New("openai embedder: BaseURL must be an http:// or https:// URL such as http://localhost:11434/v1")
	}
	if strings.Trim(u.Path, "/") == "" {
		u.Path = "/v1"
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// Model returns "openai:" plus the model name and, when Dimensions is set,
// "@" and the dimension (e.g. "openai:text-embedding-3-small@512"). It does
// not name the server, so the same model served elsewhere shares cached
// vectors.
func (e *OpenAIEmbedder) Model() string {
	if e.dims > 0 {
		return "openai:" + e.model + "@" + strconv.Itoa(e.dims)
	}
	return "openai:" + e.model
}

// Embed returns one L2-normalised vector per text, in order. Texts must not
// be empty (the API rejects them). No texts means no request.
func (e *OpenAIEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if len(texts) == 0 {
		return nil, nil
	}
	for i, t := range texts {
		if t == "" {
			return nil, fmt.Errorf("openai embedder: text %d is empty", i)
		}
	}
	out := make([][]float32, 0, len(texts))
	for start := 0; start < len(texts); start += e.batch {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("openai embedder: %w", err)
		}
		vecs, err := e.embedBatch(ctx, texts[start:min(start+e.batch, len(texts))])
		if err != nil {
			return nil, err
		}
		out = append(out, vecs...)
	}
	return out, nil
}

// embedBatch sends one batch, retrying transient failures.
func (e *OpenAIEmbedder) embedBatch(ctx context.Context, texts []string) ([][]float32, error) {
	bo := &backoff.ExponentialBackOff{
		InitialInterval:     500 * time.Millisecond,
		RandomizationFactor: 0.5,
		Multiplier:          2,
		MaxInterval:         30 * time.Second,
	}
	bo.Reset()
	for attempt := 0; ; attempt++ {
		vecs, wait, err := e.request(ctx, texts)
		if err == nil {
			return vecs, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("openai embedder: %w", ctx.Err())
		}
		if !openaiRetryable(err) {
			return nil, e.errorf("openai embedder: %s%w", openaiHint(err), err)
		}
		if attempt >= e.retries {
			return nil, e.errorf("openai embedder: giving up after %d attempts: %w", attempt+1, err)
		}
		if wait > maxRetryAfter {
			return nil, e.errorf("openai embedder: server asked to retry after %v (more than %v): %w", wait, maxRetryAfter, err)
		}
		if wait == 0 {
			wait = bo.NextBackOff()
		}
		e.log.Warn("embedding request failed, retrying",
			"model", e.model, "texts", len(texts), "attempt", attempt+1, "wait", wait, "error", e.errorf("%w", err).Error())
		if serr := e.sleep(ctx, wait); serr != nil {
			return nil, e.errorf("openai embedder: %w (while waiting to retry after: %v)", serr, err)
		}
	}
}

// request makes one API call with the per-request timeout. On failure it
// also returns the delay the server asked for, if any.
func (e *OpenAIEmbedder) request(ctx context.Context, texts []string) ([][]float32, time.Duration, error) {
	rctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	res, err := e.client.CreateEmbeddings(rctx, openai.EmbeddingRequestStrings{
		Input:          texts,
		Model:          openai.EmbeddingModel(e.model),
		Dimensions:     e.dims,
		EncodingFormat: openai.EmbeddingEncodingFormatFloat,
	})
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			err = fmt.Errorf("request timed out after %v: %w", e.timeout, err)
		}
		// go-openai records the response headers before it checks the
		// status, so they are available on error responses too.
		return nil, parseRetryAfter(res.Header(), time.Now()), err
	}
	vecs, err := e.vectors(res.Data, len(texts))
	return vecs, 0, err
}

// vectors orders a reply's embeddings by index, checks them and
// normalises them.
func (e *OpenAIEmbedder) vectors(data []openai.Embedding, n int) ([][]float32, error) {
	if len(data) != n {
		return nil, fmt.Errorf("openai embedder: server returned %d embeddings for %d texts", len(data), n)
	}
	out := make([][]float32, n)
	for _, d := range data {
		if d.Index < 0 || d.Index >= n || out[d.Index] != nil {
			return nil, fmt.Errorf("openai embedder: server returned a missing or repeated index %d", d.Index)
		}
		if len(d.Embedding) == 0 {
			return nil, fmt.Errorf("openai embedder: server returned an empty vector for text %d", d.Index)
		}
		out[d.Index] = d.Embedding
	}
	got := len(out[0])
	if e.dims > 0 && got != e.dims {
		return nil, fmt.Errorf("openai embedder: asked for %d dimensions, server returned %d (does %s support the dimensions parameter?)", e.dims, got, e.model)
	}
	if !e.replyDims.CompareAndSwap(0, int64(got)) && e.replyDims.Load() != int64(got) {
		return nil, fmt.Errorf("openai embedder: server returned %d-dimensional vectors after %d-dimensional ones", got, e.replyDims.Load())
	}
	for i, v := range out {
		if len(v) != got {
			return nil, fmt.Errorf("openai embedder: vectors of %d and %d dimensions in one reply", got, len(v))
		}
		if !normalizeL2(v) {
			return nil, fmt.Errorf("openai embedder: server returned a zero or non-finite vector for text %d", i)
		}
	}
	return out, nil
}

// normalizeL2 scales v to unit length in place; it reports false when v
// has no direction (zero, NaN or infinite norm).
func normalizeL2(v []float32) bool {
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	norm := math.Sqrt(sum)
	if norm == 0 || math.IsNaN(norm) || math.IsInf(norm, 0) {
		return false
	}
	inv := 1 / norm
	for i, x := range v {
		v[i] = float32(float64(x) * inv)
	}
	return true
}

// openaiRetryable reports whether a failed request may succeed if repeated. The
// parent context has already been checked, so a deadline here is the
// per-request timeout.
func openaiRetryable(err error) bool {
	// RequestError first: for an {"error":"string"} body errors.As also
	// finds an empty APIError inside it.
	var reqErr *openai.RequestError
	var apiErr *openai.APIError
	switch {
	case errors.As(err, &reqErr):
		return openaiRetryableStatus(reqErr.HTTPStatusCode)
	case errors.As(err, &apiErr):
		return openaiRetryableStatus(apiErr.HTTPStatusCode)
	}
	var opErr *net.OpError
	return errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.As(err, &opErr)
}

func openaiRetryableStatus(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusConflict ||
		code == http.StatusTooManyRequests || code >= 500
}

// openaiHint suggests the likely fix for a request the server refused.
func openaiHint(err error) string {
	code := 0
	var reqErr *openai.RequestError
	var apiErr *openai.APIError
	switch {
	case errors.As(err, &reqErr):
		code = reqErr.HTTPStatusCode
	case errors.As(err, &apiErr):
		code = apiErr.HTTPStatusCode
	}
	switch code {
	case http.StatusUnauthorized, http.StatusForbidden:
		return "the server refused the API key: "
	case http.StatusNotFound:
		return "not found (BaseURL must end in the API version, e.g. /v1, and the model must exist): "
	}
	return ""
}

// parseRetryAfter returns the delay a response asks for in its retry-after-ms
// (OpenAI) or Retry-After (delay-seconds or HTTP date) header, or 0.
func parseRetryAfter(h http.Header, now time.Time) time.Duration {
	if ms, err := strconv.ParseFloat(h.Get("Retry-After-Ms"), 64); err == nil && ms > 0 {
		return time.Duration(ms * float64(time.Millisecond))
	}
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		return time.Duration(max(s, 0) * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

// sleepCtx waits d, or less if ctx is done first.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// errorf is fmt.Errorf with the API key removed from the message, in case a
// server echoes it back.
func (e *OpenAIEmbedder) errorf(format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	if e.key == "" || !strings.Contains(err.Error(), e.key) {
		return err
	}
	return &redactedError{msg: strings.ReplaceAll(err.Error(), e.key, "[redacted]"), err: err}
}

// redactedError is an error whose message has had a secret removed; it
// still unwraps to the original for errors.Is and errors.As.
type redactedError struct {
	msg string
	err error
}

func (r *redactedError) Error() string { return r.msg }
func (r *redactedError) Unwrap() error { return r.err }
