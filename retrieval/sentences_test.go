package retrieval

import (
	"context"
	"errors"
	"hash/fnv"
	"io/fs"
	"math"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/verbatim-bot/verbatim/corpus"
)

// conceptEncoder is a fake sentence encoder that knows a few synonyms: a
// word in one of its concepts counts for the concept, any other word for a
// hashed dimension of its own.
type conceptEncoder struct{ fail error }

var concepts = map[string]int{
	"purchase": 0, "buy": 0, "buys": 0, "bought": 0,
	"weapons": 1, "arms": 1, "military": 1, "equipment": 1,
	"crude": 2, "oil": 2, "petroleum": 2,
}

func (conceptEncoder) Model() string { return "concepts-v1" }

func (e conceptEncoder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if e.fail != nil {
		return nil, e.fail
	}
	const dims = 32
	out := make([][]float32, len(texts))
	for i, t := range texts {
		v := make([]float32, dims)
		for _, w := range Words(t) {
			if c, ok := concepts[w]; ok {
				v[c] += 3
				continue
			}
			h := fnv.New32a()
			h.Write([]byte(w))
			v[3+h.Sum32()%(dims-3)]++
		}
		var ss float64
		for _, x := range v {
			ss += float64(x * x)
		}
		for j := range v {
			v[j] /= float32(math.Sqrt(ss))
		}
		out[i] = v
	}
	return out, nil
}

// tradeCorpus has a paragraph that shares the query's words and one that
// answers it in other words.
func tradeCorpus() *corpus.Corpus {
	return testCorpus(testArticle{"trade", "Trade", []string{
		"The council said the purchase of the land was approved. It will be a park.",
		"Baku signed a deal on gas. Azerbaijan buys military equipment from Israel.",
		"The weather in the capital was mild for the season.",
	}})
}

