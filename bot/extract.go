package bot

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"unicode"

	"github.com/verbatim-bot/verbatim/corpus"
	"github.com/verbatim-bot/verbatim/retrieval"
)

// Extractive answers show at most maxExtractQuotes sentences; a sentence
// after the best is shown only if it scores at least extractKeep times the
// best.
const (
	maxExtractQuotes = 3
	extractKeep      = 0.7
)

// candidate is a sentence of a retrieved passage.
type candidate struct {
	p     int // passage index
	span  corpus.Span
	terms map[string]bool
	prev  map[string]bool // terms of the sentence before, in the same passage
	score float64
}

// Weights of the parts of a sentence's score (see extract), tuned on the
// SQuAD dev questions.
const (
	prevCredit = 0.4 // for question terms found only in the previous sentence
	relWeight  = 1   // for the passage's Relevance
	rankWeight = 0.1 // for 1/rank of the passage
	kindBonus  = 0.1 // for holding the kind of thing asked for
)

// extract builds the extractive answer: the sentences of the passages that
// best match the question, each an Excerpt with its citation. A sentence scores the share of the question's
// content terms it contains, each term weighted by how rare it is among
// the candidate sentences (ln(1+N/df)), with partial credit for terms found
// in the sentence before (which a pronoun may refer back to); plus the
// passage's Relevance and a small prior for its rank; plus a bonus when it holds the kind of thing the question asks for (a number for
// "how many", a date for "when", a name for "who"/"where"); and it is
// halved when it has no content word beyond the question's, since it then
// cannot hold the answer.
func extract(question string, passages []retrieval.Result) ([]Segment, []Source) {
	q := termSet(question)
	cands, weight := candidates(q, passages)
	if len(cands) == 0 {
		return nil, nil
	}
	want := answerKind(question)
	for i := range cands {
		c := &cands[i]
		r := passages[c.p]
		c.score = termScore(c, q, weight) + relWeight*r.Relevance + rankWeight/float64(c.p+1)
		if want != nil && want(r.Paragraph.Text[c.span.Start:c.span.End], q) {
			c.score += kindBonus
		}
		if !novel(c, q) {
			c.score /= 2
		}
	}
	slices.SortStableFunc(cands, func(a, b candidate) int { return cmp.Compare(b.score, a.score) })
	chosen := cands[:1]
	for _, c := range cands[1:] {
		if len(chosen) == maxExtractQuotes || c.score < extractKeep*cands[0].score {
			break
		}
		chosen = append(chosen, c)
	}
	return excerpts(chosen, passages)
}

// candidates returns the sentences of the passages, and the weight of each
// question term found in them: ln(1+N/df) over the N sentences.
func candidates(q map[string]bool, passages []retrieval.Result) ([]candidate, map[string]float64) {
	var cands []candidate
	df := make(map[string]int)
	for p, r := range passages {
		text := r.Paragraph.Text
		var prev map[string]bool
		for _, sp := range corpus.Sentences(text) {
			c := candidate{p: p, span: sp, terms: termSet(text[sp.Start:sp.End]), prev: prev}
			for t := range c.terms {
				if q[t] {
					df[t]++
				}
			}
			cands = append(cands, c)
			prev = c.terms
		}
	}
	weight := make(map[string]float64, len(df))
	for t, n := range df {
		weight[t] = math.Log(1 + float64(len(cands))/float64(n))
	}
	return cands, weight
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

// excerpts shows the chosen sentences as excerpts, each with its
// citation; sources are numbered in order of first use.
func excerpts(chosen []candidate, passages []retrieval.Result) ([]Segment, []Source) {
	number := make(map[int]int)
	var sources []Source
	var body []Segment
	for _, c := range chosen {
		r := passages[c.p]
		n, ok := number[c.p]
		if !ok {
			n = len(sources) + 1
			number[c.p] = n
			sources = append(sources, newSource(n, r))
		}
		text := r.Paragraph.Text[c.span.Start:c.span.End]
		sources[n-1].Quotes = append(sources[n-1].Quotes, Quote{Text: text, Span: c.span})
		body = append(body, Segment{Kind: Excerpt, Text: text, Source: n, Span: c.span}, Segment{Kind: Citation, Source: n})
	}
	return body, sources
}

// answerKinds maps the opening words of a question to a test for
// sentences that hold the kind of thing it asks for.
func answerKinds() []struct {
	openings []string
	holds    func(sentence string, q map[string]bool) bool
} {
	return []struct {
		openings []string
		holds    func(sentence string, q map[string]bool) bool
	}{
		{[]string{"how many", "how much", "how long", "how old", "how far", "how large", "how big"}, hasNumber},
		{[]string{"when", "what year", "which year", "what date", "what century", "in what year", "in what century"}, hasDate},
		{[]string{"who", "whom", "whose", "where"}, hasNewName},
	}
}

// answerKind returns a test for sentences that hold what the question asks
// for, judged from its first words (or "percent" anywhere); nil when the
// question gives no hint.
func answerKind(question string) func(sentence string, q map[string]bool) bool {
	if strings.Contains(question, "percent") {
		return hasNumber
	}
	words := " " + strings.Join(corpus.Words(question), " ") + " "
	for _, k := range answerKinds() {
		for _, o := range k.openings {
			if strings.HasPrefix(words, " "+o+" ") {
				return k.holds
			}
		}
	}
	return nil
}

func hasNumber(s string, _ map[string]bool) bool {
	return strings.ContainsFunc(s, unicode.IsDigit)
}

var months = []string{"january", "february", "march", "april", "may", "june", "july",
	"august", "september", "october", "november", "december", "century"}

func hasDate(s string, _ map[string]bool) bool {
	for _, w := range corpus.Words(s) {
		if len(w) >= 3 && len(w) <= 4 && strings.IndexFunc(w, func(r rune) bool { return r < '0' || r > '9' }) < 0 ||
			slices.Contains(months, w) {
			return true
		}
	}
	return false
}

// hasNewName reports whether s has a capitalised word, not its first, whose
// term the question does not already contain: a candidate name.
func hasNewName(s string, q map[string]bool) bool {
	for i, f := range strings.Fields(s) {
		f = strings.TrimFunc(f, func(r rune) bool { return !unicode.IsLetter(r) })
		if i == 0 || f == "" || !unicode.IsUpper([]rune(f)[0]) {
			continue
		}
		ts := terms(f)
		if len(ts) > 0 && !q[ts[0]] {
			return true
		}
	}
	return false
}
