package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

// Defaults for LLMConfig fields left zero.
const (
	DefaultModel       = "gpt-4o-mini"
	DefaultLLMTimeout  = 30 * time.Second
	DefaultMaxRetries  = 2
	DefaultTemperature = 0.1
	DefaultMaxTokens   = 700
)

// Response formats for LLMConfig.ResponseFormat: how strictly the server is
// asked for JSON. Replies are parsed the same way whichever is used, and
// prose is accepted, so the choice only matters to servers that reject one.
const (
	// FormatJSONSchema sends response_format json_schema (strict), which
	// OpenAI, Ollama, vLLM, LM Studio and llama.cpp servers understand.
	FormatJSONSchema = "json_schema"
	// FormatJSONObject sends response_format json_object.
	FormatJSONObject = "json_object"
	// FormatNone sends no response_format: the prompt alone asks for JSON.
	FormatNone = "none"
)

// LLMConfig configures generating mode: any server speaking the OpenAI
// chat-completions API (OpenAI, Ollama, vLLM, LM Studio, llama.cpp).
type LLMConfig struct {
	APIKey string // sent as a bearer token; "" sends none. Never logged.
	// BaseURL is the API root including /v1, e.g.
	// "http://localhost:11434/v1"; "" means OpenAI.
	BaseURL string
	Model   string // "" means DefaultModel
	// Timeout bounds the whole exchange with the model for one answer,
	// retries and their waits included; 0 means DefaultLLMTimeout. A
	// Retry-After longer than the time left ends the exchange at once.
	Timeout time.Duration
	// MaxRetries is how many times a request failing with 429, 5xx or a
	// network error is repeated (4xx never is, nor a stream that already
	// delivered text); 0 means DefaultMaxRetries, negative means none.
	MaxRetries int
	// Temperature of sampling; 0 means DefaultTemperature (go-openai never
	// sends 0, and servers then sample at their own default, often 1).
	Temperature float32
	// MaxTokens bounds the reply; 0 means DefaultMaxTokens.
	MaxTokens int
	// ResponseFormat is FormatJSONSchema (the default when ""),
	// FormatJSONObject or FormatNone.
	ResponseFormat string
	// HTTPClient sends the requests; nil means a new http.Client. Its own
	// Timeout should be 0: Timeout above bounds calls, and a client
	// timeout would also cut streams.
	HTTPClient *http.Client
	// Sleep waits between retries; nil means a timer that returns early
	// with ctx's error when ctx is done. Tests inject one that records the
	// waits and returns at once.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now tells the time, to turn a Retry-After date into a wait; nil
	// means time.Now. Tests inject a fixed clock.
	Now func() time.Time
}

// chat is a chat-completions client with Verbatim's timeouts and retries.
type chat struct {
	client *openai.Client
	cfg    LLMConfig
	log    *slog.Logger
}

func newChat(cfg LLMConfig, log *slog.Logger) *chat {
	if cfg.Model == "" {
		cfg.Model = DefaultModel
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultLLMTimeout
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = DefaultMaxRetries
	}
	if cfg.Temperature <= 0 {
		cfg.Temperature = DefaultTemperature
	}
	if cfg.MaxTokens <= 0 {
		cfg.MaxTokens = DefaultMaxTokens
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	oc := openai.DefaultConfig(cfg.APIKey)
	if cfg.BaseURL != "" {
		oc.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	}
	oc.HTTPClient = hintingDoer{hc, cfg.Now}
	return &chat{client: openai.NewClientWithConfig(oc), cfg: cfg, log: log}
}

func (c *chat) request(msgs []openai.ChatCompletionMessage) openai.ChatCompletionRequest {
	req := openai.ChatCompletionRequest{
		Model:       c.cfg.Model,
		Messages:    msgs,
		Temperature: c.cfg.Temperature,
		// max_tokens, not max_completion_tokens: Ollama, llama.cpp and
		// older vLLM read only max_tokens, and OpenAI still accepts it for
		// chat models.
		//lint:ignore SA1019 see above
		MaxTokens: c.cfg.MaxTokens,
	}
	switch c.cfg.ResponseFormat {
	case FormatNone:
	case FormatJSONObject:
		req.ResponseFormat = &openai.ChatCompletionResponseFormat{Type: openai.ChatCompletionResponseFormatTypeJSONObject}
	default:
		req.ResponseFormat = &openai.ChatCompletionResponseFormat{
			Type: openai.ChatCompletionResponseFormatTypeJSONSchema,
			JSONSchema: &openai.ChatCompletionResponseFormatJSONSchema{
				Name:   "verbatim_answer",
				Schema: json.RawMessage(replySchema),
				Strict: true,
			},
		}
	}
	return req
}

// llmError is a failed exchange with the model, described for Answer.Note.
type llmError struct {
	reason string // what the user is told
	err    error
}

// Error includes the server's message, except for authentication
// failures, whose messages may echo part of the API key.
func (e *llmError) Error() string {
	if code := statusCode(e.err); code == http.StatusUnauthorized || code == http.StatusForbidden {
		return e.reason
	}
	return e.reason + ": " + e.err.Error()
}
func (e *llmError) Unwrap() error { return e.err }

// complete sends msgs and returns the reply's content. With onText set it
// streams, calling onText with the content received so far after each
// chunk. Failures are *llmError.
func (c *chat) complete(ctx context.Context, msgs []openai.ChatCompletionMessage, onText func(string)) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req := c.request(msgs)
	for attempt := 0; ; attempt++ {
		hint := new(retryHint)
		actx := context.WithValue(ctx, retryHintKey{}, hint)
		var content string
		var delivered bool
		var err error
		if onText != nil {
			content, delivered, err = c.stream(actx, req, onText)
		} else {
			content, err = c.once(actx, req)
		}
		if err == nil {
			return content, nil
		}
		failure := c.describe(ctx, err)
		if delivered || attempt >= c.cfg.MaxRetries || !retryable(err) || ctx.Err() != nil {
			return "", failure
		}
		wait := hint.after
		if wait <= 0 {
			wait = backoff(attempt)
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return "", failure
		}
		c.log.Warn("language model request failed; retrying", "attempt", attempt+1, "wait", wait, "err", err)
		if c.cfg.Sleep(ctx, wait) != nil {
			return "", c.describe(ctx, ctx.Err())
		}
	}
}

