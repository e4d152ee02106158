package bot

import (
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

// extract builds the extractive answer from the judged sentences (best
// first; see judge): the best one and up to two more that score nearly as
// well, from the same article unless the question names another, each an
// Excerpt with its citation.
func extract(question string, cands []candidate, passages []retrieval.Result) ([]Segment, []Source) {
	if len(cands) == 0 {
		return nil, nil
	}
	first := passages[cands[0].p].Article
	q := termSet(question)
	chosen := cands[:1]
	for _, c := range cands[1:] {
		if len(chosen) == maxExtractQuotes || c.score < extractKeep*cands[0].score {
			break
		}
		if art := passages[c.p].Article; art != first && !named(art, q) {
			continue
		}
		chosen = append(chosen, c)
	}
	return excerpts(chosen, passages)
}

// named reports whether the question's terms q name the article: all of
// its title's content terms, or at least two of them.
func named(art *corpus.Article, q map[string]bool) bool {
	if art == nil {
		return false
	}
	ts := termSet(art.Title)
	n := 0
	for t := range ts {
		if q[t] {
			n++
		}
	}
	return n > 0 && (n == len(ts) || n >= 2)
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
		sources[n-1].Quotes = append(sources[n-1].Quotes, Quote{Text: c.text, Span: c.span})
		body = append(body, Segment{Kind: Excerpt, Text: c.text, Source: n, Span: c.span}, Segment{Kind: Citation, Source: n})
	}
	return body, sources
}
