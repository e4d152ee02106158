// Package openaifake is an in-process fake of the OpenAI API for tests: POST
// /v1/chat/completions (a plain JSON completion, or server-sent events when
// the request asks to stream) and POST /v1/embeddings (deterministic
// vectors derived from each input text). It speaks the real wire format, so
// tests drive the real go-openai client against it. Replies are scripted
// one per request (content, an error status with headers, a malformed
// body, or a hang until the client gives up), and every request is
// recorded so tests can check what was sent.
//
// The handlers can be mounted on any mux; New starts a Server that serves
// both endpoints.
package openaifake

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
)

// Response scripts the reply to one request. The zero Response is a normal
// successful reply (for chat, with empty content).
type Response struct {
	// Status is the HTTP status code; 0 means 200.
	Status int
	// Body, when not empty, is sent verbatim instead of a generated body
	// (malformed JSON, an HTML error page, a custom error). With a status
	// of 300 or more and no Body, an OpenAI error body is generated.
	Body string
	// Header holds extra response headers, e.g. Retry-After.
	Header http.Header
	// Hang blocks until the client gives up (its request context is done)
	// or the handler is released, then drops the connection. A streaming
	// chat request hangs after its chunks, before the final event and
	// [DONE], so a client sees text and then a stalled stream.
	Hang bool
	// Reached, if not nil, is closed when a request reaches this Response,
	// so a test can wait (on a channel, not a sleep) until the call is in
	// flight. Each channel must be used by one scripted Response only.
	Reached chan struct{}

	// Content is the chat assistant message. A streaming request receives
	// it in pieces of a few bytes (cut at character boundaries) unless
	// Chunks is set.
	Content string
	// Chunks, when not nil, are the content pieces a streaming chat
	// request receives, one SSE event each, instead of Content cut up.
	Chunks []string

	// Reverse returns the embeddings of a successful reply in reverse
	// order of their index, as a server is allowed to.
	Reverse bool
	// Dims overrides the vector dimension of a successful embeddings reply.
	Dims int
}

// Error returns a Response with the given status and an OpenAI error body
// (see ErrorBody).
func Error(status int, message string) Response {
	return Response{Status: status, Body: ErrorBody(status, message)}
}

// ErrorBody returns the OpenAI error body {"error":{"message","type",
// "param","code"}} with a type and code that suit status, as the real API
// sends them.
func ErrorBody(status int, message string) string {
	typ, code := "server_error", ""
	switch {
	case status == http.StatusUnauthorized:
		typ, code = "invalid_request_error", "invalid_api_key"
	case status == http.StatusTooManyRequests:
		typ, code = "requests", "rate_limit_exceeded"
	case status < 500:
		typ = "invalid_request_error"
	}
	body, _ := json.Marshal(map[string]any{"error": map[string]any{
		"message": message, "type": typ, "param": nil, "code": nullable(code),
	}})
	return string(body)
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

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// recorder is what both handlers share: the script of replies, the record
// of requests, and the release of hanging requests. It is safe for
// concurrent use.
type recorder[R any] struct {
	mu       sync.Mutex
	script   []Response
	requests []R
	arrived  chan struct{} // closed and replaced on each request
	closed   chan struct{}
	once     sync.Once
}

func newRecorder[R any]() recorder[R] {
	return recorder[R]{arrived: make(chan struct{}), closed: make(chan struct{})}
}

// Script queues replies for the next requests, one per request in arrival
// order.
func (h *recorder[R]) Script(rs ...Response) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.script = append(h.script, rs...)
}

// Requests returns a copy of the requests received so far, including those
// answered with a scripted failure.
func (h *recorder[R]) Requests() []R {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.requests)
}

// WaitRequests blocks until at least n requests have been received (and
// recorded) or ctx is done, so a test can act while a request hangs.
func (h *recorder[R]) WaitRequests(ctx context.Context, n int) error {
	for {
		h.mu.Lock()
		got, arrived := len(h.requests), h.arrived
		h.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-arrived:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Release ends every hanging request and makes later Hang responses return
// at once.
func (h *recorder[R]) Release() {
	h.once.Do(func() { close(h.closed) })
}

// record notes req and returns the next scripted Response, or fallback(req)
// when the script is empty.
func (h *recorder[R]) record(req R, fallback func(R) Response) Response {
	h.mu.Lock()
	h.requests = append(h.requests, req)
	close(h.arrived)
	h.arrived = make(chan struct{})
	var resp Response
	if len(h.script) > 0 {
		resp = h.script[0]
		h.script = h.script[1:]
		h.mu.Unlock()
	} else {
		h.mu.Unlock()
		resp = fallback(req)
	}
	if resp.Reached != nil {
		close(resp.Reached)
	}
	return resp
}

// hang blocks until the client gives up or the handler is released.
func (h *recorder[R]) hang(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-h.closed:
	}
}

// writeError writes resp, a scripted failure, generating an OpenAI error
// body when it has none.
func writeError(w http.ResponseWriter, resp Response) {
	if resp.Body == "" {
		resp.Body = ErrorBody(resp.Status, http.StatusText(resp.Status))
	}
	WriteReply(w, resp.Status, resp.Header, resp.Body)
}

// WriteReply writes a JSON reply: the headers, the status (0 means 200)
// and the body as given.
func WriteReply(w http.ResponseWriter, status int, header http.Header, body string) {
	for k, vs := range header {
		w.Header()[k] = vs
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	w.Write([]byte(body))
}

func writeResponse(w http.ResponseWriter, r Response) {
	WriteReply(w, r.Status, r.Header, r.Body)
}

// Server serves a ChatHandler at /v1/chat/completions, an
// EmbeddingsHandler at /v1/embeddings and the model list at /v1/models
// from an httptest server.
type Server struct {
	Chat       *ChatHandler
	Embeddings *EmbeddingsHandler
	// Models are listed at /v1/models; nil answers 404, as servers
	// without the endpoint do. Set it before the first request.
	Models []string
	srv    *httptest.Server
}

// New starts a Server. Call Close when done.
func New() *Server {
	s := &Server{Chat: NewChatHandler(), Embeddings: NewEmbeddingsHandler()}
	mux := http.NewServeMux()
	mux.Handle("/v1/chat/completions", s.Chat)
	mux.Handle("/v1/embeddings", s.Embeddings)
	mux.HandleFunc("GET /v1/models", s.models)
	s.srv = httptest.NewServer(mux)
	return s
}

// models answers GET /v1/models in OpenAI's format.
func (s *Server) models(w http.ResponseWriter, _ *http.Request) {
	if s.Models == nil {
		WriteReply(w, http.StatusNotFound, nil, `{"error":{"message":"not found","type":"invalid_request_error"}}`)
		return
	}
	type model struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		OwnedBy string `json:"owned_by"`
	}
	list := struct {
		Object string  `json:"object"`
		Data   []model `json:"data"`
	}{Object: "list", Data: []model{}}
	for _, id := range s.Models {
		list.Data = append(list.Data, model{ID: id, Object: "model", OwnedBy: "openaifake"})
	}
	body, _ := json.Marshal(list)
	WriteReply(w, http.StatusOK, nil, string(body))
}

// URL returns the API base URL, ending in /v1, for go-openai's
// ClientConfig.BaseURL.
func (s *Server) URL() string { return s.srv.URL + "/v1" }

// Close releases hanging requests and shuts the server down.
func (s *Server) Close() {
	s.Chat.Release()
	s.Embeddings.Release()
	s.srv.Close()
}
