package eval

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/verbatim-bot/verbatim/bot"
	"github.com/verbatim-bot/verbatim/corpus"
	"github.com/verbatim-bot/verbatim/retrieval"
)

// AnswersOptions tune Answers.
type AnswersOptions struct {
	// Paragraph looks up a paragraph of the corpus by ID, so that quotes
	// are checked against the corpus itself rather than against the copy
	// an Answer carries (IndexParagraphs provides one); nil checks the
	// copy.
	Paragraph func(id string) (corpus.Paragraph, bool)
	// Progress, if not nil, is called after each question with the number
	// evaluated so far and the total.
	Progress func(done, total int)
	// Each, if not nil, is called with every question, its answer and
	// whether a shown quote holds a gold answer (or the evidence).
	Each func(q Question, ans *bot.Answer, hit bool)
}

// AnswersReport is the outcome of Answers. Each share is over the
// questions (or quotes, or citations) it applies to, and 0 when there are
// none; the counts beside it say how many there were.
type AnswersReport struct {
	Questions    int // questions asked
	Answerable   int
	Unanswerable int // including OffCorpus
	OffCorpus    int // unanswerable questions about nothing the corpus covers
	Generated    int // answers written by the LLM and verified
	Fallbacks    int // extractive answers given because the LLM failed (Answer.Note set)

	// Quotes is the number of quotes shown; QuoteExactness the share that
	// are, byte for byte, the text at their span of the cited paragraph.
	// Anything below 1 is a bug.
	Quotes         int
	QuoteExactness float64

	// AnswerInQuote is the share of answerable questions with gold answer
	// texts for which a shown quote contains one of them (compared after
	// corpus.Fold); refusals count as misses. WithAnswers is how many such
	// questions there were.
	AnswerInQuote float64
	WithAnswers   int
	// AnswerInPassages is the share of those questions for which one of
	// the passages the answer drew on (Answer.Retrieved: with a model,
	// what it read) contains a gold answer, refused or not: what a model
	// could have quoted.
	AnswerInPassages float64
	// EvidenceInQuote is the same for questions with an evidence string:
	// the share where a shown quote contains it. WithEvidence counts them.
	EvidenceInQuote float64
	WithEvidence    int

	// CitationPrecision is the share of cited sources, over answerable
	// questions with a known gold passage, that are a gold passage: the
	// gold paragraph (SQuAD) or one containing the evidence (seed
	// questions). GoldCited is the share of those questions whose gold
	// passage is among their sources. Citations counts the sources.
	CitationPrecision float64
	GoldCited         float64
	Citations         int

	// RefusalAccuracy is the share of unanswerable questions refused;
	// FalseRefusals the share of answerable ones refused;
	// OffCorpusRefused the share of off-corpus ones refused with no
	// sources.
	RefusalAccuracy  float64
	FalseRefusals    float64
	OffCorpusRefused float64

	// AskedAnswerable and AskedOffCorpus are the shares of answerable and
	// of off-corpus questions whose passages went to the language model
	// (0 without one).
	AskedAnswerable float64
	AskedOffCorpus  float64

	// Check sums what verification changed over all answers.
	Check bot.Check

	// P50 and P95 are percentiles of the whole Answer call; OverheadP50
	// and OverheadP95 of its time outside retrieval and the LLM call
	// (choosing, verifying and extracting quotes).
	// (They are left out of JSON: the CLI writes them in milliseconds.)
	P50, P95                 time.Duration `json:"-"`
	OverheadP50, OverheadP95 time.Duration `json:"-"`
}

// Answers asks a each question, one at a time so that latencies are not
// distorted by each other, and measures the answers. It fails if ctx is
// done or an answer fails (a bad question or a retrieval failure), naming
// the question.
func Answers(ctx context.Context, a *bot.Answerer, qs []Question, opts AnswersOptions) (AnswersReport, error) {
	var t answersTally
	for i, q := range qs {
		if err := ctx.Err(); err != nil {
			return t.rep, err
		}
		ans, err := a.Answer(ctx, q.Text, bot.Options{})
		if err != nil {
			return t.rep, fmt.Errorf("eval: question %s: %w", q.ID, err)
		}
		s := scoreAnswer(q, ans, opts.Paragraph)
		t.add(s)
		if opts.Each != nil {
			opts.Each(q, ans, s.answerInQuote || s.evidenceInQuote)
		}
		if opts.Progress != nil {
			opts.Progress(i+1, len(qs))
		}
	}
	return t.report(), nil
}

