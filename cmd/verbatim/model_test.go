package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/verbatim-bot/verbatim/retrieval/openaifake"
)

func TestPickModel(t *testing.T) {
	tests := []struct {
		want    string
		served  []string
		got     string
		errWith []string // substrings of the error; nil means no error
	}{
		{want: "", served: nil, got: ""},
		{want: "llama3.2", served: nil, got: "llama3.2"},
		{want: "", served: []string{"gemma-3-270m"}, got: "gemma-3-270m"},
		{want: "gemma-3-270m", served: []string{"gemma-3-270m"}, got: "gemma-3-270m"},
		{want: "llama3.2", served: []string{"qwen2.5:latest", "llama3.2:latest"}, got: "llama3.2:latest"},
		{want: "", served: []string{"a", "b"}, errWith: []string{"LLM_MODEL is not set", "2 models", "a, b"}},
		{want: "gpt-4o-mini", served: []string{"llama3.2:latest"}, errWith: []string{`"gpt-4o-mini" is not served`, "llama3.2:latest"}},
	}
	for _, tt := range tests {
		got, err := pickModel(tt.want, tt.served)
		if tt.errWith == nil {
			if err != nil || got != tt.got {
				t.Errorf("pickModel(%q, %q) = %q, %v; want %q", tt.want, tt.served, got, err, tt.got)
			}
			continue
		}
		if err == nil {
			t.Errorf("pickModel(%q, %q) = %q; want an error", tt.want, tt.served, got)
			continue
		}
		for _, s := range tt.errWith {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("pickModel(%q, %q) error %q does not say %q", tt.want, tt.served, err, s)
			}
		}
	}
}

// TestAskChecksTheModel runs ask against a local server that lists its
// models: an unset LLM_MODEL takes the only one served (and that is the
// model asked), a model it does not serve stops ask with the list.
func TestAskChecksTheModel(t *testing.T) {
	srv := openaifake.New()
	defer srv.Close()
	srv.Models = []string{"tiny-instruct"}
	var asked []string
	srv.Chat.Respond(func(r openaifake.ChatRequest) openaifake.Response {
		asked = append(asked, r.Model)
		reply, _ := json.Marshal(map[string]any{"answer": "I cannot tell.", "quotes": []any{}, "answerable": false})
		return openaifake.Response{Content: string(reply)}
	})
	localLLM(t, srv)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"ask", "What is the capital of Azerbaijan?"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if len(asked) != 1 || asked[0] != "tiny-instruct" {
		t.Errorf("models asked %q, want [tiny-instruct]", asked)
	}

	t.Setenv("LLM_MODEL", "gpt-4o-mini")
	out.Reset()
	errb.Reset()
	if code := run(context.Background(), []string{"ask", "What is the capital of Azerbaijan?"}, &out, &errb); code == 0 {
		t.Fatalf("ask with a model the server does not serve succeeded: %s", out.String())
	}
	if msg := errb.String(); !strings.Contains(msg, `"gpt-4o-mini" is not served`) || !strings.Contains(msg, "tiny-instruct") {
		t.Errorf("error does not name the model and what is served: %s", msg)
	}
}

// TestAskSaysWhyItFellBack checks that plain ask output, not only
// --verbose, says when the answer is quotes only because the model failed.
func TestAskSaysWhyItFellBack(t *testing.T) {
	srv := openaifake.New()
	defer srv.Close()
	srv.Chat.Respond(func(openaifake.ChatRequest) openaifake.Response {
		return openaifake.Error(404, `model "gpt-4o-mini" not found, try pulling it first`)
	})
	localLLM(t, srv)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"ask", "What is the capital of Azerbaijan?"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "(Showing quotes from the best-matching passages: the language model server has no model \"gpt-4o-mini\"") {
		t.Errorf("no note in:\n%s", out.String())
	}
	if !strings.Contains(errb.String(), "LLM_MODEL is not set") {
		t.Errorf("no warning about the default model name sent to a local server:\n%s", errb.String())
	}
}

// localLLM sets the environment for the shipped article, a fresh DATA_DIR
// and srv as the LLM server, with the offline embedder.
func localLLM(t *testing.T, srv *openaifake.Server) {
	t.Helper()
	offline(t)
	t.Setenv("ARTICLES_DIR", "")
	t.Setenv("DATA_DIR", t.TempDir())
	t.Setenv("LLM_BASE_URL", srv.URL())
}

// TestModelCheckLogsNoPassword gives LLM_BASE_URL a user name and password
// and a server that cannot list its models: the warning names the server
// without the password.
func TestModelCheckLogsNoPassword(t *testing.T) {
	srv := openaifake.New()
	defer srv.Close()
	srv.Chat.Respond(func(openaifake.ChatRequest) openaifake.Response {
		return openaifake.Error(404, `model "gpt-4o-mini" not found, try pulling it first`)
	})
	localLLM(t, srv)
	const secret = "s3cret-pass"
	t.Setenv("LLM_BASE_URL", strings.Replace(srv.URL(), "://", "://bob:"+secret+"@", 1))
	var out, errb bytes.Buffer
	run(context.Background(), []string{"ask", "What is the capital of Azerbaijan?"}, &out, &errb)
	if !strings.Contains(errb.String(), "LLM_MODEL is not set") {
		t.Fatalf("no warning about the model check:\n%s", errb.String())
	}
	if strings.Contains(out.String()+errb.String(), secret) {
		t.Errorf("the password of LLM_BASE_URL is in the output:\n%s", errb.String())
	}
}
