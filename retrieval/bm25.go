package retrieval

import (
	"math"
	"slices"
	"sync"

	"github.com/verbatim-bot/verbatim/corpus"
)

// bm25Params tune the keyword index.
type bm25Params struct {
	K1 float64 // term-frequency saturation
	B  float64 // length normalisation
	// TitleWeight is how much one occurrence of a term in the article
	// title counts relative to one in the passage (BM25F).
	TitleWeight float64
}

// defaultBM25 was tuned on the SQuAD dev questions with BenchmarkRecall
// (BENCHMARKS.md, "Calibration").
var defaultBM25 = bm25Params{K1: 0.7, B: 0.5, TitleWeight: 2}

// bm25 is an immutable BM25F keyword index over a snapshot's passages. Each
// passage is a document with two fields, its text and its article's title:
// a term's frequency is tf(text) + TitleWeight·tf(title) and the document
// length is len(text) + TitleWeight·len(title), in terms.
//
// Postings are stored compactly (CSR): the documents containing term t are
// docs[start[t]:start[t+1]], in increasing order, and impact holds each
// posting's saturated, length-normalised frequency, so that a query only
// multiplies by the term's IDF and adds.
type bm25 struct {
	n      int              // documents
	vocab  map[string]int32 // term → id
	idf    []float32        // by term id
	start  []int32          // len(vocab)+1 offsets into docs and impact
	docs   []int32
	impact []float32
	// seq holds each document's text terms in order (document d's are
	// seq[seqStart[d]:seqStart[d+1]]), for the proximity bonus.
	seq      []int32
	seqStart []int32
}

// bm25Doc is the input for one document: its text and the index of its
// title in the titles slice given to buildBM25.
type bm25Doc struct {
	text  string
	title int32
}

// termPair is a term id and its (weighted) frequency in one document.
type termPair struct {
	id int32
	tf float32
}

// bm25Builder tokenizes documents into term ids.
type bm25Builder struct {
	words map[string]int32 // surface word → term id, to stem each word once
	vocab map[string]int32 // term → id
	buf   []byte
	ids   []int32
}

// termIDs returns the term ids of text (in order) in b.ids.
func (b *bm25Builder) termIDs(text string) []int32 {
	b.ids = b.ids[:0]
	sc := wordScanner{text: text, buf: b.buf}
	for w := sc.next(); w != nil; w = sc.next() {
		id, ok := b.words[string(w)]
		if !ok {
			word := string(w)
			term := stemWord(word)
			if id, ok = b.vocab[term]; !ok {
				id = int32(len(b.vocab))
				b.vocab[term] = id
			}
			b.words[word] = id
		}
		b.ids = append(b.ids, id)
	}
	b.buf = sc.buf
	return b.ids
}

// counts turns term ids into sorted (id, count) pairs appended to dst.
func counts(dst []termPair, ids []int32) []termPair {
	slices.Sort(ids)
	for i := 0; i < len(ids); {
		j := i + 1
		for j < len(ids) && ids[j] == ids[i] {
			j++
		}
		dst = append(dst, termPair{ids[i], float32(j - i)})
		i = j
	}
	return dst
}

// bm25Shard is the tokenized form of a contiguous run of documents, with
// term ids local to the shard.
type bm25Shard struct {
	vocab    map[string]int32
	pairs    []termPair // document i's are pairs[docStart[i]:docStart[i+1]]
	docStart []int32
	seq      []int32 // document i's terms in order: seq[seqStart[i]:seqStart[i+1]]
	seqStart []int32
	docLen   []float32 // weighted length
}