// answerScore is how one answer measures up against its question. The
// fields from withAnswers on are set for answerable questions only.
type answerScore struct {
	generated, fallback bool
	check               bot.Check
	total, overhead     time.Duration
	quotes, exact       int // quotes shown, and how many are exact

	answerable, refused, offCorpus, asked bool

	withAnswers, answerInQuote    bool
	answerInPassages              bool
	withEvidence, evidenceInQuote bool
	withGold, goldCited           bool
	citations, citedGold          int // sources, and how many are a gold passage
}

// scoreAnswer measures ans, the answer to q. lookup is
// AnswersOptions.Paragraph.
func scoreAnswer(q Question, ans *bot.Answer, lookup func(id string) (corpus.Paragraph, bool)) answerScore {
	generated := ans.Mode == bot.Generated && !ans.Refused
	s := answerScore{
		generated:  generated,
		fallback:   !generated && ans.Note != "",
		check:      ans.Check,
		total:      ans.Timings.Total,
		overhead:   ans.Timings.Total - ans.Timings.Retrieval - ans.Timings.LLM,
		answerable: q.Answerable,
		refused:    ans.Refused && len(ans.Sources) == 0,
		offCorpus:  q.OffCorpus,
		asked:      ans.Asked,
	}
	var shown []string
	s.quotes, s.exact, shown = scoreQuotes(ans.Sources, lookup)
	if !q.Answerable {
		return s
	}
	if len(q.Answers) > 0 {
		s.withAnswers = true
		s.answerInQuote = slices.ContainsFunc(q.Answers, func(g string) bool { return anyContains(shown, g) })
		read := make([]string, len(ans.Retrieved))
		for i, r := range ans.Retrieved {
			read[i] = corpus.FoldString(r.Paragraph.Text)
		}
		s.answerInPassages = slices.ContainsFunc(q.Answers, func(g string) bool { return anyContains(read, g) })
	}
	if q.Evidence != "" {
		s.withEvidence = true
		s.evidenceInQuote = anyContains(shown, q.Evidence)
	}
	if gold := goldPassage(q); gold != nil {
		s.withGold = true
		s.citations = len(ans.Sources)
		s.citedGold = countGold(ans.Sources, gold)
		s.goldCited = s.citedGold > 0
	}
	return s
}

// scoreQuotes counts the quotes shown in sources and those that are exact,
// and returns them folded for matching against gold texts. lookup, if not
// nil, supplies the corpus's own copy of each cited paragraph.
func scoreQuotes(sources []bot.Source, lookup func(id string) (corpus.Paragraph, bool)) (quotes, exact int, shown []string) {
	for _, src := range sources {
		para := src.Paragraph
		if lookup != nil {
			para, _ = lookup(src.Paragraph.ID)
		}
		for _, quote := range src.Quotes {
			quotes++
			if quoteExact(quote, para) {
				exact++
			}
			shown = append(shown, corpus.FoldString(quote.Text))
		}
	}
	return quotes, exact, shown
}

// quoteExact reports whether quote is non-empty and, byte for byte, the
// text at its span of para.
func quoteExact(quote bot.Quote, para corpus.Paragraph) bool {
	sp := quote.Span
	return sp.Start >= 0 && sp.Start <= sp.End && sp.End <= len(para.Text) &&
		para.Text[sp.Start:sp.End] == quote.Text && quote.Text != ""
}

// countGold returns how many of sources are a gold passage.
func countGold(sources []bot.Source, gold func(corpus.Paragraph) bool) int {
	n := 0
	for _, src := range sources {
		if gold(src.Paragraph) {
			n++
		}
	}
	return n
}

// answersTally accumulates answer scores into a report. rep holds the
// counts as they go, so that a failed run still returns them; report adds
// the shares and percentiles.
type answersTally struct {
	rep             AnswersReport
	total, overhead []time.Duration

	exact, inQuote, inPassages, withEvidence int
	refusedAnswerable, refusedUnanswerable   int
	refusedOffCorpus                         int
	askedAnswerable, askedOffCorpus          int
	goldQuestions, goldCited, citedGold      int
}

