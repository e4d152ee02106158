package bot

import (
	"cmp"
	"context"
	"math"
	"slices"

	"github.com/verbatim-bot/verbatim/corpus"
	"github.com/verbatim-bot/verbatim/retrieval"
)

// Judgement is what the answerer measured to decide whether the retrieved
// passages answer a question (shown by --verbose).
type Judgement struct {
	// Relevance is the best passage's lexical relevance (see
	// retrieval.Result.Relevance).
	Relevance float64
	// Similarity is the best cosine, by meaning, of the question with a
	// sentence of the passages (Relevance when no meaning model is set).
	Similarity float64
	// Support is how much of what the question asks about the best
	// sentence covers: for each of the question's specific words (not in
	// the articles' titles), the closest word of the sentence (1 for the
	// same word; by meaning, the cosine of their vectors), averaged.
	Support float64
	// Closeness is the best cosine, by the sentence encoder, of the
	// question with one of its best sentences (closeDepth), at least 0: as
	// retrieval measured it (retrieval.Result.Sentences), or else by
	// Config.Encoder; -1 when neither did.
	Closeness float64
	// Topicality is the highest, over the passages, of how much their
	// article as a whole is about the question (retrieval.Result.
	// Topicality), at least 0; -1 when retrieval did not measure it. A
	// question off the corpus can meet one close sentence by chance, not
	// a whole article about it.
	Topicality float64
	// Kind is what the question asks for; KindFound whether one of the
	// best sentences (kindDepth) holds one and is itself about what is
	// asked (its support reaches kindSupport times MinSupport): a date in
	// a sentence about something else does not answer "when".
	Kind      Kind
	KindFound bool
	// OffCorpus is set when the passages are too far from the question
	// for any model to be asked (the pre-model gate); Unsupported when,
	// answering offline, the best sentence does not answer it.
	OffCorpus, Unsupported bool
	// The bars applied (see Config).
	MinRelevance, MinSimilarity, MinSupport, MinCloseness, MinAnswerCloseness, MinTopicality float64
}

// kindDepth is how many of the best sentences are searched for the kind of
// thing the question asks for; kindSupport is the share of MinSupport
// that such a sentence's own support must reach.
const (
	kindDepth   = 5
	kindSupport = 0.8
)

// candidate is a sentence of a retrieved passage, with what it was
// measured.
type candidate struct {
	p       int // passage index
	si      int // sentence index in the passage
	span    corpus.Span
	text    string // the sentence
	terms   map[string]bool
	prev    map[string]bool // terms of the sentence before, in the same passage
	words   []string        // content words
	prevW   []string        // content words of the sentence before
	lexical float64         // weighted share of the question's terms (termScore)
	sim     float64         // cosine by meaning with the question
	support float64         // see Judgement.Support
	kind    bool            // holds the kind of thing asked for
	score   float64
}

// judge measures every sentence of the passages against the question and
// returns them best first, with the Judgement (before the decision bars
// are applied).
func (a *Answerer) judge(ctx context.Context, question string, passages []retrieval.Result) ([]candidate, Judgement) {
	j := Judgement{Relevance: best(passages), Kind: questionKind(question), Closeness: -1, Topicality: topicality(passages)}
	q := termSet(question)
	asked := askedTerms(question)
	cands, weight := candidates(asked, passages)
	if len(cands) == 0 {
		return nil, j
	}
	specific := specificWords(question, passages)
	sims, words := a.meaning(ctx, question, cands, specific)
	rare := rarity(specific, cands, words)
	names := make([]map[string]bool, len(passages))
	for i := range cands {
		c := &cands[i]
		r := passages[c.p]
		if names[c.p] == nil {
			title := ""
			if r.Article != nil {
				title = r.Article.Title
			}
			names[c.p] = knownNames(r.Paragraph.Text, title)
		}
		c.lexical = termScore(c, asked, weight)
		c.sim = sims[i]
		c.support = support(c, specific, words, rare)
		c.kind = j.Kind.holds(c.text, q, names[c.p])
		c.score = lexWeight*c.lexical + supportWeight*c.support + simWeight*c.sim +
			relWeight*r.Relevance + rankWeight/float64(c.p+1)
		if r.Sentences != nil { // its article less about the question than the most topical one
			c.score -= topicWeight * (j.Topicality - max(r.Topicality, 0))
		}
		if j.Kind != AnyKind && c.kind {
			c.score += kindBonus
		}
		if !novel(c, q) {
			c.score /= 2
		}
	}
	byScore := func(x, y candidate) int { return cmp.Compare(y.score, x.score) }
	slices.SortStableFunc(cands, byScore)
	if j.Closeness = a.closeness(ctx, question, cands[:min(closeDepth, len(cands))], passages); j.Closeness >= 0 {
		slices.SortStableFunc(cands, byScore)
	}
	j.Support = cands[0].support
	for _, c := range cands[:min(kindDepth, len(cands))] {
		j.KindFound = j.KindFound || c.kind && c.support >= kindSupport*a.minSupport
	}
	for _, c := range cands {
		j.Similarity = max(j.Similarity, c.sim)
	}
	return cands, j
}

