package retrieval

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/verbatim-bot/verbatim/corpus/evaldata"
)

func TestLocalModel(t *testing.T) {
	tests := []struct {
		dims     int
		model    string
		wantDims int
	}{
		{0, "local-v2-384", DefaultLocalDims},
		{-5, "local-v2-384", DefaultLocalDims},
		{64, "local-v2-64", 64},
	}
	for _, tt := range tests {
		e := NewLocal(tt.dims)
		if got := e.Model(); got != tt.model {
			t.Errorf("NewLocal(%d).Model() = %q, want %q", tt.dims, got, tt.model)
		}
		vs, err := e.Embed(context.Background(), []string{"Denver Broncos"})
		if err != nil || len(vs) != 1 || len(vs[0]) != tt.wantDims {
			t.Errorf("NewLocal(%d): %d vectors of %d dims, err %v", tt.dims, len(vs), len(vs[0]), err)
		}
	}
}

func TestLocalEmbedVectors(t *testing.T) {
	texts := []string{
		"The Denver Broncos defeated the Carolina Panthers 24–10.",
		"Photosynthesis converts light energy into chemical energy.",
		"The Denver Broncos defeated the Carolina Panthers 24–10.",
		"",              // no terms
		"The and of to", // only stopwords
		"Ünïcödé façade — Straße!",
	}
	e := NewLocal(0)
	first, err := e.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != len(texts) {
		t.Fatalf("%d vectors for %d texts", len(first), len(texts))
	}
	// A second embedder, and texts embedded one at a time, give the same
	// vectors: nothing depends on the instance, the batch or the process.
	for i, text := range texts {
		again, err := NewLocal(0).Embed(context.Background(), []string{text})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(again[0], first[i]) {
			t.Errorf("text %d: vector differs between calls", i)
		}
	}
	for i, v := range first {
		if n := localNorm(v); math.Abs(n-1) > 1e-5 {
			t.Errorf("text %d: norm %v, want 1", i, n)
		}
	}
	if !slices.Equal(first[0], first[2]) {
		t.Error("equal texts got different vectors")
	}
	if slices.Equal(first[0], first[1]) {
		t.Error("different texts got equal vectors")
	}
	basis := make([]float32, DefaultLocalDims)
	basis[0] = 1
	for _, i := range []int{3, 4} {
		if !slices.Equal(first[i], basis) {
			t.Errorf("text %d (%q) has no terms: want the first basis vector", i, texts[i])
		}
	}
}

// TestLocalGolden pins a few components of one vector. If it fails, the
// feature scheme changed: bump localVersion so cached vectors are rebuilt,
// then update the expected values.
func TestLocalGolden(t *testing.T) {
	vs, err := NewLocal(64).Embed(context.Background(), []string{"Super Bowl"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[int]float32{}
	for i, x := range vs[0] {
		if x != 0 {
			got[i] = float32(math.Round(float64(x)*1e4) / 1e4)
		}
	}
	want := map[int]float32{2: 0.5547, 9: -0.2774, 12: 0.5547, 36: 0.2774, 40: 0.2774, 41: 0.2774, 46: -0.2774}
	if len(got) != len(want) {
		t.Fatalf("nonzero components = %v, want %v", got, want)
	}
	for i, x := range want {
		if got[i] != x {
			t.Fatalf("nonzero components = %v, want %v", got, want)
		}
	}
}

func TestLocalSimilarity(t *testing.T) {
	tests := []struct {
		name                       string
		anchor, related, unrelated string
	}{
		{"shared words",
			"Which team won Super Bowl 50?",
			"Super Bowl 50 was won by the Denver Broncos, the team from the AFC.",
			"Photosynthesis converts light energy into chemical energy in plants."},
		{"inflections meet through stemming",
			"The committee votes on the proposals",
			"Committees voted on a proposal",
			"The river flooded the valley after heavy rain"},
		{"derived forms meet through trigrams",
			"photosynthetic",
			"photosynthesis",
			"photography"},
		{"accents folded",
			"the café in Zürich",
			"cafe zurich",
			"bakery in Vienna"},
	}
	e := NewLocal(0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vs, err := e.Embed(context.Background(), []string{tt.anchor, tt.related, tt.unrelated})
			if err != nil {
				t.Fatal(err)
			}
			rel, unrel := localCosine(vs[0], vs[1]), localCosine(vs[0], vs[2])
			t.Logf("cos(related) = %.3f, cos(unrelated) = %.3f", rel, unrel)
			if rel <= unrel+0.1 {
				t.Errorf("cos(related) = %.3f, cos(unrelated) = %.3f: want related clearly closer", rel, unrel)
			}
		})
	}
}

