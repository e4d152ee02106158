package retrieval

import (
	"context"
	"math"
	"testing"

	"github.com/verbatim-bot/verbatim/retrieval/static"
)

func TestJoint(t *testing.T) {
	st, err := static.New()
	if err != nil {
		t.Fatal(err)
	}
	parts := []Embedder{NewLocal(0), st}
	j, err := NewJoint(parts, []float64{1, 3})
	if err != nil {
		t.Fatal(err)
	}
	if want := "joint(local-v2-384*0.25+" + st.Model() + "*0.75)"; j.Model() != want {
		t.Errorf("Model() = %q, want %q", j.Model(), want)
	}
	texts := []string{"Azerbaijan buys Israeli military equipment", "What weapons does Baku purchase from the Israelis?"}
	ctx := context.Background()
	jv, err := j.Embed(ctx, texts)
	if err != nil {
		t.Fatal(err)
	}
	var want float64
	for i, p := range parts {
		v, err := p.Embed(ctx, texts)
		if err != nil {
			t.Fatal(err)
		}
		want += []float64{0.25, 0.75}[i] * float64(dot(normalized(v[0]), normalized(v[1])))
	}
	if got := float64(dot(jv[0], jv[1])); math.Abs(got-want) > 1e-5 {
		t.Errorf("joint cosine %v, want the weighted mean of the parts' %v", got, want)
	}
	if n := float64(dot(jv[0], jv[0])); math.Abs(n-1) > 1e-5 {
		t.Errorf("joint vector has squared norm %v", n)
	}
	again, _ := j.Embed(ctx, texts)
	for i := range again[0] {
		if again[0][i] != jv[0][i] {
			t.Fatal("joint vectors differ between calls")
		}
	}
	for _, bad := range [][]float64{{1}, {1, 0}, {1, -1}} {
		if _, err := NewJoint(parts, bad); err == nil {
			t.Errorf("NewJoint with weights %v accepted", bad)
		}
	}
}
