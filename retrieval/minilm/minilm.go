// Package minilm is an offline sentence encoder: the all-MiniLM-L6-v2
// transformer (see NOTICE), quantised and shipped inside the binary, run in
// pure Go.
//
// Unlike retrieval/static's table, which sums token vectors, it reads each
// token in the context of the whole text, so it can tell an answerable
// paraphrase from an off-topic question that shares its words. It costs far
// more per text, so it suits query-time use on a question and a few
// candidate sentences, not building an index.
package minilm

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/verbatim-bot/verbatim/retrieval/static"
)

// modelBin holds the weights; its format is parsed by parseFile.
//
//go:embed model.bin
var modelBin string

// MaxTokens is the length, [CLS] and [SEP] included, past which a text is
// truncated, as sentence-transformers does for this model.
const MaxTokens = 256

// cacheSize is how many texts' vectors an Encoder keeps, most recently
// used first: a bot asked about the same articles meets the same
// sentences again.
const cacheSize = 4096

// Encoder embeds texts with the transformer. It is safe for concurrent use.
type Encoder struct {
	cache  *lru.Cache[string, []float32]
	name   string
	cfg    config
	tok    *static.Embedder // for its tokenizer: the model's vocabulary
	cls    int32
	sep    int32
	word   tensor    // vocab×hidden, quantised; rows are dequantised on use
	pos    []float32 // positions×hidden, with token type 0 added
	embLN  layerNorm
	layers []layer
}

// layer is one transformer block, its weights dequantised.
type layer struct {
	qkv    linear // hidden → 3×hidden: queries, keys, values
	out    linear // hidden → hidden
	attnLN layerNorm
	up     linear // hidden → ffn
	down   linear // ffn → hidden
	ffnLN  layerNorm
}

// linear is y = W x + b, W stored row-major as out×in.
type linear struct {
	w       []float32
	b       []float32
	in, out int
}

type layerNorm struct{ gamma, beta []float32 }

// New parses the embedded model, dequantising the encoder's weights.
func New() (*Encoder, error) {
	e, err := parse(modelBin)
	if err != nil {
		return nil, fmt.Errorf("minilm: %w", err)
	}
	if e.cache, err = lru.New[string, []float32](cacheSize); err != nil {
		return nil, fmt.Errorf("minilm: %w", err)
	}
	return e, nil
}

// Model names the weights, e.g. "minilm-l6-v2-q8"; a new file brings a new
// name.
func (e *Encoder) Model() string { return e.name }

// Dims returns the length of the vectors Embed returns.
func (e *Encoder) Dims() int { return e.cfg.hidden }

// Tokenize returns the ids the model reads for text: [CLS], its WordPiece
// tokens, [SEP], truncated to MaxTokens.
func (e *Encoder) Tokenize(text string) []int32 {
	ids := e.tok.Tokenize(text)
	if len(ids) > MaxTokens-2 {
		ids = ids[:MaxTokens-2]
	}
	out := make([]int32, 0, len(ids)+2)
	out = append(out, e.cls)
	out = append(out, ids...)
	return append(out, e.sep)
}

// Embed returns one unit vector per text, in order: the mean of the
// transformer's outputs over the text's tokens, scaled to unit length, as
// sentence-transformers computes it. Texts met recently come from a cache;
// the others are encoded in parallel, one per goroutine, up to GOMAXPROCS.
// It fails only when ctx is done.
func (e *Encoder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if len(texts) == 0 {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("minilm: %w", err)
	}
	out := make([][]float32, len(texts))
	var missing []string
	at := make(map[string]int) // position in missing
	for i, t := range texts {
		if v, ok := e.cache.Get(t); ok {
			out[i] = slices.Clone(v)
		} else if _, ok := at[t]; !ok {
			at[t] = len(missing)
			missing = append(missing, t)
		}
	}
	vecs, err := e.encodeAll(ctx, missing)
	if err != nil {
		return nil, err
	}
	for i, t := range missing {
		e.cache.Add(t, vecs[i])
	}
	for i, t := range texts {
		if out[i] == nil {
			out[i] = slices.Clone(vecs[at[t]])
		}
	}
	return out, nil
}