// TestSentencesFindTheParaphrase: the encoder's ranking enters the fusion,
// by each passage's closest sentence. Its weight is set to dominate, so
// that the test checks the ranking itself, not the calibrated weight.
func TestSentencesFindTheParaphrase(t *testing.T) {
	const query = "what weapons do they purchase"
	for _, tc := range []struct {
		name    string
		enc     Embedder
		want    string // paragraph ID ranked first
		hasCos  bool
		encoded int
	}{
		{"without an encoder", nil, "trade#1", false, 0},
		{"with an encoder", conceptEncoder{}, "trade#2", true, 5},
		{"with an encoder that fails", conceptEncoder{fail: errors.New("boom")}, "trade#1", false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			emb, err := NewOffline()
			if err != nil {
				t.Fatal(err)
			}
			ix := mustOpen(t, Config{Embedder: emb, SentenceEncoder: tc.enc, SentenceWeight: 20}, nil)
			stats, err := ix.Load(context.Background(), tradeCorpus(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if stats.SentencesEncoded != tc.encoded {
				t.Errorf("SentencesEncoded = %d, want %d", stats.SentencesEncoded, tc.encoded)
			}
			rs, err := ix.Search(context.Background(), query, SearchOptions{K: 3})
			if err != nil {
				t.Fatal(err)
			}
			if rs[0].Paragraph.ID != tc.want {
				t.Errorf("first result %s, want %s", rs[0].Paragraph.ID, tc.want)
			}
			for _, r := range rs {
				if got, want := len(r.Sentences), len(corpus.Sentences(r.Paragraph.Text)); tc.hasCos && got != want || !tc.hasCos && got != 0 {
					t.Errorf("%s: %d sentence cosines for %d sentences (encoder: %v)", r.Paragraph.ID, got, want, tc.hasCos)
				}
			}
			if tc.hasCos {
				cos := rs[0].Sentences
				if slices.Index(cos, slices.Max(cos)) != 1 {
					t.Errorf("cosines %v: the closest sentence should be the second, which answers", cos)
				}
			}
		})
	}
}

func TestSentenceCacheAcrossRestarts(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	enc := newCounting("enc-a")
	steps := []struct {
		name     string
		corpus   *corpus.Corpus
		encoded  []string
		restart  bool
		served   int
		maxSents int
	}{
		{"first load", threeParas("The second paragraph talks about bananas. They are yellow."),
			[]string{"The first paragraph talks about apples.", "The second paragraph talks about bananas.", "They are yellow.", "The third paragraph talks about cherries."},
			false, 4, 0},
		{"restart", threeParas("The second paragraph talks about bananas. They are yellow."), nil, true, 4, 0},
		{"one edit", threeParas("The second paragraph talks about bananas. They are green."), []string{"They are green."}, false, 4, 0},
		{"over the limit", threeParas("The second paragraph talks about bananas. They are green."), nil, true, 0, 3},
	}
	var ix *Index
	for i, st := range steps {
		if i == 0 || st.restart {
			ix = mustOpen(t, Config{Embedder: newCounting("fake"), Dir: dir, SentenceEncoder: enc, MaxSentences: st.maxSents}, nil)
		}
		enc.reset()
		stats, err := ix.Load(ctx, st.corpus, nil)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := enc.embedded(); !slices.Equal(got, st.encoded) {
			t.Errorf("%s: encoded %q, want %q", st.name, got, st.encoded)
		}
		if stats.Sentences != st.served {
			t.Errorf("%s: %d sentences served, want %d", st.name, stats.Sentences, st.served)
		}
	}
}

// TestCachesDoNotShareAFile: whatever the two models are named, the
// passage and sentence caches are two files, and both survive a restart.
func TestCachesDoNotShareAFile(t *testing.T) {
	dir := t.TempDir()
	c := threeParas("The second paragraph talks about bananas. They are yellow.")
	emb, enc := newCounting("sentences-enc"), newCounting("enc")
	for _, load := range []string{"first", "after a restart"} {
		emb.reset()
		enc.reset()
		ix := mustOpen(t, Config{Embedder: emb, Dir: dir, SentenceEncoder: enc}, nil)
		stats, err := ix.Load(context.Background(), c, nil)
		if err != nil || stats.Sentences != 4 {
			t.Fatalf("%s load: %d sentences served (err %v), want 4", load, stats.Sentences, err)
		}
		if load != "first" && (len(emb.embedded()) > 0 || len(enc.embedded()) > 0) {
			t.Errorf("%s load: embedded %q and encoded %q again", load, emb.embedded(), enc.embedded())
		}
	}
}

// TestSentenceCacheOfAnEarlierVersion: a sentence cache where earlier
// versions kept it, beside the passages', is moved to its folder and
// used, so an upgrade encodes nothing again.
func TestSentenceCacheOfAnEarlierVersion(t *testing.T) {
	dir := t.TempDir()
	c := threeParas("The second paragraph talks about bananas. They are yellow.")
	enc := newCounting("enc")
	mustOpen(t, Config{Embedder: newCounting("fake"), Dir: dir, SentenceEncoder: enc}, c)
	path, old := cachePath(dir, sentenceCacheDir, "enc"), cachePath(dir, passageCacheDir, "sentences-enc")
	if err := os.Rename(path, old); err != nil {
		t.Fatal(err)
	}
	enc.reset()
	ix := mustOpen(t, Config{Embedder: newCounting("fake"), Dir: dir, SentenceEncoder: enc}, nil)
	stats, err := ix.Load(context.Background(), c, nil)
	if err != nil || stats.Sentences != 4 || len(enc.embedded()) > 0 {
		t.Fatalf("%d sentences served (err %v), encoded %q: want 4 from the earlier cache", stats.Sentences, err, enc.embedded())
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the cache was not moved to its folder: %v", err)
	}
	if _, err := os.Stat(old); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the earlier cache is still there: %v", err)
	}
}

