package retrieval

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/verbatim-bot/verbatim/retrieval/static"
)

// fusion tunes how Search merges the vector and keyword rankings: a
// passage at rank r (1-based) in a ranking earns weight/(K + r) from it
// (reciprocal-rank fusion). Depth candidates are taken from each ranking.
type fusion struct {
	K               float64
	Vector, Keyword float64 // weights of the vector and keyword rankings
	MinDepth        int     // candidates per ranking: max(MinDepth, DepthPerK·k)
	DepthPerK       int
	// Proximity weighs the bonus that reorders the keyword candidates
	// whose text has the query's adjacent terms next to each other.
	Proximity float32
	// Rerank fused candidates, from the best, are reordered by adding
	// Sentence times their sentence evidence (see evidence) to their
	// fused score: an answer usually sits in one sentence, so a passage
	// holding the question's terms together in one beats one that has them
	// scattered.
	Rerank   int
	Sentence float64
	// Nearest weighs the ranking of passages by their sentence nearest the
	// query (see Config.SentenceEncoder).
	Nearest float64
}

// rerankDepth and sentenceWeight reorder the offline embedder's best fused
// candidates by sentence evidence, as calibrated on SQuAD tuning questions
// (BENCHMARKS.md, "Sentence evidence").
const (
	rerankDepth    = 20
	sentenceWeight = 0.2
)

// DefaultSentenceWeight is Config.SentenceWeight's default, calibrated
// with the minilm encoder and the offline embedder on the natural tuning
// questions (BENCHMARKS.md, "Passages by their nearest sentence").
const DefaultSentenceWeight = 0.3

// apiFusionWeight is the vector weight for other (API) embedders, at
// K 60: with real all-MiniLM-L6-v2 embeddings 0.3 ranked better than equal
// weights (BENCHMARKS.md, "A real small model").
const apiFusionWeight = 0.3

// staticFusionK and staticFusionWeight fuse the static (distilled
// MiniLM) embedder's ranking with BM25F, as calibrated on the natural and
// SQuAD tuning questions (BENCHMARKS.md, "Calibration").
const (
	staticFusionK      = 5
	staticFusionWeight = 0.2
)

// fusionFor returns the fusion an Index uses for embedder emb. The local
// embedder's hashed lexical vectors mostly repeat what BM25 knows, so its
// ranking only breaks near-ties: a low weight and a small K (measured in
// BENCHMARKS.md, "Calibration"). Other (API) embedders are fused at K = 60
// with apiFusionWeight. Only the offline default reorders its best
// candidates by sentence evidence, the weight being calibrated at its K.
// vectorWeight > 0 overrides the weight; nearestWeight > 0 that of the
// sentence encoder's ranking, when there is one.
func fusionFor(emb Embedder, vectorWeight, nearestWeight float64) fusion {
	f := fusion{K: 60, Vector: apiFusionWeight, Keyword: 1, MinDepth: 40, DepthPerK: 4, Proximity: 0.5,
		Nearest: DefaultSentenceWeight}
	if nearestWeight > 0 {
		f.Nearest = nearestWeight
	}
	switch emb.(type) {
	case *LocalEmbedder:
		f.K, f.Vector = 5, 0.1
	case *static.Embedder, *Joint:
		f.K, f.Vector = staticFusionK, staticFusionWeight
		f.Rerank, f.Sentence = rerankDepth, sentenceWeight
	}
	if vectorWeight > 0 {
		f.Vector = vectorWeight
	}
	return f
}

// Search returns the opts.K passages that best answer query, best first.
// It fuses by reciprocal rank two rankings of candidates: by cosine
// similarity of embeddings (chromem-go over the whole index; a direct scan
// within one article when opts.ArticleID is set), and by BM25F over the
// passage text and its article title, where candidates whose text also
// has adjacent query terms next to each other move up (a proximity bonus).
// Each Result carries the raw scores and an absolute Relevance, computed
// for the returned results only.
func (ix *Index) Search(ctx context.Context, query string, opts SearchOptions) ([]Result, error) {
	s := ix.snap.Load()
	if s == nil {
		return nil, ErrNotLoaded
	}
	return ix.search(ctx, s, query, opts, ix.fusion)
}

