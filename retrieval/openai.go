package retrieval

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sashabaranov/go-openai"

	"github.com/verbatim-bot/verbatim/retrieval/openaihttp"
)

// OpenAIConfig configures an OpenAIEmbedder. Only Model is required.
type OpenAIConfig struct {
	// APIKey is sent as a bearer token. Empty sends no Authorization
	// header, which local servers (Ollama, vLLM, LM Studio, llama.cpp)
	// accept; it is required for api.openai.com.
	APIKey string
	// BaseURL is the API base including its version path, e.g.
	// "http://localhost:11434/v1" for Ollama; see openaihttp.BaseURL.
	BaseURL string
	// Model is the embedding model, e.g. "text-embedding-3-small" or
	// "nomic-embed-text".
	Model string
	// Dimensions asks for vectors of this size (text-embedding-3 and later
	// models); 0 means the model's default. A reply of another size is an
	// error, since servers that ignore the parameter would silently break
	// the index.
	Dimensions int
	// BatchSize is the number of texts per request; 0 means
	// DefaultOpenAIBatch.
	BatchSize int
	// Retry is the retry policy shared with the chat client.
	Retry openaihttp.Policy
	// Timeout bounds each attempt of a request; 0 means
	// DefaultOpenAITimeout.
	Timeout time.Duration
	// HTTPClient sends the requests; nil means a new http.Client.
	HTTPClient *http.Client
	// Logger receives a warning for each retried request; nil discards.
	Logger *slog.Logger
}

// Defaults for OpenAIConfig fields left zero.
const (
	DefaultOpenAIBatch   = 128
	DefaultOpenAITimeout = 30 * time.Second
)

// OpenAIEmbedder embeds texts with an OpenAI-compatible /v1/embeddings
// endpoint through go-openai and the openaihttp transport (which retries):
// texts are sent in batches, one batch at a time; the vectors are put back
// in input order, checked and L2-normalised (some servers do not
// normalise). Errors never contain the API key. It is safe for concurrent
// use.
type OpenAIEmbedder struct {
	client *openai.Client
	model  string
	dims   int
	batch  int
	retry  openaihttp.Policy
	key    string // only to redact it from errors
	// replyDims is the vector size of the first reply; every later reply
	// must match it.
	replyDims atomic.Int64
}

// NewOpenAI returns an OpenAIEmbedder for cfg. It makes no request.
func NewOpenAI(cfg OpenAIConfig) (*OpenAIEmbedder, error) {
	if cfg.Model == "" {
		return nil, errors.New("openai embedder: Model is required")
	}
	if cfg.Dimensions < 0 || cfg.BatchSize < 0 || cfg.Timeout < 0 {
		return nil, errors.New("openai embedder: Dimensions, BatchSize and Timeout must not be negative")
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = DefaultOpenAIBatch
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultOpenAITimeout
	}
	doer := openaihttp.New(openaihttp.Config{Policy: cfg.Retry, AttemptTimeout: cfg.Timeout,
		Client: cfg.HTTPClient, Logger: cfg.Logger, Secrets: []string{cfg.APIKey}})
	oc, err := doer.ClientConfig(cfg.APIKey, cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("openai embedder: %w", err)
	}
	if cfg.APIKey == "" && strings.HasPrefix(oc.BaseURL, "https://api.openai.com/") {
		return nil, errors.New("openai embedder: an API key is required for api.openai.com")
	}
	return &OpenAIEmbedder{
		client: openai.NewClientWithConfig(oc),
		model:  cfg.Model,
		dims:   cfg.Dimensions,
		batch:  cfg.BatchSize,
		retry:  cfg.Retry,
		key:    cfg.APIKey,
	}, nil
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

// embedBatch sends one batch (the transport retries transient failures).
func (e *OpenAIEmbedder) embedBatch(ctx context.Context, texts []string) ([][]float32, error) {
	rctx, report := openaihttp.WithReport(ctx)
	res, err := e.client.CreateEmbeddings(rctx, openai.EmbeddingRequestStrings{
		Input:          texts,
		Model:          openai.EmbeddingModel(e.model),
		Dimensions:     e.dims,
		EncodingFormat: openai.EmbeddingEncodingFormatFloat,
	})
	if err != nil {
		return nil, e.failure(ctx, err, report)
	}
	return e.vectors(res.Data, len(texts))
}

// failure describes a failed request, without the API key.
func (e *OpenAIEmbedder) failure(ctx context.Context, err error, r *openaihttp.Report) error {
	switch {
	case ctx.Err() != nil:
		err = fmt.Errorf("openai embedder: %w", ctx.Err())
	case r.RetryAfter > 0:
		limit := e.retry.MaxRetryAfter
		if limit <= 0 {
			limit = openaihttp.DefaultMaxRetryAfter
		}
		err = fmt.Errorf("openai embedder: server asked to retry after %v (more than %v, or than the time left): %w", r.RetryAfter, limit, err)
	case r.Retryable:
		err = fmt.Errorf("openai embedder: giving up after %d attempts: %w", r.Attempts, err)
	default:
		err = fmt.Errorf("openai embedder: %s%w", openaihttp.Hint(err), err)
	}
	return openaihttp.RedactError(err, e.key)
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
