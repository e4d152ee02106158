package bot

import (
	"testing"

	"github.com/verbatim-bot/verbatim/retrieval/wordnet"
)

// TestCloseness checks how close two words count without vectors: the
// same stem fully, WordNet synonyms at synonymCloseness, others not at all.
func TestCloseness(t *testing.T) {
	syn := wordnet.Default()
	w := func(s string) word {
		st := ""
		if ts := terms(s); len(ts) > 0 {
			st = ts[0]
		}
		return word{stem: st, senses: syn.Senses(s)}
	}
	tests := []struct {
		a, b string
		want float64
	}{
		{"israelis", "israeli", 1},
		{"coalition", "alliance", synonymCloseness},
		{"purchase", "buys", synonymCloseness},
		{"lately", "recently", synonymCloseness},
		{"guitar", "pipeline", 0},
		{"pizza", "oil", 0},
	}
	for _, tt := range tests {
		if got := closeness(w(tt.a), w(tt.b)); got != tt.want {
			t.Errorf("closeness(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
