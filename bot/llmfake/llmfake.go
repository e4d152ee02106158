// Package llmfake is an in-process fake of the OpenAI chat-completions API
// (POST /v1/chat/completions) for tests. It speaks the real wire format — a
// plain JSON completion, or server-sent events with choices[].delta.content
// chunks ending in "data: [DONE]" when the request asks to stream — so tests
// drive the real go-openai client against it. Replies are scripted one per
// request (content, an error status with headers, a malformed body, or a hang
// until the client gives up), and every request is recorded so tests can
// check the prompt, model and sampling settings that were sent.
//
// A Handler can be mounted on any mux; New starts a Server that serves only
// the chat-completions endpoint.
package llmfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"unicode/utf8"

	"github.com/verbatim-bot/verbatim/retrieval/openaifake"
)

// Response scripts the reply to one request. A Response with only Content
// set is a normal successful reply.
type Response struct {
	// Content is the assistant message. A streaming request receives it
	// in pieces of a few bytes (cut at character boundaries) unless Chunks
	// is set.
	Content string
	// Chunks, when not nil, are the content pieces a streaming request
	// receives, one SSE event each, instead of Content cut up.
	Chunks []string
	// Status is the HTTP status code; 0 means 200.
	Status int
	// Body, when not empty, is sent verbatim instead of a generated body
	// (malformed JSON, an HTML error page, a custom error). With a status
	// of 300 or more and no Body, an OpenAI error body is generated.
	Body string
	// Header holds extra response headers, e.g. Retry-After.
	Header http.Header
	// Hang blocks until the client gives up (its request context is done)
	// or the Handler is released. A plain request hangs before anything is
	// written; a streaming one after sending its chunks, before the final
	// event and [DONE], so a client sees text and then a stalled stream.
	Hang bool
	// Reached, if not nil, is closed when a request reaches this Response,
	// so a test can wait (on a channel, not a sleep) until the call is in
	// flight. Each channel must be used by one scripted Response only.
	Reached chan struct{}
}

// Error returns a Response with the given status and an OpenAI error body
// {"error":{"message","type","param","code"}} whose type and code suit the
// status.
func Error(status int, message string) Response {
	return Response{Status: status, Body: openaifake.ErrorBody(status, message)}
}

// RateLimited returns a 429 Response with an OpenAI error body and the given
// Retry-After header value (delay-seconds or an HTTP date; "" for none).
func RateLimited(retryAfter string) Response {
	r := Error(http.StatusTooManyRequests, "Rate limit reached for requests")
	if retryAfter != "" {
		r.Header = http.Header{"Retry-After": {retryAfter}}
	}
	return r
}

// Message is one chat message of a recorded request.
type Message struct {
	Role    string
	Content string
}

// Request is what the fake received in one request.
type Request struct {
	Model    string
	Messages []Message
	// Temperature is nil when the request did not send one (go-openai
	// omits 0).
	Temperature *float64
	MaxTokens   int
	// ResponseFormat is response_format.type ("json_schema",
	// "json_object", "text"), "" when absent.
	ResponseFormat string
	Stream         bool
	Authorization  string // the Authorization header; "" when absent
}

// Handler serves POST /v1/chat/completions. It is safe for concurrent use.
type Handler struct {
	mu        sync.Mutex
	script    []Response
	responder func(Request) Response
	requests  []Request
	closed    chan struct{}
	once      sync.Once
}

// NewHandler returns a Handler with an empty script: until Script or
// Respond is called, every request gets a 500 error saying so.
func NewHandler() *Handler {
	return &Handler{closed: make(chan struct{})}
}

// Script queues replies for the next requests, one per request in arrival
// order.
func (h *Handler) Script(rs ...Response) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.script = append(h.script, rs...)
}

// Respond sets a function that chooses the reply to each request arriving
// when the script queue is empty.
func (h *Handler) Respond(f func(Request) Response) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.responder = f
}

// Requests returns a copy of the requests received so far, including those
// answered with a scripted failure.
func (h *Handler) Requests() []Request {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.requests)
}

// Release ends every hanging request and makes later Hang responses return
// at once.
func (h *Handler) Release() {
	h.once.Do(func() { close(h.closed) })
}

type wireMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type wireRequest struct {
	Model          string        `json:"model"`
	Messages       []wireMessage `json:"messages"`
	Temperature    *float64      `json:"temperature"`
	MaxTokens      int           `json:"max_tokens"`
	Stream         bool          `json:"stream"`
	ResponseFormat *struct {
		Type string `json:"type"`
	} `json:"response_format"`
}