func TestSentenceQueryFailureStillSearches(t *testing.T) {
	enc := newCounting("enc")
	ix := mustOpen(t, Config{Embedder: newCounting("fake"), SentenceEncoder: enc}, tradeCorpus())
	enc.setFail(errors.New("encoder down"))
	rs, err := ix.Search(context.Background(), "purchase of land", SearchOptions{K: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) == 0 || rs[0].Paragraph.ID != "trade#1" || rs[0].Sentences != nil {
		t.Fatalf("got %+v, want trade#1 first without sentence cosines", rs)
	}
}

// cancellingEncoder cancels the load it encodes for on its first call.
type cancellingEncoder struct {
	conceptEncoder
	cancel context.CancelFunc
}

func (e cancellingEncoder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	e.cancel()
	return nil, ctx.Err()
}

// TestSentenceLoadCancelledFails: a load cancelled while its sentences are
// encoded fails, and the index loaded before keeps serving, its sentence
// ranking with it.
func TestSentenceLoadCancelledFails(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	enc := &switchEncoder{Embedder: conceptEncoder{}}
	ix := mustOpen(t, Config{Embedder: newCounting("fake"), SentenceEncoder: enc}, tradeCorpus())
	enc.Embedder = cancellingEncoder{cancel: cancel}
	if _, err := ix.Load(ctx, threeParas("New text here."), nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Load: %v, want context.Canceled", err)
	}
	enc.Embedder = conceptEncoder{}
	rs, err := ix.Search(context.Background(), "purchase of land", SearchOptions{K: 1})
	if err != nil || rs[0].Paragraph.ID != "trade#1" || len(rs[0].Sentences) != 2 {
		t.Fatalf("the previous index should still serve, with its sentences: %+v %v", rs, err)
	}
}

// switchEncoder encodes with whichever encoder it holds; Loads and
// Searches run one at a time in the tests that switch it.
type switchEncoder struct{ Embedder }

// TestSentenceCosinesMatchTheirSentences: within an article or over all,
// each result's cosines are those of its own sentences with the query.
func TestSentenceCosinesMatchTheirSentences(t *testing.T) {
	c := testCorpus(
		testArticle{"trade", "Trade", []string{
			"The council said the purchase of the land was approved. It will be a park.",
			"Baku signed a deal on gas. Azerbaijan buys military equipment from Israel.",
		}},
		testArticle{"energy", "Energy", []string{
			"Crude oil flows through Georgia. Then it reaches Turkey. Tankers take it on.",
			"Petroleum exports rose last year.",
		}},
	)
	enc := conceptEncoder{}
	ix := mustOpen(t, Config{Embedder: newCounting("fake"), SentenceEncoder: enc}, c)
	const query = "how much crude do they buy"
	qv, _ := enc.Embed(context.Background(), []string{query})
	for _, article := range []string{"", "trade", "energy"} {
		rs, err := ix.Search(context.Background(), query, SearchOptions{K: 4, ArticleID: article})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			sents := passageSentences(&r.Paragraph)
			vs, _ := enc.Embed(context.Background(), sents)
			if len(r.Sentences) != len(sents) {
				t.Fatalf("article %q, %s: %d cosines for %d sentences", article, r.Paragraph.ID, len(r.Sentences), len(sents))
			}
			for i, v := range vs {
				if want := dot(qv[0], v); math.Abs(float64(r.Sentences[i]-want)) > 1e-5 {
					t.Errorf("article %q, %s sentence %d: cosine %.4f, want %.4f", article, r.Paragraph.ID, i, r.Sentences[i], want)
				}
			}
			if want := meanCosine(t, enc, qv[0], r.Article); math.Abs(r.Topicality-want) > 1e-5 {
				t.Errorf("article %q, %s: topicality %.4f, want %.4f", article, r.Paragraph.ID, r.Topicality, want)
			}
		}
	}
}

// meanCosine returns the mean cosine by enc of qv with the sentences of
// every paragraph of a.
func meanCosine(t *testing.T, enc Embedder, qv []float32, a *corpus.Article) float64 {
	t.Helper()
	var sum float64
	n := 0
	for i := range a.Paragraphs {
		vs, err := enc.Embed(context.Background(), passageSentences(&a.Paragraphs[i]))
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			sum += float64(dot(qv, normalized(v)))
			n++
		}
	}
	return sum / float64(n)
}

// blockingEncoder encodes with conceptEncoder once release is closed,
// telling entered when it starts waiting.
type blockingEncoder struct {
	conceptEncoder
	entered chan struct{}
	release chan struct{}
}

