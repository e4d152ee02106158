package bot

import (
	"fmt"
	"slices"
	"testing"

	"github.com/verbatim-bot/verbatim/corpus"
	"github.com/verbatim-bot/verbatim/retrieval"
)

// TestNarrow checks that narrow keeps the k passages holding the best
// sentences, in the order of their best sentence, then retrieval's order.
func TestNarrow(t *testing.T) {
	tests := []struct {
		name  string
		n, k  int
		cands []int // passage of each judged sentence, best first
		want  []string
	}{
		{"best sentences first", 4, 2, []int{3, 1, 3, 0, 2}, []string{"3", "1"}},
		{"filled in retrieval order", 4, 3, []int{2, 2}, []string{"2", "0", "1"}},
		{"all of them", 2, 3, []int{1, 0}, []string{"1", "0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var passages []retrieval.Result
			for i := range tt.n {
				passages = append(passages, retrieval.Result{Paragraph: corpus.Paragraph{ID: fmt.Sprint(i)}})
			}
			var cands []candidate
			for _, p := range tt.cands {
				cands = append(cands, candidate{p: p})
			}
			var got []string
			for _, r := range narrow(passages, cands, tt.k) {
				got = append(got, r.Paragraph.ID)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("narrow = %v, want %v", got, tt.want)
			}
		})
	}
}
