package answer

import (
	"strings"

	"github.com/kljensen/snowball/english"

	"github.com/verbatim-bot/verbatim/corpus"
)

// stemmer turns text into content terms for scoring: the words of
// corpus.Words, without a possessive "'s" or inner apostrophes, English
// stopwords and question auxiliaries dropped, and words of three or more
// ASCII letters reduced to their Snowball (Porter2) English stem. It is the
// same idea as the retrieval index's terms, so the terms that retrieved a
// passage are the ones that score its sentences. It remembers stems; the
// zero value is ready and it is not safe for concurrent use.
type stemmer struct {
	memo map[string]string
}

// terms returns the content terms of text, in order, with repeats.
func (s *stemmer) terms(text string) []string {
	words := corpus.Words(text)
	out := words[:0]
	for _, w := range words {
		w = strings.TrimSuffix(w, "'s")
		if strings.Contains(w, "'") {
			w = strings.ReplaceAll(w, "'", "")
		}
		if len(w) < 2 || english.IsStopWord(w) || isAuxiliary(w) {
			continue
		}
		out = append(out, s.stem(w))
	}
	return out
}

// set returns the distinct content terms of text.
func (s *stemmer) set(text string) map[string]bool {
	m := make(map[string]bool)
	for _, t := range s.terms(text) {
		m[t] = true
	}
	return m
}

func (s *stemmer) stem(w string) string {
	if st, ok := s.memo[w]; ok {
		return st
	}
	st := w
	if len(w) > 2 && asciiLower(w) {
		st = english.Stem(w, true)
	}
	if s.memo == nil {
		s.memo = make(map[string]string)
	}
	s.memo[w] = st
	return st
}

func asciiLower(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < 'a' || w[i] > 'z' {
			return false
		}
	}
	return true
}

// isAuxiliary reports words common in questions that carry no topic:
// modal verbs, contractions once apostrophes are dropped, fillers, and
// words about the articles rather than their content ("what does the
// article say about …").
func isAuxiliary(w string) bool {
	switch w {
	case "also", "could", "would", "might", "must", "shall", "may", "whose",
		"upon", "onto", "us", "yet", "dont", "doesnt", "didnt", "isnt",
		"arent", "wasnt", "werent", "cant", "wont",
		"article", "articles", "text", "passage", "passages", "say", "says",
		"said", "tell", "mention", "mentions", "mentioned":
		return true
	}
	return false
}
