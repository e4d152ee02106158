package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	openai "github.com/sashabaranov/go-openai"
	"github.com/verbatim-bot/verbatim/retrieval/openaihttp"
)

// Defaults for LLMConfig fields left zero.
const (
	DefaultModel       = "gpt-4o-mini"
	DefaultLLMTimeout  = 60 * time.Second
	DefaultTemperature = 0.1
	DefaultMaxTokens   = 700
	// DefaultContextTokens fits the context window of common local models
	// (llama.cpp's and Ollama's usual 4,096).
	DefaultContextTokens = 4096
)

// Response formats for LLMConfig.ResponseFormat: how strictly the server is
// asked for JSON. Replies are parsed the same way whichever is used, and
// prose is accepted, so the choice only matters to servers that reject one.
const (
	// FormatAuto starts with FormatJSONSchema and, when the server rejects
	// it, steps down to FormatJSONObject, then FormatNone, remembering the
	// step for later answers.
	FormatAuto = "auto"
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
	// Retry is the retry policy shared with the embedder. A Retry-After
	// longer than the time left ends the exchange at once, and a stream
	// that already delivered text is never repeated.
	Retry openaihttp.Policy
	// Temperature of sampling; 0 means DefaultTemperature (go-openai never
	// sends 0, and servers then sample at their own default, often 1).
	Temperature float32
	// MaxTokens bounds the reply; 0 means DefaultMaxTokens.
	MaxTokens int
	// ContextTokens is the model's context window: the prompt is cut to
	// ContextTokens − MaxTokens (earlier turns first, then the
	// lowest-ranked passages, then the text of the last one), estimated
	// as one token per four bytes; 0 means DefaultContextTokens.
	ContextTokens int
	// ResponseFormat is FormatAuto (the default when ""),
	// FormatJSONSchema, FormatJSONObject or FormatNone.
	ResponseFormat string
	// HTTPClient sends the requests; nil means a new http.Client. Its own
	// Timeout should be 0: Timeout above bounds calls, and a client
	// timeout would also cut streams.
	HTTPClient *http.Client
}

// chat is a chat-completions client with Verbatim's timeouts and retries.
type chat struct {
	client *openai.Client
	cfg    LLMConfig
	log    *slog.Logger
	err    error // why the configuration cannot be used, if it cannot
	// format is the index in formats of the response format in use.
	format atomic.Int32
	auto   bool // format may step down when the server rejects it
}

// formats are the response formats, strictest first.
func formats() []string { return []string{FormatJSONSchema, FormatJSONObject, FormatNone} }

// newChat returns a client for cfg. A BaseURL it cannot use makes every
// call fail with that error (the CLI checks the URL before it gets here).
func newChat(cfg LLMConfig, log *slog.Logger) *chat {
	if cfg.Model == "" {
		cfg.Model = DefaultModel
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultLLMTimeout
	}
	if cfg.Temperature <= 0 {
		cfg.Temperature = DefaultTemperature
	}
	if cfg.MaxTokens <= 0 {
		cfg.MaxTokens = DefaultMaxTokens
	}
	if cfg.ContextTokens <= 0 {
		cfg.ContextTokens = DefaultContextTokens
	}
	doer := openaihttp.New(openaihttp.Config{Policy: cfg.Retry, Client: cfg.HTTPClient, Logger: log, Secrets: []string{cfg.APIKey}})
	oc, err := doer.ClientConfig(cfg.APIKey, cfg.BaseURL)
	c := &chat{client: openai.NewClientWithConfig(oc), cfg: cfg, log: log, err: err}
	switch i := slices.Index(formats(), cfg.ResponseFormat); {
	case i >= 0:
		c.format.Store(int32(i))
	case cfg.ResponseFormat == "" || cfg.ResponseFormat == FormatAuto:
		c.auto = true
	default:
		c.err = fmt.Errorf("unknown response format %q", cfg.ResponseFormat)
	}
	return c
}

