package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/verbatim-bot/verbatim/retrieval/openaifake"
)

// bakuSource finds the number the prompt gives paragraph 6 of the shipped
// article ("Baku is the capital of Azerbaijan. …").
var bakuSource = regexp.MustCompile(`\[(\d+)\] [^\n]*— ¶6\b`)

// TestAskGeneratingAgainstFakeAPI drives the whole CLI in generating mode
// against one fake OpenAI-compatible server (embeddings and chat, the real
// wire format, the real go-openai client): the model's straight-quoted
// quote is shown in the article's own characters, its invented quote is
// dropped, and the API key never reaches the output or the logs.
func TestAskGeneratingAgainstFakeAPI(t *testing.T) {
	const key = "sk-test-secret-do-not-log"
	chat := openaifake.NewChatHandler()
	chat.Respond(func(r openaifake.ChatRequest) openaifake.Response {
		m := bakuSource.FindStringSubmatch(r.Messages[len(r.Messages)-1].Content)
		if m == nil {
			return openaifake.Error(http.StatusBadRequest, "test: paragraph 6 not in prompt")
		}
		reply, _ := json.Marshal(map[string]any{
			"answer": fmt.Sprintf("Baku is the capital [%s]. It has ten million people [%s].", m[1], m[1]),
			"quotes": []map[string]any{
				{"source": m[1], "text": "Located on the Caspian sea, the country is one of the world's major oil producers"},
				{"source": m[1], "text": "Baku has ten million inhabitants."},
			},
			"answerable": true,
		})
		return openaifake.Response{Content: string(reply)}
	})
	mux := http.NewServeMux()
	mux.Handle("/v1/chat/completions", chat)
	mux.Handle("/v1/embeddings", openaifake.NewEmbeddingsHandler())
	srv := httptest.NewServer(mux)
	defer srv.Close()

	offline(t)
	t.Setenv("ARTICLES_DIR", "")
	t.Setenv("DATA_DIR", t.TempDir())
	t.Setenv("OPENAI_API_KEY", key)
	t.Setenv("LLM_BASE_URL", srv.URL+"/v1")
	t.Setenv("LOG_LEVEL", "debug")
	// The fake's embeddings are random per text, so retrieval would rank
	// by noise; the API embedder's own behaviour is tested in retrieval.
	// Here the embeddings come from the API only in TestIndexWithAPIEmbeddings.
	t.Setenv("EMBEDDER", "local")
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"ask", "--json", "What is the capital of Azerbaijan?"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var got answerJSON
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	if got.Mode != "generated" || got.Refused {
		t.Fatalf("want a generated answer, got %+v", got)
	}
	if len(got.Sources) != 1 || len(got.Sources[0].Quotes) != 1 {
		t.Fatalf("want one source with one verified quote, got %+v", got.Sources)
	}
	want := "Located on the Caspian sea, the country is one of the world’s major oil producers"
	if q := got.Sources[0].Quotes[0].Text; q != want {
		t.Errorf("quote shown as %q, want the article's own characters %q", q, want)
	}
	if got.Check.Dropped != 1 {
		t.Errorf("invented quote not dropped: %+v", got.Check)
	}
	if strings.Contains(out.String()+errb.String(), key) {
		t.Error("the API key appears in the output or logs")
	}
}

// fakeEmbeddings serves the embeddings API from a fake named in urlVar
// (LLM_BASE_URL or EMBEDDING_BASE_URL), with EMBEDDING_MODEL set, the
// embedded articles and an empty DATA_DIR.
func fakeEmbeddings(t *testing.T, urlVar string) *openaifake.EmbeddingsHandler {
	t.Helper()
	emb := openaifake.NewEmbeddingsHandler()
	mux := http.NewServeMux()
	mux.Handle("/v1/embeddings", emb)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	offline(t)
	t.Setenv("ARTICLES_DIR", "")
	t.Setenv("DATA_DIR", t.TempDir())
	t.Setenv(urlVar, srv.URL+"/v1")
	t.Setenv("EMBEDDING_MODEL", "fake-embedder")
	return emb
}

// TestIndexWithAPIEmbeddings builds the index through the fake embeddings
// API (EMBEDDER=auto with LLM_BASE_URL set) and checks that a second run
// sends no request: every vector comes from the cache under DATA_DIR.
func TestIndexWithAPIEmbeddings(t *testing.T) {
	emb := fakeEmbeddings(t, "LLM_BASE_URL")
	for i, wantRequests := range []int{1, 1} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), []string{"index", "--json"}, &out, &errb); code != 0 {
			t.Fatalf("run %d: exit %d: %s", i, code, errb.String())
		}
		if n := len(emb.Requests()); n != wantRequests {
			t.Errorf("after run %d: %d embedding requests, want %d", i, n, wantRequests)
		}
	}
}

// TestAskWhenTheEmbeddingServerIsDown builds the index through the fake
// embeddings API, then makes the server fail every request: questions are
// still answered, from the keyword index, and the answer says so.
func TestAskWhenTheEmbeddingServerIsDown(t *testing.T) {
	emb := fakeEmbeddings(t, "EMBEDDING_BASE_URL")
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"index"}, &out, &errb); code != 0 {
		t.Fatalf("index: exit %d: %s", code, errb.String())
	}
	emb.Script(slices.Repeat([]openaifake.Response{openaifake.Error(400, "the server is gone")}, 10)...)
	out.Reset()
	errb.Reset()
	if code := run(context.Background(), []string{"ask", "What is the capital of Azerbaijan?"}, &out, &errb); code != 0 {
		t.Fatalf("ask: exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "Baku is the capital of Azerbaijan.") || !strings.Contains(out.String(), "keywords alone") {
		t.Errorf("ask with the embedding server down printed:\n%s", out.String())
	}
}
