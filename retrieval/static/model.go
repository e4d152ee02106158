package static

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/verbatim-bot/verbatim/retrieval/internal/binread"
)

// modelMagic opens every table written by scripts/distill/distill.py.
const modelMagic = "MSTATIC1"

// maxNameLen bounds the model name in the header.
const maxNameLen = 256

// parseModel reads a table, its vocabulary and the character classes of its
// tokenizer (see parseChars). The table is, little-endian:
// the magic; the name's length (uint32) and the name; the rows and the
// dimension (uint32 each); one float32 scale per row; then rows×dims int8
// values, row-major. Row i is the vector of vocabulary id i. The int8 values
// are not copied: the Embedder reads them from bin.
func parseModel(bin, vocab, chars string) (*Embedder, error) {
	r := binread.New(bin)
	if r.Next(len(modelMagic)) != modelMagic {
		return nil, errors.New("model: bad magic")
	}
	name := r.Name(maxNameLen)
	rows, dims := r.Int(), r.Int()
	if r.Err() != nil {
		return nil, fmt.Errorf("model: header: %w", r.Err())
	}
	if rows == 0 || dims == 0 || len(r.Rest()) != rows*4+rows*dims {
		return nil, fmt.Errorf("model: %d rows × %d dims do not fit %d bytes", rows, dims, len(r.Rest()))
	}
	scale := make([]float32, rows)
	for i := range scale {
		scale[i] = math.Float32frombits(r.Uint32())
	}
	tokens := strings.Split(strings.TrimSuffix(vocab, "\n"), "\n")
	if len(tokens) != rows {
		return nil, fmt.Errorf("model: %d rows but %d vocabulary tokens", rows, len(tokens))
	}
	classes, err := parseChars(chars)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	tok, err := newTokenizer(tokens, classes)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	return &Embedder{name: name, dims: dims, scale: scale, data: r.Rest(), tok: tok}, nil
}
