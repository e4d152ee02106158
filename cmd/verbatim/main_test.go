package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verbatim-bot/verbatim/corpus"
)

// cli runs one command line with a clean, offline configuration and a
// private DATA_DIR, and returns its exit status and output.
func cli(t *testing.T, dataDir string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	offline(t)
	t.Setenv("ARTICLES_DIR", "")
	t.Setenv("DATA_DIR", dataDir)
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		code int
		want string // in stderr
	}{
		{"no command", nil, 2, "Usage: verbatim COMMAND"},
		{"unknown command", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"ask without question", []string{"ask"}, 2, "give a question"},
		{"ask blank question", []string{"ask", "   "}, 2, "give a question"},
		{"unknown flag", []string{"ask", "--nope", "x"}, 2, "flag provided but not defined"},
		{"quote without phrase", []string{"quote"}, 2, `give a phrase, e.g. verbatim quote`},
		{"phrase without words", []string{"quote", "..."}, 2, "empty query"},
		{"bad setting", []string{"ask", "x"}, 1, `LLM_TIMEOUT: unable to parse duration: time: invalid duration "abc"`},
		{"help", []string{"ask", "--help"}, 0, "Usage: verbatim ask"},
		{"serve without token", []string{"serve"}, 1, "DISCORD_TOKEN is not set"},
		{"eval without files", []string{"eval", "retrieval"}, 2, "--articles and --questions are required"},
		{"eval without mode", []string{"eval"}, 2, "retrieval|answers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "bad setting" {
				t.Setenv("LLM_TIMEOUT", "abc")
			}
			code, _, stderr := cli(t, dir, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, stderr)
			}
		})
	}
}

func TestAskOffline(t *testing.T) {
	dir := t.TempDir()
	code, out, stderr := cli(t, dir, "ask", "--json", "What is the capital of Azerbaijan?")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got answerJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if got.Refused || got.Mode != "extractive" || len(got.Sources) == 0 {
		t.Fatalf("want an extractive answer with sources, got %+v", got)
	}
	if j := got.Judge; j.Closeness == nil || j.Topicality == nil || *j.Topicality < j.MinTopicality {
		t.Errorf("the judgement lacks the encoder's measures, or its topicality is under its bar: %+v", j)
	}
	article := defaultArticle(t)
	found := false
	for _, s := range got.Sources {
		p := paragraph(t, article, s.ParagraphID)
		for _, q := range s.Quotes {
			if p.Text[q.Start:q.End] != q.Text {
				t.Errorf("quote %q is not paragraph %s[%d:%d]", q.Text, s.ParagraphID, q.Start, q.End)
			}
			found = found || strings.Contains(q.Text, "Baku is the capital of Azerbaijan.")
		}
	}
	if !found {
		t.Errorf("no quote shows the evidence; got %+v", got.Sources)
	}
}

func TestAskVerbose(t *testing.T) {
	code, out, stderr := cli(t, t.TempDir(), "ask", "--verbose", "Which countries does the oil pipeline pass through?")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"Georgia", "Sources:", "retrieved for", "azerbaijan-israel-ties#", "closeness", "topicality", "mode: extractive", "verification:"} {
		if !strings.Contains(out, want) {
			t.Errorf("verbose output lacks %q:\n%s", want, out)
		}
	}
}

func TestAskRefusesOffTopic(t *testing.T) {
	code, out, stderr := cli(t, t.TempDir(), "ask", "Who won the 2022 FIFA World Cup?")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if strings.Contains(out, "Sources:") {
		t.Errorf("a refusal lists sources:\n%s", out)
	}
	if !strings.Contains(strings.ToLower(out), "do not") && !strings.Contains(strings.ToLower(out), "don't") {
		t.Errorf("reply does not say the articles do not cover it:\n%s", out)
	}
}

func TestQuoteStraightFindsTypographic(t *testing.T) {
	code, out, stderr := cli(t, t.TempDir(), "quote", "--json", `Ze'ev Khanin`)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var hits []hitJSON
	if err := json.Unmarshal([]byte(out), &hits); err != nil {
		t.Fatal(err)
	}
	if len(hits) == 0 || !hits[0].Exact || hits[0].Text != "Ze’ev Khanin" {
		t.Fatalf("want an exact hit showing the article's Ze’ev Khanin, got %+v", hits)
	}
}

