package eval

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/verbatim-bot/verbatim/bot"
	"github.com/verbatim-bot/verbatim/corpus"
	"github.com/verbatim-bot/verbatim/corpus/evaldata"
	"github.com/verbatim-bot/verbatim/retrieval"
	"github.com/verbatim-bot/verbatim/retrieval/openaifake"
	"github.com/verbatim-bot/verbatim/retrieval/retrievaltest"
)

// shippedIndex indexes the shipped article with the offline embedder.
func shippedIndex(tb testing.TB) *retrieval.Index { return retrievaltest.Shipped(tb) }

func indexOf(tb testing.TB, c *corpus.Corpus) *retrieval.Index { return retrievaltest.Index(tb, c) }

// questions about the shipped article, written for these tests.
var questions = []Question{
	{ID: "capital", Text: "What is the capital of Azerbaijan?", Answers: []string{"Baku"},
		Evidence: "Baku is the capital of Azerbaijan.", Answerable: true},
	{ID: "oil", Text: "How much of Israel's oil does Azerbaijan supply?", Answers: []string{"about 60%"},
		Evidence: "Azerbaijan supplies about 60% of oil resources", Answerable: true},
	{ID: "gold-paragraph", Text: "When did Azerbaijan gain independence?", Answers: []string{"1992"},
		ArticleID: "azerbaijan-israel-ties", ParagraphN: 3, Answerable: true},
	{ID: "football", Text: "Who won the 2022 FIFA World Cup?", Answerable: false},
}

