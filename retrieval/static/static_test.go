package static

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"sync"
	"testing"
)

// The table's name and digest go together: a new table must bump the
// version in its name (learn.py or distill.py --version) so that vectors cached under
// the old table are never mixed with new ones.
const (
	wantModel  = "minilm-static-v2-256"
	wantSHA256 = "06dc1088d6599b8ddc269b77a7aa8eadf5f19199382adb92dcc04b2314e99da4"
)

func newTestEmbedder(tb testing.TB) *Embedder {
	tb.Helper()
	e, err := New()
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

func embed(tb testing.TB, e *Embedder, texts ...string) [][]float32 {
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

func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

func TestModel(t *testing.T) {
	e := newTestEmbedder(t)
	sum := sha256.Sum256([]byte(modelBin))
	if got := hex.EncodeToString(sum[:]); got != wantSHA256 || e.Model() != wantModel {
		t.Errorf("table %s named %q; want %s named %q (a new table needs a new version)",
			got, e.Model(), wantSHA256, wantModel)
	}
	if want := fmt.Sprintf("-%d", e.Dims()); e.Model()[len(e.Model())-len(want):] != want {
		t.Errorf("Model() = %q does not end in the dimension %d", e.Model(), e.Dims())
	}
}

func TestEmbedUnitAndDeterministic(t *testing.T) {
	e := newTestEmbedder(t)
	texts := []string{
		"Azerbaijan supplies about 60% of the oil that Israel needs.",
		"purchase",
		"Ünïcödé, “quotes” and 中文",
		"",
		"   ",
		"😀",
		"[CLS] [SEP]",
	}
	first := embed(t, e, texts...)
	second := embed(t, newTestEmbedder(t), texts...)
	for i, v := range first {
		if len(v) != e.Dims() {
			t.Fatalf("%q: %d dims, want %d", texts[i], len(v), e.Dims())
		}
		if n := dot(v, v); math.Abs(n-1) > 1e-5 {
			t.Errorf("%q: squared norm %v, want 1", texts[i], n)
		}
		if !slices.Equal(v, second[i]) {
			t.Errorf("%q: vectors differ between calls", texts[i])
		}
	}
}

func TestEmbedNoTokens(t *testing.T) {
	e := newTestEmbedder(t)
	for _, text := range []string{"", " \t\n", "😀 🥰", "\x00\u200b", "[PAD] [MASK]"} {
		v := embed(t, e, text)[0]
		if v[0] != 1 || dot(v, v) != 1 {
			t.Errorf("%q: got %v..., want the first basis vector", text, v[:4])
		}
	}
}

// TestEmbedGolden checks vectors against the ones learn.py computed
// independently, in numpy, from the same table.
func TestEmbedGolden(t *testing.T) {
	data, err := os.ReadFile("testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var golden []struct {
		Text   string    `json:"text"`
		Prefix []float64 `json:"prefix"`
	}
	if err := json.Unmarshal(data, &golden); err != nil {
		t.Fatal(err)
	}
	e := newTestEmbedder(t)
	for _, g := range golden {
		v := embed(t, e, g.Text)[0]
		for i, want := range g.Prefix {
			if math.Abs(float64(v[i])-want) > 2e-6 {
				t.Errorf("%q: component %d = %v, want %v", g.Text, i, v[i], want)
			}
		}
	}
}

// TestEmbedMeaning checks that related texts are closer than unrelated ones,
// including pairs that share no word.
func TestEmbedMeaning(t *testing.T) {
	e := newTestEmbedder(t)
	for _, c := range []struct{ text, near, far string }{
		{"purchase", "buy", "banana"},
		{"crude", "oil", "violin"},
		{"president", "leader of the country", "banana"},
		{"runs the country", "president", "banana"},
		{"calm down", "cool down", "tax return"},
		{"Israelis", "Israeli", "violin"},
		{"car", "automobile", "sandwich"},
		{
			"How much oil does Israel get from Azerbaijan?",
			"Azerbaijan supplies about 60% of oil resources, which Israel needs",
			"Baku is the capital of Azerbaijan.",
		},
	} {
		v := embed(t, e, c.text, c.near, c.far)
		near, far := dot(v[0], v[1]), dot(v[0], v[2])
		if near <= far {
			t.Errorf("cos(%q, %q) = %.3f, not above cos(%q, %q) = %.3f",
				c.text, c.near, near, c.text, c.far, far)
		}
	}
}

func TestEmbedEmpty(t *testing.T) {
	vs, err := newTestEmbedder(t).Embed(context.Background(), nil)
	if err != nil || vs != nil {
		t.Errorf("Embed(nil) = %v, %v; want nil, nil", vs, err)
	}
}

func TestEmbedCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := newTestEmbedder(t).Embed(ctx, []string{"a", "b"})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Embed with a canceled context: %v, want context.Canceled", err)
	}
}

func TestEmbedConcurrent(t *testing.T) {
	e := newTestEmbedder(t)
	texts := []string{"crude oil prices rose", "the president spoke", "café résumé", ""}
	want := embed(t, e, texts...)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				got, err := e.Embed(context.Background(), texts)
				if err != nil {
					t.Error(err)
					return
				}
				for i := range got {
					if !slices.Equal(got[i], want[i]) {
						t.Errorf("%q: concurrent vector differs", texts[i])
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

func TestParseModelErrors(t *testing.T) {
	good := modelBin[:len(modelMagic)+4+len(wantModel)+8]
	for name, bin := range map[string]string{
		"empty":     "",
		"magic":     "XSTATIC1" + modelBin[8:],
		"truncated": modelBin[:len(modelBin)-1],
		"header":    good[:len(good)-2],
		"no rows":   good,
	} {
		if _, err := parseModel(bin, vocabTxt, charsTxt); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := parseModel(modelBin, "[UNK]\n", charsTxt); err == nil {
		t.Error("short vocabulary: no error")
	}
	for _, chars := range []string{"", "# only a comment\n", "81 l\n", "80 l\n80 d\n", "80 x\n", "80l\n", "80 l\nZZ d\n", "80 l\n110000 d\n"} {
		if _, err := parseModel(modelBin, vocabTxt, chars); err == nil {
			t.Errorf("chars %q: no error", chars)
		}
	}
}
