package bot

import (
	"strings"

	"github.com/verbatim-bot/verbatim/corpus"
	"github.com/verbatim-bot/verbatim/retrieval"
)

// maxAnswerPhraseWords is the longest answer contradicts reads as a bare
// answer phrase ("The Broncos", "in 1992").
const maxAnswerPhraseWords = 12

// contradicts reports whether a reply that says the passages do not answer
// shows in the same breath that they do: its answer is a short phrase found
// word for word in a passage (`{"answer": "The Broncos", "answerable":
// false}`), or a quote of three words or more is found in the passage it
// cites. Small models write such replies; their refusal is not trusted and
// the answer falls back to quotes, held to the offline bar.
func contradicts(r reply, results []retrieval.Result) bool {
	phrase := strings.TrimRight(strings.TrimSpace(r.Text), ".!")
	if n := len(strings.Fields(phrase)); n > 0 && n <= maxAnswerPhraseWords && len(retrieval.Terms(phrase)) > 0 {
		for _, res := range results {
			if found(res.Paragraph.Text, phrase) {
				return true
			}
		}
	}
	for _, q := range r.Quotes {
		if q.Source >= 1 && q.Source <= len(results) && len(strings.Fields(q.Text)) >= 3 &&
			found(results[q.Source-1].Paragraph.Text, q.Text) {
			return true
		}
	}
	return false
}

// found reports whether text holds phrase as corpus.Find matches it (on
// word boundaries: "Broncos" is not in "Broncosaurus").
func found(text, phrase string) bool {
	_, ok := corpus.Find(text, phrase)
	return ok
}
