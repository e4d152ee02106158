package minilm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
)

// The file's name and digest go together: new weights must get a new name
// (minilm.py --name) so that vectors cached under the old ones are never
// mixed with new ones.
const (
	wantModel  = "minilm-l6-v2-q8"
	wantSHA256 = "d55332453a56b9c4da545ee375558280fcb58c8ec595eb87b2a7847f6a36b46c"
)

// minCosine is how close a vector must be to the original float32 model's.
const minCosine = 0.99

// testEncoder is the encoder the tests share, parsed once.
var testEncoder = sync.OnceValues(New)

func newTestEncoder(tb testing.TB) *Encoder {
	tb.Helper()
	e, err := testEncoder()
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

func embed(tb testing.TB, e *Encoder, texts ...string) [][]float32 {
	tb.Helper()
	vs, err := e.Embed(context.Background(), texts)
	if err != nil {
		tb.Fatal(err)
	}
	if len(vs) != len(texts) {
		tb.Fatalf("Embed returned %d vectors for %d texts", len(vs), len(texts))
	}
	return vs
}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}

type goldenCase struct {
	Text   string    `json:"text"`
	IDs    []int32   `json:"ids"`
	Vector []float32 `json:"vector"`
}

// readGolden reads testdata/golden.json, written by
// scripts/distill/minilm.py from the original PyTorch model.
func readGolden(t *testing.T) []goldenCase {
	t.Helper()
	data, err := os.ReadFile("testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Model     string       `json:"model"`
		MaxTokens int          `json:"max_tokens"`
		Cases     []goldenCase `json:"cases"`
	}
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	if g.Model != wantModel || g.MaxTokens != MaxTokens || len(g.Cases) < 20 {
		t.Fatalf("golden.json: model %q, max_tokens %d, %d cases", g.Model, g.MaxTokens, len(g.Cases))
	}
	return g.Cases
}

func TestModel(t *testing.T) {
	e := newTestEncoder(t)
	sum := sha256.Sum256([]byte(modelBin))
	if got := hex.EncodeToString(sum[:]); got != wantSHA256 || e.Model() != wantModel {
		t.Errorf("model.bin %s named %q; want %s named %q (new weights need a new name)",
			got, e.Model(), wantSHA256, wantModel)
	}
	if e.Dims() != 384 {
		t.Errorf("Dims() = %d, want 384", e.Dims())
	}
}

// TestMatchesPyTorch compares token ids and vectors with those of the
// original float32 model, for every text of testdata/golden.json.
func TestMatchesPyTorch(t *testing.T) {
	e := newTestEncoder(t)
	cases := readGolden(t)
	texts := make([]string, len(cases))
	for i, c := range cases {
		texts[i] = c.Text
	}
	vs := embed(t, e, texts...)
	worst, worstText := 1.0, ""
	for i, c := range cases {
		if got := e.Tokenize(c.Text); !slices.Equal(got, c.IDs) {
			t.Errorf("Tokenize(%.40q)\n got %v\nwant %v", c.Text, got, c.IDs)
		}
		cos := cosine(vs[i], c.Vector)
		if cos < minCosine {
			t.Errorf("%.40q: cosine with PyTorch %.5f < %v", c.Text, cos, minCosine)
		}
		if cos < worst {
			worst, worstText = cos, c.Text
		}
	}
	t.Logf("min cosine with PyTorch over %d texts: %.5f (%.40q)", len(cases), worst, worstText)
}

func TestTruncation(t *testing.T) {
	e := newTestEncoder(t)
	long := strings.Repeat("oil prices rose again ", 200)
	ids := e.Tokenize(long)
	if len(ids) != MaxTokens || ids[0] != e.cls || ids[len(ids)-1] != e.sep {
		t.Fatalf("Tokenize(long): %d ids, first %d, last %d", len(ids), ids[0], ids[len(ids)-1])
	}
	// Past MaxTokens, more text changes nothing.
	vs := embed(t, e, long, long+" and an ending that is cut off")
	if !slices.Equal(vs[0], vs[1]) {
		t.Error("text past the truncation point changed the vector")
	}
}

