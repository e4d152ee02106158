package openaifake_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/sashabaranov/go-openai"

	"github.com/verbatim-bot/verbatim/retrieval/openaifake"
)

func client(s *openaifake.Server, key string) *openai.Client {
	cfg := openai.DefaultConfig(key)
	cfg.BaseURL = s.URL()
	return openai.NewClientWithConfig(cfg)
}

func TestEmbeddingsSuccessWithGoOpenAI(t *testing.T) {
	s := openaifake.New()
	defer s.Close()
	tests := []struct {
		name   string
		format openai.EmbeddingEncodingFormat
		dims   int
		want   int
	}{
		{"float default dims", openai.EmbeddingEncodingFormatFloat, 0, openaifake.DefaultDims},
		{"float requested dims", "", 8, 8},
		{"base64", openai.EmbeddingEncodingFormatBase64, 5, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			input := []string{"alpha", "beta", "alpha"}
			res, err := client(s, "sk-test").CreateEmbeddings(context.Background(), openai.EmbeddingRequestStrings{
				Model: "m", Input: input, EncodingFormat: tt.format, Dimensions: tt.dims,
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Object != "list" || string(res.Model) != "m" || len(res.Data) != 3 || res.Usage.TotalTokens != 3 {
				t.Fatalf("response = %+v", res)
			}
			for i, d := range res.Data {
				if d.Index != i || d.Object != "embedding" {
					t.Errorf("data[%d] = index %d object %q", i, d.Index, d.Object)
				}
				if want := openaifake.Vector(input[i], tt.want); !slices.Equal(d.Embedding, want) {
					t.Errorf("data[%d] = %v, want %v", i, d.Embedding, want)
				}
			}
			if !slices.Equal(res.Data[0].Embedding, res.Data[2].Embedding) || slices.Equal(res.Data[0].Embedding, res.Data[1].Embedding) {
				t.Error("equal texts must get equal vectors and different texts different ones")
			}
		})
	}
	reqs := s.Embeddings.Requests()
	if len(reqs) != 3 || reqs[0].Authorization != "Bearer sk-test" || reqs[1].Dimensions != 8 || reqs[2].EncodingFormat != "base64" {
		t.Fatalf("requests = %+v", reqs)
	}
}

func TestEmbeddingsStringInputAndNoKey(t *testing.T) {
	s := openaifake.New()
	defer s.Close()
	res, err := http.Post(s.URL()+"/embeddings", "application/json", strings.NewReader(`{"model":"m","input":"one text"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		Data []struct {
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		} `json:"data"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil || res.StatusCode != 200 || len(body.Data) != 1 {
		t.Fatalf("status %d, body %+v, err %v", res.StatusCode, body, err)
	}
	reqs := s.Embeddings.Requests()
	if len(reqs) != 1 || !slices.Equal(reqs[0].Input, []string{"one text"}) || reqs[0].Authorization != "" {
		t.Fatalf("requests = %+v", reqs)
	}
}

func TestEmbeddingsInvalidRequests(t *testing.T) {
	s := openaifake.New()
	defer s.Close()
	for _, body := range []string{`{"model":"m","input":[]}`, `{"model":"m","input":["a",""]}`, `{"input":"a"}`, `{"model":"m","input":[[1,2]]}`, `not json`} {
		res, err := http.Post(s.URL()+"/embeddings", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 400 || !strings.Contains(string(b), `"error"`) {
			t.Errorf("%s: status %d body %s", body, res.StatusCode, b)
		}
	}
}

func TestEmbeddingsScriptedFailures(t *testing.T) {
	s := openaifake.New()
	defer s.Close()
	s.Embeddings.Script(
		openaifake.RateLimited("7"),
		openaifake.Error(http.StatusInternalServerError, "boom"),
		openaifake.Response{Status: http.StatusServiceUnavailable, Body: "<html>down</html>"},
		openaifake.Response{Body: `{"object":"list","data":[`},
		openaifake.Response{Reverse: true},
	)
	c := client(s, "")
	req := openai.EmbeddingRequestStrings{Model: "m", Input: []string{"a", "b", "c"}}

	res, err := c.CreateEmbeddings(context.Background(), req)
	var apiErr *openai.APIError
	if !errors.As(err, &apiErr) || apiErr.HTTPStatusCode != 429 || apiErr.Code != "rate_limit_exceeded" {
		t.Fatalf("429: err = %v", err)
	}
	if got := res.Header().Get("Retry-After"); got != "7" {
		t.Errorf("Retry-After = %q", got)
	}

	_, err = c.CreateEmbeddings(context.Background(), req)
	if !errors.As(err, &apiErr) || apiErr.HTTPStatusCode != 500 || apiErr.Message != "boom" {
		t.Fatalf("500: err = %v", err)
	}

	_, err = c.CreateEmbeddings(context.Background(), req)
	var reqErr *openai.RequestError
	if !errors.As(err, &reqErr) || reqErr.HTTPStatusCode != 503 {
		t.Fatalf("503: err = %v", err)
	}

	if _, err = c.CreateEmbeddings(context.Background(), req); err == nil {
		t.Fatal("malformed body: no error")
	}

	res, err = c.CreateEmbeddings(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if got := []int{res.Data[0].Index, res.Data[1].Index, res.Data[2].Index}; !slices.Equal(got, []int{2, 1, 0}) {
		t.Errorf("reversed indexes = %v", got)
	}

	if _, err = c.CreateEmbeddings(context.Background(), req); err != nil {
		t.Fatalf("after the script: %v", err)
	}
	if n := len(s.Embeddings.Requests()); n != 6 {
		t.Errorf("requests = %d, want 6", n)
	}
}

func TestEmbeddingsHangUntilClientGivesUp(t *testing.T) {
	s := openaifake.New()
	defer s.Close()
	s.Embeddings.Script(openaifake.Response{Hang: true})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := client(s, "").CreateEmbeddings(ctx, openai.EmbeddingRequestStrings{Model: "m", Input: []string{"a"}})
		done <- err
	}()
	if err := s.Embeddings.WaitRequests(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestEmbeddingsCloseReleasesHang(t *testing.T) {
	s := openaifake.New()
	s.Embeddings.Script(openaifake.Response{Hang: true})
	done := make(chan error)
	go func() {
		_, err := client(s, "").CreateEmbeddings(context.Background(), openai.EmbeddingRequestStrings{Model: "m", Input: []string{"a"}})
		done <- err
	}()
	if err := s.Embeddings.WaitRequests(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := <-done; err == nil {
		t.Fatal("a hanging request released by Close must fail")
	}
}