func (e blockingEncoder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	select {
	case e.entered <- struct{}{}:
	default:
	}
	select {
	case <-e.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return e.conceptEncoder.Embed(ctx, texts)
}

// TestSentencesInBackground: with EncodeInBackground, Load returns while
// the sentences are still being encoded; Search serves meanwhile without
// them, another Load takes the encoding over, and once it is done Search
// ranks with them.
func TestSentencesInBackground(t *testing.T) {
	enc := blockingEncoder{entered: make(chan struct{}, 1), release: make(chan struct{})}
	ix := mustOpen(t, Config{Embedder: newCounting("fake"), SentenceEncoder: enc, EncodeInBackground: true}, nil)
	loaded := make(chan Stats, 1)
	go func() {
		st, err := ix.Load(context.Background(), tradeCorpus(), nil)
		if err != nil {
			t.Error(err)
		}
		loaded <- st
	}()
	var st Stats
	select {
	case st = <-loaded:
	case <-time.After(time.Minute):
		t.Fatal("Load waited for the sentence encoding")
	}
	if st.SentencesPending != 5 || st.Sentences != 0 {
		t.Errorf("stats %+v: want 5 sentences pending, none served", st)
	}
	waitEntered(t, enc)
	rs, err := ix.Search(context.Background(), "purchase of land", SearchOptions{K: 1})
	if err != nil || len(rs) != 1 || rs[0].Sentences != nil {
		t.Fatalf("while encoding: %+v %v, want a result without sentence cosines", rs, err)
	}
	if st, err := ix.Load(context.Background(), tradeCorpus(), nil); err != nil || st.SentencesPending != 5 {
		t.Errorf("a Load while encoding: %+v %v, want it to take over the 5 sentences", st, err)
	}
	close(enc.release)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := ix.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	rs, err = ix.Search(context.Background(), "purchase of land", SearchOptions{K: 1})
	if err != nil || len(rs[0].Sentences) != 2 {
		t.Fatalf("after encoding: %+v %v, want the sentence cosines", rs, err)
	}
	if st, err := ix.Load(context.Background(), tradeCorpus(), nil); err != nil || st.Sentences != 5 || st.SentencesPending != 0 {
		t.Errorf("the next Load: %+v %v, want the 5 sentences served at once", st, err)
	}
}

// TestCloseStopsTheBackground: Close stops a background encoding and
// waits for it to release the index, which goes on serving without the
// sentence ranking.
func TestCloseStopsTheBackground(t *testing.T) {
	enc := blockingEncoder{entered: make(chan struct{}, 1), release: make(chan struct{})}
	ix := mustOpen(t, Config{Embedder: newCounting("fake"), SentenceEncoder: enc, EncodeInBackground: true}, tradeCorpus())
	waitEntered(t, enc)
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	if !ix.loading.TryLock() {
		t.Fatal("after Close the background still holds the index")
	}
	ix.loading.Unlock()
	rs, err := ix.Search(context.Background(), "purchase of land", SearchOptions{K: 1})
	if err != nil || rs[0].Sentences != nil {
		t.Fatalf("after Close: %+v %v, want a result without sentence cosines", rs, err)
	}
}

// TestFailedLoadResumesTheBackground: a Load that stops a background
// encoding and then fails leaves the encoding running for the index still
// served.
func TestFailedLoadResumesTheBackground(t *testing.T) {
	enc := blockingEncoder{entered: make(chan struct{}, 1), release: make(chan struct{})}
	ix := mustOpen(t, Config{Embedder: newCounting("fake"), SentenceEncoder: enc, EncodeInBackground: true}, tradeCorpus())
	waitEntered(t, enc)
	if _, err := ix.Load(context.Background(), nil, nil); err == nil {
		t.Fatal("a Load of no corpus succeeded")
	}
	close(enc.release)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := ix.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	rs, err := ix.Search(context.Background(), "purchase of land", SearchOptions{K: 1})
	if err != nil || len(rs[0].Sentences) != 2 {
		t.Fatalf("after the failed Load: %+v %v, want the sentence cosines", rs, err)
	}
}

// waitEntered waits, at most a minute, for enc to be called.
func waitEntered(t *testing.T, enc blockingEncoder) {
	t.Helper()
	select {
	case <-enc.entered:
	case <-time.After(time.Minute):
		t.Fatal("the background encoding did not start")
	}
}