func TestDeterministicAndBatchIndependent(t *testing.T) {
	e := newTestEncoder(t)
	texts := []string{
		"How much oil does Israel get from Azerbaijan?",
		"",
		"Azerbaijan supplies about 60% of oil resources, which Israel needs.",
		"what is the best way to cook rice",
		"中文 😀",
	}
	encode := func(texts ...string) [][]float32 { // past the cache
		t.Helper()
		vecs, err := e.encodeAll(context.Background(), texts)
		if err != nil {
			t.Fatal(err)
		}
		return vecs
	}
	all := encode(texts...)
	again := encode(texts...)
	reversed := slices.Clone(texts)
	slices.Reverse(reversed)
	rev := encode(reversed...)
	for i, text := range texts {
		alone := encode(text)[0]
		if !slices.Equal(all[i], again[i]) || !slices.Equal(all[i], alone) ||
			!slices.Equal(all[i], rev[len(texts)-1-i]) {
			t.Errorf("%q: vector depends on the call or the batch", text)
		}
		if len(all[i]) != e.Dims() {
			t.Errorf("%q: %d dims", text, len(all[i]))
		}
		var n float64
		for _, x := range all[i] {
			n += float64(x) * float64(x)
		}
		if math.Abs(n-1) > 1e-5 {
			t.Errorf("%q: squared norm %v", text, n)
		}
	}
}

// TestCache checks that vectors served from the cache are the encoded
// ones, that a text repeated in one call is encoded once, and that a
// caller changing a returned vector changes nothing else.
func TestCache(t *testing.T) {
	e, err := New()
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"who runs the country?", "Azerbaijani president Ilan Aliyev", "who runs the country?"}
	want, err := e.encodeAll(context.Background(), texts[:2])
	if err != nil {
		t.Fatal(err)
	}
	first := embed(t, e, texts...)
	if e.cache.Len() != 2 {
		t.Errorf("%d texts cached, want 2", e.cache.Len())
	}
	first[0][0] = 42
	second := embed(t, e, texts...)
	for i, w := range [][]float32{want[0], want[1], want[0]} {
		if !slices.Equal(second[i], w) {
			t.Errorf("%q: vector from the cache differs from the encoded one", texts[i])
		}
	}
	if first[2][0] == 42 {
		t.Error("a repeated text shares its vector with the first")
	}
}

// TestMeaning checks that a question is closer to its paraphrase or answer
// than to an unrelated text.
func TestMeaning(t *testing.T) {
	e := newTestEncoder(t)
	for _, c := range []struct{ query, near, far string }{
		{
			"How much oil does Israel get from Azerbaijan?",
			"Azerbaijan supplies about 60% of oil resources, which Israel needs",
			"what is the best way to cook rice",
		},
		{
			"Who won the football match on Sunday?",
			"The home team beat their rivals 2-1 in Sunday's game.",
			"Who won the Nobel Prize in chemistry?",
		},
		{
			"Why did the central bank raise interest rates?",
			"The bank increased borrowing costs because inflation stayed high.",
			"The river bank was flooded after the storm.",
		},
		{
			"dog bites man",
			"a man was bitten by a dog",
			"a man bit a dog",
		},
		{
			"When was the treaty signed?",
			"The agreement was signed in March 1998.",
			"How do plants make sugar from light?",
		},
	} {
		vs := embed(t, e, c.query, c.near, c.far)
		near, far := cosine(vs[0], vs[1]), cosine(vs[0], vs[2])
		if near <= far {
			t.Errorf("%q: near %q %.3f <= far %q %.3f", c.query, c.near, near, c.far, far)
		}
	}
}

func TestEmbedEmpty(t *testing.T) {
	e := newTestEncoder(t)
	vs, err := e.Embed(context.Background(), nil)
	if err != nil || vs != nil {
		t.Errorf("Embed(nil) = %v, %v", vs, err)
	}
}

func TestEmbedCancelled(t *testing.T) {
	e := newTestEncoder(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := e.Embed(ctx, []string{"a question", "a sentence"})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Embed with a cancelled context: %v, want context.Canceled", err)
	}
}

func TestParseErrors(t *testing.T) {
	for name, bin := range map[string]string{
		"empty":     "",
		"magic":     "XXXXXXXX" + modelBin[8:],
		"truncated": modelBin[:len(modelBin)-1],
		"trailing":  modelBin + "x",
		"header":    modelBin[:40],
	} {
		if _, err := parse(bin); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestF16(t *testing.T) {
	for _, c := range []struct {
		bits uint16
		want float32
	}{
		{0x3c00, 1}, {0xc000, -2}, {0x3555, 0.333251953125}, {0x0001, 5.960464477539063e-08},
		{0x8001, -5.960464477539063e-08}, {0x7bff, 65504}, {0x0000, 0}, {0x0400, 6.103515625e-05},
	} {
		if got := f16(c.bits); got != c.want {
			t.Errorf("f16(%#04x) = %g, want %g", c.bits, got, c.want)
		}
	}
}
