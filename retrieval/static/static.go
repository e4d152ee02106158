// Package static is an offline embedder that captures meaning: a table of
// token vectors distilled from the all-MiniLM-L6-v2 sentence transformer
// (Model2Vec's method; see scripts/distill), shipped inside the binary.
//
// A text's vector is the mean of the table rows of its WordPiece tokens,
// scaled to unit length. Because each row was computed by the transformer,
// related words get nearby vectors ("purchase" and "buy", "crude" and "oil")
// although they share no letters; because there is no transformer at run
// time, word order and context are lost ("dog bites man" equals "man bites
// dog"). It needs no server, no download and no key.
package static

import (
	"context"
	_ "embed"
	"fmt"
	"math"
)

// modelBin is the distilled table; its format is parsed by parseModel.
//
//go:embed model.bin
var modelBin string

// vocabTxt is the model's WordPiece vocabulary: one token a line, the line
// number (from 0) being the token's id.
//
//go:embed vocab.txt
var vocabTxt string

// charsTxt lists, by runs of code points, what the model's tokenizer does
// with each non-ASCII character; see parseChars.
//
//go:embed chars.txt
var charsTxt string

// Embedder embeds texts with the distilled table. It is safe for
// concurrent use.
type Embedder struct {
	name  string
	dims  int
	scale []float32 // per row; 0 for rows no text maps to
	data  string    // rows×dims int8 values, row-major; row = scale × data
	tok   *tokenizer
}

// New parses the embedded table. The result holds no per-call state, so one
// Embedder can serve a whole process.
func New() (*Embedder, error) {
	e, err := parseModel(modelBin, vocabTxt, charsTxt)
	if err != nil {
		return nil, fmt.Errorf("static: %w", err)
	}
	return e, nil
}

// Model names the table and its dimension, e.g. "minilm-static-v2-256".
// The name is stored in the table, so a new table brings a new name.
func (e *Embedder) Model() string { return e.name }

// Dims returns the length of the vectors Embed returns.
func (e *Embedder) Dims() int { return e.dims }

// Tokenize returns the vocabulary ids of text's WordPiece tokens, as BERT's
// uncased tokenizer gives them, without [CLS] and [SEP].
func (e *Embedder) Tokenize(text string) []int32 {
	var st tokState
	return e.tok.appendIDs(nil, text, &st)
}

// checkEvery is how many texts Embed embeds between checks of its context.
const checkEvery = 32

// Embed returns one unit vector per text, in order. A text with no known
// token (empty, or only characters the vocabulary lacks) gets the first
// basis vector. It fails only when ctx is done.
func (e *Embedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if len(texts) == 0 {
		return nil, nil
	}
	var (
		st  tokState
		ids []int32
	)
	backing := make([]float32, len(texts)*e.dims)
	out := make([][]float32, len(texts))
	for i, text := range texts {
		if i%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("static embedder: %w", err)
			}
		}
		v := backing[i*e.dims : (i+1)*e.dims : (i+1)*e.dims]
		ids = e.tok.appendIDs(ids[:0], text, &st)
		e.pool(v, ids)
		out[i] = v
	}
	return out, nil
}

// pool sets v, which is zero, to the unit-length sum of the rows of ids.
// Each product is rounded to float32 on its own, which forbids fused
// multiply-adds, so that every platform computes the same bits.
func (e *Embedder) pool(v []float32, ids []int32) {
	for _, id := range ids {
		s := e.scale[id]
		if s == 0 {
			continue
		}
		off := int(id) * e.dims
		row := e.data[off : off+len(v)]
		for j := range v {
			v[j] += float32(s * float32(int8(row[j])))
		}
	}
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	if sum == 0 {
		v[0] = 1
		return
	}
	inv := 1 / math.Sqrt(sum)
	for j, x := range v {
		v[j] = float32(float64(x) * inv)
	}
}