// closeDepth is how many of the best sentences the encoder reads;
// closeWeight weighs, in their scores, their cosine by the encoder with the
// question.
const (
	closeDepth  = 8
	closeWeight = 1.5
)

// closeness adds to the score of each of cands its closeness by the
// encoder to question (weighted by closeWeight) and returns the best, or
// -1 without an encoder or when it fails. The cosines retrieval measured
// (retrieval.Result.Sentences) are used when every candidate has one.
func (a *Answerer) closeness(ctx context.Context, question string, cands []candidate, passages []retrieval.Result) float64 {
	if len(cands) == 0 {
		return -1
	}
	cos, ok := retrieved(cands, passages)
	if !ok {
		if cos, ok = a.encode(ctx, question, cands); !ok {
			return -1
		}
	}
	best := 0.0
	for i, c := range cos { // a negative cosine is as far as none
		c = max(c, 0)
		best = max(best, c)
		cands[i].score += closeWeight * c
	}
	return best
}

// topicality returns the highest Topicality of passages, at least 0, or
// -1 when retrieval measured none.
func topicality(passages []retrieval.Result) float64 {
	t := -1.0
	for _, r := range passages {
		if r.Sentences != nil {
			t = max(t, r.Topicality, 0)
		}
	}
	return t
}

// retrieved returns the cosines retrieval measured between the query and
// cands, if it measured them all.
func retrieved(cands []candidate, passages []retrieval.Result) ([]float64, bool) {
	cos := make([]float64, len(cands))
	for i, c := range cands {
		s := passages[c.p].Sentences
		if c.si >= len(s) {
			return nil, false
		}
		cos[i] = float64(s[c.si])
	}
	return cos, true
}

// encode returns the cosines of question with cands by the encoder, or
// false without one or when it fails.
func (a *Answerer) encode(ctx context.Context, question string, cands []candidate) ([]float64, bool) {
	if a.encoder == nil {
		return nil, false
	}
	texts := make([]string, 0, 1+len(cands))
	texts = append(texts, question)
	for _, c := range cands {
		texts = append(texts, c.text)
	}
	vecs, err := a.encoder.Embed(ctx, texts)
	if err != nil || len(vecs) != len(texts) {
		if ctx.Err() == nil {
			a.log.Warn("sentence encoder failed; gating by words and the meaning model", "err", err)
		}
		return nil, false
	}
	cos := make([]float64, len(cands))
	for i, v := range vecs[1:] {
		cos[i] = float64(dot(vecs[0], v))
	}
	return cos, true
}

// Weights of the parts of a sentence's score, tuned on the tuning split of
// the natural questions and on SQuAD dev (BENCHMARKS.md, "Calibration").
const (
	lexWeight     = 1   // for the weighted share of the question's terms
	supportWeight = 1   // for Judgement.Support
	simWeight     = 1   // for the cosine by meaning with the question
	prevCredit    = 0.4 // for question terms found only in the previous sentence
	relWeight     = 1   // for the passage's Relevance
	rankWeight    = 0.1 // for 1/rank of the passage
	topicWeight   = 1   // for how much less its article's Topicality is than the best
	kindBonus     = 0.3 // for holding the kind of thing asked for
)