// passages returns the range [lo, hi) of the passages of article id, or
// of all passages when id is "", within collection when it is not "".
func (s *snapshot) passages(id, collection string) (lo, hi int32, err error) {
	lo, hi = 0, int32(len(s.paras))
	if collection != "" {
		r, ok := s.collections[collection]
		if !ok {
			return 0, 0, fmt.Errorf("%w: %q", ErrUnknownCollection, collection)
		}
		lo, hi = r[0], r[1]
	}
	if id == "" {
		return lo, hi, nil
	}
	a, ok := s.byID[id]
	if !ok || collection != "" && s.articles[a].Collection() != collection {
		return 0, 0, fmt.Errorf("%w: %q", ErrUnknownArticle, id)
	}
	return s.first[a], s.first[a+1], nil
}

// vectorRanking returns the query's vector and the passages in [lo, hi)
// nearest it. When the query cannot be embedded (the embedding server is
// down, say) and ctx is not done, it returns neither, so that Search still
// answers from the keyword index.
func (ix *Index) vectorRanking(ctx context.Context, s *snapshot, query string, lo, hi int32, depth int) ([]float32, []int32, error) {
	qv, err := ix.embedQuery(ctx, query)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, fmt.Errorf("retrieval: embedding the query: %w", err)
		}
		ix.log.Warn("embedding the query failed; searching by keywords alone", "err", err)
		return nil, nil, nil
	}
	rank, err := s.nearest(ctx, qv, lo, hi, depth)
	if err != nil {
		return nil, nil, fmt.Errorf("retrieval: vector search: %w", err)
	}
	return qv, rank, nil
}

// search is Search on snapshot s with fusion f.
func (ix *Index) search(ctx context.Context, s *snapshot, query string, opts SearchOptions, f fusion) ([]Result, error) {
	query = strings.TrimSpace(query)
	if query == "" {
		return nil, ErrEmptyQuery
	}
	k := opts.K
	if k <= 0 {
		k = 5
	}
	lo, hi, err := s.passages(opts.ArticleID, opts.Collection)
	if err != nil {
		return nil, err
	}
	depth := max(f.MinDepth, f.DepthPerK*k)
	near := ix.sentenceRankingAsync(ctx, s, query, lo, hi, depth)
	qv, vecRank, err := ix.vectorRanking(ctx, s, query, lo, hi, depth)
	n := <-near
	if err != nil {
		return nil, err
	}
	if n.err != nil {
		return nil, n.err
	}
	nearRank, cos := n.rank, n.cos

	qterms := Terms(query)
	qs := s.kw.lookup(qterms)
	sc := s.pool.Get().(*bm25Scratch)
	defer func() {
		sc.reset()
		s.pool.Put(sc)
	}()
	s.kw.score(qs, lo, hi, sc)
	kwRank := sc.top(depth)
	if f.Proximity > 0 {
		seq := s.kw.sequence(qterms)
		boosted := make(map[int32]float32, len(kwRank))
		for _, d := range kwRank {
			boosted[d] = sc.score[d] + f.Proximity*s.kw.proximity(seq, d)
		}
		slices.SortStableFunc(kwRank, func(a, b int32) int { return cmp.Compare(boosted[b], boosted[a]) })
	}

	fused := make(map[int32]float64, len(vecRank)+len(kwRank)+len(nearRank))
	for r, d := range vecRank {
		fused[d] += f.Vector / (f.K + float64(r+1))
	}
	for r, d := range kwRank {
		fused[d] += f.Keyword / (f.K + float64(r+1))
	}
	for r, d := range nearRank {
		fused[d] += f.Nearest / (f.K + float64(r+1))
	}
	order := make([]int32, 0, len(fused))
	for d := range fused {
		order = append(order, d)
	}
	slices.SortFunc(order, func(a, b int32) int {
		return cmp.Or(cmp.Compare(fused[b], fused[a]), cmp.Compare(sc.score[b], sc.score[a]), cmp.Compare(a, b))
	})
	if f.Rerank > 0 && f.Sentence > 0 {
		s.rerank(qs, order[:min(f.Rerank, len(order))], fused, f.Sentence)
	}
	order = order[:min(k, len(order))]

	out := make([]Result, len(order))
	for i, d := range order {
		out[i] = Result{
			Paragraph:   *s.paras[d],
			Article:     &s.articles[s.art[d]],
			Rank:        i + 1,
			Fused:       fused[d],
			Keyword:     float64(sc.score[d]),
			Relevance:   s.kw.relevance(qs, d),
			KeywordOnly: qv == nil,
		}
		if qv != nil && s.vecs[d] != nil {
			out[i].Vector = float64(dot(qv, s.vecs[d]))
		}
		if cos != nil {
			out[i].Sentences = cos[d-lo]
		}
	}
	s.setTopicality(out, order, cos, lo, hi)
	return out, nil
}

