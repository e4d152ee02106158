// Package openaifake is an in-process fake of the OpenAI embeddings API
// (POST /v1/embeddings) for tests. It speaks the real wire format, so tests
// can drive the real go-openai client against it; it returns deterministic
// vectors derived from each input text, records every request, and can be
// scripted to fail, hang or reorder its replies.
//
// A Handler can be mounted on any mux, so a test that needs several fake
// endpoints (e.g. chat completions from another fake package) can serve them
// all from one httptest server. New starts a Server that serves only the
// embeddings endpoint.
package openaifake

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
)

// DefaultDims is the vector dimension used when neither the request nor the
// scripted Response sets one.
const DefaultDims = 32

// Response scripts the reply to one request. The zero Response is a normal
// successful reply.
type Response struct {
	// Status is the HTTP status code; 0 means 200.
	Status int
	// Body, when not empty, is sent verbatim instead of a generated body
	// (e.g. malformed JSON or an HTML error page).
	Body string
	// Header holds extra response headers, e.g. Retry-After.
	Header http.Header
	// Hang blocks the reply until the client gives up (its request context
	// is done) or the handler is released; then the connection is dropped
	// without a reply.
	Hang bool
	// Reverse returns the embeddings of a successful reply in reverse
	// order of their index, as a server is allowed to.
	Reverse bool
	// Dims overrides the vector dimension of a successful reply.
	Dims int
}

// Error returns a Response with the given status and an OpenAI error body
// (see ErrorBody).
func Error(status int, message string) Response {
	return Response{Status: status, Body: ErrorBody(status, message)}
}

// ErrorBody returns the OpenAI error body {"error":{"message","type",
// "param","code"}} with a type and code that suit status, as the real API
// sends them. The chat-completions fake (bot/answer/llmfake) uses it too.
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

// Request is what the fake received in one request.
type Request struct {
	Model          string
	Input          []string // a string input is recorded as one element
	EncodingFormat string
	Dimensions     int
	Authorization  string // the Authorization header; "" when absent
}

// Handler serves POST /v1/embeddings. It is safe for concurrent use.
type Handler struct {
	mu       sync.Mutex
	script   []Response
	requests []Request
	arrived  chan struct{} // closed and replaced on each request
	closed   chan struct{}
	once     sync.Once
}

// NewHandler returns a Handler with an empty script: every request succeeds.
func NewHandler() *Handler {
	return &Handler{arrived: make(chan struct{}), closed: make(chan struct{})}
}

// Script queues replies for the next requests, one per request in arrival
// order; once the queue is empty, requests succeed normally.
func (h *Handler) Script(rs ...Response) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.script = append(h.script, rs...)
}

// Requests returns a copy of the requests received so far, including those
// answered with a scripted failure.
func (h *Handler) Requests() []Request {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.requests)
}