// candidates returns the sentences of the passages, and the weight of each
// question term found in them: ln(1+N/df) over the N sentences.
func candidates(q map[string]bool, passages []retrieval.Result) ([]candidate, map[string]float64) {
	var cands []candidate
	df := make(map[string]int)
	for p, r := range passages {
		text := r.Paragraph.Text
		var prev map[string]bool
		var prevW []string
		for si, sp := range corpus.Sentences(text) {
			s := text[sp.Start:sp.End]
			c := candidate{p: p, si: si, span: sp, text: s, terms: termSet(s), prev: prev, words: retrieval.Words(s), prevW: prevW}
			for t := range c.terms {
				if q[t] {
					df[t]++
				}
			}
			cands = append(cands, c)
			prev, prevW = c.terms, c.words
		}
	}
	weight := make(map[string]float64, len(df))
	for t, n := range df {
		weight[t] = math.Log(1 + float64(len(cands))/float64(n))
	}
	return cands, weight
}

// specificWords returns the question's content words that say what it asks
// about: without the words of the retrieved articles' titles (which
// name a topic, not what is asked of it), nor those of its kind cue ("how
// long"), nor words about the articles themselves. All content words when
// that leaves none.
func specificWords(question string, passages []retrieval.Result) []string {
	all := retrieval.Words(question)
	title := make(map[string]bool)
	for _, r := range passages {
		if r.Article != nil {
			for _, t := range terms(r.Article.Title) {
				title[t] = true
			}
		}
	}
	var out []string
	for _, w := range all {
		ts := terms(w)
		if len(ts) == 0 || title[ts[0]] || isCueWord(w) || slices.Contains(out, w) {
			continue
		}
		out = append(out, w)
	}
	if len(out) == 0 {
		for _, w := range all {
			if ts := terms(w); len(ts) > 0 && !slices.Contains(out, w) {
				out = append(out, w)
			}
		}
	}
	return out
}

// askedTerms returns the content terms of question less those of its cue
// words (see isCueWord): the terms whose presence in a sentence says it is
// about what is asked ("year" in "what year did…" is not).
func askedTerms(question string) map[string]bool {
	q := make(map[string]bool)
	for _, w := range retrieval.Words(question) {
		if isCueWord(w) {
			continue
		}
		for _, t := range terms(w) {
			q[t] = true
		}
	}
	if len(q) == 0 {
		return termSet(question)
	}
	return q
}

// isCueWord reports words that only say what kind of answer is wanted,
// and light verbs and fillers that questions put around what they ask
// ("how much oil does Israel get", "what do people reckon").
func isCueWord(w string) bool {
	switch w {
	case "get", "gets", "got", "getting", "go", "goes", "going", "went", "comes", "came", "make", "makes",
		"made", "take", "takes", "took", "give", "gives", "gave", "put", "keep", "keeps", "kept", "let", "want",
		"wants", "wanted", "need", "needs", "like", "happen", "happened", "happens", "thing", "things", "stuff",
		"guy", "guys", "people", "reckon", "think", "know", "really", "actually", "exactly", "lot", "lots",
		"many", "much":
		return true
	case "long", "old", "big", "large", "far", "high", "tall", "deep", "wide", "heavy", "share", "percentage",
		"percent", "proportion", "fraction", "portion", "amount", "number", "year", "date", "century", "decade",
		"month", "time", "reason", "recently", "soon", "come", "caused", "causes", "place", "person", "kind", "sort":
		return true
	}
	return false
}

// novel reports whether c has a content term the question lacks: without
// one it cannot hold the answer.
func novel(c *candidate, q map[string]bool) bool {
	for t := range c.terms {
		if !q[t] {
			return true
		}
	}
	return false
}

// termScore is the weighted share of the question's terms found in c, with
// prevCredit for those found only in the sentence before.
func termScore(c *candidate, q map[string]bool, weight map[string]float64) float64 {
	var have, total float64
	for _, w := range weight {
		total += w
	}
	if total == 0 {
		return 0
	}
	for t := range c.terms {
		if q[t] {
			have += weight[t]
		}
	}
	for t := range c.prev {
		if q[t] && !c.terms[t] {
			have += prevCredit * weight[t]
		}
	}
	return have / total
}
