package retrieval

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash/fnv"
	"math"
	"strconv"
	"sync"
	"testing"

	"github.com/verbatim-bot/verbatim/corpus"
)

// countingEmbedder is a deterministic bag-of-words embedder that counts the
// texts it embeds and can be made to fail or to block.
type countingEmbedder struct {
	model string
	dims  int

	mu    sync.Mutex
	texts []string // every text embedded, in order
	calls int
	fail  error // returned by Embed when set

	// When block is not nil, Embed sends on entered (if not nil) and then
	// waits for block to be closed or ctx to be done.
	block   chan struct{}
	entered chan struct{}
}

func newCounting(model string) *countingEmbedder { return &countingEmbedder{model: model, dims: 64} }

func (f *countingEmbedder) Model() string { return f.model }

func (f *countingEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	f.mu.Lock()
	block, entered, fail := f.block, f.entered, f.fail
	f.mu.Unlock()
	if block != nil {
		if entered != nil {
			entered <- struct{}{}
		}
		select {
		case <-block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if fail != nil {
		return nil, fail
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.texts = append(f.texts, texts...)
	f.calls++
	f.mu.Unlock()
	out := make([][]float32, len(texts))
	for i, t := range texts {
		v := make([]float32, f.dims)
		for _, term := range Terms(t) {
			h := fnv.New32a()
			h.Write([]byte(term))
			v[h.Sum32()%uint32(f.dims)]++
		}
		var ss float64
		for _, x := range v {
			ss += float64(x * x)
		}
		if ss == 0 {
			v[0] = 1
			ss = 1
		}
		for j := range v {
			v[j] /= float32(math.Sqrt(ss))
		}
		out[i] = v
	}
	return out, nil
}

// reset forgets the texts embedded so far.
func (f *countingEmbedder) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.texts, f.calls = nil, 0
}

// embedded returns the texts embedded since the last reset.
func (f *countingEmbedder) embedded() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.texts...)
}

func (f *countingEmbedder) setFail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = err
}

// testArticle is an article for testCorpus.
type testArticle struct {
	id, title string
	paras     []string
}

// testCorpus builds a corpus as corpus.Load would: IDs, positions, hashes.
func testCorpus(arts ...testArticle) *corpus.Corpus {
	c := &corpus.Corpus{}
	for _, ta := range arts {
		a := corpus.Article{ID: ta.id, Title: ta.title, Source: ta.id + ".txt"}
		for i, p := range ta.paras {
			sum := sha256.Sum256([]byte(p))
			a.Paragraphs = append(a.Paragraphs, corpus.Paragraph{
				ID:        ta.id + "#" + strconv.Itoa(i+1),
				ArticleID: ta.id,
				N:         i + 1,
				Text:      p,
				Hash:      hex.EncodeToString(sum[:]),
			})
		}
		c.Articles = append(c.Articles, a)
	}
	return c
}

// shipped loads the article shipped with Verbatim.
func shippedCorpus(t *testing.T) *corpus.Corpus {
	t.Helper()
	c, err := corpus.Load(context.Background(), corpus.Default(), corpus.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// mustOpen opens an index and loads c into it.
func mustOpen(t *testing.T, cfg Config, c *corpus.Corpus) *Index {
	t.Helper()
	ix, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if c != nil {
		if _, err := ix.Load(context.Background(), c, nil); err != nil {
			t.Fatal(err)
		}
	}
	return ix
}

var errEmbedderDown = errors.New("embedder down")
