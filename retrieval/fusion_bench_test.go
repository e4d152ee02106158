package retrieval

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkFusionCurve measures SQuAD dev recall@5 and MRR of the hybrid
// search with the offline embedder (NewOffline) over a grid of fusion
// settings: the reciprocal-rank constant K and the vector ranking's weight,
// BM25F's being 1 (weight 0 is BM25F alone, 100 the vectors nearly alone).
// BENCHMARKS.md has the curve.
func BenchmarkFusionCurve(b *testing.B) {
	emb, err := NewOffline()
	if err != nil {
		b.Fatal(err)
	}
	c := loadEvalArticles(b, benchSets["2k"]...)
	ix, err := Open(context.Background(), Config{Embedder: emb})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := ix.Load(context.Background(), c, nil); err != nil {
		b.Fatal(err)
	}
	qs := loadSquadQuestions(b)
	base := ix.fusion
	for _, k := range []float64{5, 20, 60} {
		for _, w := range []float64{0, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 100} {
			f := base
			f.K, f.Vector = k, w
			b.Run(fmt.Sprintf("K=%g/w=%g", k, w), func(b *testing.B) {
				var r5, mrr float64
				for b.Loop() {
					_, r5, _, mrr = evalRecall(b, ix, qs, f)
				}
				b.ReportMetric(r5, "recall@5")
				b.ReportMetric(mrr, "MRR")
			})
		}
	}
}
