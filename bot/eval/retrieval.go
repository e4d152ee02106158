package eval

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/verbatim-bot/verbatim/corpus"
	"github.com/verbatim-bot/verbatim/retrieval"
)

// RetrievalOptions tune Retrieval.
type RetrievalOptions struct {
	// Progress, if not nil, is called after each question with the number
	// evaluated so far and the total.
	Progress func(done, total int)
}

// RetrievalReport is the outcome of Retrieval.
type RetrievalReport struct {
	Paragraphs int // paragraphs in the index
	Questions  int // questions evaluated
	// Skipped counts questions with nothing to find: unanswerable, or with
	// neither a gold paragraph nor evidence.
	Skipped int
	// Missing counts evaluated questions whose gold article or paragraph
	// is not in the index (for example, articles loaded from another
	// file); they count as misses.
	Missing int
	// RecallAt1, RecallAt5 and RecallAt10 are the shares of evaluated
	// questions whose gold passage ranks in the top 1, 5 and 10.
	RecallAt1, RecallAt5, RecallAt10 float64
	// MRR is the mean reciprocal rank of the gold passage within the top
	// 10 (0 for a question whose gold passage ranks lower).
	MRR float64
	// P50 and P95 are percentiles of the per-question Search latency
	// (left out of JSON: the CLI writes them in milliseconds).
	P50, P95 time.Duration `json:"-"`
}

// depth is how many results each question retrieves: enough for recall@10.
const depth = 10

// Retrieval runs each question through ix.Search and measures where its
// gold passage ranks. The gold passage is paragraph ParagraphN of the
// article with ID corpus.Slug(ArticleID) (the ID corpus.Load gives a JSONL
// article) when the question names one; otherwise, for an answerable
// question with Evidence, any passage that contains the evidence
// (corpus.Find). Questions run one at a time so that latencies are not
// distorted by each other.
func Retrieval(ctx context.Context, ix *retrieval.Index, qs []Question, opts RetrievalOptions) (RetrievalReport, error) {
	rep := RetrievalReport{Paragraphs: ix.Len()}
	var lat []time.Duration
	var hits1, hits5, hits10, rr float64
	for i, q := range qs {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		gold, missing, ok := goldOf(ix, q)
		if !ok {
			rep.Skipped++
			if opts.Progress != nil {
				opts.Progress(i+1, len(qs))
			}
			continue
		}
		rep.Questions++
		if missing {
			rep.Missing++
		}
		start := time.Now()
		res, err := ix.Search(ctx, q.Text, retrieval.SearchOptions{K: depth})
		if err != nil {
			return rep, fmt.Errorf("eval: question %s: %w", q.ID, err)
		}
		lat = append(lat, time.Since(start))
		for rank, r := range res {
			if !missing && gold(r.Paragraph) {
				if rank < 1 {
					hits1++
				}
				if rank < 5 {
					hits5++
				}
				hits10++
				rr += 1 / float64(rank+1)
				break
			}
		}
		if opts.Progress != nil {
			opts.Progress(i+1, len(qs))
		}
	}
	if rep.Questions > 0 {
		n := float64(rep.Questions)
		rep.RecallAt1, rep.RecallAt5, rep.RecallAt10, rep.MRR = hits1/n, hits5/n, hits10/n, rr/n
		slices.Sort(lat)
		rep.P50 = percentile(lat, 50)
		rep.P95 = percentile(lat, 95)
	}
	return rep, nil
}

// goldOf returns the test for q's gold passage; missing when the index
// cannot contain it, and ok false when q has nothing to find.
func goldOf(ix *retrieval.Index, q Question) (gold func(corpus.Paragraph) bool, missing, ok bool) {
	switch {
	case !q.Answerable:
		return nil, false, false
	case q.ArticleID != "" && q.ParagraphN > 0:
		a, found := ix.Article(corpus.Slug(q.ArticleID))
		id := corpus.Slug(q.ArticleID) + "#" + strconv.Itoa(q.ParagraphN)
		missing = !found || !slices.ContainsFunc(a.Paragraphs, func(p corpus.Paragraph) bool { return p.ID == id })
		return func(p corpus.Paragraph) bool { return p.ID == id }, missing, true
	case q.Evidence != "":
		return func(p corpus.Paragraph) bool {
			_, found := corpus.Find(p.Text, q.Evidence)
			return found
		}, false, true
	}
	return nil, false, false
}

// percentile returns the p-th percentile of sorted (nearest rank).
func percentile(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p + 99) / 100
	return sorted[max(0, min(i, len(sorted))-1)]
}