func TestAnswersExtractive(t *testing.T) {
	ix := shippedIndex(t)
	a := bot.New(ix, bot.Config{Meaning: retrievaltest.Meaning(t)})
	var progress []int
	rep, err := Answers(context.Background(), a, questions, AnswersOptions{
		Paragraph: IndexParagraphs(ix),
		Progress:  func(done, total int) { progress = append(progress, done) },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", rep)
	if rep.Questions != 4 || rep.Answerable != 3 || rep.Unanswerable != 1 || rep.WithAnswers != 3 || rep.WithEvidence != 2 ||
		rep.Generated != 0 || rep.Fallbacks != 0 || rep.Quotes == 0 {
		t.Errorf("counts %+v", rep)
	}
	if rep.QuoteExactness != 1 || rep.AnswerInQuote != 1 || rep.AnswerInPassages != 1 || rep.EvidenceInQuote != 1 || rep.GoldCited != 1 ||
		rep.RefusalAccuracy != 1 || rep.FalseRefusals != 0 {
		t.Errorf("shares %+v", rep)
	}
	if rep.CitationPrecision <= 0 || rep.CitationPrecision > 1 || rep.Citations == 0 {
		t.Errorf("citation precision %v over %d", rep.CitationPrecision, rep.Citations)
	}
	if rep.P50 <= 0 || rep.P95 < rep.P50 || rep.OverheadP50 <= 0 || rep.OverheadP50 > rep.P50 {
		t.Errorf("latencies %+v", rep)
	}
	if !slices.Equal(progress, []int{1, 2, 3, 4}) {
		t.Errorf("progress %v", progress)
	}
}

func TestAnswersCountsInexactQuotes(t *testing.T) {
	ix := shippedIndex(t)
	a := bot.New(ix, bot.Config{Meaning: retrievaltest.Meaning(t)})
	// A lookup that returns a different text for every paragraph: no quote
	// is then exact, which the report must say.
	other := func(id string) (corpus.Paragraph, bool) {
		return corpus.Paragraph{ID: id, Text: strings.Repeat("x", 1000)}, true
	}
	rep, err := Answers(context.Background(), a, questions[:1], AnswersOptions{Paragraph: other})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Quotes == 0 || rep.QuoteExactness != 0 {
		t.Errorf("exactness %v over %d quotes", rep.QuoteExactness, rep.Quotes)
	}
}

func TestAnswersFailures(t *testing.T) {
	a := bot.New(shippedIndex(t), bot.Config{Meaning: retrievaltest.Meaning(t)})
	_, err := Answers(context.Background(), a, []Question{{ID: "blank", Text: " "}}, AnswersOptions{})
	if err == nil || !strings.Contains(err.Error(), "question blank") {
		t.Errorf("err = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Answers(ctx, a, questions, AnswersOptions{}); err == nil {
		t.Error("cancelled context: no error")
	}
}

// misquoter is a fake LLM that answers every question from the passages it
// is given, misquoting on purpose: the first sentence of passage 1 with
// straight quotes and one word changed, cited to passage 2; an invented
// quote; a marker to a passage that does not exist.
func misquoter(req openaifake.ChatRequest) openaifake.Response {
	user := req.Messages[len(req.Messages)-1].Content
	m := regexp.MustCompile(`(?m)^\[1\] [^\n]*?¶\d+: ([^\n]*)$`).FindStringSubmatch(user)
	if m == nil {
		return openaifake.Response{Content: "I cannot find passages."}
	}
	sentence := m[1]
	if i := strings.Index(sentence, ". "); i > 0 {
		sentence = sentence[:i+1]
	}
	words := strings.Fields(sentence)
	if len(words) > 6 {
		words[len(words)/2] = "reportedly"
	}
	sentence = strings.NewReplacer("’", "'", "“", `\"`, "”", `\"`).Replace(strings.Join(words, " "))
	return openaifake.Response{Content: fmt.Sprintf(`{"answer": "The article says so [2][9].",
		"quotes": [{"source": 2, "text": "%s"}, {"source": 1, "text": "Nobody said this at all."}], "answerable": true}`, sentence)}
}

func TestAnswersAgainstMisquotingLLM(t *testing.T) {
	srv := openaifake.New()
	defer srv.Close()
	srv.Chat.Respond(misquoter)
	ix := shippedIndex(t)
	a := bot.New(ix, bot.Config{Meaning: retrievaltest.Meaning(t), LLM: &bot.LLMConfig{BaseURL: srv.URL(), Model: "fake"}})
	rep, err := Answers(context.Background(), a, questions, AnswersOptions{Paragraph: IndexParagraphs(ix)})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", rep)
	if rep.QuoteExactness != 1 || rep.Quotes == 0 {
		t.Errorf("quote exactness %v over %d quotes", rep.QuoteExactness, rep.Quotes)
	}
	if rep.Check.Dropped < 3 || rep.Check.MarkersRemoved < 3 || rep.Check.Repaired+rep.Check.Reattributed < 3 {
		t.Errorf("verification did not catch the misquotes: %+v", rep.Check)
	}
	// The World Cup question passes the pre-model gate (it is close
	// enough to the article by meaning) and goes to the model, which here
	// answers anything: refusing it is the model's part (see
	// TestGateAndModel in package bot).
	if rep.AskedAnswerable != 1 {
		t.Errorf("the model was asked for %v of the answerable questions", rep.AskedAnswerable)
	}
}

// loadJSONL loads the articles of JSONL files under dir as one corpus.
func loadJSONL(tb testing.TB, dir string, names ...string) *corpus.Corpus {
	tb.Helper()
	fsys := fstest.MapFS{}
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			tb.Fatal(err)
		}
		fsys[strings.ReplaceAll(n, "/", "-")] = &fstest.MapFile{Data: data}
	}
	c, err := corpus.Load(context.Background(), fsys, corpus.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// TestSeedAnswers answers the seed questions about the shipped article
// offline: every answerable one shows its evidence, both unanswerable ones
// are refused.
func TestSeedAnswers(t *testing.T) {
	qs, err := LoadQuestions(filepath.Join(evaldata.Dir(t), "seed-questions.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	ix := shippedIndex(t)
	rep, err := Answers(context.Background(), bot.New(ix, bot.Config{Meaning: retrievaltest.Meaning(t)}), qs, AnswersOptions{Paragraph: IndexParagraphs(ix)})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("seed questions, extractive: %+v", rep)
	if rep.Answerable != 9 || rep.Unanswerable != 2 || rep.QuoteExactness != 1 || rep.EvidenceInQuote != 1 ||
		rep.AnswerInQuote != 1 || rep.RefusalAccuracy != 1 || rep.FalseRefusals != 0 {
		t.Errorf("%+v", rep)
	}
}

// squad loads the SQuAD dev public questions and an index of its articles.
func squad(tb testing.TB) ([]Question, *retrieval.Index) {
	tb.Helper()
	dir := evaldata.Dir(tb)
	qs, err := LoadQuestions(filepath.Join(dir, "squad-dev", "questions.jsonl"))
	if err != nil {
		tb.Fatal(err)
	}
	// Without the sentence encoder: encoding SQuAD dev's 10,146 sentences
	// takes minutes (BENCHMARKS.md); `verbatim eval` measures with it.
	return qs, retrievaltest.IndexWith(tb, loadJSONL(tb, dir, "squad-dev/articles.jsonl"), nil)
}

// TestSQuADAnswers checks that every quote shown for a sample of the SQuAD
// dev public questions (one in ten, to stay quick under -race) is exact.
// BenchmarkSQuADAnswers measures the whole set.
func TestSQuADAnswers(t *testing.T) {
	qs, ix := squad(t)
	var sample []Question
	for i := 0; i < len(qs); i += 10 {
		sample = append(sample, qs[i])
	}
	rep, err := Answers(context.Background(), bot.New(ix, bot.Config{Meaning: retrievaltest.Meaning(t)}), sample, AnswersOptions{Paragraph: IndexParagraphs(ix)})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("SQuAD dev sample, extractive: %+v", rep)
	if rep.Quotes == 0 || rep.QuoteExactness != 1 {
		t.Errorf("quote exactness %v over %d quotes", rep.QuoteExactness, rep.Quotes)
	}
}

// BenchmarkSQuADAnswers answers all SQuAD dev public questions over the
// SQuAD dev corpus (2,067 paragraphs) in extractive mode and reports the
// answer measures; run it once: -bench SQuADAnswers -benchtime 1x.
func BenchmarkSQuADAnswers(b *testing.B) {
	qs, ix := squad(b)
	a := bot.New(ix, bot.Config{Meaning: retrievaltest.Meaning(b)})
	var rep AnswersReport
	for b.Loop() {
		var err error
		rep, err = Answers(context.Background(), a, qs, AnswersOptions{Paragraph: IndexParagraphs(ix)})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rep.Questions), "questions")
	b.ReportMetric(rep.QuoteExactness, "quote-exactness")
	b.ReportMetric(rep.AnswerInQuote, "answer-in-quote")
	b.ReportMetric(float64(rep.Quotes)/float64(rep.Questions), "quotes/question")
	b.ReportMetric(rep.CitationPrecision, "citation-precision")
	b.ReportMetric(rep.GoldCited, "gold-cited")
	b.ReportMetric(1-rep.FalseRefusals, "answered")
	b.ReportMetric(float64(rep.P50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(rep.OverheadP50.Microseconds())/1000, "overhead-p50-ms")
}

// BenchmarkModelPassages reports how often the gold answer is in the
// passages answered from: offline (retrieval's TopK) and with a model,
// which reads the TopK passages holding the best sentences of twice as
// many (a fake that refuses every question, so that each answer keeps the
// passages the model read), with the default judges (the static table and
// the sentence encoder). Over every 5th SQuAD dev question, and the
// natural set's answerable questions of each corpus and split; run it
// once: -bench ModelPassages -benchtime 1x.
func BenchmarkModelPassages(b *testing.B) {
	b.Run("squad-dev", func(b *testing.B) {
		qs, ix := squad(b)
		var sample []Question
		for i := 0; i < len(qs); i += 5 {
			sample = append(sample, qs[i])
		}
		benchmarkModelPassages(b, ix, sample)
	})
	natural, err := LoadQuestions(filepath.Join("testdata", "natural", "natural.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	corpora := []struct{ name, articles string }{{"shipped", ""}, {"squad-dev", "squad-dev/articles.jsonl"}, {"bbc", "bbc/articles.jsonl"}}
	for _, c := range corpora {
		b.Run("natural/"+c.name, func(b *testing.B) {
			ix := shippedIndex(b)
			if c.articles != "" {
				ix = indexOf(b, loadJSONL(b, evaldata.Dir(b), c.articles))
			}
			for _, split := range []string{"tune", "test"} {
				b.Run(split, func(b *testing.B) { benchmarkModelPassages(b, ix, Filter(natural, []string{c.name}, split)) })
			}
		})
	}
}

func benchmarkModelPassages(b *testing.B, ix *retrieval.Index, qs []Question) {
	srv := openaifake.New()
	defer srv.Close()
	srv.Chat.Respond(func(openaifake.ChatRequest) openaifake.Response {
		return openaifake.Response{Content: `{"answer": "The passages do not say.", "quotes": [], "answerable": false}`}
	})
	cfg := bot.Config{Meaning: retrievaltest.Meaning(b), Encoder: retrievaltest.Encoder(b)}
	withModel := cfg
	withModel.LLM = &bot.LLMConfig{BaseURL: srv.URL(), Model: "fake"}
	var offline, model AnswersReport
	for b.Loop() {
		var err error
		if offline, err = Answers(context.Background(), bot.New(ix, cfg), qs, AnswersOptions{}); err != nil {
			b.Fatal(err)
		}
		if model, err = Answers(context.Background(), bot.New(ix, withModel), qs, AnswersOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(offline.WithAnswers), "questions")
	b.ReportMetric(offline.AnswerInPassages, "offline-in-passages")
	b.ReportMetric(model.AnswerInPassages, "model-in-passages")
	b.ReportMetric(model.AskedAnswerable, "model-asked")
}

// BenchmarkAnswerOverhead measures the time an extractive answer spends
// outside retrieval (sentence scoring, quoting, refusal rule) over SQuAD
// dev plus BBC News (about 12.6k paragraphs), cycling through the SQuAD
// questions. It reports the per-answer overhead and retrieval percentiles.
func BenchmarkAnswerOverhead(b *testing.B) {
	dir := evaldata.Dir(b)
	if _, err := os.Stat(filepath.Join(dir, "bbc", "articles.jsonl")); err != nil {
		b.Skipf("BBC articles not available (%v): skipping", err)
	}
	qs, err := LoadQuestions(filepath.Join(dir, "squad-dev", "questions.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	ix := indexOf(b, loadJSONL(b, dir, "squad-dev/articles.jsonl", "bbc/articles.jsonl"))
	a := bot.New(ix, bot.Config{Meaning: retrievaltest.Meaning(b)})
	ctx := context.Background()
	var overhead, retrieval []time.Duration
	b.ResetTimer()
	i := 0
	for b.Loop() {
		ans, err := a.Answer(ctx, qs[i%len(qs)].Text, bot.Options{})
		if err != nil {
			b.Fatal(err)
		}
		overhead = append(overhead, ans.Timings.Total-ans.Timings.Retrieval-ans.Timings.LLM)
		retrieval = append(retrieval, ans.Timings.Retrieval)
		i++
	}
	slices.Sort(overhead)
	slices.Sort(retrieval)
	b.ReportMetric(float64(ix.Len()), "paragraphs")
	b.ReportMetric(float64(percentile(overhead, 50).Microseconds())/1000, "overhead-p50-ms")
	b.ReportMetric(float64(percentile(overhead, 95).Microseconds())/1000, "overhead-p95-ms")
	b.ReportMetric(float64(percentile(retrieval, 50).Microseconds())/1000, "retrieval-p50-ms")
}

// TestAnswerInPassages checks that a gold answer in the passages read
// counts as in the passages whether or not a quote shows it.
func TestAnswerInPassages(t *testing.T) {
	q := Question{ID: "oil", Answers: []string{"about 60%"}, Answerable: true}
	read := []retrieval.Result{{Paragraph: corpus.Paragraph{ID: "a#1", Text: "Azerbaijan supplies about 60% of oil resources."}}}
	other := []retrieval.Result{{Paragraph: corpus.Paragraph{ID: "a#2", Text: "Baku is the capital of Azerbaijan."}}}
	tests := []struct {
		name            string
		ans             *bot.Answer
		inQuote, inRead bool
	}{
		{"refused, answer read", &bot.Answer{Refused: true, Retrieved: read}, false, true},
		{"refused, answer not read", &bot.Answer{Refused: true, Retrieved: other}, false, false},
		{"answer quoted", &bot.Answer{Retrieved: read, Sources: []bot.Source{{N: 1, Paragraph: read[0].Paragraph,
			Quotes: []bot.Quote{{Text: "Azerbaijan supplies about 60% of oil resources."}}}}}, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := scoreAnswer(q, tt.ans, nil)
			if s.answerInQuote != tt.inQuote || s.answerInPassages != tt.inRead {
				t.Errorf("in quote %v, in passages %v; want %v, %v", s.answerInQuote, s.answerInPassages, tt.inQuote, tt.inRead)
			}
		})
	}
}
