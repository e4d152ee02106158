package bot

import (
	"slices"
	"testing"
)

func TestTokenizeQuotations(t *testing.T) {
	tests := []struct {
		text string
		want []string // the inline quotations found, in order
	}{
		{`He said “Baku is the capital” and "it is old".`, []string{"Baku is the capital", "it is old"}},
		{`One word: “genocidal”.`, []string{"genocidal"}},
		{`«une nation sœur» et „ein Bruder“ oder „zwei”`, []string{"une nation sœur", "ein Bruder", "zwei"}},
		{`He said ‘Ze’ev won’t go’ today`, []string{"Ze’ev won’t go"}},
		{`Sa'ar called it 'the capital'.`, []string{"the capital"}},
		{`(‘1992’)`, []string{"1992"}},
		{`Ze’ev said don’t go, rock’n’roll`, nil},
		{`the countries’ oil and ‘Baku’.`, []string{"Baku"}},
		{`'90s music and the countries' oil`, nil},
		{`a ‘ spaced ’ pair`, nil},
		{"“across\nlines”", nil},
		{`“unclosed and "straight"`, []string{"straight"}},
		{`“Baku is the capital [1].”`, []string{"Baku is the capital."}},
		{`He said “Baku ‘the capital’ is old”`, []string{"Baku ‘the capital’ is old"}},
	}
	for _, tt := range tests {
		var got []string
		for _, tok := range tokenize(tt.text) {
			if tok.kind == tokQuote {
				got = append(got, tok.text)
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("tokenize(%q) quotations %q, want %q", tt.text, got, tt.want)
		}
	}
}
