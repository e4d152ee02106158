package retrieval

import (
	"bytes"
	"cmp"
	"context"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/verbatim-bot/verbatim/corpus"
)

// quoteText is every passage's text, cheaply normalised and concatenated,
// for finding the few passages that can contain a quote before matching it
// exactly with corpus.Find. Normalising lowercases every rune
// (unicode.ToLower, as corpus.Fold does) and drops the invisible characters
// corpus.Fold drops; passages are separated by '\n'. Any run of letters and
// digits in a folded phrase therefore occurs in the normalised text of
// every passage that contains the phrase.
type quoteText struct {
	text  []byte
	start []int32 // passage i is text[start[i] : start[i+1]-1]
}

func newQuoteText(paras []*corpus.Paragraph) quoteText {
	n := 0
	for _, p := range paras {
		n += len(p.Text) + 1
	}
	q := quoteText{text: make([]byte, 0, n), start: make([]int32, 0, len(paras)+1)}
	for _, p := range paras {
		q.start = append(q.start, int32(len(q.text)))
		t := p.Text
		for i := 0; i < len(t); {
			c := t[i]
			if c < utf8.RuneSelf {
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				q.text = append(q.text, c)
				i++
				continue
			}
			r, size := utf8.DecodeRuneInString(t[i:])
			if !isInvisible(r) {
				q.text = utf8.AppendRune(q.text, unicode.ToLower(r))
			}
			i += size
		}
		q.text = append(q.text, '\n')
	}
	q.start = append(q.start, int32(len(q.text)))
	return q
}

// runs returns the maximal runs of letters and digits in s, longest first.
func runs(s string) [][]byte {
	var out [][]byte
	for _, r := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		out = append(out, []byte(r))
	}
	slices.SortStableFunc(out, func(a, b []byte) int { return len(b) - len(a) })
	return out
}

// candidates returns the passages in [lo, hi) whose normalised text
// contains every one of runs (longest first, at least one), in passage
// order.
func (q *quoteText) candidates(runs [][]byte, lo, hi int32) []int32 {
	var out []int32
	base := q.start[lo]
	text := q.text[base:q.start[hi]]
	for off := 0; off < len(text); {
		i := bytes.Index(text[off:], runs[0])
		if i < 0 {
			break
		}
		d := lo + int32(sortSearch(q.start[lo:hi+1], base+int32(off+i)))
		para := q.text[q.start[d] : q.start[d+1]-1]
		ok := true
		for _, r := range runs[1:] {
			if !bytes.Contains(para, r) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, d)
		}
		off = int(q.start[d+1] - base)
	}
	return out
}

// sortSearch returns the index i of the last start[i] <= at.
func sortSearch(start []int32, at int32) int {
	i, found := slices.BinarySearch(start, at)
	if found {
		return i
	}
	return i - 1
}

// Quote finds the passages that contain phrase, compared as corpus.Find
// does (ignoring case, white-space runs, and straight versus typographic
// quotes, dashes and ellipses): one hit per passage, at the first match,
// ordered by the passages' keyword score for the phrase. When no passage
// contains it, Quote returns the sentences closest to it (corpus.Similarity)
// among the passages that hybrid search ranks highest for it, with
// Exact false.
func (ix *Index) Quote(ctx context.Context, phrase string, opts QuoteOptions) ([]QuoteHit, error) {
	folded := corpus.FoldString(phrase)
	rs := runs(folded)
	if len(rs) == 0 {
		return nil, ErrEmptyQuery
	}
	s := ix.snap.Load()
	if s == nil {
		return nil, ErrNotLoaded
	}
	k := opts.K
	if k <= 0 {
		k = 5
	}
	lo, hi, err := s.passages(opts.ArticleID, opts.Collection)
	if err != nil {
		return nil, err
	}
	if hits := s.exact(folded, rs, lo, hi, k); len(hits) > 0 {
		return hits, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return ix.closest(ctx, s, phrase, opts.ArticleID, opts.Collection, k)
}

// exact returns up to k passages in [lo, hi) that contain the folded
// phrase, best keyword score first.
func (s *snapshot) exact(folded string, runs [][]byte, lo, hi int32, k int) []QuoteHit {
	cands := s.quotes.candidates(runs, lo, hi)
	if len(cands) == 0 {
		return nil
	}
	qs := s.kw.lookup(Terms(folded))
	sc := s.pool.Get().(*bm25Scratch)
	defer func() {
		sc.reset()
		s.pool.Put(sc)
	}()
	s.kw.score(qs, lo, hi, sc)
	slices.SortStableFunc(cands, func(a, b int32) int { return cmp.Compare(sc.score[b], sc.score[a]) })

	var hits []QuoteHit
	for _, d := range cands {
		p := s.paras[d]
		span, ok := corpus.NewFolded(p.Text).Find(folded)
		if !ok {
			continue
		}
		hits = append(hits, QuoteHit{
			Paragraph:  *p,
			Article:    &s.articles[s.art[d]],
			Span:       span,
			Text:       p.Text[span.Start:span.End],
			Exact:      true,
			Similarity: 1,
		})
		if len(hits) == k {
			break
		}
	}
	return hits
}

// fuzzyPassages is how many top search results Quote reads sentences from
// when no passage contains the phrase.
const fuzzyPassages = 20

// closest returns the k sentences most similar to phrase among the top
// hybrid-search passages for it. A sentence's similarity is the larger of
// corpus.Similarity with the whole sentence and with its best window of as
// many words as the phrase has, so a fragment of a long sentence with a
// changed word still ranks that sentence first.
func (ix *Index) closest(ctx context.Context, s *snapshot, phrase, articleID, collection string, k int) ([]QuoteHit, error) {
	res, err := ix.search(ctx, s, phrase, SearchOptions{K: max(fuzzyPassages, k), ArticleID: articleID, Collection: collection}, ix.fusion)
	if err != nil {
		return nil, err
	}
	n := len(corpus.Words(phrase))
	type scored struct {
		hit  QuoteHit
		rank int
	}
	var hits []scored
	for _, r := range res {
		text := r.Paragraph.Text
		for _, sp := range corpus.Sentences(text) {
			sent := text[sp.Start:sp.End]
			sim := max(corpus.Similarity(phrase, sent), windowSimilarity(phrase, sent, n))
			if sim == 0 {
				continue
			}
			hits = append(hits, scored{QuoteHit{
				Paragraph:  r.Paragraph,
				Article:    r.Article,
				Span:       sp,
				Text:       sent,
				Similarity: sim,
			}, r.Rank})
		}
	}
	slices.SortStableFunc(hits, func(a, b scored) int {
		return cmp.Or(cmp.Compare(b.hit.Similarity, a.hit.Similarity), cmp.Compare(a.rank, b.rank))
	})
	out := make([]QuoteHit, 0, min(k, len(hits)))
	for _, h := range hits[:min(k, len(hits))] {
		out = append(out, h.hit)
	}
	return out, nil
}

// windowSimilarity is the best corpus.Similarity of phrase with a run of n
// consecutive words of sentence, or 0 when the sentence has no more than
// n+1 words (the whole-sentence similarity covers that case).
func windowSimilarity(phrase, sentence string, n int) float64 {
	words := corpus.Words(sentence)
	if n == 0 || len(words) <= n+1 {
		return 0
	}
	best := 0.0
	for i := 0; i+n <= len(words); i++ {
		best = max(best, corpus.Similarity(phrase, strings.Join(words[i:i+n], " ")))
	}
	return best
}