func TestLocalEmptyInput(t *testing.T) {
	vs, err := NewLocal(0).Embed(context.Background(), nil)
	if vs != nil || err != nil {
		t.Fatalf("Embed(nil) = %v, %v; want nil, nil", vs, err)
	}
}

func TestLocalCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	texts := make([]string, 1000)
	for i := range texts {
		texts[i] = "paragraph " + strconv.Itoa(i)
	}
	vs, err := NewLocal(0).Embed(ctx, texts)
	if !errors.Is(err, context.Canceled) || vs != nil {
		t.Fatalf("Embed(cancelled) = %d vectors, %v; want context.Canceled", len(vs), err)
	}
}

func TestLocalConcurrent(t *testing.T) {
	e := NewLocal(0)
	want, err := e.Embed(context.Background(), []string{"a shared embedder", "used from many goroutines"})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			got, err := e.Embed(context.Background(), []string{"a shared embedder", "used from many goroutines"})
			if err == nil && (!slices.Equal(got[0], want[0]) || !slices.Equal(got[1], want[1])) {
				err = errors.New("vectors differ between goroutines")
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func localNorm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

func localCosine(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s / (localNorm(a) * localNorm(b))
}

// BenchmarkLocalEmbed embeds the SQuAD dev paragraphs in batches of 256 on
// one goroutine and reports paragraphs per second. Run with -cpu 1 for the
// one-core figure.
func BenchmarkLocalEmbed(b *testing.B) {
	paras, _ := localSQuAD(b)
	e := NewLocal(0)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	n := 0
	for b.Loop() {
		for i := 0; i < len(paras); i += 256 {
			if _, err := e.Embed(ctx, paras[i:min(i+256, len(paras))]); err != nil {
				b.Fatal(err)
			}
		}
		n += len(paras)
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "paragraphs/s")
}

// BenchmarkLocalRecall measures the local embedder alone as a retriever on
// SQuAD dev (exhaustive cosine, no keyword index), reporting gold-paragraph
// recall@5 and MRR for a few sizes; it is how DefaultLocalDims was chosen.
// Run with -benchtime 1x.
func BenchmarkLocalRecall(b *testing.B) {
	paras, qs := localSQuAD(b)
	for _, dims := range []int{256, 384, 512} {
		b.Run("dims="+strconv.Itoa(dims), func(b *testing.B) {
			for b.Loop() {
				e := NewLocal(dims)
				pv, err := e.Embed(context.Background(), paras)
				if err != nil {
					b.Fatal(err)
				}
				texts := make([]string, len(qs))
				for i, q := range qs {
					texts[i] = q.text
				}
				qv, err := e.Embed(context.Background(), texts)
				if err != nil {
					b.Fatal(err)
				}
				var r5, mrr float64
				for i, q := range qs {
					gold := dot(qv[i], pv[q.gold])
					rank := 1
					for _, p := range pv {
						if dot(qv[i], p) > gold {
							rank++
						}
					}
					if rank <= 5 {
						r5++
					}
					mrr += 1 / float64(rank)
				}
				b.ReportMetric(r5/float64(len(qs)), "recall@5")
				b.ReportMetric(mrr/float64(len(qs)), "MRR")
			}
		})
	}
}

type localQuestion struct {
	text string
	gold int // index into the paragraphs
}

// localSQuAD reads the SQuAD dev paragraphs (in file order) and questions
// from ../shared/eval/squad-dev next to the repository root, or skips.
func localSQuAD(tb testing.TB) ([]string, []localQuestion) {
	tb.Helper()
	squad := filepath.Join(evaldata.Dir(tb), "squad-dev")
	var paras []string
	first := map[string]int{} // article ID → index of its first paragraph
	err := localReadJSONL(filepath.Join(squad, "articles.jsonl"), func(line []byte) error {
		var a struct {
			ID         string   `json:"id"`
			Paragraphs []string `json:"paragraphs"`
		}
		err := json.Unmarshal(line, &a)
		first[a.ID] = len(paras)
		paras = append(paras, a.Paragraphs...)
		return err
	})
	if errors.Is(err, os.ErrNotExist) {
		tb.Skipf("skipping: SQuAD dev set not found: %v", err)
	}
	if err != nil {
		tb.Fatal(err)
	}
	var qs []localQuestion
	err = localReadJSONL(filepath.Join(squad, "questions.jsonl"), func(line []byte) error {
		var q struct {
			Question  string `json:"question"`
			ArticleID string `json:"article_id"`
			Paragraph int    `json:"paragraph_index"`
		}
		err := json.Unmarshal(line, &q)
		qs = append(qs, localQuestion{text: q.Question, gold: first[q.ArticleID] + q.Paragraph})
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return paras, qs
}

func localReadJSONL(path string, each func(line []byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		if err := each(sc.Bytes()); err != nil {
			return err
		}
	}
	return sc.Err()
}