func (c *chat) once(ctx context.Context, req openai.ChatCompletionRequest) (string, error) {
	resp, err := c.client.CreateChatCompletion(ctx, req)
	if err != nil {
		return "", err
	}
	if len(resp.Choices) == 0 {
		return "", nil
	}
	return resp.Choices[0].Message.Content, nil
}

// stream reads a streamed reply; delivered reports whether any text reached
// onText, after which a failure must not be retried.
func (c *chat) stream(ctx context.Context, req openai.ChatCompletionRequest, onText func(string)) (content string, delivered bool, err error) {
	s, err := c.client.CreateChatCompletionStream(ctx, req)
	if err != nil {
		return "", false, err
	}
	defer s.Close()
	var b strings.Builder
	for {
		resp, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return b.String(), b.Len() > 0, nil
		}
		if err != nil {
			return "", b.Len() > 0, err
		}
		n := b.Len()
		for _, ch := range resp.Choices {
			if ch.Index == 0 {
				b.WriteString(ch.Delta.Content)
			}
		}
		if b.Len() > n {
			onText(b.String())
		}
	}
}

// statusCode returns the HTTP status of a go-openai error, 0 if none.
func statusCode(err error) int {
	// RequestError first: for an {"error":"string"} body errors.As also
	// finds an empty APIError inside it.
	var re *openai.RequestError
	if errors.As(err, &re) {
		return re.HTTPStatusCode
	}
	var ae *openai.APIError
	if errors.As(err, &ae) {
		return ae.HTTPStatusCode
	}
	return 0
}

// retryable reports whether a failed request may succeed if repeated: rate
// limits, server errors and network failures, never other 4xx.
func retryable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	switch code := statusCode(err); {
	case code == http.StatusTooManyRequests, code >= 500:
		return true
	case code != 0:
		return false
	}
	var ae *openai.APIError
	if errors.As(err, &ae) || malformed(err) {
		return false // an error event in a stream, or a body that is not a completion
	}
	return true
}

// malformed reports whether err is go-openai failing to decode a response
// body: the server answered, but not with a completion.
func malformed(err error) bool {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	return errors.As(err, &se) || errors.As(err, &te) || errors.Is(err, io.ErrUnexpectedEOF)
}

// describe wraps err with the reason the user is shown. ctx is the
// exchange's context, whose state tells a timeout from a cancellation.
func (c *chat) describe(ctx context.Context, err error) *llmError {
	var reason string
	code := statusCode(err)
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		reason = fmt.Sprintf("the language model did not answer within %s", c.cfg.Timeout)
	case ctx.Err() != nil:
		reason = "the request was cancelled before the language model answered"
	case code == http.StatusTooManyRequests:
		reason = "the language model is rate-limited (HTTP 429)"
	case code >= 500:
		reason = fmt.Sprintf("the language model failed (HTTP %d)", code)
	case code != 0:
		reason = fmt.Sprintf("the language model rejected the request (HTTP %d)", code)
	case malformed(err):
		reason = "the language model's response was malformed"
	default:
		var ae *openai.APIError
		if errors.As(err, &ae) {
			reason = "the language model's stream reported an error"
		} else {
			reason = "the language model could not be reached"
		}
	}
	return &llmError{reason: reason, err: err}
}

// backoff is the wait before retry attempt+1 when the server gave no
// Retry-After: 0.5 s doubling per attempt, capped at 8 s, with up to 25%
// random jitter so that clients failing together do not retry together.
func backoff(attempt int) time.Duration {
	d := min(500*time.Millisecond<<attempt, 8*time.Second)
	return d + time.Duration(rand.Int64N(int64(d)/4+1))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// retryHint carries a response's Retry-After from the HTTP layer, which
// go-openai's errors do not expose, to the retry loop of the same call.
type retryHint struct{ after time.Duration }

type retryHintKey struct{}

// hintingDoer sends requests with an http.Client and records the
// Retry-After of a 429 or 503 response in the request context's retryHint,
// reading a date against the clock now.
type hintingDoer struct {
	c   *http.Client
	now func() time.Time
}

func (d hintingDoer) Do(req *http.Request) (*http.Response, error) {
	resp, err := d.c.Do(req)
	if err != nil || (resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable) {
		return resp, err
	}
	if h, ok := req.Context().Value(retryHintKey{}).(*retryHint); ok {
		h.after = parseRetryAfter(resp.Header.Get("Retry-After"), d.now())
	}
	return resp, nil
}

// parseRetryAfter reads a Retry-After value: delay-seconds (fractions
// allowed, as some servers send) or an HTTP date. It returns 0 when the
// value is absent or unusable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs <= 0 || secs > 24*3600 {
			return 0
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