// tokenize builds the shard of docs, whose titles are tokenized once each.
func tokenize(docs []bm25Doc, titles []string, w float32) *bm25Shard {
	b := bm25Builder{words: make(map[string]int32), vocab: make(map[string]int32)}
	type title struct {
		pairs []termPair
		n     float32
	}
	titleCache := make(map[int32]title)
	sh := &bm25Shard{
		pairs:    make([]termPair, 0, len(docs)*32),
		docStart: make([]int32, len(docs)+1),
		seqStart: make([]int32, len(docs)+1),
		docLen:   make([]float32, len(docs)),
	}
	var body []termPair
	for d, doc := range docs {
		t, ok := titleCache[doc.title]
		if !ok && w > 0 {
			ids := b.termIDs(titles[doc.title])
			t = title{counts(nil, ids), w * float32(len(ids))}
			titleCache[doc.title] = t
		}
		ids := b.termIDs(doc.text)
		sh.docLen[d] = float32(len(ids)) + t.n
		sh.seq = append(sh.seq, ids...)
		sh.seqStart[d+1] = int32(len(sh.seq))
		body = counts(body[:0], ids)
		// merge the two sorted pair lists
		i, j := 0, 0
		for i < len(body) || j < len(t.pairs) {
			switch {
			case j == len(t.pairs) || i < len(body) && body[i].id < t.pairs[j].id:
				sh.pairs = append(sh.pairs, body[i])
				i++
			case i == len(body) || t.pairs[j].id < body[i].id:
				sh.pairs = append(sh.pairs, termPair{t.pairs[j].id, w * t.pairs[j].tf})
				j++
			default:
				sh.pairs = append(sh.pairs, termPair{body[i].id, body[i].tf + w*t.pairs[j].tf})
				i++
				j++
			}
		}
		sh.docStart[d+1] = int32(len(sh.pairs))
	}
	sh.vocab = b.vocab
	return sh
}

// minShard is the fewest documents worth a goroutine of their own.
const minShard = 4096

// buildBM25 indexes docs, tokenizing in up to workers goroutines.
func buildBM25(docs []bm25Doc, titles []string, p bm25Params, workers int) *bm25 {
	w := float32(p.TitleWeight)
	nshards := max(1, min(workers, len(docs)/minShard))
	shards := make([]*bm25Shard, nshards)
	var wg sync.WaitGroup
	for s := range nshards {
		lo, hi := s*len(docs)/nshards, (s+1)*len(docs)/nshards
		wg.Go(func() { shards[s] = tokenize(docs[lo:hi], titles, w) })
	}
	wg.Wait()

	// Merge the shards' vocabularies and count document frequencies.
	ix := &bm25{n: len(docs), vocab: shards[0].vocab}
	remaps := make([][]int32, nshards)
	var total float64
	for s, sh := range shards {
		remap := make([]int32, len(sh.vocab))
		for t, id := range sh.vocab {
			gid, ok := ix.vocab[t]
			if !ok {
				gid = int32(len(ix.vocab))
				ix.vocab[t] = gid
			}
			remap[id] = gid
		}
		remaps[s] = remap
		for _, n := range sh.docLen {
			total += float64(n)
		}
	}
	ix.start = make([]int32, len(ix.vocab)+1)
	for s, sh := range shards {
		for _, tp := range sh.pairs {
			ix.start[remaps[s][tp.id]+1]++
		}
	}
	ix.idf = make([]float32, len(ix.vocab))
	for id := range ix.idf {
		ix.idf[id] = float32(idf(len(docs), float64(ix.start[id+1])))
	}
	for t := 1; t < len(ix.start); t++ {
		ix.start[t] += ix.start[t-1]
	}

	// Fill the postings in document order.
	npost := ix.start[len(ix.start)-1]
	ix.docs = make([]int32, npost)
	ix.impact = make([]float32, npost)
	avg := float32(1)
	if total > 0 {
		avg = float32(total / float64(len(docs)))
	}
	k1, b := float32(p.K1), float32(p.B)
	next := slices.Clone(ix.start[:len(ix.start)-1])
	nseq := 0
	for _, sh := range shards {
		nseq += len(sh.seq)
	}
	ix.seq = make([]int32, 0, nseq)
	ix.seqStart = make([]int32, 1, len(docs)+1)
	for s, sh := range shards {
		base := int32(len(ix.seq))
		for _, id := range sh.seq {
			ix.seq = append(ix.seq, remaps[s][id])
		}
		for _, e := range sh.seqStart[1:] {
			ix.seqStart = append(ix.seqStart, base+e)
		}
	}
	d := int32(0)
	for s, sh := range shards {
		remap := remaps[s]
		for i, n := range sh.docLen {
			norm := k1 * (1 - b + b*n/avg)
			for _, tp := range sh.pairs[sh.docStart[i]:sh.docStart[i+1]] {
				id := remap[tp.id]
				k := next[id]
				next[id]++
				ix.docs[k] = d
				ix.impact[k] = tp.tf * (k1 + 1) / (tp.tf + norm)
			}
			d++
		}
	}
	return ix
}

