package retrieval

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestBM25ShardsAgree(t *testing.T) {
	// Enough documents for several shards, with a shared vocabulary so
	// that shards see the same terms under different local ids.
	words := []string{"river", "mountain", "ocean", "island", "forest", "desert", "valley", "glacier", "volcano", "canyon"}
	rng := rand.New(rand.NewPCG(1, 2))
	titles := []string{"Rivers and valleys", "Oceans", "Volcanoes of the world"}
	var docs []bm25Doc
	for i := range 3*minShard + 17 {
		text := fmt.Sprintf("document %d", i)
		for range 3 + rng.IntN(12) {
			text += " " + words[rng.IntN(len(words))]
		}
		docs = append(docs, bm25Doc{text: text, title: int32(i % len(titles))})
	}
	one := buildBM25(docs, titles, defaultBM25, 1)
	four := buildBM25(docs, titles, defaultBM25, 4)
	for _, q := range []string{"river valley", "volcano", "oceans islands canyon", "document 12"} {
		s1 := &bm25Scratch{score: make([]float32, len(docs))}
		s4 := &bm25Scratch{score: make([]float32, len(docs))}
		one.score(one.lookup(Terms(q)), 0, int32(len(docs)), s1)
		four.score(four.lookup(Terms(q)), 0, int32(len(docs)), s4)
		if !slices.Equal(s1.score, s4.score) {
			t.Errorf("%q: scores differ between 1 and 4 shards", q)
		}
		if !slices.Equal(s1.top(10), s4.top(10)) {
			t.Errorf("%q: top 10 differ", q)
		}
		for _, d := range []int32{0, 5000, int32(len(docs) - 1)} {
			if one.relevance(one.lookup(Terms(q)), d) != four.relevance(four.lookup(Terms(q)), d) {
				t.Errorf("%q: relevance of %d differs", q, d)
			}
		}
	}
}

func TestBM25Scores(t *testing.T) {
	titles := []string{"Cats", "Dogs"}
	docs := []bm25Doc{
		{"cats purr and cats sleep", 0},
		{"a cat chases a mouse", 0},
		{"dogs bark", 1},
		{"dogs dig holes in the garden all day long", 1},
	}
	ix := buildBM25(docs, titles, bm25Params{K1: 1.2, B: 0.75, TitleWeight: 1}, 1)
	sc := &bm25Scratch{score: make([]float32, len(docs))}
	ix.score(ix.lookup(Terms("cat")), 0, 4, sc)
	if top := sc.top(4); !slices.Equal(top, []int32{0, 1}) {
		t.Errorf("cat: top = %v, want [0 1] (doc 0 has it twice plus the title)", top)
	}
	sc.reset()
	ix.score(ix.lookup(Terms("dogs")), 0, 4, sc)
	// Same term frequency; the shorter document ranks first.
	if top := sc.top(4); !slices.Equal(top, []int32{2, 3}) {
		t.Errorf("dogs: top = %v, want [2 3]", top)
	}
	sc.reset()
	ix.score(ix.lookup(Terms("dogs")), 3, 4, sc)
	if top := sc.top(4); !slices.Equal(top, []int32{3}) {
		t.Errorf("dogs in [3,4): top = %v, want [3]", top)
	}
	sc.reset()
	for i, s := range sc.score {
		if s != 0 {
			t.Errorf("score[%d] = %v after reset", i, s)
		}
	}
	// Relevance: "garden" is in doc 3, "zebra" nowhere.
	q := ix.lookup(Terms("garden zebra garden"))
	if r := ix.relevance(q, 3); r <= 0 || r >= 1 {
		t.Errorf("relevance = %v, want in (0, 1)", r)
	}
	if r := ix.relevance(q, 0); r != 0 {
		t.Errorf("relevance of an unrelated doc = %v", r)
	}
	if r := ix.relevance(nil, 0); r != 0 {
		t.Errorf("relevance of an empty query = %v", r)
	}
	// Proximity: "cats purr" adjacent in doc 0 only.
	seq := ix.sequence(Terms("cats purr"))
	if ix.proximity(seq, 0) <= 0 || ix.proximity(seq, 1) != 0 {
		t.Errorf("proximity: %v, %v", ix.proximity(seq, 0), ix.proximity(seq, 1))
	}
}

func TestSelectTop(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 2, 5, 50, 99, 100} {
		xs := make([]int32, 100)
		for i := range xs {
			xs[i] = int32(rng.IntN(30)) // many ties
		}
		cmp := func(a, b int32) int { return int(a - b) }
		want := slices.Clone(xs)
		slices.Sort(want)
		got := slices.Clone(selectTop(slices.Clone(xs), n, cmp))
		slices.Sort(got)
		if !slices.Equal(got, want[:n]) {
			t.Errorf("selectTop(%d) = %v, want %v", n, got, want[:n])
		}
	}
}