// encodeAll encodes texts in parallel, one per goroutine, up to GOMAXPROCS.
func (e *Encoder) encodeAll(ctx context.Context, texts []string) ([][]float32, error) {
	if len(texts) == 0 {
		return nil, nil
	}
	out := make([][]float32, len(texts))
	var (
		next    atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		first   error
	)
	workers := min(runtime.GOMAXPROCS(0), len(texts))
	for range workers {
		wg.Go(func() {
			var s scratch
			for {
				i := int(next.Add(1) - 1)
				if i >= len(texts) {
					return
				}
				v, err := e.encode(ctx, e.Tokenize(texts[i]), &s)
				if err != nil {
					errOnce.Do(func() { first = err })
					return
				}
				out[i] = v
			}
		})
	}
	wg.Wait()
	if first != nil {
		return nil, fmt.Errorf("minilm: %w", first)
	}
	return out, nil
}

// parse builds an Encoder from model.bin.
func parse(bin string) (*Encoder, error) {
	name, c, ts, err := parseFile(bin)
	if err != nil {
		return nil, err
	}
	if c.hidden == 0 || c.heads == 0 || c.hidden%c.heads != 0 || c.positions < MaxTokens {
		return nil, fmt.Errorf("bad config %+v", c)
	}
	tok, err := static.New()
	if err != nil {
		return nil, err
	}
	e := &Encoder{name: name, cfg: c, tok: tok}
	g := getter{ts: ts}
	e.word = g.tensor("embeddings.word_embeddings.weight", c.vocab, c.hidden)
	pos := g.tensor("embeddings.position_embeddings.weight", c.positions, c.hidden).matrix()
	typ := g.vector("embeddings.token_type_embeddings.weight", 2*c.hidden)
	for i := range pos {
		pos[i] += typ[i%c.hidden]
	}
	e.pos = pos
	e.embLN = g.layerNorm("embeddings.LayerNorm", c.hidden)
	for l := range c.layers {
		e.layers = append(e.layers, g.layer(fmt.Sprintf("encoder.layer.%d.", l), c))
	}
	if g.err != nil {
		return nil, g.err
	}
	ids := tok.Tokenize("[CLS][SEP]")
	if len(ids) != 2 {
		return nil, errors.New("vocabulary: no [CLS] or [SEP]")
	}
	e.cls, e.sep = ids[0], ids[1]
	return e, nil
}

// getter takes tensors of known shapes from a parsed file; its first
// failure sticks.
type getter struct {
	ts  map[string]tensor
	err error
}

func (g *getter) tensor(name string, rows, cols int) tensor {
	t, ok := g.ts[name]
	if g.err == nil && (!ok || t.rows != rows || t.cols != cols) {
		g.err = fmt.Errorf("tensor %q: missing or not %d×%d", name, rows, cols)
	}
	return t
}

// vector returns an f32 tensor's n values.
func (g *getter) vector(name string, n int) []float32 {
	t, ok := g.ts[name]
	if g.err == nil && (!ok || t.kind != kindF32 || t.rows*t.cols != n) {
		g.err = fmt.Errorf("tensor %q: missing or not %d float32 values", name, n)
	}
	if g.err != nil {
		return make([]float32, n)
	}
	t.rows, t.cols = 1, n
	return t.matrix()
}

func (g *getter) linear(prefix string, in, out int) linear {
	t := g.tensor(prefix+".weight", out, in)
	b := g.vector(prefix+".bias", out)
	if g.err != nil {
		return linear{}
	}
	return linear{w: t.matrix(), b: b, in: in, out: out}
}

func (g *getter) layerNorm(prefix string, n int) layerNorm {
	return layerNorm{gamma: g.vector(prefix+".weight", n), beta: g.vector(prefix+".bias", n)}
}

func (g *getter) layer(prefix string, c config) layer {
	h := c.hidden
	q := g.linear(prefix+"attention.self.query", h, h)
	k := g.linear(prefix+"attention.self.key", h, h)
	v := g.linear(prefix+"attention.self.value", h, h)
	qkv := linear{in: h, out: 3 * h}
	qkv.w = append(append(append(qkv.w, q.w...), k.w...), v.w...)
	qkv.b = append(append(append(qkv.b, q.b...), k.b...), v.b...)
	return layer{
		qkv:    qkv,
		out:    g.linear(prefix+"attention.output.dense", h, h),
		attnLN: g.layerNorm(prefix+"attention.output.LayerNorm", h),
		up:     g.linear(prefix+"intermediate.dense", h, c.ffn),
		down:   g.linear(prefix+"output.dense", c.ffn, h),
		ffnLN:  g.layerNorm(prefix+"output.LayerNorm", h),
	}
}