// idf is the BM25 inverse document frequency of a term found in df of n
// documents; df = 0 gives the largest value, for terms absent from the index.
func idf(n int, df float64) float64 {
	return math.Log(1 + (float64(n)-df+0.5)/(df+0.5))
}

// queryTerm is a distinct term of a query with its id (-1 when the index
// does not contain it), IDF and number of occurrences in the query.
type queryTerm struct {
	id  int32
	idf float32
	qtf float32
}

// lookup maps query terms to the index, merging repeats.
func (ix *bm25) lookup(ts []string) []queryTerm {
	var qs []queryTerm
	seen := make(map[string]int, len(ts))
	for _, t := range ts {
		if i, ok := seen[t]; ok {
			qs[i].qtf++
			continue
		}
		seen[t] = len(qs)
		q := queryTerm{id: -1, idf: float32(idf(ix.n, 0)), qtf: 1}
		if id, ok := ix.vocab[t]; ok {
			q.id = id
			q.idf = ix.idf[id]
		}
		qs = append(qs, q)
	}
	return qs
}

// bm25Scratch holds one query's per-document scores. It is reused across
// queries through a pool: reset clears exactly the entries a query touched.
type bm25Scratch struct {
	score   []float32
	touched []int32
}

// score adds the BM25 score of every document in [lo, hi) that contains a
// query term to s.
func (ix *bm25) score(qs []queryTerm, lo, hi int32, s *bm25Scratch) {
	for _, q := range qs {
		if q.id < 0 {
			continue
		}
		docs := ix.docs[ix.start[q.id]:ix.start[q.id+1]]
		imp := ix.impact[ix.start[q.id]:ix.start[q.id+1]]
		if lo > 0 || int(hi) < ix.n {
			a, _ := slices.BinarySearch(docs, lo)
			b, _ := slices.BinarySearch(docs, hi)
			docs, imp = docs[a:b], imp[a:b]
		}
		w := q.idf * q.qtf
		for k, d := range docs {
			if s.score[d] == 0 {
				s.touched = append(s.touched, d)
			}
			s.score[d] += w * imp[k]
		}
	}
}

// top returns the n documents with the highest scores in s, best first
// (ties by document order).
func (s *bm25Scratch) top(n int) []int32 {
	byScore := func(a, b int32) int {
		if s.score[a] != s.score[b] {
			if s.score[a] > s.score[b] {
				return -1
			}
			return 1
		}
		return int(a - b)
	}
	best := s.touched // reordering is harmless: reset only needs the set
	if len(best) > n {
		best = selectTop(best, n, byScore)
	}
	best = slices.Clone(best)
	slices.SortFunc(best, byScore)
	return best
}