func TestIndexIsIncremental(t *testing.T) {
	dir := t.TempDir()
	articles := filepath.Join(t.TempDir(), "articles")
	if err := os.MkdirAll(articles, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(body string) {
		if err := os.WriteFile(filepath.Join(articles, "a.txt"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("Title of the test article\n\nThe first paragraph talks about rivers and lakes.\n\nThe second paragraph talks about mountains and valleys.\n")
	offline(t)
	t.Setenv("ARTICLES_DIR", articles)
	index := func() statsJSON {
		t.Helper()
		t.Setenv("DATA_DIR", dir)
		var out, errb bytes.Buffer
		if code := run(context.Background(), []string{"index", "--json"}, &out, &errb); code != 0 {
			t.Fatalf("index: exit %d: %s", code, errb.String())
		}
		var s statsJSON
		if err := json.Unmarshal(out.Bytes(), &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := index(); s.Embedded != 2 || s.Paragraphs != 2 {
		t.Fatalf("first index: %+v", s)
	}
	if s := index(); s.Embedded != 0 || s.Cached != 2 {
		t.Fatalf("unchanged corpus re-embedded: %+v", s)
	}
	write("Title of the test article\n\nThe first paragraph talks about rivers and lakes.\n\nThe second paragraph now talks about deserts and dunes.\n")
	if s := index(); s.Embedded != 1 || s.Changed != 1 {
		t.Fatalf("one edit: %+v", s)
	}
}

func TestMissingArticlesDirFails(t *testing.T) {
	offline(t)
	t.Setenv("ARTICLES_DIR", filepath.Join(t.TempDir(), "nope"))
	t.Setenv("DATA_DIR", t.TempDir())
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"search", "anything"}, &out, &errb); code != 1 {
		t.Fatalf("exit %d, want 1; stderr %s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "nope") {
		t.Errorf("error does not name the folder: %s", errb.String())
	}
}

// offline clears the settings that would reach a network service.
func offline(t *testing.T) {
	for _, k := range []string{"OPENAI_API_KEY", "LLM_BASE_URL", "LLM_MODEL", "EMBEDDER", "EMBEDDING_MODEL", "EMBEDDING_BASE_URL", "DISCORD_TOKEN", "LOG_LEVEL"} {
		t.Setenv(k, "")
	}
}

func defaultArticle(t *testing.T) corpus.Article {
	t.Helper()
	c, err := corpus.Load(context.Background(), corpus.Default(), corpus.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c.Articles[0]
}

func paragraph(t *testing.T, a corpus.Article, id string) corpus.Paragraph {
	t.Helper()
	for _, p := range a.Paragraphs {
		if p.ID == id {
			return p
		}
	}
	t.Fatalf("no paragraph %s", id)
	return corpus.Paragraph{}
}

func TestConfigGuides(t *testing.T) {
	tests := []struct {
		env     map[string]string
		wantErr string // "" for none
		api     bool   // API embeddings
	}{
		{map[string]string{"LLM_BASE_URL": "localhost:11434"}, "LLM_BASE_URL: the base URL must be an http:// or https:// URL", false},
		{map[string]string{"EMBEDDING_BASE_URL": "ftp://x/v1"}, "EMBEDDING_BASE_URL:", false},
		{map[string]string{"LLM_BASE_URL": "http://localhost:11434", "OPENAI_API_KEY": "placeholder"}, "", false},
		{map[string]string{"OPENAI_API_KEY": "sk-x"}, "", true},
		{map[string]string{"LLM_BASE_URL": "http://localhost:11434", "EMBEDDING_MODEL": "nomic-embed-text"}, "", true},
		{map[string]string{"SENTENCE_ENCODER": "bert"}, "SENTENCE_ENCODER must be minilm or off", false},
		{map[string]string{"SENTENCE_ENCODER": "off"}, "", false},
	}
	for _, tt := range tests {
		for _, k := range []string{"LLM_BASE_URL", "EMBEDDING_BASE_URL", "OPENAI_API_KEY", "EMBEDDING_MODEL", "SENTENCE_ENCODER"} {
			t.Setenv(k, tt.env[k])
		}
		c, err := loadConfig()
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%v: err %v, want %q", tt.env, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tt.env, err)
			continue
		}
		if c.useOpenAIEmbeddings() != tt.api {
			t.Errorf("%v: API embeddings %v, want %v", tt.env, c.useOpenAIEmbeddings(), tt.api)
		}
	}
}

func TestEnvFileErrorsHideValues(t *testing.T) {
	for _, tt := range []struct{ file, want string }{
		{"DISCORD_TOKEN T0KEN-SECRET\nOPENAI_API_KEY=KEY-SECRET\n", "line 1 is not NAME=value"},
		{"# settings\nA=\"unterminated SECRET\nOPENAI_API_KEY=KEY-SECRET\n", "line 2: the quoted value of A is not closed"},
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(tt.file), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Chdir(dir)
		_, err := loadConfig()
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%q: err = %v, want %q and no value", tt.file, err, tt.want)
		}
	}
}

// TestAskInChinese checks that a Chinese question about a Chinese article
// is answered offline with the sentence that answers it.
func TestAskInChinese(t *testing.T) {
	offline(t)
	dir := t.TempDir()
	article := "北京\n\n北京是中华人民共和国的首都，也是全国的政治和文化中心。它有三千多年的建城历史！\n\n故宫位于北京的中心，是明清两代的皇家宫殿\n"
	if err := os.WriteFile(filepath.Join(dir, "beijing.txt"), []byte(article), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ARTICLES_DIR", dir)
	t.Setenv("DATA_DIR", t.TempDir())
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"ask", "故宫在哪里？"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "故宫位于北京的中心") {
		t.Errorf("want the sentence on where the Forbidden City is, got:\n%s", out.String())
	}
}
