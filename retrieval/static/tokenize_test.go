package static

import (
	"encoding/json"
	"os"
	"slices"
	"testing"
)

// TestTokenizeMatchesModel compares Tokenize with the ids that the model's
// own tokenizer gave for the same strings (testdata/tokens.json, written by
// scripts/distill/distill.py).
func TestTokenizeMatchesModel(t *testing.T) {
	data, err := os.ReadFile("testdata/tokens.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Text string  `json:"text"`
		IDs  []int32 `json:"ids"`
	}
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 30 {
		t.Fatalf("only %d cases in testdata/tokens.json", len(cases))
	}
	e := newTestEmbedder(t)
	for _, c := range cases {
		got := e.Tokenize(c.Text)
		if len(got) == 0 && len(c.IDs) == 0 {
			continue
		}
		if !slices.Equal(got, c.IDs) {
			t.Errorf("Tokenize(%q)\n got %v\nwant %v", c.Text, got, c.IDs)
		}
	}
}

func TestTokenizeInvalidUTF8(t *testing.T) {
	e := newTestEmbedder(t)
	got := e.Tokenize("caf\xe9 ok\xff")
	want := e.Tokenize("caf ok")
	if !slices.Equal(got, want) {
		t.Errorf("invalid bytes: got %v, want %v (dropped like U+FFFD)", got, want)
	}
}

func TestNewTokenizerErrors(t *testing.T) {
	for _, vocab := range [][]string{
		{"a", "b"},              // no [UNK]
		{"[UNK]", "a", "a"},     // duplicate
		{"[UNK]", "##a", "##a"}, // duplicate continuation
	} {
		if _, err := newTokenizer(vocab, charTable{}); err == nil {
			t.Errorf("newTokenizer(%q): no error", vocab)
		}
	}
}

// FuzzEmbed checks that any input, valid UTF-8 or not, gives ids inside the
// vocabulary and a unit vector.
func FuzzEmbed(f *testing.F) {
	for _, s := range []string{"", "Café [CLS]x", "\xff\xfe", "中文 😀", "a##b", "[MASK"} {
		f.Add(s)
	}
	e := newTestEmbedder(f)
	f.Fuzz(func(t *testing.T, s string) {
		for _, id := range e.Tokenize(s) {
			if id < 0 || int(id) >= len(e.scale) {
				t.Fatalf("%q: id %d outside the vocabulary", s, id)
			}
		}
		v := embed(t, e, s)[0]
		if n := dot(v, v); n < 1-1e-5 || n > 1+1e-5 {
			t.Fatalf("%q: squared norm %v", s, n)
		}
	})
}
