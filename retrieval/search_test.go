package retrieval

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/verbatim-bot/verbatim/corpus"
)

func TestEvidence(t *testing.T) {
	// terms 1, 2, 3 of weights 2, 1, 1 are the query's; 9 is not.
	q := map[int32]float64{1: 2, 2: 1, 3: 1}
	tests := []struct {
		name      string
		all       float64
		title     []int32
		sentences [][]int32
		want      float64
	}{
		{"all in one sentence", 4, nil, [][]int32{{1, 9, 2, 3}, {9}}, 1},
		{"scattered: the best sentence counts", 4, nil, [][]int32{{1}, {2, 9}, {3}}, 0.5},
		{"weights, not counts", 4, nil, [][]int32{{2, 3}, {1}}, 0.5},
		{"a repeated term counts once", 4, nil, [][]int32{{1, 1, 1}}, 0.5},
		{"title terms count in every sentence", 4, []int32{2}, [][]int32{{1}, {3}}, 0.75},
		{"title alone", 4, []int32{1, 2, 2}, [][]int32{{9}}, 0.75},
		{"a query term the index lacks weighs in all", 5, nil, [][]int32{{1, 2, 3}}, 0.8},
		{"no sentence holds a term", 4, nil, [][]int32{{9}}, 0},
		{"no sentences", 4, nil, nil, 0},
		{"a query of no weight", 0, nil, [][]int32{{1}}, 0},
	}
	for _, tt := range tests {
		if got := evidence(q, tt.all, tt.title, tt.sentences); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("%s: evidence = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestSentencesSplitTerms(t *testing.T) {
	texts := []string{
		"The storm came. The harbor was quiet. A lighthouse stood.",
		"One sentence, no end",
		"Dr. Smith met Mr. Jones at 3.5 p.m. in the U.S. They talked.",
		"東京は日本の首都です。大阪は大きな都市です。",
	}
	docs := make([]bm25Doc, len(texts))
	for i, x := range texts {
		docs[i] = bm25Doc{text: x}
	}
	ix := buildBM25(docs, []string{""}, defaultBM25, 1)
	for d, x := range texts {
		var want [][]int32
		for _, sp := range corpus.Sentences(x) {
			var ids []int32
			for _, term := range Terms(x[sp.Start:sp.End]) {
				ids = append(ids, ix.vocab[term])
			}
			want = append(want, ids)
		}
		got := ix.sentences(int32(d), x)
		if len(got) != len(want) {
			t.Errorf("%q: %d sentences, want %d", x, len(got), len(want))
			continue
		}
		for i := range want {
			if !slices.Equal(got[i], want[i]) {
				t.Errorf("%q: sentence %d terms %v, want %v", x, i, got[i], want[i])
			}
		}
	}
}

// TestSearchPrefersTermsInOneSentence: of two passages with the same words,
// the offline default ranks first the one whose sentence holds the
// question's terms together.
func TestSearchPrefersTermsInOneSentence(t *testing.T) {
	emb, err := NewOffline()
	if err != nil {
		t.Fatal(err)
	}
	scattered := "The harbor was quiet. An old lighthouse stood on the cliff. The storm came at night."
	together := "The storm came at night to the harbor, where the old lighthouse stood on the cliff. It was quiet."
	c := testCorpus(testArticle{id: "coast", title: "Coast", paras: []string{scattered, together}})
	ix := mustOpen(t, Config{Embedder: emb}, c)
	res, err := ix.Search(context.Background(), "storm harbor lighthouse", SearchOptions{K: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].Paragraph.Text != together {
		t.Fatalf("first result %q, want the passage with the terms in one sentence", res[0].Paragraph.Text)
	}
}
