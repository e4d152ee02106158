package minilm

import (
	"context"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// scratch holds one goroutine's buffers, reused across texts.
type scratch struct {
	x, qkv, ctx, tmp, ffn, scores []float32
}

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

// encode runs the transformer over ids and returns the unit-length mean of
// its outputs.
func (e *Encoder) encode(ctx context.Context, ids []int32, s *scratch) ([]float32, error) {
	n, h := len(ids), e.cfg.hidden
	s.x = grow(s.x, n*h)
	for t, id := range ids {
		row := s.x[t*h : (t+1)*h]
		e.word.row(row, int(id))
		pos := e.pos[t*h : (t+1)*h]
		for j := range row {
			row[j] += pos[j]
		}
	}
	e.embLN.apply(s.x, nil, h, e.cfg.eps)
	for i := range e.layers {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		e.block(&e.layers[i], n, s)
	}
	return meanUnit(s.x, n, h), nil
}

// block runs one transformer layer over s.x, n tokens, in place.
func (e *Encoder) block(l *layer, n int, s *scratch) {
	h := e.cfg.hidden
	s.qkv = grow(s.qkv, n*3*h)
	l.qkv.apply(s.qkv, s.x, n)
	s.ctx = grow(s.ctx, n*h)
	e.attend(s.ctx, s.qkv, n, s)
	s.tmp = grow(s.tmp, n*h)
	l.out.apply(s.tmp, s.ctx, n)
	l.attnLN.apply(s.x, s.tmp, h, e.cfg.eps)
	s.ffn = grow(s.ffn, n*l.up.out)
	l.up.apply(s.ffn, s.x, n)
	for i, v := range s.ffn {
		s.ffn[i] = gelu(v)
	}
	l.down.apply(s.tmp, s.ffn, n)
	l.ffnLN.apply(s.x, s.tmp, h, e.cfg.eps)
}

// attend computes multi-head self-attention: dst (n×hidden) from the
// queries, keys and values in qkv (n×3·hidden). Every token attends to
// every token: a text is encoded alone, so there is no padding to mask.
func (e *Encoder) attend(dst, qkv []float32, n int, s *scratch) {
	h, heads := e.cfg.hidden, e.cfg.heads
	dh := h / heads
	scale := float32(1 / math.Sqrt(float64(dh)))
	s.scores = grow(s.scores, n)
	p := s.scores
	for hd := range heads {
		for i := range n {
			q := qkv[i*3*h+hd*dh : i*3*h+hd*dh+dh]
			peak := float32(math.Inf(-1))
			for j := range n {
				k := qkv[j*3*h+h+hd*dh : j*3*h+h+hd*dh+dh]
				p[j] = dot(q, k) * scale
				peak = max(peak, p[j])
			}
			var sum float32
			for j := range p {
				p[j] = float32(math.Exp(float64(p[j] - peak)))
				sum += p[j]
			}
			out := dst[i*h+hd*dh : i*h+hd*dh+dh]
			clear(out)
			for j := range n {
				w := p[j] / sum
				v := qkv[j*3*h+2*h+hd*dh : j*3*h+2*h+hd*dh+dh]
				for c := range out {
					out[c] += w * v[c]
				}
			}
		}
	}
}

// dot returns the dot product of a and b[:len(a)].
//
// It only reads its slices (a goroutine's own activations) and writes
// locals; go:norace keeps the race detector from multiplying the cost of
// every multiply-add of the attention.
//
//go:norace
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return s0 + s1 + s2 + s3
}

// gelu is the exact (erf) GELU, Hugging Face's "gelu".
func gelu(x float32) float32 {
	return float32(0.5 * float64(x) * (1 + math.Erf(float64(x)/math.Sqrt2)))
}

// apply sets x, rows of n values, to LayerNorm(x + add); add may be nil.
func (ln layerNorm) apply(x, add []float32, n int, eps float32) {
	for r := 0; r < len(x); r += n {
		row := x[r : r+n]
		if add != nil {
			a := add[r : r+n]
			for j := range row {
				row[j] += a[j]
			}
		}
		var mean, sq float64
		for _, v := range row {
			mean += float64(v)
		}
		mean /= float64(n)
		for _, v := range row {
			d := float64(v) - mean
			sq += d * d
		}
		inv := 1 / math.Sqrt(sq/float64(n)+float64(eps))
		for j, v := range row {
			row[j] = float32((float64(v)-mean)*inv)*ln.gamma[j] + ln.beta[j]
		}
	}
}

// meanUnit returns the mean of the n rows of x, scaled to unit length.
func meanUnit(x []float32, n, h int) []float32 {
	sum := make([]float64, h)
	for t := range n {
		for j, v := range x[t*h : (t+1)*h] {
			sum[j] += float64(v)
		}
	}
	var norm float64
	for _, v := range sum {
		norm += v * v
	}
	out := make([]float32, h)
	if norm == 0 {
		return out
	}
	inv := 1 / math.Sqrt(norm)
	for j, v := range sum {
		out[j] = float32(v * inv)
	}
	return out
}

// apply sets y (n×out) to x (n×in) times Wᵀ plus b, with gonum's
// single-precision matrix product, whose kernels use the CPU's vector
// instructions.
func (l *linear) apply(y, x []float32, n int) {
	in, out := l.in, l.out
	y = y[:n*out]
	for t := range n {
		copy(y[t*out:(t+1)*out], l.b)
	}
	blas32.Gemm(blas.NoTrans, blas.Trans, 1,
		blas32.General{Rows: n, Cols: in, Stride: in, Data: x[:n*in]},
		blas32.General{Rows: out, Cols: in, Stride: in, Data: l.w},
		1, blas32.General{Rows: n, Cols: out, Stride: out, Data: y})
}
