// Package wordnet tells whether two English words share a common sense,
// from a table of WordNet 3.0 synsets embedded in the binary (see NOTICE):
// "purchase" and "buy", "coalition" and "alliance", "lately" and
// "recently". It knows single words only, and only their most frequent
// senses, so that a rare sense does not make unrelated words synonyms.
package wordnet

import (
	_ "embed"
	"strconv"
	"strings"
	"sync"
)

//go:embed senses.txt
var senses string

// Table maps words to the synsets of their frequent senses. It is
// read-only and safe for concurrent use.
type Table struct {
	senses map[string][]int32
}

// Default returns the embedded table, parsed on first use.
var Default = sync.OnceValue(func() *Table { return parse(senses) })

// parse reads lines of a word and its synset numbers.
func parse(s string) *Table {
	t := &Table{senses: make(map[string][]int32, strings.Count(s, "\n"))}
	for line := range strings.Lines(s) {
		fs := strings.Fields(line)
		if len(fs) < 2 {
			continue
		}
		ids := make([]int32, 0, len(fs)-1)
		for _, f := range fs[1:] {
			if n, err := strconv.ParseInt(f, 10, 32); err == nil {
				ids = append(ids, int32(n))
			}
		}
		t.senses[fs[0]] = ids
	}
	return t
}

// Senses returns the synsets of lowercase word w, trying it as given and
// then without an inflection (-s, -es, -ies, -ed, -ing), as WordNet's own
// morphology does; nil for a word it does not know.
func (t *Table) Senses(w string) []int32 {
	if s, ok := t.senses[w]; ok {
		return s
	}
	for _, r := range detach {
		if base, ok := strings.CutSuffix(w, r.suffix); ok && len(base) > 1 {
			if s, ok := t.senses[base+r.add]; ok {
				return s
			}
		}
	}
	return nil
}

// detach are WordNet's rules of detachment for nouns and verbs, in its
// order.
var detach = []struct{ suffix, add string }{
	{"ies", "y"}, {"ses", "s"}, {"xes", "x"}, {"zes", "z"}, {"ches", "ch"}, {"shes", "sh"}, {"men", "man"},
	{"es", "e"}, {"es", ""}, {"s", ""}, {"ed", "e"}, {"ed", ""}, {"ing", "e"}, {"ing", ""},
}

// Share reports whether two sets of synsets (from Senses) have one in
// common.
func Share(a, b []int32) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}
