package bot

import (
	"slices"
	"testing"

	"github.com/verbatim-bot/verbatim/retrieval"
)

func TestTerms(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		// The same terms as retrieval's: folded, numbers whole, stemmed.
		{"Café résumé costs 1,000 euros", []string{"cafe", "resum", "cost", "1000", "euro"}},
		{"What does the article say about Israel's oil?", []string{"israel", "oil"}},
		{"Which passages mention Sa’ar, and what did he tell them?", []string{"saar"}},
	}
	for _, tt := range tests {
		if got := terms(tt.text); !slices.Equal(got, tt.want) {
			t.Errorf("terms(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

// TestAuxiliaryStems keeps isAuxiliary in step with retrieval.Terms: every
// word it names must stem to a stem it drops.
func TestAuxiliaryStems(t *testing.T) {
	words := "article articles text passage passages say says said tell mention mentions mentioned"
	ts := retrieval.Terms(words)
	if len(ts) != 12 {
		t.Fatalf("retrieval.Terms(%q) = %q: a word was dropped or split", words, ts)
	}
	for _, s := range ts {
		if !isAuxiliary(s) {
			t.Errorf("stem %q is not auxiliary", s)
		}
	}
}
