package retrieval

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sashabaranov/go-openai"
	"github.com/verbatim-bot/verbatim/corpus"
)

func TestSearchShippedArticle(t *testing.T) {
	c := shippedCorpus(t)
	for _, emb := range []Embedder{NewLocal(0), newCounting("fake")} {
		ix := mustOpen(t, Config{Embedder: emb}, c)
		tests := []struct {
			question string
			evidence string // in the paragraph that answers
		}{
			{"How much of Israel's oil does Azerbaijan supply?", "Azerbaijan supplies about 60% of oil resources"},
			{"When did Azerbaijan gain independence from the Soviet Union?", "gaining independence from the Soviet Union in 1992"},
			{"Which Azerbaijani minister visited Israel recently?", "Economy Minister Mikayil Jabbarov"},
			{"What is the capital of Azerbaijan?", "Baku is the capital of Azerbaijan"},
			{"Why did Azerbaijan send an envoy to Erdogan?", "sent an envoy to cool him down"},
		}
		for _, tt := range tests {
			res, err := ix.Search(context.Background(), tt.question, SearchOptions{K: 3})
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for i, r := range res {
				if r.Rank != i+1 || r.Article == nil || r.Article.ID != r.Paragraph.ArticleID {
					t.Errorf("%s: result %d malformed: %+v", emb.Model(), i, r)
				}
				if r.Relevance < 0 || r.Relevance > 1 {
					t.Errorf("%s: relevance %v out of [0,1]", emb.Model(), r.Relevance)
				}
				if _, ok := corpus.Find(r.Paragraph.Text, tt.evidence); ok {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: %q: no top-3 passage contains %q", emb.Model(), tt.question, tt.evidence)
			}
		}
	}
}

func TestSearchResultFields(t *testing.T) {
	c := testCorpus(
		testArticle{"cats", "Cats", []string{"Cats purr when they are content.", "A cat sleeps most of the day."}},
		testArticle{"dogs", "Dogs", []string{"Dogs bark at strangers passing by.", "A dog wags its tail when happy."}},
	)
	ix := mustOpen(t, Config{Embedder: newCounting("fake")}, c)
	ctx := context.Background()

	res, err := ix.Search(ctx, "why do cats purr", SearchOptions{K: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) == 0 || res[0].Paragraph.ID != "cats#1" {
		t.Fatalf("top result = %+v, want cats#1", res)
	}
	top := res[0]
	if top.Keyword <= 0 || top.Vector <= 0 || top.Fused <= 0 {
		t.Errorf("top scores not set: %+v", top)
	}
	// "cat" and "purr" both occur: full relevance.
	if top.Relevance != 1 {
		t.Errorf("relevance = %v, want 1", top.Relevance)
	}
	for i := 1; i < len(res); i++ {
		if res[i].Fused > res[i-1].Fused {
			t.Errorf("results not ordered by fused score: %v then %v", res[i-1].Fused, res[i].Fused)
		}
	}

	res, err = ix.Search(ctx, "zebras and giraffes", SearchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Relevance != 0 || r.Keyword != 0 {
			t.Errorf("unrelated query: %s has relevance %v, keyword %v", r.Paragraph.ID, r.Relevance, r.Keyword)
		}
	}

	// Filter by article.
	res, err = ix.Search(ctx, "cats purr", SearchOptions{K: 10, ArticleID: "dogs"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) == 0 {
		t.Fatal("filtered search returned nothing")
	}
	for _, r := range res {
		if r.Article.ID != "dogs" {
			t.Errorf("filtered search returned %s", r.Paragraph.ID)
		}
	}
	if _, err := ix.Search(ctx, "cats", SearchOptions{ArticleID: "birds"}); !errors.Is(err, ErrUnknownArticle) {
		t.Errorf("unknown article: err = %v, want ErrUnknownArticle", err)
	}
	for _, q := range []string{"", "  \n\t"} {
		if _, err := ix.Search(ctx, q, SearchOptions{}); !errors.Is(err, ErrEmptyQuery) {
			t.Errorf("Search(%q): err = %v, want ErrEmptyQuery", q, err)
		}
	}
}

func TestNotLoaded(t *testing.T) {
	ix := mustOpen(t, Config{Embedder: newCounting("fake")}, nil)
	ctx := context.Background()
	if _, err := ix.Search(ctx, "cats", SearchOptions{}); !errors.Is(err, ErrNotLoaded) {
		t.Errorf("Search: err = %v, want ErrNotLoaded", err)
	}
	if _, err := ix.Quote(ctx, "cats", QuoteOptions{}); !errors.Is(err, ErrNotLoaded) {
		t.Errorf("Quote: err = %v, want ErrNotLoaded", err)
	}
	if ix.Len() != 0 || ix.Articles() != nil {
		t.Error("an index never loaded serves something")
	}
	if _, err := Open(ctx, Config{}); err == nil {
		t.Error("Open without an embedder succeeded")
	}
}

func TestArticles(t *testing.T) {
	c := testCorpus(
		testArticle{"b", "Zebra stripes", []string{"Zebras have black and white stripes."}},
		testArticle{"a", "Aardvarks", []string{"Aardvarks eat ants at night."}},
	)
	ix := mustOpen(t, Config{Embedder: newCounting("fake")}, c)
	var titles []string
	for _, a := range ix.Articles() {
		titles = append(titles, a.Title)
	}
	if want := []string{"Aardvarks", "Zebra stripes"}; !slices.Equal(titles, want) {
		t.Errorf("Articles titles = %q, want %q", titles, want)
	}
	if a, ok := ix.Article("b"); !ok || a.Title != "Zebra stripes" {
		t.Errorf("Article(b) = %v, %v", a, ok)
	}
	if _, ok := ix.Article("c"); ok {
		t.Error("Article(c) found")
	}
	if ix.Len() != 2 {
		t.Errorf("Len = %d, want 2", ix.Len())
	}
}

// threeParas is a small corpus for cache tests.
func threeParas(second string) *corpus.Corpus {
	return testCorpus(testArticle{"doc", "Doc", []string{
		"The first paragraph talks about apples.",
		second,
		"The third paragraph talks about cherries.",
	}})
}

func TestCacheCountsEmbeddings(t *testing.T) {
	ctx := context.Background()
	emb := newCounting("fake-a")
	dir := t.TempDir()
	ix := mustOpen(t, Config{Embedder: emb, Dir: dir}, nil)

	steps := []struct {
		name   string
		corpus *corpus.Corpus
		want   []string // texts embedded by this load
		stats  Stats
	}{
		{"first load", threeParas("The second paragraph talks about bananas."),
			[]string{"The first paragraph talks about apples.", "The second paragraph talks about bananas.", "The third paragraph talks about cherries."},
			Stats{Added: 3, Embedded: 3}},
		{"unchanged", threeParas("The second paragraph talks about bananas."),
			nil, Stats{Cached: 3}},
		{"one edit", threeParas("The second paragraph talks about blueberries."),
			[]string{"The second paragraph talks about blueberries."}, Stats{Changed: 1, Cached: 2, Embedded: 1}},
		{"one deleted", testCorpus(testArticle{"doc", "Doc", []string{"The first paragraph talks about apples."}}),
			nil, Stats{Removed: 2, Cached: 1}},
		{"restored", threeParas("The second paragraph talks about blueberries."),
			// the deleted paragraphs' vectors were dropped from the cache
			[]string{"The second paragraph talks about blueberries.", "The third paragraph talks about cherries."},
			Stats{Added: 2, Cached: 1, Embedded: 2}},
	}
	for _, st := range steps {
		emb.reset()
		got, err := ix.Load(ctx, st.corpus, nil)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if texts := emb.embedded(); !sameSet(texts, st.want) {
			t.Errorf("%s: embedded %q, want %q", st.name, texts, st.want)
		}
		if got.Added != st.stats.Added || got.Changed != st.stats.Changed || got.Removed != st.stats.Removed ||
			got.Cached != st.stats.Cached || got.Embedded != st.stats.Embedded {
			t.Errorf("%s: stats %+v, want %+v", st.name, got, st.stats)
		}
		if got.Paragraphs != st.corpus.Paragraphs() || got.Articles != 1 {
			t.Errorf("%s: stats count %d articles, %d paragraphs", st.name, got.Articles, got.Paragraphs)
		}
	}

	// A new Index on the same Dir embeds nothing, and counts changes
	// against the corpus the previous Index loaded, not against nothing.
	emb.reset()
	ix2 := mustOpen(t, Config{Embedder: emb, Dir: dir}, nil)
	st, err := ix2.Load(ctx, threeParas("The second paragraph talks about blueberries."), nil)
	if err != nil {
		t.Fatal(err)
	}
	if texts := emb.embedded(); len(texts) != 0 {
		t.Errorf("reopened index embedded %q", texts)
	}
	if st.Added+st.Changed+st.Removed != 0 || st.Cached != 3 {
		t.Errorf("reopened index on the same corpus: stats %+v, want no changes and 3 cached", st)
	}
	if ix2.Len() != 3 {
		t.Errorf("reopened Len = %d", ix2.Len())
	}
	ix3 := mustOpen(t, Config{Embedder: emb, Dir: dir}, nil)
	st, err = ix3.Load(ctx, threeParas("The second paragraph talks about cranberries."), nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Added != 0 || st.Changed != 1 || st.Removed != 0 {
		t.Errorf("one edit across a restart: stats %+v, want 1 changed", st)
	}
	if _, err := ix3.Load(ctx, threeParas("The second paragraph talks about blueberries."), nil); err != nil {
		t.Fatal(err)
	}

	// Another model has its own cache: a clean rebuild.
	other := newCounting("fake-b")
	mustOpen(t, Config{Embedder: other, Dir: dir}, threeParas("The second paragraph talks about blueberries."))
	if n := len(other.embedded()); n != 3 {
		t.Errorf("model switch embedded %d texts, want 3", n)
	}
	// ... and the first model's cache is still there.
	emb.reset()
	mustOpen(t, Config{Embedder: emb, Dir: dir}, threeParas("The second paragraph talks about blueberries."))
	if texts := emb.embedded(); len(texts) != 0 {
		t.Errorf("back on the first model, embedded %q", texts)
	}
}

func TestDuplicateTextsEmbeddedOnce(t *testing.T) {
	emb := newCounting("fake")
	c := testCorpus(
		testArticle{"a", "A", []string{"The same words appear twice here.", "Something else entirely different."}},
		testArticle{"b", "B", []string{"The same words appear twice here."}},
	)
	st, err := mustOpen(t, Config{Embedder: emb}, nil).Load(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Embedded != 2 || len(emb.embedded()) != 2 {
		t.Errorf("embedded %d texts (stats %d), want 2", len(emb.embedded()), st.Embedded)
	}
}

func TestNoDirTouchesNoDisk(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	mustOpen(t, Config{Embedder: newCounting("fake")}, threeParas("Second."))
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("Dir \"\" wrote %v", entries)
	}
}

func TestCorruptCacheRebuilds(t *testing.T) {
	c := threeParas("The second paragraph talks about bananas.")
	for _, tt := range []struct {
		name    string
		corrupt func([]byte) []byte
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)-7] }},
		{"bit flip", func(b []byte) []byte { b[len(b)/2] ^= 1; return b }},
		{"empty", func([]byte) []byte { return nil }},
		{"garbage", func([]byte) []byte { return []byte("not a cache file at all") }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			emb := newCounting("fake")
			mustOpen(t, Config{Embedder: emb, Dir: dir}, c)
			path := cachePath(dir, passageCacheDir, "fake")
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, tt.corrupt(data), 0o644); err != nil {
				t.Fatal(err)
			}

			var logs bytes.Buffer
			emb.reset()
			ix := mustOpen(t, Config{Embedder: emb, Dir: dir, Logger: slog.New(slog.NewTextHandler(&logs, nil))}, c)
			if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "embedding cache") {
				t.Errorf("no warning logged: %q", logs.String())
			}
			if n := len(emb.embedded()); n != 3 {
				t.Errorf("embedded %d texts after corruption, want 3", n)
			}
			if ix.Len() != 3 {
				t.Errorf("Len = %d", ix.Len())
			}
			// The rebuilt cache was saved: a third open embeds nothing.
			emb.reset()
			mustOpen(t, Config{Embedder: emb, Dir: dir}, c)
			if n := len(emb.embedded()); n != 0 {
				t.Errorf("after rebuild, embedded %d texts", n)
			}
		})
	}
}