// WaitRequests blocks until at least n requests have been received (and
// recorded) or ctx is done, so a test can act while a request hangs.
func (h *Handler) WaitRequests(ctx context.Context, n int) error {
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
func (h *Handler) Release() {
	h.once.Do(func() { close(h.closed) })
}

// Vector returns the unnormalised vector the fake returns for text at the
// given dimension: derived from a hash of the text alone, so equal texts get
// equal vectors.
func Vector(text string, dims int) []float32 {
	f := fnv.New64a()
	f.Write([]byte(text))
	rng := rand.New(rand.NewPCG(f.Sum64(), 0x5eed))
	v := make([]float32, dims)
	for i := range v {
		v[i] = float32(rng.Float64()*2 - 1)
	}
	return v
}

type wireRequest struct {
	Model          string          `json:"model"`
	Input          json.RawMessage `json:"input"`
	EncodingFormat string          `json:"encoding_format"`
	Dimensions     int             `json:"dimensions"`
}

type wireEmbedding struct {
	Object    string `json:"object"`
	Index     int    `json:"index"`
	Embedding any    `json:"embedding"` // []float32, or a base64 string
}

type wireResponse struct {
	Object string          `json:"object"`
	Data   []wireEmbedding `json:"data"`
	Model  string          `json:"model"`
	Usage  wireUsage       `json:"usage"`
}

type wireUsage struct {
	PromptTokens int `json:"prompt_tokens"`
	TotalTokens  int `json:"total_tokens"`
}

// ServeHTTP answers one embeddings request: the next scripted Response if
// any, else a success. Invalid requests get a 400 OpenAI error, as from
// the real API.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeResponse(w, Error(http.StatusMethodNotAllowed, "method not allowed"))
		return
	}
	var req wireRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeResponse(w, Error(http.StatusBadRequest, "invalid JSON body: "+err.Error()))
		return
	}
	input, ok := parseInput(req.Input)

	h.mu.Lock()
	h.requests = append(h.requests, Request{
		Model:          req.Model,
		Input:          input,
		EncodingFormat: req.EncodingFormat,
		Dimensions:     req.Dimensions,
		Authorization:  r.Header.Get("Authorization"),
	})
	close(h.arrived)
	h.arrived = make(chan struct{})
	var resp Response
	if len(h.script) > 0 {
		resp = h.script[0]
		h.script = h.script[1:]
	}
	h.mu.Unlock()

	switch {
	case resp.Hang:
		select {
		case <-r.Context().Done():
		case <-h.closed:
		}
		panic(http.ErrAbortHandler) // drop the connection without a reply
	case resp.Body != "" || resp.Status >= 300:
		writeResponse(w, resp)
		return
	case req.Model == "":
		writeResponse(w, Error(http.StatusBadRequest, "you must provide a model parameter"))
		return
	case !ok:
		writeResponse(w, Error(http.StatusBadRequest, "'$.input' is invalid: expected a non-empty string or array of non-empty strings"))
		return
	case req.EncodingFormat != "" && req.EncodingFormat != "float" && req.EncodingFormat != "base64":
		writeResponse(w, Error(http.StatusBadRequest, "invalid encoding_format"))
		return
	}

	dims := DefaultDims
	if resp.Dims > 0 {
		dims = resp.Dims
	} else if req.Dimensions > 0 {
		dims = req.Dimensions
	}
	out := wireResponse{Object: "list", Model: req.Model, Data: make([]wireEmbedding, len(input))}
	for i, text := range input {
		out.Data[i] = wireEmbedding{Object: "embedding", Index: i, Embedding: encode(Vector(text, dims), req.EncodingFormat)}
		out.Usage.PromptTokens += len(strings.Fields(text))
	}
	out.Usage.TotalTokens = out.Usage.PromptTokens
	if resp.Reverse {
		slices.Reverse(out.Data)
	}
	body, err := json.Marshal(out)
	if err != nil {
		writeResponse(w, Error(http.StatusInternalServerError, err.Error()))
		return
	}
	resp.Body = string(body)
	writeResponse(w, resp)
}

// parseInput accepts a string or an array of strings, none of them empty,
// as the real API does (token arrays are not supported).
func parseInput(raw json.RawMessage) ([]string, bool) {
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		return []string{one}, one != ""
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil || len(many) == 0 {
		return nil, false
	}
	return many, !slices.Contains(many, "")
}

func encode(v []float32, format string) any {
	if format != "base64" {
		return v
	}
	b := make([]byte, 0, 4*len(v))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return base64.StdEncoding.EncodeToString(b)
}

func writeResponse(w http.ResponseWriter, r Response) {
	WriteReply(w, r.Status, r.Header, r.Body)
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

// Server is a Handler served at /v1/embeddings by an httptest server.
type Server struct {
	*Handler
	srv *httptest.Server
}

// New starts a Server. Call Close when done.
func New() *Server {
	h := NewHandler()
	mux := http.NewServeMux()
	mux.Handle("/v1/embeddings", h)
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
