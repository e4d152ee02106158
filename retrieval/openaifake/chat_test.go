package openaifake_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	openai "github.com/sashabaranov/go-openai"

	"github.com/verbatim-bot/verbatim/retrieval/openaifake"
)

func request() openai.ChatCompletionRequest {
	return openai.ChatCompletionRequest{
		Model:       "fake-model",
		Temperature: 0.2,
		//lint:ignore SA1019 the answerer sends max_tokens; the fake records it
		MaxTokens: 100,
		Messages: []openai.ChatCompletionMessage{
			{Role: openai.ChatMessageRoleSystem, Content: "be brief"},
			{Role: openai.ChatMessageRoleUser, Content: "hello"},
		},
		ResponseFormat: &openai.ChatCompletionResponseFormat{Type: openai.ChatCompletionResponseFormatTypeJSONObject},
	}
}

func TestChatPlainReplyAndRecording(t *testing.T) {
	s := openaifake.New()
	defer s.Close()
	s.Chat.Script(openaifake.Response{Content: `{"answer":"hi “there”"}`})

	resp, err := client(s, "sk-test").CreateChatCompletion(context.Background(), request())
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Choices[0].Message.Content; got != `{"answer":"hi “there”"}` {
		t.Errorf("content = %q", got)
	}
	reqs := s.Chat.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests recorded, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Model != "fake-model" || r.MaxTokens != 100 || r.Stream || r.ResponseFormat != "json_object" ||
		r.Authorization != "Bearer sk-test" || r.Temperature == nil || *r.Temperature < 0.19 || *r.Temperature > 0.21 {
		t.Errorf("recorded %+v", r)
	}
	if len(r.Messages) != 2 || r.Messages[0] != (openaifake.ChatMessage{Role: "system", Content: "be brief"}) {
		t.Errorf("messages = %+v", r.Messages)
	}
}

func TestChatStreaming(t *testing.T) {
	s := openaifake.New()
	defer s.Close()
	const content = "Azerbaijan’s capital is Baku [1], on the Caspian."
	s.Chat.Script(openaifake.Response{Content: content}, openaifake.Response{Chunks: []string{"a", "b", "c"}})

	for _, want := range []struct {
		text   string
		pieces int
	}{{content, 5}, {"abc", 3}} {
		stream, err := client(s, "sk-test").CreateChatCompletionStream(context.Background(), request())
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		pieces := 0
		for {
			chunk, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if c := chunk.Choices[0].Delta.Content; c != "" {
				pieces++
				b.WriteString(c)
			}
		}
		stream.Close()
		if b.String() != want.text || pieces < want.pieces {
			t.Errorf("streamed %q in %d pieces, want %q in at least %d", b.String(), pieces, want.text, want.pieces)
		}
	}
	if reqs := s.Chat.Requests(); !reqs[0].Stream {
		t.Error("stream flag not recorded")
	}
}

func TestChatFailures(t *testing.T) {
	tests := []struct {
		name   string
		resp   openaifake.Response
		status int
		check  func(t *testing.T, err error)
	}{
		{"rate limited", openaifake.RateLimited("3"), 429, nil},
		{"server error", openaifake.Response{Status: 500}, 500, nil},
		{"html error", openaifake.Response{Status: 502, Body: "<html>bad gateway</html>"}, 502, func(t *testing.T, err error) {
			var re *openai.RequestError
			if !errors.As(err, &re) {
				t.Errorf("err = %T, want *openai.RequestError", err)
			}
		}},
		{"malformed", openaifake.Response{Body: `{"choices": [`}, 0, nil},
		{"unscripted", openaifake.Response{}, 500, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openaifake.New()
			defer s.Close()
			if tt.name != "unscripted" {
				s.Chat.Script(tt.resp)
			}
			_, err := client(s, "sk-test").CreateChatCompletion(context.Background(), request())
			if err == nil {
				t.Fatal("no error")
			}
			status := 0
			var re *openai.RequestError
			var ae *openai.APIError
			switch {
			case errors.As(err, &re):
				status = re.HTTPStatusCode
			case errors.As(err, &ae):
				status = ae.HTTPStatusCode
			}
			if status != tt.status {
				t.Errorf("status = %d, want %d (err %v)", status, tt.status, err)
			}
			if tt.check != nil {
				tt.check(t, err)
			}
		})
	}
}

func TestChatRetryAfterHeader(t *testing.T) {
	s := openaifake.New()
	defer s.Close()
	s.Chat.Script(openaifake.RateLimited("7"))
	resp, err := http.Post(s.URL()+"/chat/completions", "application/json", strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"x"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "7" {
		t.Errorf("status %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

func TestChatHangUntilClientGivesUp(t *testing.T) {
	s := openaifake.New()
	defer s.Close()
	reached := make(chan struct{})
	s.Chat.Script(openaifake.Response{Hang: true, Reached: reached})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-reached
		cancel()
	}()
	_, err := client(s, "sk-test").CreateChatCompletion(ctx, request())
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestChatStreamHangsAfterText(t *testing.T) {
	s := openaifake.New()
	defer s.Close()
	s.Chat.Script(openaifake.Response{Chunks: []string{"partial"}, Hang: true})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := client(s, "sk-test").CreateChatCompletionStream(ctx, request())
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	var got string
	for got == "" {
		chunk, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		got = chunk.Choices[0].Delta.Content
	}
	if got != "partial" {
		t.Fatalf("got %q", got)
	}
	cancel()
	if _, err := stream.Recv(); err == nil {
		t.Error("Recv after cancel succeeded")
	}
}
