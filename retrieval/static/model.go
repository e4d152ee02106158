package static

import (
	"errors"
	"fmt"
	"math"
	"strings"
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
	r := reader{s: bin}
	if r.next(len(modelMagic)) != modelMagic {
		return nil, errors.New("model: bad magic")
	}
	n := r.uint32()
	if n == 0 || n > maxNameLen {
		return nil, fmt.Errorf("model: bad name length %d", n)
	}
	name := r.next(int(n))
	rows, dims := int(r.uint32()), int(r.uint32())
	if r.err != nil {
		return nil, fmt.Errorf("model: header: %w", r.err)
	}
	if rows == 0 || dims == 0 || rows > math.MaxInt32 || len(r.s) != rows*4+rows*dims {
		return nil, fmt.Errorf("model: %d rows × %d dims do not fit %d bytes", rows, dims, len(r.s))
	}
	scale := make([]float32, rows)
	for i := range scale {
		scale[i] = math.Float32frombits(r.uint32())
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
	return &Embedder{name: name, dims: dims, scale: scale, data: r.s, tok: tok}, nil
}

// reader consumes a string from the front; its first failure sticks.
type reader struct {
	s   string
	err error
}

func (r *reader) next(n int) string {
	if r.err != nil {
		return ""
	}
	if n > len(r.s) {
		r.err = errors.New("truncated")
		return ""
	}
	head := r.s[:n]
	r.s = r.s[n:]
	return head
}

func (r *reader) uint32() uint32 {
	b := r.next(4)
	if len(b) < 4 {
		return 0
	}
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}