func TestCacheFileRoundTrip(t *testing.T) {
	c := newVectorCache("m/odel: x")
	c.dims = 3
	c.vecs[contentKey{1}] = []float32{1, 0, 0}
	c.vecs[contentKey{2}] = []float32{0, 0.6, 0.8}
	path := cachePath(t.TempDir(), passageCacheDir, c.model)
	if err := c.write(path); err != nil {
		t.Fatal(err)
	}
	got, err := readCache(path, c.model)
	if err != nil {
		t.Fatal(err)
	}
	if got.dims != 3 || len(got.vecs) != 2 || !slices.Equal(got.vecs[contentKey{2}], c.vecs[contentKey{2}]) {
		t.Errorf("read back %+v", got)
	}
	if _, err := readCache(path, "another model"); err == nil {
		t.Error("read a cache file of another model")
	}
	if matches, _ := os.ReadDir(filepath.Dir(path)); len(matches) != 1 {
		t.Errorf("cache dir holds %d files, want 1 (no temp files left)", len(matches))
	}
}

func TestFailedReloadKeepsServing(t *testing.T) {
	ctx := context.Background()
	emb := newCounting("fake")
	old := threeParas("The second paragraph talks about bananas.")
	ix := mustOpen(t, Config{Embedder: emb}, old)

	emb.setFail(errEmbedderDown)
	_, err := ix.Load(ctx, threeParas("The second paragraph now talks about kiwis."), nil)
	if !errors.Is(err, errEmbedderDown) {
		t.Fatalf("Load with a failing embedder: err = %v, want it to wrap %v", err, errEmbedderDown)
	}
	emb.setFail(nil)
	for _, bad := range []*corpus.Corpus{nil, {}, testCorpus(testArticle{"x", "X", nil})} {
		if _, err := ix.Load(ctx, bad, nil); err == nil {
			t.Errorf("Load(%v) succeeded", bad)
		}
	}
	res, err := ix.Search(ctx, "bananas", SearchOptions{K: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || !strings.Contains(res[0].Paragraph.Text, "bananas") {
		t.Errorf("after failed reloads, search = %+v, want the old bananas paragraph", res)
	}
}

func TestConcurrentLoadIsRefused(t *testing.T) {
	ctx := context.Background()
	emb := newCounting("fake")
	ix := mustOpen(t, Config{Embedder: emb}, nil)
	emb.block, emb.entered = make(chan struct{}), make(chan struct{}, 1)

	done := make(chan error)
	go func() {
		_, err := ix.Load(ctx, threeParas("Second paragraph."), nil)
		done <- err
	}()
	<-emb.entered // the first Load is embedding
	if _, err := ix.Load(ctx, threeParas("Second paragraph."), nil); !errors.Is(err, ErrReloading) {
		t.Errorf("concurrent Load: err = %v, want ErrReloading", err)
	}
	close(emb.block)
	if err := <-done; err != nil {
		t.Fatalf("first Load: %v", err)
	}
	if ix.Len() != 3 {
		t.Errorf("Len = %d", ix.Len())
	}
}

func TestLoadCancelled(t *testing.T) {
	emb := newCounting("fake")
	ix := mustOpen(t, Config{Embedder: emb}, threeParas("The second paragraph talks about bananas."))

	emb.block, emb.entered = make(chan struct{}), make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := ix.Load(ctx, threeParas("The second paragraph talks about kiwis."), nil)
		done <- err
	}()
	<-emb.entered
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Load: err = %v, want context.Canceled", err)
	}
	emb.mu.Lock()
	emb.block, emb.entered = nil, nil
	emb.mu.Unlock()
	res, err := ix.Search(context.Background(), "bananas", SearchOptions{K: 1})
	if err != nil || len(res) != 1 || !strings.Contains(res[0].Paragraph.Text, "bananas") {
		t.Errorf("after a cancelled reload, search = %+v, %v", res, err)
	}

	// An already cancelled context fails even when nothing needs embedding.
	if _, err := ix.Load(ctx, threeParas("The second paragraph talks about bananas."), nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Load with a done context: err = %v", err)
	}
}

