package bot_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/verbatim-bot/verbatim/bot"
	"github.com/verbatim-bot/verbatim/corpus"
	"github.com/verbatim-bot/verbatim/corpus/evaldata"
	"github.com/verbatim-bot/verbatim/retrieval"
	"github.com/verbatim-bot/verbatim/retrieval/openaifake"
	"github.com/verbatim-bot/verbatim/retrieval/retrievaltest"
)

// shippedOnce builds an index over the shipped article once for all
// tests.
type shippedOnce struct {
	once sync.Once
	ix   *retrieval.Index
}

func (s *shippedOnce) get(t *testing.T, build func(testing.TB) *retrieval.Index) *retrieval.Index {
	t.Helper()
	s.once.Do(func() { s.ix = build(t) })
	if s.ix == nil {
		t.Fatal("the shipped index could not be built (see the first test that tried)")
	}
	return s.ix
}

var shipped, shippedWords shippedOnce

// shippedIndex is the real index over the shipped article, as the CLI
// builds it: offline embedder and sentence encoder.
func shippedIndex(t *testing.T) *retrieval.Index { return shipped.get(t, retrievaltest.Shipped) }

// wordIndex is the same without the sentence encoder (SENTENCE_ENCODER=off).
func wordIndex(t *testing.T) *retrieval.Index {
	return shippedWords.get(t, func(tb testing.TB) *retrieval.Index { return retrievaltest.ShippedWith(tb, nil) })
}

// foldedContains reports whether a contains b when both are folded as
// quotes are matched.
func foldedContains(a, b string) bool {
	fa, fb := corpus.FoldString(a), corpus.FoldString(b)
	return fb != "" && strings.Contains(fa, fb)
}

func shownQuotes(a *bot.Answer) []string {
	var qs []string
	for _, s := range a.Sources {
		for _, q := range s.Quotes {
			qs = append(qs, q.Text)
		}
	}
	return qs
}

func TestExtractiveShippedArticle(t *testing.T) {
	a := bot.New(shippedIndex(t), bot.Config{Meaning: retrievaltest.Meaning(t)})
	ans, err := a.Answer(context.Background(), "What is the capital of Azerbaijan?", bot.Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkShown(t, ans)
	if ans.Mode != bot.Extractive || ans.Refused || len(ans.Sources) == 0 {
		t.Fatalf("%+v", ans)
	}
	first := ans.Sources[0]
	if first.ArticleID != "azerbaijan-israel-ties" || first.Title != "Azerbaijan, The Shiite Muslim Nation with Close Ties to Israel" ||
		first.Quotes[0].Text != "Baku is the capital of Azerbaijan." {
		t.Errorf("first source %+v", first)
	}
	if !strings.HasPrefix(ans.Text(), "“Baku is the capital of Azerbaijan.” [1]") || ans.Body[0].Kind != bot.Excerpt {
		t.Errorf("text %q", ans.Text())
	}
}

func TestFollowUp(t *testing.T) {
	a := bot.New(shippedIndex(t), bot.Config{Meaning: retrievaltest.Meaning(t)})
	history := []bot.Turn{{Question: "What does Khanin say about Washington?", Answer: "…"}}
	ans, err := a.Answer(context.Background(), "And who is he?", bot.Options{History: history})
	if err != nil {
		t.Fatal(err)
	}
	checkShown(t, ans)
	if ans.Refused || !strings.Contains(strings.Join(shownQuotes(ans), " "), "Khanin") {
		t.Errorf("follow-up answered with %q", ans.Text())
	}
	if want := history[0].Question + " And who is he?"; ans.Query != want || len(ans.Retrieved) == 0 {
		t.Errorf("query %q with %d passages, want %q", ans.Query, len(ans.Retrieved), want)
	}
	alone, err := a.Answer(context.Background(), "And who is he?", bot.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !alone.Refused {
		t.Errorf("without history, %q was answered: %q", alone.Question, alone.Text())
	}
}

type seedQuestion struct {
	ID         string  `json:"id"`
	Question   string  `json:"question"`
	Evidence   *string `json:"evidence"`
	Answerable bool    `json:"answerable"`
}

// seedQuestions reads ../shared/eval/seed-questions.jsonl relative to the
// repository root, or skips.
func seedQuestions(t *testing.T) []seedQuestion {
	t.Helper()
	f, err := os.Open(evaldata.Path(t, "seed-questions.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var qs []seedQuestion
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var q seedQuestion
		if err := json.Unmarshal(sc.Bytes(), &q); err != nil {
			t.Fatal(err)
		}
		qs = append(qs, q)
	}
	if len(qs) == 0 {
		t.Fatal("no seed questions")
	}
	return qs
}

// TestSeedQuestions checks the offline answers to the seed questions about
// the shipped article: each answerable one shows its evidence in a quote,
// each unanswerable one is refused, naming the article as the closest.
func TestSeedQuestions(t *testing.T) {
	qs := seedQuestions(t)
	a := bot.New(shippedIndex(t), bot.Config{Meaning: retrievaltest.Meaning(t)})
	for _, q := range qs {
		t.Run(q.ID, func(t *testing.T) {
			ans, err := a.Answer(context.Background(), q.Question, bot.Options{})
			if err != nil {
				t.Fatal(err)
			}
			checkShown(t, ans)
			if !q.Answerable {
				if !ans.Refused || len(ans.Closest) == 0 || ans.Closest[0].ID != "azerbaijan-israel-ties" ||
					!strings.HasPrefix(ans.Text(), "The articles do not cover this.") {
					t.Errorf("not refused: %q (closest %v)", ans.Text(), ans.Closest)
				}
				return
			}
			if ans.Refused || ans.Mode != bot.Extractive {
				t.Fatalf("refused or wrong mode: %q (%s)", ans.Text(), ans.Mode)
			}
			found := false
			for _, quote := range shownQuotes(ans) {
				found = found || foldedContains(quote, *q.Evidence)
			}
			if !found {
				t.Errorf("evidence %q not in the quotes %q", *q.Evidence, shownQuotes(ans))
			}
		})
	}
}

// TestConcurrentAnswers runs answers in parallel, offline and generating,
// for the race detector.
func TestConcurrentAnswers(t *testing.T) {
	srv := openaifake.New()
	defer srv.Close()
	srv.Chat.Respond(func(openaifake.ChatRequest) openaifake.Response {
		return openaifake.Response{Content: `{"answer": "Baku [1].", "quotes": [{"source": 1, "text": "Baku is the capital of Azerbaijan."}], "answerable": true}`}
	})
	ix := shippedIndex(t)
	answerers := []*bot.Answerer{
		bot.New(ix, bot.Config{Meaning: retrievaltest.Meaning(t)}),
		bot.New(ix, bot.Config{Meaning: retrievaltest.Meaning(t), LLM: &bot.LLMConfig{BaseURL: srv.URL(), Model: "fake"}}),
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Go(func() {
			a := answerers[i%2]
			ans, err := a.Answer(context.Background(), "What is the capital of Azerbaijan?", bot.Options{OnDelta: func(string) {}})
			if err == nil && (ans.Refused || len(ans.Sources) == 0 || ans.Sources[0].Quotes[0].Text != "Baku is the capital of Azerbaijan.") {
				err = fmt.Errorf("answer %d: %q (%s, note %q)", i, ans.Text(), ans.Mode, ans.Note)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}