// ServeHTTP answers one chat-completions request with the next scripted
// Response. Invalid requests get a 400 OpenAI error, as from the real API.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeResponse(w, Error(http.StatusMethodNotAllowed, "method not allowed"))
		return
	}
	var wr wireRequest
	if err := json.NewDecoder(r.Body).Decode(&wr); err != nil {
		writeResponse(w, Error(http.StatusBadRequest, "invalid JSON body: "+err.Error()))
		return
	}
	req := Request{
		Model:         wr.Model,
		Temperature:   wr.Temperature,
		MaxTokens:     wr.MaxTokens,
		Stream:        wr.Stream,
		Authorization: r.Header.Get("Authorization"),
	}
	for _, m := range wr.Messages {
		req.Messages = append(req.Messages, Message(m))
	}
	if wr.ResponseFormat != nil {
		req.ResponseFormat = wr.ResponseFormat.Type
	}

	h.mu.Lock()
	h.requests = append(h.requests, req)
	var resp Response
	switch {
	case len(h.script) > 0:
		resp = h.script[0]
		h.script = h.script[1:]
	case h.responder != nil:
		resp = h.responder(req)
	default:
		resp = Error(http.StatusInternalServerError, "llmfake: no response scripted")
	}
	h.mu.Unlock()
	if resp.Reached != nil {
		close(resp.Reached)
	}

	switch {
	case resp.Hang && !req.Stream:
		h.hang(r)
		return
	case resp.Body != "" || resp.Status >= 300:
		if resp.Body == "" {
			resp.Body = Error(resp.Status, http.StatusText(resp.Status)).Body
		}
		writeResponse(w, resp)
		return
	case req.Model == "":
		writeResponse(w, Error(http.StatusBadRequest, "you must provide a model parameter"))
		return
	case len(req.Messages) == 0:
		writeResponse(w, Error(http.StatusBadRequest, "'messages' must contain at least one message"))
		return
	}
	if req.Stream {
		h.stream(w, r, req, resp)
		return
	}
	body, _ := json.Marshal(map[string]any{
		"id":      "chatcmpl-fake",
		"object":  "chat.completion",
		"created": 1700000000,
		"model":   req.Model,
		"choices": []any{map[string]any{
			"index":         0,
			"message":       map[string]any{"role": "assistant", "content": resp.Content},
			"finish_reason": "stop",
		}},
		"usage": map[string]any{"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
	})
	resp.Body = string(body)
	writeResponse(w, resp)
}

func (h *Handler) hang(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-h.closed:
	}
}

// stream writes resp as server-sent events: a role chunk, the content
// chunks, a final chunk with finish_reason "stop", then [DONE].
func (h *Handler) stream(w http.ResponseWriter, r *http.Request, req Request, resp Response) {
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	event := func(delta map[string]any, finish any) {
		b, _ := json.Marshal(map[string]any{
			"id":      "chatcmpl-fake",
			"object":  "chat.completion.chunk",
			"created": 1700000000,
			"model":   req.Model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}},
		})
		fmt.Fprintf(w, "data: %s\n\n", b)
		if flusher != nil {
			flusher.Flush()
		}
	}
	event(map[string]any{"role": "assistant", "content": ""}, nil)
	chunks := resp.Chunks
	if chunks == nil {
		chunks = split(resp.Content, 12)
	}
	for _, c := range chunks {
		event(map[string]any{"content": c}, nil)
	}
	if resp.Hang {
		h.hang(r)
		return
	}
	event(map[string]any{}, "stop")
	fmt.Fprint(w, "data: [DONE]\n\n")
	if flusher != nil {
		flusher.Flush()
	}
}

// split cuts s into pieces of about n bytes, never inside a character.
func split(s string, n int) []string {
	var out []string
	for len(s) > 0 {
		i := min(n, len(s))
		for i < len(s) && !utf8.RuneStart(s[i]) {
			i++
		}
		out = append(out, s[:i])
		s = s[i:]
	}
	return out
}

func writeResponse(w http.ResponseWriter, r Response) {
	openaifake.WriteReply(w, r.Status, r.Header, r.Body)
}

// Server is a Handler served at /v1/chat/completions by an httptest server.
type Server struct {
	*Handler
	srv *httptest.Server
}

// New starts a Server. Call Close when done.
func New() *Server {
	h := NewHandler()
	mux := http.NewServeMux()
	mux.Handle("/v1/chat/completions", h)
	return &Server{Handler: h, srv: httptest.NewServer(mux)}
}

// URL returns the API base URL, ending in /v1, for go-openai's
// ClientConfig.BaseURL.
func (s *Server) URL() string { return s.srv.URL + "/v1" }

// Close releases hanging requests and shuts the server down.
func (s *Server) Close() {
	s.Release()
	s.srv.Close()
}