// selectTop partially orders xs so that its first n elements are the n
// smallest under cmp, and returns them (unordered).
func selectTop(xs []int32, n int, cmp func(a, b int32) int) []int32 {
	lo, hi := 0, len(xs)
	for hi-lo > 1 {
		// median-of-three pivot, then Lomuto partition
		m := lo + (hi-lo)/2
		if cmp(xs[m], xs[lo]) < 0 {
			xs[m], xs[lo] = xs[lo], xs[m]
		}
		if cmp(xs[hi-1], xs[lo]) < 0 {
			xs[hi-1], xs[lo] = xs[lo], xs[hi-1]
		}
		if cmp(xs[hi-1], xs[m]) < 0 {
			xs[hi-1], xs[m] = xs[m], xs[hi-1]
		}
		pivot := xs[m]
		xs[m], xs[hi-1] = xs[hi-1], xs[m]
		p := lo
		for i := lo; i < hi-1; i++ {
			if cmp(xs[i], pivot) < 0 {
				xs[i], xs[p] = xs[p], xs[i]
				p++
			}
		}
		xs[p], xs[hi-1] = xs[hi-1], xs[p]
		switch {
		case p == n || p == n-1:
			return xs[:n]
		case p < n:
			lo = p + 1
		default:
			hi = p
		}
	}
	return xs[:n]
}

// reset clears the scores a query set.
func (s *bm25Scratch) reset() {
	for _, d := range s.touched {
		s.score[d] = 0
	}
	s.touched = s.touched[:0]
}

// contains reports whether document d contains term id (in text or title).
func (ix *bm25) contains(id, d int32) bool {
	if id < 0 {
		return false
	}
	_, ok := slices.BinarySearch(ix.docs[ix.start[id]:ix.start[id+1]], d)
	return ok
}

// relevance is the IDF-weighted share of the query terms that document d
// contains: 0 when the query has no terms.
func (ix *bm25) relevance(qs []queryTerm, d int32) float64 {
	var have, all float64
	for _, q := range qs {
		all += float64(q.idf)
		if ix.contains(q.id, d) {
			have += float64(q.idf)
		}
	}
	if all == 0 {
		return 0
	}
	return have / all
}

// proximity is the bonus of document d for the query's adjacent term
// pairs that also occur next to each other in its text: for each such
// pair, the mean IDF of its two terms.
func (ix *bm25) proximity(q []queryTerm, d int32) float32 {
	seq := ix.seq[ix.seqStart[d]:ix.seqStart[d+1]]
	var bonus float32
	for i := 0; i+1 < len(q); i++ {
		a, b := q[i].id, q[i+1].id
		if a < 0 || b < 0 {
			continue
		}
		for j := 0; j+1 < len(seq); j++ {
			if seq[j] == a && seq[j+1] == b {
				bonus += (q[i].idf + q[i+1].idf) / 2
				break
			}
		}
	}
	return bonus
}

// sequence maps query terms, in order and with repeats, to ids and IDFs.
func (ix *bm25) sequence(ts []string) []queryTerm {
	qs := make([]queryTerm, len(ts))
	for i, t := range ts {
		qs[i] = queryTerm{id: -1, idf: float32(idf(ix.n, 0)), qtf: 1}
		if id, ok := ix.vocab[t]; ok {
			qs[i].id, qs[i].idf = id, ix.idf[id]
		}
	}
	return qs
}

// sentences splits document d's term ids (its text's, in order) by the
// sentences of text, the document's text. Should the words of the
// sentences not add up to the document's terms, it returns them as one.
func (ix *bm25) sentences(d int32, text string) [][]int32 {
	seq := ix.seq[ix.seqStart[d]:ix.seqStart[d+1]]
	spans := corpus.Sentences(text)
	out := make([][]int32, 0, len(spans))
	at := 0
	for _, sp := range spans {
		n := 0
		sc := wordScanner{text: text[sp.Start:sp.End]}
		for w := sc.next(); w != nil; w = sc.next() {
			n++
		}
		if at+n > len(seq) {
			return [][]int32{seq}
		}
		out = append(out, seq[at:at+n])
		at += n
	}
	if at != len(seq) {
		return [][]int32{seq}
	}
	return out
}

// titleTerms returns the ids of the terms of title that the index holds.
func (ix *bm25) titleTerms(title string) []int32 {
	var out []int32
	sc := wordScanner{text: title}
	for w := sc.next(); w != nil; w = sc.next() {
		if id, ok := ix.vocab[stemWord(string(w))]; ok {
			out = append(out, id)
		}
	}
	return out
}