// add counts one answer's score.
func (t *answersTally) add(s answerScore) {
	rep := &t.rep
	rep.Questions++
	t.total = append(t.total, s.total)
	t.overhead = append(t.overhead, s.overhead)
	rep.Generated += b2i(s.generated)
	rep.Fallbacks += b2i(s.fallback)
	addCheck(&rep.Check, s.check)
	rep.Quotes += s.quotes
	t.exact += s.exact
	if !s.answerable {
		rep.Unanswerable++
		t.refusedUnanswerable += b2i(s.refused)
		if s.offCorpus {
			rep.OffCorpus++
			t.refusedOffCorpus += b2i(s.refused)
			t.askedOffCorpus += b2i(s.asked)
		}
		return
	}
	rep.Answerable++
	t.refusedAnswerable += b2i(s.refused)
	t.askedAnswerable += b2i(s.asked)
	rep.WithAnswers += b2i(s.withAnswers)
	t.inQuote += b2i(s.answerInQuote)
	t.inPassages += b2i(s.answerInPassages)
	rep.WithEvidence += b2i(s.withEvidence)
	t.withEvidence += b2i(s.evidenceInQuote)
	t.goldQuestions += b2i(s.withGold)
	rep.Citations += s.citations
	t.citedGold += s.citedGold
	t.goldCited += b2i(s.goldCited)
}

// report returns the report with its shares and latency percentiles
// filled in.
func (t *answersTally) report() AnswersReport {
	rep := t.rep
	rep.QuoteExactness = share(t.exact, rep.Quotes)
	rep.AnswerInQuote = share(t.inQuote, rep.WithAnswers)
	rep.AnswerInPassages = share(t.inPassages, rep.WithAnswers)
	rep.EvidenceInQuote = share(t.withEvidence, rep.WithEvidence)
	rep.CitationPrecision = share(t.citedGold, rep.Citations)
	rep.GoldCited = share(t.goldCited, t.goldQuestions)
	rep.RefusalAccuracy = share(t.refusedUnanswerable, rep.Unanswerable)
	rep.FalseRefusals = share(t.refusedAnswerable, rep.Answerable)
	rep.OffCorpusRefused = share(t.refusedOffCorpus, rep.OffCorpus)
	rep.AskedAnswerable = share(t.askedAnswerable, rep.Answerable)
	rep.AskedOffCorpus = share(t.askedOffCorpus, rep.OffCorpus)
	if len(t.total) > 0 {
		slices.Sort(t.total)
		slices.Sort(t.overhead)
		rep.P50, rep.P95 = percentile(t.total, 50), percentile(t.total, 95)
		rep.OverheadP50, rep.OverheadP95 = percentile(t.overhead, 50), percentile(t.overhead, 95)
	}
	return rep
}

// b2i returns 1 for true and 0 for false, for counting.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// IndexParagraphs returns a lookup of the paragraphs ix serves by ID, for
// AnswersOptions.Paragraph.
func IndexParagraphs(ix *retrieval.Index) func(id string) (corpus.Paragraph, bool) {
	return func(id string) (corpus.Paragraph, bool) {
		i := strings.LastIndexByte(id, '#')
		if i < 0 {
			return corpus.Paragraph{}, false
		}
		a, ok := ix.Article(id[:i])
		if !ok {
			return corpus.Paragraph{}, false
		}
		for _, p := range a.Paragraphs {
			if p.ID == id {
				return p, true
			}
		}
		return corpus.Paragraph{}, false
	}
}

// goldPassage returns the test for q's gold passage: paragraph ParagraphN
// of the article corpus.Slug(ArticleID) when q names one, else any
// paragraph containing q's evidence; nil when q has neither.
func goldPassage(q Question) func(corpus.Paragraph) bool {
	switch {
	case q.ArticleID != "" && q.ParagraphN > 0:
		id := corpus.Slug(q.ArticleID) + "#" + strconv.Itoa(q.ParagraphN)
		return func(p corpus.Paragraph) bool { return p.ID == id }
	case q.Evidence != "":
		return func(p corpus.Paragraph) bool {
			_, ok := corpus.Find(p.Text, q.Evidence)
			return ok
		}
	}
	return nil
}

// anyContains reports whether one of the folded texts contains s, folded.
func anyContains(folded []string, s string) bool {
	f := corpus.FoldString(s)
	if f == "" {
		return false
	}
	return slices.ContainsFunc(folded, func(t string) bool { return strings.Contains(t, f) })
}

func addCheck(sum *bot.Check, c bot.Check) {
	sum.Kept += c.Kept
	sum.Repaired += c.Repaired
	sum.Reattributed += c.Reattributed
	sum.Dropped += c.Dropped
	sum.MarkersRemoved += c.MarkersRemoved
	sum.Uncited += c.Uncited
}

func share(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}
