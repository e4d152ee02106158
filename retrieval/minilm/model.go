package minilm

import (
	"errors"
	"fmt"
	"math"
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
	r := reader{s: bin}
	if r.next(len(modelMagic)) != modelMagic {
		return "", c, nil, errors.New("bad magic")
	}
	name := r.name()
	c.vocab, c.hidden, c.layers = r.int(), r.int(), r.int()
	c.heads, c.ffn, c.positions = r.int(), r.int(), r.int()
	c.eps = math.Float32frombits(r.uint32())
	count := r.int()
	if r.err != nil {
		return "", c, nil, fmt.Errorf("header: %w", r.err)
	}
	ts := make(map[string]tensor, count)
	for range count {
		tn := r.name()
		t := tensor{kind: r.int(), rows: r.int(), cols: r.int()}
		if t.kind != kindF32 {
			t.group = r.int()
		}
		size, err := t.size()
		if err != nil {
			return "", c, nil, fmt.Errorf("tensor %q: %w", tn, err)
		}
		t.data = r.next(size)
		if r.err != nil {
			return "", c, nil, fmt.Errorf("tensor %q: %w", tn, r.err)
		}
		ts[tn] = t
	}
	if len(r.s) != 0 {
		return "", c, nil, fmt.Errorf("%d bytes after the last tensor", len(r.s))
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
			dst[j] = math.Float32frombits(le32(b[4*j:]))
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

func le32(b string) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
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
	if n < 0 || n > len(r.s) {
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
	return le32(b)
}

func (r *reader) int() int {
	v := r.uint32()
	if v > math.MaxInt32 {
		r.err = errors.New("value out of range")
	}
	return int(v)
}

func (r *reader) name() string {
	n := r.int()
	if r.err == nil && (n == 0 || n > maxNameLen) {
		r.err = fmt.Errorf("bad name length %d", n)
	}
	return r.next(n)
}