// setTopicality sets the Topicality of each result (of passage order[i])
// that has sentence cosines, from cos (those of the passages [lo, hi)),
// once per article.
func (s *snapshot) setTopicality(out []Result, order []int32, cos [][]float32, lo, hi int32) {
	byArticle := make(map[int32]float64)
	for i, d := range order {
		if out[i].Sentences == nil {
			continue
		}
		a := s.art[d]
		t, ok := byArticle[a]
		if !ok {
			t = s.topicality(cos, lo, hi, a)
			byArticle[a] = t
		}
		out[i].Topicality = t
	}
}

// topicality returns the mean of the sentence cosines cos (of the
// passages [lo, hi)) over the passages of article a.
func (s *snapshot) topicality(cos [][]float32, lo, hi, a int32) float64 {
	var sum float64
	n := 0
	for _, c := range cos[max(s.first[a], lo)-lo : min(s.first[a+1], hi)-lo] {
		for _, x := range c {
			sum += float64(x)
		}
		n += len(c)
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// rerank adds weight times the sentence evidence of each passage in top
// (the best fused candidates) to its fused score and reorders top by it.
func (s *snapshot) rerank(qs []queryTerm, top []int32, fused map[int32]float64, weight float64) {
	q := make(map[int32]float64, len(qs))
	var all float64
	for _, t := range qs {
		all += float64(t.idf)
		if t.id >= 0 {
			q[t.id] = float64(t.idf)
		}
	}
	for _, d := range top {
		ev := evidence(q, all, s.kw.titleTerms(s.articles[s.art[d]].Title), s.kw.sentences(d, s.paras[d].Text))
		fused[d] += weight * ev
	}
	slices.SortStableFunc(top, func(a, b int32) int { return cmp.Compare(fused[b], fused[a]) })
}

// evidence is the largest share of the query terms' weight all that one
// sentence holds (q maps the index's term ids to their weights); a term of
// the article's title counts as held by every sentence, the title being
// the context of each. It is 0 for a query of no weight.
func evidence(q map[int32]float64, all float64, title []int32, sentences [][]int32) float64 {
	if all == 0 {
		return 0
	}
	held := make(map[int32]bool, len(q))
	var inTitle float64
	for _, t := range title {
		if w, ok := q[t]; ok && !held[t] {
			held[t] = true
			inTitle += w
		}
	}
	best := inTitle
	seen := make(map[int32]bool, len(q))
	for _, sent := range sentences {
		clear(seen)
		have := inTitle
		for _, t := range sent {
			if w, ok := q[t]; ok && !held[t] && !seen[t] {
				seen[t] = true
				have += w
			}
		}
		best = max(best, have)
	}
	return best / all
}

// nearest returns up to n passages in [lo, hi) by decreasing cosine
// similarity to the normalised vector qv: from the vector index for the
// whole index, or by scanning the few vectors of one article.
func (s *snapshot) nearest(ctx context.Context, qv []float32, lo, hi int32, n int) ([]int32, error) {
	if lo > 0 || int(hi) < len(s.paras) {
		type sim struct {
			d   int32
			cos float32
		}
		var sims []sim
		for d := lo; d < hi; d++ {
			if s.vecs[d] != nil {
				sims = append(sims, sim{d, dot(qv, s.vecs[d])})
			}
		}
		slices.SortFunc(sims, func(a, b sim) int { return cmp.Or(cmp.Compare(b.cos, a.cos), cmp.Compare(a.d, b.d)) })
		out := make([]int32, 0, min(n, len(sims)))
		for _, x := range sims[:min(n, len(sims))] {
			out = append(out, x.d)
		}
		return out, nil
	}
	ids, err := s.vec.nearest(ctx, qv, n)
	if err != nil {
		return nil, err
	}
	out := make([]int32, len(ids))
	for i, id := range ids {
		out[i] = s.byPID[id]
	}
	return out, nil
}
