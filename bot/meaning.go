package bot

import (
	"context"
	"math"

	"github.com/verbatim-bot/verbatim/retrieval/wordnet"
)

// word is a content word with what support compares: its stem, its
// vector by meaning (nil without a meaning model) and its WordNet senses.
type word struct {
	stem   string
	vec    []float32
	senses []int32
}

// meaning returns each candidate's cosine by meaning with the question,
// and the words of the question and the candidates with their vectors.
// Without a meaning model (or if it fails) the cosine is the candidate's
// lexical share of the question's terms and words carry no vectors.
func (a *Answerer) meaning(ctx context.Context, question string, cands []candidate, specific []string) ([]float64, map[string]word) {
	words := make(map[string]word)
	var distinct []string
	add := func(ws []string) {
		for _, w := range ws {
			if _, ok := words[w]; !ok {
				st := ""
				if ts := terms(w); len(ts) > 0 {
					st = ts[0]
				}
				words[w] = word{stem: st, senses: a.synonyms.Senses(w)}
				distinct = append(distinct, w)
			}
		}
	}
	add(specific)
	for _, c := range cands {
		add(c.words)
	}
	sims := make([]float64, len(cands))
	q := termSet(question)
	lexical := func() ([]float64, map[string]word) {
		for i := range cands {
			sims[i] = termScore(&cands[i], q, uniform(q))
		}
		return sims, words
	}
	if a.meaningModel == nil {
		return lexical()
	}
	texts := make([]string, 0, 1+len(cands)+len(distinct))
	texts = append(texts, question)
	for _, c := range cands {
		texts = append(texts, c.text)
	}
	texts = append(texts, distinct...)
	vecs, err := a.meaningModel.Embed(ctx, texts)
	if err != nil || len(vecs) != len(texts) {
		a.log.Warn("meaning model failed; judging by shared words", "err", err)
		return lexical()
	}
	if meaningless(vecs[0]) {
		return lexical()
	}
	for i := range cands {
		if !meaningless(vecs[1+i]) {
			sims[i] = float64(dot(vecs[0], vecs[1+i]))
		}
	}
	for i, w := range distinct {
		if v := vecs[1+len(cands)+i]; !meaningless(v) {
			wd := words[w]
			wd.vec = v
			words[w] = wd
		}
	}
	return sims, words
}

// meaningless reports the vector an embedder gives a text it knows no
// token of: the first basis vector (the static and local embedders' choice,
// so that cosine stays defined). Two such texts are not alike in meaning.
func meaningless(v []float32) bool { return len(v) > 0 && v[0] == 1 }

// uniform weighs every term of q alike.
func uniform(q map[string]bool) map[string]float64 {
	w := make(map[string]float64, len(q))
	for t := range q {
		w[t] = 1
	}
	return w
}

// support is Judgement.Support for c: for each specific word, its closest
// word in the sentence (or, at prevCredit, in the sentence before, which a
// pronoun may refer back to), averaged with the words weighted by rarity
// (see rarity).
func support(c *candidate, specific []string, words map[string]word, rarity map[string]float64) float64 {
	var sum, total float64
	for _, s := range specific {
		sw := words[s]
		best := 0.0
		for _, w := range c.words {
			best = max(best, closeness(sw, words[w]))
		}
		for _, w := range c.prevW {
			best = max(best, prevCredit*closeness(sw, words[w]))
		}
		sum += rarity[s] * best
		total += rarity[s]
	}
	if total == 0 {
		return 0
	}
	return sum / total
}

// rarity weighs each specific word by how rare its stem is among the
// candidate sentences, ln(1+N/(1+df)), so that the words that pick out a
// sentence count more than those most sentences share.
func rarity(specific []string, cands []candidate, words map[string]word) map[string]float64 {
	out := make(map[string]float64, len(specific))
	for _, s := range specific {
		df := 0
		for i := range cands {
			if cands[i].terms[words[s].stem] {
				df++
			}
		}
		out[s] = math.Log(1 + float64(len(cands))/float64(1+df))
	}
	return out
}

// closeness is 1 for words of the same stem, else the cosine of their
// vectors rescaled from [wordFloor, 1] to [0, 1] (0 below wordFloor, or
// without vectors), or synonymCloseness if more for words that share a
// frequent WordNet sense. Unrelated words have cosines up to about
// wordFloor, and the best of many such pairs would otherwise look like
// support.
func closeness(a, b word) float64 {
	if a.stem != "" && a.stem == b.stem {
		return 1
	}
	syn := 0.0
	if wordnet.Share(a.senses, b.senses) {
		syn = synonymCloseness
	}
	if a.vec == nil || b.vec == nil {
		return syn
	}
	return max(syn, (float64(dot(a.vec, b.vec))-wordFloor)/(1-wordFloor))
}

// wordFloor is the cosine below which two words count as unrelated;
// synonymCloseness is the closeness of words WordNet calls synonyms.
const (
	wordFloor        = 0.25
	synonymCloseness = 0.7
)

func dot(a, b []float32) float32 {
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}
