package openaifake

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
)

// DefaultDims is the vector dimension used when neither the request nor the
// scripted Response sets one.
const DefaultDims = 32

// EmbeddingsRequest is what the fake received in one embeddings request.
type EmbeddingsRequest struct {
	Model          string
	Input          []string // a string input is recorded as one element
	EncodingFormat string
	Dimensions     int
	Authorization  string // the Authorization header; "" when absent
}

// EmbeddingsHandler serves POST /v1/embeddings. It is safe for concurrent
// use.
type EmbeddingsHandler struct {
	recorder[EmbeddingsRequest]
}

// NewEmbeddingsHandler returns an EmbeddingsHandler with an empty script:
// every request succeeds.
func NewEmbeddingsHandler() *EmbeddingsHandler {
	return &EmbeddingsHandler{recorder: newRecorder[EmbeddingsRequest]()}
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

type wireEmbeddingsRequest struct {
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
func (h *EmbeddingsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeResponse(w, Error(http.StatusMethodNotAllowed, "method not allowed"))
		return
	}
	var req wireEmbeddingsRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeResponse(w, Error(http.StatusBadRequest, "invalid JSON body: "+err.Error()))
		return
	}
	input, ok := parseInput(req.Input)

	resp := h.record(EmbeddingsRequest{
		Model:          req.Model,
		Input:          input,
		EncodingFormat: req.EncodingFormat,
		Dimensions:     req.Dimensions,
		Authorization:  r.Header.Get("Authorization"),
	}, func(EmbeddingsRequest) Response { return Response{} })

	switch {
	case resp.Hang:
		h.hang(r)
		panic(http.ErrAbortHandler) // drop the connection without a reply
	case resp.Body != "" || resp.Status >= 300:
		writeError(w, resp)
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
