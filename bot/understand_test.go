package bot_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/verbatim-bot/verbatim/bot"
	"github.com/verbatim-bot/verbatim/corpus"
	"github.com/verbatim-bot/verbatim/retrieval"
	"github.com/verbatim-bot/verbatim/retrieval/openaifake"
	"github.com/verbatim-bot/verbatim/retrieval/retrievaltest"
)

// Questions in people's own words about the shipped article (from issue 8
// and written for these tests; none is in the natural set's test split),
// and plainly off-corpus ones.
var (
	paraphrased = []string{
		"How much oil does Israel get from Azerbaijan?",
		"Who runs Azerbaijan?",
		"What weapons does Baku purchase from the Israelis?",
		"How did Azerbaijan try to calm down the Turkish leader?",
		"what year did azerbaijan break away from the soviets",
	}
	offCorpus = []string{
		"what should i cook for dinner tonight",
		"best pizza toppings? pineapple yes or no",
		"how do i undo my last git commit",
	}
)

// judge is one way the answerer can judge a question.
type judge struct {
	name  string
	cfg   bot.Config
	index func(*testing.T) *retrieval.Index // built with the same encoder as cfg
	// gatesOffCorpus is set when the plainly off-corpus questions are
	// refused before any model: by words and the static table they share
	// nothing with the article; the encoder's gate, calibrated so that
	// answerable questions reach the model, leaves some to the model.
	gatesOffCorpus bool
}

// judges are the two ways: by words and the static table alone, and with
// the sentence encoder (the default).
func judges(t *testing.T) []judge {
	return []judge{
		{"static", bot.Config{Meaning: retrievaltest.Meaning(t)}, wordIndex, true},
		{"encoder", bot.Config{Meaning: retrievaltest.Meaning(t), Encoder: retrievaltest.Encoder(t)}, shippedIndex, false},
	}
}

// TestGateAndModel checks the refusal decision with a language model: a
// paraphrased answerable question reaches the model (the chat endpoint is
// called), whose answerable: false refuses with no sources; a plainly
// off-corpus one is refused with no sources, before any model is asked
// when the gate says so, and the model is never asked about a question the
// gate refused.
func TestGateAndModel(t *testing.T) {
	for _, j := range judges(t) {
		t.Run(j.name, func(t *testing.T) { testGateAndModel(t, j) })
	}
}