func TestReloadUnderConcurrentQueries(t *testing.T) {
	// Two generations whose every paragraph names its generation: a query
	// answered from a mix of snapshots would show both names.
	gen := func(name string, n int) *corpus.Corpus {
		var arts []testArticle
		for a := range n {
			arts = append(arts, testArticle{
				id: name + "-" + string(rune('a'+a)), title: name + " article",
				paras: []string{
					name + " paragraph about rivers and mountains " + string(rune('a'+a)),
					name + " paragraph about oceans and islands " + string(rune('a'+a)),
				},
			})
		}
		return testCorpus(arts...)
	}
	gens := []*corpus.Corpus{gen("alpha", 3), gen("beta", 5)}
	emb := newCounting("fake")
	ix := mustOpen(t, Config{Embedder: emb}, gens[0])

	ctx := context.Background()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				res, err := ix.Search(ctx, "paragraph about rivers", SearchOptions{K: 10})
				if err != nil {
					errs <- err
					return
				}
				names := map[string]bool{}
				for _, r := range res {
					names[strings.Fields(r.Paragraph.Text)[0]] = true
					if !strings.HasPrefix(r.Article.ID, strings.Fields(r.Paragraph.Text)[0]) {
						errs <- errors.New("result's article from another snapshot")
						return
					}
				}
				if len(names) != 1 || (len(res) != 6 && len(res) != 10) {
					errs <- errors.New("query answered from a mix of snapshots")
					return
				}
				if _, err := ix.Quote(ctx, "about oceans", QuoteOptions{K: 20}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for i := range 20 {
		if _, err := ix.Load(ctx, gens[i%2], nil); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func TestReloadSeesTitleChange(t *testing.T) {
	ctx := context.Background()
	paras := []string{"Apples and pears grow in orchards.", "Carrots grow underground."}
	emb := newCounting("fake")
	ix := mustOpen(t, Config{Embedder: emb}, testCorpus(testArticle{"food", "Fruit", paras}))
	for _, title := range []string{"Fruit", "Vegetables"} {
		emb.reset()
		if _, err := ix.Load(ctx, testCorpus(testArticle{"food", title, paras}), nil); err != nil {
			t.Fatal(err)
		}
		if n := len(emb.embedded()); n != 0 {
			t.Errorf("title %q: embedded %d texts", title, n)
		}
		res, err := ix.Search(ctx, title, SearchOptions{K: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 1 || res[0].Keyword <= 0 || res[0].Relevance != 1 || res[0].Article.Title != title {
			t.Errorf("search for the title %q: %+v", title, res)
		}
	}
}

func TestDimensionChangeRebuilds(t *testing.T) {
	dir := t.TempDir()
	c := threeParas("The second paragraph talks about bananas.")
	mustOpen(t, Config{Embedder: newCounting("same-name"), Dir: dir}, c)

	// A new version of the model keeps its name but changes dimension.
	emb := newCounting("same-name")
	emb.dims = 32
	var logs bytes.Buffer
	ix := mustOpen(t, Config{Embedder: emb, Dir: dir, Logger: slog.New(slog.NewTextHandler(&logs, nil))},
		threeParas("The second paragraph talks about kiwis."))
	// The edited paragraph reveals the change; then all are embedded again.
	if n := len(emb.embedded()); n != 1+3 {
		t.Errorf("embedded %d texts, want 1+3", n)
	}
	if !strings.Contains(logs.String(), "changed dimension") {
		t.Errorf("no warning: %q", logs.String())
	}
	res, err := ix.Search(context.Background(), "kiwis", SearchOptions{K: 1})
	if err != nil || len(res) != 1 || !strings.Contains(res[0].Paragraph.Text, "kiwis") {
		t.Errorf("search after the rebuild = %+v, %v", res, err)
	}
}

// refusing embeds like the LocalEmbedder but answers HTTP 400, as a server
// does for a text longer than it takes, for any batch holding "TOO LONG",
// or 401 for every batch when failAll is set.
type refusing struct {
	LocalEmbedder
	failAll  bool
	maxBytes int // when set, texts longer than this are refused too
	calls    int
	longest  int // the longest text embedded
}

func (e *refusing) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	e.calls++
	if e.failAll {
		return nil, &openai.APIError{HTTPStatusCode: 401, Message: "bad key"}
	}
	for _, t := range texts {
		if strings.Contains(t, "TOO LONG") || e.maxBytes > 0 && len(t) > e.maxBytes {
			return nil, &openai.APIError{HTTPStatusCode: 400, Message: "input too long"}
		}
	}
	for _, t := range texts {
		e.longest = max(e.longest, len(t))
	}
	return e.LocalEmbedder.Embed(ctx, texts)
}

// loadWith opens an index with emb and loads c into it.
func loadWith(t *testing.T, emb Embedder, c *corpus.Corpus) (*Index, Stats) {
	t.Helper()
	ix, err := Open(context.Background(), Config{Embedder: emb})
	if err != nil {
		t.Fatal(err)
	}
	st, err := ix.Load(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ix, st
}

// TestLoadIsolatesRefusedTexts checks that one text the embedder refuses
// costs only that paragraph's vector: the load succeeds, the paragraph is
// still found by keywords, and a refusal of everything fails the load.
func TestLoadIsolatesRefusedTexts(t *testing.T) {
	c := testCorpus(
		testArticle{"cats", "Cats", []string{"Cats purr when they are content.", "A cat sleeps most of the day.", "Cats see well at night."}},
		testArticle{"dogs", "Dogs", []string{"Dogs bark at strangers passing by. TOO LONG for the server.", "A dog wags its tail when happy."}},
	)
	ix, st := loadWith(t, &refusing{LocalEmbedder: *NewLocal(0)}, c)
	if st.Unembedded != 1 || st.Embedded != 4 {
		t.Errorf("embedded %d, unembedded %d; want 4 and 1", st.Embedded, st.Unembedded)
	}
	res, err := ix.Search(context.Background(), "dogs bark at strangers", SearchOptions{K: 2})
	found := false
	for _, r := range res {
		found = found || strings.Contains(r.Paragraph.Text, "bark")
	}
	if err != nil || !found {
		t.Errorf("the refused paragraph is not found by keywords: %+v, %v", res, err)
	}
	bad := &refusing{LocalEmbedder: *NewLocal(0), failAll: true}
	ix2, _ := Open(context.Background(), Config{Embedder: bad})
	if _, err := ix2.Load(context.Background(), c, nil); err == nil || bad.calls != 1 {
		t.Errorf("a 401 on every batch: err %v after %d calls, want the load to fail at once", err, bad.calls)
	}
}

// TestLoadEmbedsTheStartOfLongParagraphs checks that a paragraph longer
// than the embedder takes gets the vector of its beginning, so that it is
// still found by meaning, not only by keywords.
func TestLoadEmbedsTheStartOfLongParagraphs(t *testing.T) {
	long := "Cats purr when they are content and sleep in the sun. " + strings.Repeat("They also chase mice, string and shadows across the floor. ", 40)
	c := testCorpus(
		testArticle{"cats", "Cats", []string{long, "A cat sleeps most of the day."}},
		testArticle{"dogs", "Dogs", []string{"A dog wags its tail when happy."}},
	)
	emb := &refusing{LocalEmbedder: *NewLocal(0), maxBytes: 1000}
	ix, st := loadWith(t, emb, c)
	if st.Unembedded != 0 || st.Embedded != 3 {
		t.Errorf("embedded %d, unembedded %d; want 3 and 0", st.Embedded, st.Unembedded)
	}
	if emb.longest > 1000 || emb.longest < 500 {
		t.Errorf("longest text embedded %d bytes; want the paragraph's start, between 500 and 1000", emb.longest)
	}
	res, err := ix.Search(context.Background(), "purring cats content", SearchOptions{K: 1})
	if err != nil || len(res) == 0 || res[0].Paragraph.Text != long || res[0].Vector == 0 {
		t.Errorf("the long paragraph is not found with a vector score: %+v, %v", res, err)
	}
}

// slowQueries embeds a load at once but takes an hour over a query.
type slowQueries struct {
	LocalEmbedder
	loaded atomic.Bool
}

func (e *slowQueries) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if e.loaded.Load() {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return e.LocalEmbedder.Embed(ctx, texts)
}

// TestSearchQueryTimeout checks that a question waits at most
// QueryTimeout for its embedding, then is answered by keywords alone.
func TestSearchQueryTimeout(t *testing.T) {
	c := testCorpus(testArticle{"cats", "Cats", []string{"Cats purr when they are content.", "A cat sleeps most of the day."}})
	emb := &slowQueries{LocalEmbedder: *NewLocal(0)}
	ix, err := Open(context.Background(), Config{Embedder: emb, QueryTimeout: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Load(context.Background(), c, nil); err != nil {
		t.Fatal(err)
	}
	emb.loaded.Store(true)
	res, err := ix.Search(context.Background(), "cats purr", SearchOptions{K: 1})
	if err != nil || len(res) != 1 || !res[0].KeywordOnly || !strings.Contains(res[0].Paragraph.Text, "purr") {
		t.Errorf("Search with a stalled embedder = %+v, %v: want a keyword-only result", res, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ix.Search(ctx, "cats purr", SearchOptions{K: 1}); !errors.Is(err, context.Canceled) {
		t.Errorf("Search with a cancelled context: err = %v", err)
	}
}

func TestHalfText(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"one two three four", "one two"},
		{"abcdefgh", "abcd"},
		{"ééééé", "éé"}, // 10 bytes: the middle falls inside no character
		{"阿塞拜疆阿塞拜疆", "阿塞拜疆"},
	} {
		if got := halfText(tt.in); got != tt.want {
			t.Errorf("halfText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
