package retrieval

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/verbatim-bot/verbatim/retrieval/static"
)

// Joint is an Embedder that concatenates the unit vectors of several
// embedders, each scaled by the square root of its weight (weights summing
// to 1), so that the cosine of two joint vectors is the weighted mean of
// the parts' cosines. The offline default joins the lexical LocalEmbedder
// with the static meaning model: together they rank better than either.
type Joint struct {
	parts   []Embedder
	scales  []float32
	model   string
	weights []float64
}

// NewOffline returns the default offline embedder: the lexical
// LocalEmbedder and the static meaning model, joined with equal weights.
func NewOffline() (*Joint, error) {
	st, err := static.New()
	if err != nil {
		return nil, err
	}
	return NewJoint([]Embedder{NewLocal(0), st}, []float64{0.5, 0.5})
}

// NewJoint returns the joint embedder of parts with the given weights
// (normalised to sum to 1).
func NewJoint(parts []Embedder, weights []float64) (*Joint, error) {
	if len(parts) == 0 || len(parts) != len(weights) {
		return nil, fmt.Errorf("joint embedder: %d parts, %d weights", len(parts), len(weights))
	}
	var sum float64
	for _, w := range weights {
		if !(w > 0) || math.IsInf(w, 0) {
			return nil, fmt.Errorf("joint embedder: weight %g is not a positive number", w)
		}
		sum += w
	}
	j := &Joint{parts: parts, weights: weights}
	names := make([]string, len(parts))
	for i, p := range parts {
		j.scales = append(j.scales, float32(math.Sqrt(weights[i]/sum)))
		names[i] = fmt.Sprintf("%s*%g", p.Model(), weights[i]/sum)
	}
	j.model = "joint(" + strings.Join(names, "+") + ")"
	return j, nil
}

// Model names the parts and their weights.
func (j *Joint) Model() string { return j.model }

// Embed returns the joint unit vector of each text.
func (j *Joint) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if len(texts) == 0 {
		return nil, nil
	}
	out := make([][]float32, len(texts))
	for i, p := range j.parts {
		vecs, err := p.Embed(ctx, texts)
		if err != nil {
			return nil, err
		}
		if len(vecs) != len(texts) {
			return nil, fmt.Errorf("joint embedder: %s returned %d vectors for %d texts", p.Model(), len(vecs), len(texts))
		}
		for t, v := range vecs {
			n := normalized(v)
			for _, x := range n {
				out[t] = append(out[t], x*j.scales[i])
			}
		}
	}
	return out, nil
}
