package minilm

import (
	"errors"
	"fmt"
	"math"

	"github.com/verbatim-bot/verbatim/retrieval/internal/binread"
)

// modelMagic opens every file written by scripts/distill/minilm.py.
const modelMagic = "MINILM01"

// Tensor kinds in model.bin.
const (
	kindF32 = 0
	kindQ4  = 1
	kindQ8  = 2
)

// maxNameLen bounds the names in the file.
const maxNameLen = 256

// config is the model's shape, from the file's header.
type config struct {
	vocab, hidden, layers, heads, ffn, positions int
	eps                                          float32
}

// tensor is one stored parameter, still quantised.
type tensor struct {
	kind, rows, cols, group int
	data                    string
}

// parseFile reads the header and the tensors of model.bin, as written by
// scripts/distill/minilm.py (see its doc string for the format). The
// tensors' data is not copied.
func parseFile(bin string) (string, config, map[string]tensor, error) {
	var c config
	r := binread.New(bin)
	if r.Next(len(modelMagic)) != modelMagic {
		return "", c, nil, errors.New("bad magic")
	}
	name := r.Name(maxNameLen)
	c.vocab, c.hidden, c.layers = r.Int(), r.Int(), r.Int()
	c.heads, c.ffn, c.positions = r.Int(), r.Int(), r.Int()
	c.eps = math.Float32frombits(r.Uint32())
	count := r.Int()
	if r.Err() != nil {
		return "", c, nil, fmt.Errorf("header: %w", r.Err())
	}
	ts := make(map[string]tensor, count)
	for range count {
		tn := r.Name(maxNameLen)
		t := tensor{kind: r.Int(), rows: r.Int(), cols: r.Int()}
		if t.kind != kindF32 {
			t.group = r.Int()
		}
		size, err := t.size()
		if err != nil {
			return "", c, nil, fmt.Errorf("tensor %q: %w", tn, err)
		}
		t.data = r.Next(size)
		if r.Err() != nil {
			return "", c, nil, fmt.Errorf("tensor %q: %w", tn, r.Err())
		}
		ts[tn] = t
	}
	if n := len(r.Rest()); n != 0 {
		return "", c, nil, fmt.Errorf("%d bytes after the last tensor", n)
	}
	return name, c, ts, nil
}

// size returns the bytes of t's data.
func (t tensor) size() (int, error) {
	const limit = 1 << 28
	if t.rows <= 0 || t.cols <= 0 || t.rows > limit/t.cols {
		return 0, fmt.Errorf("bad shape %d×%d", t.rows, t.cols)
	}
	n := t.rows * t.cols
	switch t.kind {
	case kindF32:
		return 4 * n, nil
	case kindQ4, kindQ8:
		if t.group <= 0 || t.group%2 != 0 || t.cols%t.group != 0 {
			return 0, fmt.Errorf("bad group %d for %d columns", t.group, t.cols)
		}
		scales := 2 * n / t.group
		if t.kind == kindQ4 {
			return scales + n/2, nil
		}
		return scales + n, nil
	}
	return 0, fmt.Errorf("unknown kind %d", t.kind)
}

// row dequantises row i of t into dst, which has t.cols elements.
func (t tensor) row(dst []float32, i int) {
	if t.kind == kindF32 {
		b := t.data[4*i*t.cols:]
		for j := range dst {
			dst[j] = math.Float32frombits(binread.Le32(b[4*j:]))
		}
		return
	}
	groups := t.cols / t.group
	scales := t.data[2*i*groups : 2*(i+1)*groups]
	q := t.data[2*t.rows*groups:]
	if t.kind == kindQ4 {
		q = q[i*t.cols/2 : (i+1)*t.cols/2]
	} else {
		q = q[i*t.cols : (i+1)*t.cols]
	}
	for g := range groups {
		d := f16(uint16(scales[2*g]) | uint16(scales[2*g+1])<<8)
		out := dst[g*t.group : (g+1)*t.group]
		if t.kind == kindQ4 {
			b := q[g*t.group/2 : (g+1)*t.group/2]
			for k := 0; k < len(b); k++ { // bytes, not runes
				out[2*k] = d * float32(int(b[k]&15)-8)
				out[2*k+1] = d * float32(int(b[k]>>4)-8)
			}
			continue
		}
		b := q[g*t.group : (g+1)*t.group]
		for k := 0; k < len(b); k++ { // bytes, not runes
			out[k] = d * float32(int8(b[k]))
		}
	}
}

// matrix dequantises all of t, row-major.
func (t tensor) matrix() []float32 {
	m := make([]float32, t.rows*t.cols)
	for i := range t.rows {
		t.row(m[i*t.cols:(i+1)*t.cols], i)
	}
	return m
}

// f16 converts IEEE half-precision bits to float32.
func f16(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp != 0:
		return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
	case frac == 0:
		return math.Float32frombits(sign)
	}
	v := float32(frac) / (1 << 24) // subnormal: frac × 2^-24
	if sign != 0 {
		return -v
	}
	return v
}
