package openaifake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"unicode/utf8"
)

// ChatMessage is one chat message of a recorded request.
type ChatMessage struct {
	Role    string
	Content string
}

// ChatRequest is what the fake received in one chat-completions request.
type ChatRequest struct {
	Model    string
	Messages []ChatMessage
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

// ChatHandler serves POST /v1/chat/completions. It is safe for concurrent
// use.
type ChatHandler struct {
	recorder[ChatRequest]
	mu        sync.Mutex
	responder func(ChatRequest) Response
}

// NewChatHandler returns a ChatHandler with an empty script: until Script
// or Respond is called, every request gets a 500 error saying so.
func NewChatHandler() *ChatHandler {
	return &ChatHandler{recorder: newRecorder[ChatRequest]()}
}

// Respond sets a function that chooses the reply to each request arriving
// when the script queue is empty.
func (h *ChatHandler) Respond(f func(ChatRequest) Response) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.responder = f
}

func (h *ChatHandler) respond(req ChatRequest) Response {
	h.mu.Lock()
	f := h.responder
	h.mu.Unlock()
	if f == nil {
		return Error(http.StatusInternalServerError, "openaifake: no chat response scripted")
	}
	return f(req)
}

type wireMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type wireChatRequest struct {
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
func (h *ChatHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req, ok := readChatRequest(w, r)
	if !ok {
		return
	}
	resp := h.record(req, h.respond)
	switch {
	case resp.Hang && !req.Stream:
		h.hang(r)
		return
	case resp.Body != "" || resp.Status >= 300:
		writeError(w, resp)
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

// readChatRequest decodes a request, answering an invalid one itself.
func readChatRequest(w http.ResponseWriter, r *http.Request) (ChatRequest, bool) {
	if r.Method != http.MethodPost {
		writeResponse(w, Error(http.StatusMethodNotAllowed, "method not allowed"))
		return ChatRequest{}, false
	}
	var wr wireChatRequest
	if err := json.NewDecoder(r.Body).Decode(&wr); err != nil {
		writeResponse(w, Error(http.StatusBadRequest, "invalid JSON body: "+err.Error()))
		return ChatRequest{}, false
	}
	req := ChatRequest{
		Model:         wr.Model,
		Temperature:   wr.Temperature,
		MaxTokens:     wr.MaxTokens,
		Stream:        wr.Stream,
		Authorization: r.Header.Get("Authorization"),
	}
	for _, m := range wr.Messages {
		req.Messages = append(req.Messages, ChatMessage(m))
	}
	if wr.ResponseFormat != nil {
		req.ResponseFormat = wr.ResponseFormat.Type
	}
	return req, true
}

// stream writes resp as server-sent events: a role chunk, the content
// chunks, a final chunk with finish_reason "stop", then [DONE].
func (h *ChatHandler) stream(w http.ResponseWriter, r *http.Request, req ChatRequest, resp Response) {
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
		panic(http.ErrAbortHandler) // drop the connection mid-stream
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
