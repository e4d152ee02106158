package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeArticles writes n .txt articles of paras paragraphs each into a
// new folder and returns it.
func writeArticles(t *testing.T, n, paras int) string {
	t.Helper()
	dir := t.TempDir()
	for i := range n {
		var b strings.Builder
		fmt.Fprintf(&b, "Article %c\n", 'a'+i)
		for j := range paras {
			fmt.Fprintf(&b, "\nParagraph %d of article %c says something long enough.\n", j+1, 'a'+i)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%c.txt", 'a'+i)), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestIndexPrintsWhatLimitsLeftOut checks that `verbatim index` over a
// corpus past MAX_PARAGRAPHS indexes what fits and lists what it left out.
func TestIndexPrintsWhatLimitsLeftOut(t *testing.T) {
	articles := writeArticles(t, 3, 4)
	offline(t)
	t.Setenv("MAX_PARAGRAPHS", "9")
	t.Setenv("ARTICLES_DIR", articles)
	t.Setenv("DATA_DIR", t.TempDir())
	var out, errb strings.Builder
	if code := run(context.Background(), []string{"index"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{
		"2 articles, 8 paragraphs",
		"1 sources left out over the corpus limits",
		"the corpus is over its limits (MAX_PARAGRAPHS=9,",
		"left out c.txt: 4 paragraphs would take the corpus over its limit of 9 paragraphs",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if code := run(context.Background(), []string{"articles"}, &out, &errb); code != 0 {
		t.Fatalf("articles: exit %d: %s", code, errb.String())
	}
	if want := "1 sources left out over the corpus limits (MAX_PARAGRAPHS=9,"; !strings.Contains(out.String(), want) {
		t.Errorf("articles output lacks %q:\n%s", want, out.String())
	}
}

// TestReloadOverLimitsKeepsIndex checks the two reloads over a limit: a
// corpus grown past it serves what it served, the new article reported
// left out (reloads keep working); a corpus that would serve less (the
// limit lowered) fails with a report naming the limit and keeps the
// index in service.
func TestReloadOverLimitsKeepsIndex(t *testing.T) {
	articles := writeArticles(t, 2, 4)
	offline(t)
	t.Setenv("ARTICLES_DIR", articles)
	t.Setenv("DATA_DIR", t.TempDir())
	cfg, err := loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	a := &app{cfg: cfg, name: "serve", stdout: io.Discard, stderr: io.Discard, log: slog.New(slog.DiscardHandler)}
	ix, _, err := a.openIndex(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	if ix.Len() != 8 {
		t.Fatalf("%d paragraphs served, want 8", ix.Len())
	}
	more := writeArticles(t, 3, 4)
	if err := os.Rename(filepath.Join(more, "c.txt"), filepath.Join(articles, "c.txt")); err != nil {
		t.Fatal(err)
	}
	a.cfg.MaxParagraphs = 10
	st, err := a.reload(context.Background(), ix, false)
	if err != nil || len(st.LeftOut) != 1 || st.LeftOut[0].Source != "c.txt" || ix.Len() != 8 {
		t.Errorf("grown past the limit: err %v, left out %v, %d served; want c.txt left out and 8 served", err, st.LeftOut, ix.Len())
	}
	a.cfg.MaxParagraphs = 6
	_, err = a.reload(context.Background(), ix, false)
	if err == nil || !strings.Contains(err.Error(), "over the corpus limits (MAX_PARAGRAPHS=6") || !strings.Contains(err.Error(), "keeping the 8 paragraphs served") {
		t.Errorf("reload err = %v, want the limit named and the 8 paragraphs kept", err)
	}
	if ix.Len() != 8 {
		t.Errorf("%d paragraphs served after the failed reload, want the previous 8", ix.Len())
	}
}

// TestWatchSignalStopsCommands checks that after a signal every command
// but serve is ended with exit status 1, and that the signal handling is
// handed back either way.
func TestWatchSignalStopsCommands(t *testing.T) {
	for _, tt := range []struct {
		args []string
		exit int // -1: not called
	}{
		{[]string{"index"}, 1},
		{[]string{"ask", "x"}, 1},
		{[]string{"serve"}, -1},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		stopped, code := false, -1
		var errb strings.Builder
		watchSignal(ctx, func() { stopped = true }, tt.args, 0, &errb, func(c int) { code = c })
		if !stopped || code != tt.exit {
			t.Errorf("%v: handling restored %v, exit %d; want true, %d", tt.args, stopped, code, tt.exit)
		}
		if tt.exit == 1 && !strings.Contains(errb.String(), "stopped by a signal") {
			t.Errorf("%v: stderr %q", tt.args, errb.String())
		}
	}
}

// TestEvalRefusesCutCorpus checks that an evaluation whose articles are
// over a corpus limit fails, naming it, instead of measuring part of them.
func TestEvalRefusesCutCorpus(t *testing.T) {
	dir := t.TempDir()
	articles, questions := filepath.Join(dir, "articles.jsonl"), filepath.Join(dir, "questions.jsonl")
	var b strings.Builder
	for i := range 3 {
		fmt.Fprintf(&b, `{"id":"a%d","title":"A%d","paragraphs":["The first paragraph of article %d is long enough.","The second paragraph of article %d is long enough."]}`+"\n", i, i, i, i)
	}
	if err := os.WriteFile(articles, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(questions, []byte(`{"id":"q1","question":"What is the first paragraph of article 0?","article_id":"a0","paragraph_index":0,"answers":[{"text":"first paragraph","answer_start":4}]}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MAX_PARAGRAPHS", "5")
	code, _, stderr := cli(t, t.TempDir(), "eval", "retrieval", "--articles", articles, "--questions", questions)
	if code != 1 || !strings.Contains(stderr, "is over the corpus limits (MAX_PARAGRAPHS=5,") || !strings.Contains(stderr, "articles.jsonl:3") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
}

// TestEvalRefusesFilesOverLimitsTogether: files each within the corpus
// limits but over them together are refused too, as one index holds them.
func TestEvalRefusesFilesOverLimitsTogether(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for f := range 2 {
		var b strings.Builder
		for i := range 2 {
			fmt.Fprintf(&b, `{"id":"f%da%d","title":"F%d A%d","paragraphs":["The first paragraph of article %d in file %d is long enough.","The second paragraph of article %d in file %d is long enough."]}`+"\n", f, i, f, i, i, f, i, f)
		}
		p := filepath.Join(dir, fmt.Sprintf("articles-%d.jsonl", f))
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	questions := filepath.Join(dir, "questions.jsonl")
	if err := os.WriteFile(questions, []byte(`{"id":"q1","question":"What is the first paragraph of article 0?","article_id":"f0a0","paragraph_index":0,"answers":[{"text":"first paragraph","answer_start":4}]}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MAX_PARAGRAPHS", "5") // 4 paragraphs a file, 8 together
	code, _, stderr := cli(t, t.TempDir(), "eval", "retrieval", "--articles", paths[0], "--articles", paths[1], "--questions", questions)
	if code != 1 || !strings.Contains(stderr, "over the corpus limits (MAX_PARAGRAPHS=5,") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
}