func testGateAndModel(t *testing.T, j judge) {
	cfg := j.cfg
	srv := openaifake.New()
	defer srv.Close()
	srv.Chat.Respond(func(openaifake.ChatRequest) openaifake.Response {
		return openaifake.Response{Content: `{"answer": "The passages do not say.", "quotes": [], "answerable": false}`}
	})
	cfg.LLM = &bot.LLMConfig{BaseURL: srv.URL(), Model: "fake"}
	a := bot.New(j.index(t), cfg)
	ask := func(q string) (*bot.Answer, int) {
		before := len(srv.Chat.Requests())
		ans, err := a.Answer(context.Background(), q, bot.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return ans, len(srv.Chat.Requests()) - before
	}
	for _, q := range paraphrased {
		ans, calls := ask(q)
		if calls != 1 || !ans.Asked || ans.Judgement.OffCorpus {
			t.Errorf("%q: %d chat calls, asked %v, judgement %+v: want the model asked", q, calls, ans.Asked, ans.Judgement)
		}
		if !ans.Refused || len(ans.Sources) != 0 || ans.Mode != bot.Generated {
			t.Errorf("%q: the model's answerable: false gave %+v", q, ans)
		}
	}
	for _, q := range offCorpus {
		ans, calls := ask(q)
		gated := ans.Judgement.OffCorpus
		if jg := ans.Judgement; jg.Closeness >= 0 && gated != (jg.Closeness < jg.MinCloseness || jg.Topicality >= 0 && jg.Topicality < jg.MinTopicality) {
			t.Errorf("%q: closeness %.2f and topicality %.2f against the gate's %.2f and %.2f, yet gated %v",
				q, jg.Closeness, jg.Topicality, jg.MinCloseness, jg.MinTopicality, gated)
		}
		if !ans.Refused || len(ans.Sources) != 0 || gated != (calls == 0) || gated == ans.Asked || j.gatesOffCorpus && !gated {
			t.Errorf("%q: %d chat calls, judgement %+v, refused %v with %d sources: want refused with no sources (before the model: %v)",
				q, calls, ans.Judgement, ans.Refused, len(ans.Sources), j.gatesOffCorpus)
		}
	}
}

// TestOfflineRefusal checks the offline decision: the plainly off-corpus
// and an on-topic question the article does not answer are refused with
// no sources, questions it answers are not.
func TestOfflineRefusal(t *testing.T) {
	for _, j := range judges(t) {
		t.Run(j.name, func(t *testing.T) { testOfflineRefusal(t, j.cfg) })
	}
}

func testOfflineRefusal(t *testing.T, cfg bot.Config) {
	a := bot.New(shippedIndex(t), cfg)
	tests := []struct {
		q      string
		refuse bool
	}{
		{"How much oil does Israel get from Azerbaijan?", false},
		{"When did Azerbaijan become independent?", false},
		{"Who won the 2022 FIFA World Cup?", true},
		{"what should i cook for dinner tonight", true},
		{"how do i undo my last git commit", true},
		{"What does the article say about the population of Azerbaijan?", true},
	}
	for _, tt := range tests {
		ans, err := a.Answer(context.Background(), tt.q, bot.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if ans.Refused != tt.refuse || ans.Refused && len(ans.Sources) != 0 {
			t.Errorf("%q: refused %v with %d sources (judgement %+v), want refused %v", tt.q, ans.Refused, len(ans.Sources), ans.Judgement, tt.refuse)
		}
	}
}

// TestChatNoise checks that greetings, numbering and emoji around a
// question change neither the refusal nor the answer.
func TestChatNoise(t *testing.T) {
	a := bot.New(shippedIndex(t), bot.Config{Meaning: retrievaltest.Meaning(t)})
	answer := func(q string) string {
		ans, err := a.Answer(context.Background(), q, bot.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return ans.Text()
	}
	for _, clean := range []string{"what is the capital of Azerbaijan?", "who won the 2022 FIFA World Cup?"} {
		want := answer(clean)
		for _, noisy := range []string{"hey " + clean, "Question 3: " + clean, "hi all, " + clean + " 🙏 thanks!", "ok so " + clean + " 🤔"} {
			if got := answer(noisy); got != want {
				t.Errorf("%q answered %q, but %q answers %q", noisy, got, clean, want)
			}
		}
	}
}

// TestAnswerKind checks that the extractive answer quotes the sentence
// that holds what the question asks for.
func TestAnswerKind(t *testing.T) {
	for _, j := range judges(t) {
		t.Run(j.name, func(t *testing.T) { testAnswerKind(t, bot.New(j.index(t), j.cfg)) })
	}
}

func testAnswerKind(t *testing.T, a *bot.Answerer) {
	tests := []struct {
		q    string
		kind bot.Kind
		want string // in the first excerpt
	}{
		{"How much oil does Israel get from Azerbaijan?", bot.Quantity, "about 60%"},
		{"When did Azerbaijan become independent?", bot.Time, "1992"},
		{"Who heads the Post-Soviet Conflicts Research Program?", bot.Person, "Khanin"},
		{"Why did Azerbaijan send an envoy to Erdogan?", bot.Reason, "cool him down"},
		{"Where is Azerbaijan positioned?", bot.Place, "Iran, Turkey and Russia"},
	}
	for _, tt := range tests {
		ans, err := a.Answer(context.Background(), tt.q, bot.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if ans.Judgement.Kind != tt.kind {
			t.Errorf("%q asks for %q, want %q", tt.q, ans.Judgement.Kind, tt.kind)
		}
		if len(ans.Body) == 0 || ans.Body[0].Kind != bot.Excerpt || !strings.Contains(ans.Body[0].Text, tt.want) {
			t.Errorf("%q: first excerpt of %q does not hold %q", tt.q, ans.Text(), tt.want)
		}
	}
}

// TestExtractOneArticle checks that an extractive reply quotes one article
// (the best sentence's) when the question names no other, even when a
// sentence of another article scores close.
func TestExtractOneArticle(t *testing.T) {
	rail := &corpus.Article{ID: "rail", Title: "Rail strike ends"}
	p := func(a *corpus.Article, n int, text string) retrieval.Result {
		return retrieval.Result{Article: a, Paragraph: corpus.Paragraph{ID: fmt.Sprintf("%s#%d", a.ID, n), ArticleID: a.ID, N: n, Text: text}, Relevance: 1}
	}
	rs := []retrieval.Result{
		p(article, 1, "Baku is the capital of Azerbaijan, on the Caspian sea."),
		p(rail, 1, "The capital's rail workers ended their strike."),
		p(article, 2, "The capital of Azerbaijan has an old town."),
	}
	a := bot.New(&fixedSearcher{results: rs}, bot.Config{Meaning: retrievaltest.Meaning(t)})
	ans, err := a.Answer(context.Background(), "what about the capital?", bot.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ans.Sources) == 0 {
		t.Fatalf("refused: %+v", ans.Judgement)
	}
	for _, s := range ans.Sources {
		if s.ArticleID != ans.Sources[0].ArticleID {
			t.Errorf("quotes articles %s and %s: %q", ans.Sources[0].ArticleID, s.ArticleID, ans.Text())
		}
	}
}

// TestFallbackKeepsTheOfflineBar checks that when the model fails, a
// question offline mode would refuse is refused, not quoted at, and that
// the refusal says why when the model was asked.
func TestFallbackKeepsTheOfflineBar(t *testing.T) {
	srv := openaifake.New()
	defer srv.Close()
	srv.Chat.Respond(func(openaifake.ChatRequest) openaifake.Response { return openaifake.Error(400, "no") })
	a := bot.New(shippedIndex(t), bot.Config{Meaning: retrievaltest.Meaning(t), LLM: &bot.LLMConfig{BaseURL: srv.URL(), Model: "fake"}})
	for _, q := range []string{"Who won the 2022 FIFA World Cup?", "What does the article say about the population of Azerbaijan?"} {
		ans, err := a.Answer(context.Background(), q, bot.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !ans.Refused || len(ans.Sources) != 0 || ans.Asked && ans.Note == "" {
			t.Errorf("%q with a failing model: refused %v, %d sources, asked %v, note %q (judgement %+v)", q, ans.Refused, len(ans.Sources), ans.Asked, ans.Note, ans.Judgement)
		}
	}
}

// TestKindInASupportedSentence checks that a question asking for a kind
// of thing (a date, a number) is answered only when a sentence about what
// it asks holds one: a date elsewhere in the passages does not answer it.
func TestKindInASupportedSentence(t *testing.T) {
	rs := []retrieval.Result{
		{Article: article, Paragraph: corpus.Paragraph{ID: "a#1", ArticleID: article.ID, N: 1,
			Text: "With the Oslo Peace Accords no longer effective, Khanin says the region needs a new alliance."}, Relevance: 0.6},
		{Article: article, Paragraph: corpus.Paragraph{ID: "a#2", ArticleID: article.ID, N: 2,
			Text: "The Jewish community has felt at home there for generations. Six years ago, a news crew visited the country."}, Relevance: 0.2},
	}
	a := bot.New(&fixedSearcher{results: rs}, bot.Config{Meaning: retrievaltest.Meaning(t)})
	tests := []struct {
		q      string
		refuse bool
	}{
		{"when were the oslo accords signed?", true},
		{"how many oslo accords were there?", true},
		{"how long ago did the news crew go there?", false},
	}
	for _, tt := range tests {
		ans, err := a.Answer(context.Background(), tt.q, bot.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if ans.Refused != tt.refuse {
			t.Errorf("%q: refused %v, want %v (%q, judgement %+v)", tt.q, ans.Refused, tt.refuse, ans.Text(), ans.Judgement)
		}
	}
}

// failingEncoder is a sentence encoder whose every call fails.
type failingEncoder struct{}

func (failingEncoder) Model() string { return "failing" }
func (failingEncoder) Embed(context.Context, []string) ([][]float32, error) {
	return nil, errors.New("encoder down")
}

// TestEncoderFailure checks that when the sentence encoder fails, in
// retrieval and in the answerer, the answerer judges as it does without
// one.
func TestEncoderFailure(t *testing.T) {
	c, err := corpus.Load(context.Background(), corpus.Default(), corpus.Options{})
	if err != nil {
		t.Fatal(err)
	}
	without := bot.New(wordIndex(t), bot.Config{Meaning: retrievaltest.Meaning(t)})
	failing := bot.New(retrievaltest.IndexWith(t, c, failingEncoder{}), bot.Config{Meaning: retrievaltest.Meaning(t), Encoder: failingEncoder{}})
	for _, q := range append(paraphrased, offCorpus...) {
		want, err := without.Answer(context.Background(), q, bot.Options{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := failing.Answer(context.Background(), q, bot.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Judgement.Closeness != -1 || got.Refused != want.Refused || got.Text() != want.Text() {
			t.Errorf("%q with a failing encoder: closeness %v, %q; without one: %q", q, got.Judgement.Closeness, got.Text(), want.Text())
		}
	}
}

// readingEncoder is a sentence encoder that places each text it knows at
// its vector and every other text at the first axis.
type readingEncoder map[string][]float32

func (readingEncoder) Model() string { return "reading" }
func (e readingEncoder) Embed(_ context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		if out[i] = e[t]; out[i] == nil {
			out[i] = []float32{1, 0}
		}
	}
	return out, nil
}

// TestEncoderChoosesTheSentence checks that where words score two
// sentences alike, the one the encoder reads as closer to the question is
// the answer.
func TestEncoderChoosesTheSentence(t *testing.T) {
	const (
		q      = "did the envoy meet the minister in baku?"
		first  = "The envoy met the minister in Baku."
		second = "The minister met the envoy in Baku."
	)
	firstCloser := readingEncoder{first: {0.9, 0.44}, second: {0.2, 0.98}}
	tests := []struct {
		name      string
		enc       retrieval.Embedder
		sentences []float32 // retrieval.Result.Sentences
		want      string
	}{
		{"no encoder", nil, nil, first},
		{"reads the first closer", firstCloser, nil, first},
		{"reads the second closer", readingEncoder{first: {0.2, 0.98}, second: {0.9, 0.44}}, nil, second},
		// Retrieval's cosines stand for the encoder's when it measured them.
		{"retrieval measured the second closer", firstCloser, []float32{0.2, 0.9}, second},
		{"retrieval measured without an encoder", nil, []float32{0.2, 0.9}, second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := []retrieval.Result{{Article: article, Paragraph: corpus.Paragraph{ID: "a#1", ArticleID: article.ID, N: 1,
				Text: first + " " + second}, Relevance: 1, Sentences: tt.sentences, Topicality: mean(tt.sentences)}} // the article is this paragraph
			a := bot.New(&fixedSearcher{results: rs}, bot.Config{Meaning: retrievaltest.Meaning(t), Encoder: tt.enc})
			ans, err := a.Answer(context.Background(), q, bot.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(ans.Body) == 0 || ans.Body[0].Text != tt.want {
				t.Errorf("answer %q, want first %q (judgement %+v)", ans.Text(), tt.want, ans.Judgement)
			}
		})
	}
}

// TestTopicalityChoosesTheArticle checks that, between sentences that
// words and the encoder score alike, the one whose article is about the
// question is quoted; with both articles alike, retrieval's order decides.
func TestTopicalityChoosesTheArticle(t *testing.T) {
	const (
		q        = "what route did the plague take going west"
		sentence = "The route west ran along the Silk Road."
	)
	hist := &corpus.Article{ID: "black-death", Title: "Black Death"}
	city := &corpus.Article{ID: "fresno", Title: "Fresno"}
	for _, tc := range []struct {
		name                 string
		histTopic, cityTopic float64
		want                 string
	}{
		{"the history article is about it", 0.3, 0.02, hist.ID},
		{"both articles alike", 0.05, 0.05, city.ID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs := []retrieval.Result{
				{Article: city, Paragraph: corpus.Paragraph{ID: "fresno#1", ArticleID: city.ID, N: 1, Text: sentence},
					Rank: 1, Relevance: 0.5, Sentences: []float32{0.4}, Topicality: tc.cityTopic},
				{Article: hist, Paragraph: corpus.Paragraph{ID: "black-death#1", ArticleID: hist.ID, N: 1, Text: sentence},
					Rank: 2, Relevance: 0.5, Sentences: []float32{0.4}, Topicality: tc.histTopic},
			}
			a := bot.New(&fixedSearcher{results: rs}, bot.Config{Meaning: retrievaltest.Meaning(t)})
			ans, err := a.Answer(context.Background(), q, bot.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(ans.Sources) == 0 || ans.Sources[0].ArticleID != tc.want {
				t.Errorf("answer %q with sources %+v, want first from %s (judgement %+v)", ans.Text(), ans.Sources, tc.want, ans.Judgement)
			}
		})
	}
}

// TestGateMeasuresSeparate checks what the encoder's gate relies on: each
// paraphrased question about the article is closer to its best sentences,
// and its article more about it, than for any plainly off-corpus question.
func TestGateMeasuresSeparate(t *testing.T) {
	a := bot.New(shippedIndex(t), bot.Config{Meaning: retrievaltest.Meaning(t), Encoder: retrievaltest.Encoder(t)})
	judged := make(map[string]bot.Judgement)
	for _, q := range append(slices.Clone(paraphrased), offCorpus...) {
		ans, err := a.Answer(context.Background(), q, bot.Options{})
		if err != nil {
			t.Fatal(err)
		}
		judged[q] = ans.Judgement
	}
	for _, m := range []struct {
		name    string
		measure func(bot.Judgement) float64
	}{
		{"closeness", func(j bot.Judgement) float64 { return j.Closeness }},
		{"topicality", func(j bot.Judgement) float64 { return j.Topicality }},
	} {
		farthest, farQ := 2.0, ""
		for _, q := range paraphrased {
			if c := m.measure(judged[q]); c < farthest {
				farthest, farQ = c, q
			}
		}
		for _, q := range offCorpus {
			if c := m.measure(judged[q]); c >= farthest {
				t.Errorf("%s: %q scores %.2f, as much as the paraphrase %q (%.2f)", m.name, q, c, farQ, farthest)
			}
		}
	}
}

// TestTopicalityGatesWhatClosenessPasses checks, over the shipped
// article, a plainly off-corpus question that one sentence is close
// enough to for the closeness gate: the article as a whole is not about
// it, so no model is asked.
func TestTopicalityGatesWhatClosenessPasses(t *testing.T) {
	const q = "how often should i get an oil change"
	srv := openaifake.New()
	defer srv.Close()
	cfg := bot.Config{Meaning: retrievaltest.Meaning(t), Encoder: retrievaltest.Encoder(t), LLM: &bot.LLMConfig{BaseURL: srv.URL(), Model: "fake"}}
	ans, err := bot.New(shippedIndex(t), cfg).Answer(context.Background(), q, bot.Options{})
	if err != nil {
		t.Fatal(err)
	}
	j := ans.Judgement
	if j.Closeness < j.MinCloseness || j.Topicality < 0 || j.Topicality >= j.MinTopicality {
		t.Fatalf("closeness %.3f (gate %.3f), topicality %.3f (gate %.3f): want a question only topicality gates",
			j.Closeness, j.MinCloseness, j.Topicality, j.MinTopicality)
	}
	if !j.OffCorpus || ans.Asked || len(srv.Chat.Requests()) != 0 || !ans.Refused || len(ans.Sources) != 0 {
		t.Errorf("judgement %+v, asked %v, %d chat calls, refused %v with %d sources: want refused before the model",
			j, ans.Asked, len(srv.Chat.Requests()), ans.Refused, len(ans.Sources))
	}
}

// TestTopicalityGate checks the gate's decision from what retrieval
// measured, with a model: a question whose passages' article is not
// about it is refused before the model however close one sentence is,
// and one about it reaches the model; without the measure (no sentence
// vectors) closeness alone decides.
func TestTopicalityGate(t *testing.T) {
	p := corpus.Paragraph{ID: "a#1", ArticleID: "a", N: 1, Text: "Baku is the capital of Azerbaijan. It lies on the Caspian Sea."}
	art := &corpus.Article{ID: "a", Title: "Azerbaijan", Paragraphs: []corpus.Paragraph{p}}
	for _, tc := range []struct {
		name       string
		sentences  []float32
		topicality float64
		asked      bool
	}{
		{"about the article", []float32{0.6, 0.3}, 0.3, true},
		{"one close sentence, the article elsewhere", []float32{0.6, 0.3}, 0.005, false},
		{"no sentence close", []float32{0.05, 0.02}, 0.3, false},
		{"not measured", nil, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := openaifake.New()
			defer srv.Close()
			srv.Chat.Respond(func(openaifake.ChatRequest) openaifake.Response {
				return openaifake.Response{Content: `{"answer": "The passages do not say.", "quotes": [], "answerable": false}`}
			})
			r := retrieval.Result{Paragraph: p, Article: art, Rank: 1, Relevance: 0.5, Sentences: tc.sentences, Topicality: tc.topicality}
			a := bot.New(&fixedSearcher{results: []retrieval.Result{r}}, bot.Config{LLM: &bot.LLMConfig{BaseURL: srv.URL(), Model: "fake"}})
			ans, err := a.Answer(context.Background(), "what is the capital", bot.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if calls := len(srv.Chat.Requests()); ans.Asked != tc.asked || (calls > 0) != tc.asked || ans.Judgement.OffCorpus == tc.asked {
				t.Errorf("asked %v (%d chat calls), judgement %+v: want asked %v", ans.Asked, calls, ans.Judgement, tc.asked)
			}
			if !ans.Refused || len(ans.Sources) != 0 {
				t.Errorf("refused %v with %d sources: want refused with none", ans.Refused, len(ans.Sources))
			}
		})
	}
}

// TestModelReadsTheAnsweringPassage checks that with a model the passages
// it reads are those holding the best sentences of a deeper search: a
// passage that retrieval ranks below TopK but that answers the question is
// sent, in place of one ranked above it, and still only TopK are sent.
func TestModelReadsTheAnsweringPassage(t *testing.T) {
	rs := seventhAnswers()
	answering := rs[len(rs)-1].Paragraph.Text
	filler := make([]string, len(rs)-1)
	for i, r := range rs[:len(rs)-1] {
		filler[i] = r.Paragraph.Text
	}
	srv := openaifake.New()
	defer srv.Close()
	srv.Chat.Respond(func(openaifake.ChatRequest) openaifake.Response {
		return openaifake.Response{Content: `{"answer": "The passages do not say.", "quotes": [], "answerable": false}`}
	})
	for _, j := range judges(t) {
		t.Run(j.name, func(t *testing.T) {
			cfg := j.cfg
			cfg.LLM = &bot.LLMConfig{BaseURL: srv.URL(), Model: "fake"}
			before := len(srv.Chat.Requests())
			ans, err := bot.New(&fixedSearcher{results: rs}, cfg).Answer(context.Background(), "how much of israel's oil comes from azerbaijan", bot.Options{})
			if err != nil {
				t.Fatal(err)
			}
			reqs := srv.Chat.Requests()
			if len(reqs) != before+1 {
				t.Fatalf("the model was asked %d times (judgement %+v)", len(reqs)-before, ans.Judgement)
			}
			var sent strings.Builder
			for _, m := range reqs[len(reqs)-1].Messages {
				sent.WriteString(m.Content)
			}
			if !strings.Contains(sent.String(), answering) {
				t.Errorf("the model did not read the answering passage, ranked 7th by retrieval")
			}
			read := 0
			for _, f := range filler {
				if strings.Contains(sent.String(), f) {
					read++
				}
			}
			if read != bot.DefaultTopK-1 {
				t.Errorf("the model read %d other passages, want %d", read, bot.DefaultTopK-1)
			}
			if len(ans.Retrieved) != bot.DefaultTopK || ans.Retrieved[0].Paragraph.Text != answering {
				t.Errorf("Retrieved = %d passages, first %q; want %d, the answering one first", len(ans.Retrieved), ans.Retrieved[0].Paragraph.Text, bot.DefaultTopK)
			}
		})
	}
}

// TestFallbackAnswersAsOffline checks that when the model fails, the
// answer is the one offline mode gives from the same retrieval, though the
// model was given passages from a deeper search.
func TestFallbackAnswersAsOffline(t *testing.T) {
	srv := openaifake.New()
	defer srv.Close()
	srv.Chat.Respond(func(openaifake.ChatRequest) openaifake.Response { return openaifake.Error(400, "no") })
	searchers := []struct {
		name string
		s    func(*testing.T) bot.Searcher
	}{
		{"shipped article", func(t *testing.T) bot.Searcher { return shippedIndex(t) }},
		{"an answer ranked 7th", func(*testing.T) bot.Searcher { return &fixedSearcher{results: seventhAnswers()} }},
	}
	questions := append([]string{"how much of israel's oil comes from azerbaijan"}, paraphrased...)
	for _, j := range judges(t) {
		for _, ss := range searchers {
			t.Run(j.name+"/"+ss.name, func(t *testing.T) {
				search := ss.s(t)
				offline := bot.New(search, j.cfg)
				cfg := j.cfg
				cfg.LLM = &bot.LLMConfig{BaseURL: srv.URL(), Model: "fake"}
				failing := bot.New(search, cfg)
				for _, q := range questions {
					want, err := offline.Answer(context.Background(), q, bot.Options{})
					if err != nil {
						t.Fatal(err)
					}
					got, err := failing.Answer(context.Background(), q, bot.Options{})
					if err != nil {
						t.Fatal(err)
					}
					if got.Refused != want.Refused || got.Text() != want.Text() {
						t.Errorf("%q with a failing model (asked %v): %q; offline: %q", q, got.Asked, got.Text(), want.Text())
					}
				}
			})
		}
	}
}

// seventhAnswers are seven passages of which only the last, ranked below
// DefaultTopK by retrieval, answers how much of Israel's oil comes from
// Azerbaijan.
func seventhAnswers() []retrieval.Result {
	texts := []string{
		"The weather in the capital was mild all week.",
		"A new museum opened near the old town square.",
		"The national football team lost its friendly match.",
		"Tourism grew after the new airport terminal opened.",
		"A film festival drew visitors from many countries.",
		"The railway line to the coast was repaired.",
		"Azerbaijan supplies about 60% of the oil that Israel needs.",
	}
	var rs []retrieval.Result
	for i, text := range texts {
		rel := 0.3
		if i == len(texts)-1 {
			rel = 0.2
		}
		rs = append(rs, retrieval.Result{Article: article, Paragraph: corpus.Paragraph{ID: fmt.Sprintf("a#%d", i+1), ArticleID: article.ID, N: i + 1, Text: text}, Relevance: rel})
	}
	return rs
}

// countingEncoder counts the calls to the encoder it wraps.
type countingEncoder struct {
	retrieval.Embedder
	calls *atomic.Int64
}

func (c countingEncoder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	c.calls.Add(1)
	return c.Embedder.Embed(ctx, texts)
}

// TestRetrievedCosinesStandForTheEncoder checks that when retrieval
// measured the sentences' cosines the answerer does not run its encoder,
// and judges and answers as the encoder would over the same passages.
func TestRetrievedCosinesStandForTheEncoder(t *testing.T) {
	var calls atomic.Int64
	cfg := bot.Config{Meaning: retrievaltest.Meaning(t), Encoder: countingEncoder{retrievaltest.Encoder(t), &calls}}
	ix := shippedIndex(t)
	a := bot.New(ix, cfg)
	for _, q := range append(slices.Clone(paraphrased), offCorpus...) {
		ans, err := a.Answer(context.Background(), q, bot.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if n := calls.Swap(0); n != 0 {
			t.Errorf("%q: the answerer ran its encoder %d times", q, n)
		}
		rs, err := ix.Search(context.Background(), q, retrieval.SearchOptions{K: bot.DefaultTopK})
		if err != nil {
			t.Fatal(err)
		}
		for i := range rs {
			rs[i].Sentences = nil
		}
		own, err := bot.New(&fixedSearcher{results: rs}, cfg).Answer(context.Background(), q, bot.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(ans.Judgement.Closeness-own.Judgement.Closeness) > 1e-4 || ans.Text() != own.Text() {
			t.Errorf("%q: closeness %.5f from retrieval, %.5f from the encoder\n%s\n%s",
				q, ans.Judgement.Closeness, own.Judgement.Closeness, ans.Text(), own.Text())
		}
		if calls.Swap(0) == 0 {
			t.Errorf("%q: without retrieval's cosines the encoder was not run", q)
		}
	}
}

// mean returns the mean of xs, 0 for none.
func mean(xs []float32) float64 {
	var sum float64
	for _, x := range xs {
		sum += float64(x)
	}
	return sum / float64(max(len(xs), 1))
}