func (c *chat) request(msgs []openai.ChatCompletionMessage, format string) openai.ChatCompletionRequest {
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
	switch format {
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
	key    string // redacted from Error
}

// Error includes the server's message, redacted, except for
// authentication failures, whose messages may echo part of the API key.
func (e *llmError) Error() string {
	if code := openaihttp.StatusCode(e.err); code == http.StatusUnauthorized || code == http.StatusForbidden {
		return e.reason
	}
	return e.reason + ": " + openaihttp.Redact(e.err.Error(), e.key)
}
func (e *llmError) Unwrap() error { return e.err }

// complete sends msgs and returns the reply's content. With onText set it
// streams, calling onText with the content received so far after each
// chunk. The transport retries what may succeed if repeated. Failures are
// *llmError.
func (c *chat) complete(ctx context.Context, msgs []openai.ChatCompletionMessage, onText func(string)) (string, error) {
	if c.err != nil {
		return "", &llmError{reason: "the language model is not configured correctly", err: c.err}
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	for {
		f := c.format.Load()
		fs := formats()
		req := c.request(msgs, fs[f])
		var content string
		var err error
		if onText != nil {
			content, err = c.stream(ctx, req, onText)
		} else {
			content, err = c.once(ctx, req)
		}
		switch {
		case err == nil:
			return content, nil
		case c.auto && int(f) < len(fs)-1 && formatRejected(err):
			if c.format.CompareAndSwap(f, f+1) {
				c.log.Warn("the language model server rejects this response format; asking with the next",
					"format", fs[f], "next", fs[f+1], "err", openaihttp.Redact(err.Error(), c.cfg.APIKey))
			}
		default:
			return "", c.describe(ctx, err)
		}
	}
}

// formatRejected reports whether err is the server refusing the request's
// response_format: a 400, 422 or 5xx whose message names it (llama-cpp-python
// answers an unknown response_format type with a 500).
func formatRejected(err error) bool {
	if code := openaihttp.StatusCode(err); code != http.StatusBadRequest && code != http.StatusUnprocessableEntity && code < 500 {
		return false
	}
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "response_format") || strings.Contains(msg, "json_schema") ||
		strings.Contains(msg, "json_object") || strings.Contains(msg, "schema") || strings.Contains(msg, "grammar")
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

// stream reads a streamed reply.
func (c *chat) stream(ctx context.Context, req openai.ChatCompletionRequest, onText func(string)) (string, error) {
	s, err := c.client.CreateChatCompletionStream(ctx, req)
	if err != nil {
		return "", err
	}
	defer s.Close()
	var b strings.Builder
	for {
		resp, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return b.String(), nil
		}
		if err != nil {
			if b.Len() > 0 {
				err = fmt.Errorf("%w: %w", errStreamCut, err)
			}
			return "", err
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

// errStreamCut marks a stream that ended with an error after part of the
// reply had arrived.
var errStreamCut = errors.New("the stream ended before the reply was complete")

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
	code := openaihttp.StatusCode(err)
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		reason = fmt.Sprintf("the language model did not answer within %s", c.cfg.Timeout)
	case ctx.Err() != nil:
		reason = "the request was cancelled before the language model answered"
	case errors.Is(err, errStreamCut):
		reason = "the language model's stream was cut off before the reply was complete"
	case code == http.StatusNotFound:
		reason = fmt.Sprintf("the language model server has no model %q or no chat endpoint at this URL (HTTP 404): check LLM_MODEL and LLM_BASE_URL", c.cfg.Model)
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
	return &llmError{reason: reason, err: err, key: c.cfg.APIKey}
}

// ServedModels lists the models the server at cfg.BaseURL serves (GET
// /models), asking once: it is a check made at start, not an answer.
func ServedModels(ctx context.Context, cfg LLMConfig) ([]string, error) {
	doer := openaihttp.New(openaihttp.Config{Policy: openaihttp.Policy{MaxRetries: -1}, Client: cfg.HTTPClient, Secrets: []string{cfg.APIKey}})
	oc, err := doer.ClientConfig(cfg.APIKey, cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	list, err := openai.NewClientWithConfig(oc).ListModels(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing the models: %w", openaihttp.RedactError(err, cfg.APIKey))
	}
	ids := make([]string, 0, len(list.Models))
	for _, m := range list.Models {
		if m.ID != "" {
			ids = append(ids, m.ID)
		}
	}
	return ids, nil
}
