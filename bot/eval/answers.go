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
}

// AnswersReport is the outcome of Answers. Each share is over the
// questions (or quotes, or citations) it applies to, and 0 when there are
// none; the counts beside it say how many there were.
type AnswersReport struct {
	Questions    int // questions asked
	Answerable   int
	Unanswerable int
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
	// FalseRefusals the share of answerable ones refused.
	RefusalAccuracy float64
	FalseRefusals   float64

	// Check sums what verification changed over all answers.
	Check bot.Check

	// P50 and P95 are percentiles of the whole Answer call; OverheadP50
	// and OverheadP95 of its time outside retrieval and the LLM call
	// (choosing, verifying and extracting quotes).
	P50, P95                 time.Duration
	OverheadP50, OverheadP95 time.Duration
}

// Answers asks a each question, one at a time so that latencies are not
// distorted by each other, and measures the answers. It fails if ctx is
// done or an answer fails (a bad question or a retrieval failure), naming
// the question.
func Answers(ctx context.Context, a *bot.Answerer, qs []Question, opts AnswersOptions) (AnswersReport, error) {
	var rep AnswersReport
	var total, overhead []time.Duration
	var exact, inQuote, withEvidence, refusedAnswerable, refusedUnanswerable int
	var goldQuestions, goldCited, citedGold int
	for i, q := range qs {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		ans, err := a.Answer(ctx, q.Text, bot.Options{})
		if err != nil {
			return rep, fmt.Errorf("eval: question %s: %w", q.ID, err)
		}
		rep.Questions++
		total = append(total, ans.Timings.Total)
		overhead = append(overhead, ans.Timings.Total-ans.Timings.Retrieval-ans.Timings.LLM)
		switch {
		case ans.Mode == bot.Generated && !ans.Refused:
			rep.Generated++
		case ans.Note != "":
			rep.Fallbacks++
		}
		addCheck(&rep.Check, ans.Check)

		var shown []string // folded quotes
		for _, src := range ans.Sources {
			para := src.Paragraph
			if opts.Paragraph != nil {
				para, _ = opts.Paragraph(src.Paragraph.ID)
			}
			for _, quote := range src.Quotes {
				rep.Quotes++
				if quote.Span.Start >= 0 && quote.Span.Start <= quote.Span.End && quote.Span.End <= len(para.Text) &&
					para.Text[quote.Span.Start:quote.Span.End] == quote.Text && quote.Text != "" {
					exact++
				}
				f := corpus.FoldString(quote.Text)
				shown = append(shown, f)
			}
		}

		if !q.Answerable {
			rep.Unanswerable++
			if ans.Refused {
				refusedUnanswerable++
			}
			if opts.Progress != nil {
				opts.Progress(i+1, len(qs))
			}
			continue
		}
		rep.Answerable++
		if ans.Refused {
			refusedAnswerable++
		}
		if len(q.Answers) > 0 {
			rep.WithAnswers++
			if slices.ContainsFunc(q.Answers, func(g string) bool { return anyContains(shown, g) }) {
				inQuote++
			}
		}
		if q.Evidence != "" {
			rep.WithEvidence++
			if anyContains(shown, q.Evidence) {
				withEvidence++
			}
		}
		if gold := goldPassage(q); gold != nil {
			goldQuestions++
			found := false
			for _, src := range ans.Sources {
				rep.Citations++
				if gold(src.Paragraph) {
					citedGold++
					found = true
				}
			}
			if found {
				goldCited++
			}
		}
		if opts.Progress != nil {
			opts.Progress(i+1, len(qs))
		}
	}
	rep.QuoteExactness = share(exact, rep.Quotes)
	rep.AnswerInQuote = share(inQuote, rep.WithAnswers)
	rep.EvidenceInQuote = share(withEvidence, rep.WithEvidence)
	rep.CitationPrecision = share(citedGold, rep.Citations)
	rep.GoldCited = share(goldCited, goldQuestions)
	rep.RefusalAccuracy = share(refusedUnanswerable, rep.Unanswerable)
	rep.FalseRefusals = share(refusedAnswerable, rep.Answerable)
	if len(total) > 0 {
		slices.Sort(total)
		slices.Sort(overhead)
		rep.P50, rep.P95 = percentile(total, 50), percentile(total, 95)
		rep.OverheadP50, rep.OverheadP95 = percentile(overhead, 50), percentile(overhead, 95)
	}
	return rep, nil
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
}

func share(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}
