package bot

import "github.com/verbatim-bot/verbatim/retrieval"

// terms returns the content terms of text, in order, with repeats: the
// terms of retrieval.Terms, which the BM25 index and Relevance use, so that
// the terms that retrieved a passage are the ones that score its sentences,
// less the stems of words about the articles rather than their content
// (see isAuxiliary).
func terms(text string) []string {
	ts := retrieval.Terms(text)
	out := ts[:0]
	for _, t := range ts {
		if !isAuxiliary(t) {
			out = append(out, t)
		}
	}
	return out
}

// termSet returns the distinct content terms of text.
func termSet(text string) map[string]bool {
	m := make(map[string]bool)
	for _, t := range terms(text) {
		m[t] = true
	}
	return m
}

// isAuxiliary reports the stems (as retrieval.Terms makes them) of words
// common in questions about the articles themselves ("what does the
// article say about …", "which passages mention …"): article(s), text,
// passage(s), say(s), said, tell, mention(s/ed). retrieval.Terms already
// drops stopwords, modal verbs and contractions.
func isAuxiliary(stem string) bool {
	switch stem {
	case "articl", "text", "passag", "say", "said", "tell", "mention":
		return true
	}
	return false
}
