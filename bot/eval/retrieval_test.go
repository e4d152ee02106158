package eval

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"github.com/verbatim-bot/verbatim/corpus"
	"github.com/verbatim-bot/verbatim/corpus/evaldata"
	"github.com/verbatim-bot/verbatim/retrieval"
)

const articlesJSONL = `{"id": "Volcanoes_of_Iceland", "title": "Volcanoes of Iceland", "paragraphs": ["Hekla is one of the most active volcanoes in Iceland, erupting more than twenty times since 874.", "Glaciers cover many Icelandic volcanoes, so eruptions there often cause sudden floods of meltwater."]}
{"id": "Coffee history", "title": "History of coffee", "paragraphs": ["Coffee drinking spread from Yemen to Mecca and Cairo in the fifteenth century.", "The first coffeehouse in London opened in 1652 in St Michael's Alley."]}
`

func loadIndex(t *testing.T) *retrieval.Index {
	t.Helper()
	ctx := context.Background()
	c, err := corpus.Load(ctx, fstest.MapFS{"a.jsonl": {Data: []byte(articlesJSONL)}}, corpus.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return indexOf(t, c)
}

func TestRetrieval(t *testing.T) {
	ix := loadIndex(t)
	qs := []Question{
		{ID: "1", Text: "How often has Hekla erupted?", ArticleID: "Volcanoes_of_Iceland", ParagraphN: 1, Answerable: true},
		{ID: "2", Text: "When did London's first coffeehouse open?", ArticleID: "Coffee history", ParagraphN: 2, Answerable: true},
		{ID: "3", Text: "What do eruptions under glaciers cause?", Evidence: "sudden floods of meltwater", Answerable: true},
		{ID: "4", Text: "Where did coffee drinking spread?", ArticleID: "No such article", ParagraphN: 1, Answerable: true},
		{ID: "5", Text: "Who won the World Cup?", Answerable: false},
		{ID: "6", Text: "A question with nothing to find", Answerable: true},
	}
	var calls []int
	rep, err := Retrieval(context.Background(), ix, qs, RetrievalOptions{Progress: func(done, total int) {
		if total != len(qs) {
			t.Errorf("progress total = %d", total)
		}
		calls = append(calls, done)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Paragraphs != 4 || rep.Questions != 4 || rep.Skipped != 2 || rep.Missing != 1 {
		t.Errorf("counts: %+v", rep)
	}
	// Three gold passages at rank 1, one missing.
	if rep.RecallAt1 != 0.75 || rep.RecallAt5 != 0.75 || rep.RecallAt10 != 0.75 || rep.MRR != 0.75 {
		t.Errorf("recall@1/5/10 = %v/%v/%v, MRR %v; want 0.75 each", rep.RecallAt1, rep.RecallAt5, rep.RecallAt10, rep.MRR)
	}
	if rep.P50 <= 0 || rep.P95 < rep.P50 {
		t.Errorf("latencies p50 %v, p95 %v", rep.P50, rep.P95)
	}
	if len(calls) != len(qs) || calls[len(calls)-1] != len(qs) {
		t.Errorf("progress calls %v", calls)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Retrieval(ctx, ix, qs, RetrievalOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
}

func TestPercentile(t *testing.T) {
	xs := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	var ds []time.Duration
	for _, x := range xs {
		ds = append(ds, time.Duration(x))
	}
	for _, tt := range []struct{ p, want int }{{50, 5}, {95, 10}, {10, 1}, {100, 10}} {
		if got := percentile(ds, tt.p); got != time.Duration(tt.want) {
			t.Errorf("percentile(%d) = %v, want %v", tt.p, got, tt.want)
		}
	}
	if got := percentile(ds[:1], 50); got != 1 {
		t.Errorf("percentile of one = %v", got)
	}
}

// TestRetrievalSeedQuestions runs the seed questions against the shipped
// article when ../shared/eval is present.
func TestRetrievalSeedQuestions(t *testing.T) {
	qs, err := LoadQuestions(filepath.Join(evaldata.Dir(t), "seed-questions.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ix := shippedIndex(t)
	rep, err := Retrieval(ctx, ix, qs, RetrievalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	answerable := 0
	for _, q := range qs {
		if q.Answerable {
			answerable++
		}
	}
	if rep.Questions != answerable || rep.Skipped != len(qs)-answerable || rep.Missing != 0 {
		t.Errorf("counts: %+v", rep)
	}
	t.Logf("seed questions: recall@1 %.2f, @5 %.2f, MRR %.2f", rep.RecallAt1, rep.RecallAt5, rep.MRR)
}
