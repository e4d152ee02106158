package bot

import (
	"testing"

	"github.com/verbatim-bot/verbatim/corpus"
	"github.com/verbatim-bot/verbatim/retrieval"
)

func TestContradicts(t *testing.T) {
	results := []retrieval.Result{
		{Paragraph: corpus.Paragraph{Text: "Baku is the capital of Azerbaijan. The Broncos won in 1992."}},
		{Paragraph: corpus.Paragraph{Text: "Israel buys oil from Azerbaijan."}},
	}
	tests := []struct {
		name string
		r    reply
		want bool
	}{
		{"an answer phrase from a passage", reply{Text: "The Broncos."}, true},
		{"case and spacing aside", reply{Text: "the  broncos"}, true},
		{"a refusal", reply{Text: "The passages do not say who won."}, false},
		{"stopwords only", reply{Text: "The."}, false},
		{"inside a word", reply{Text: "Bak"}, false},
		{"a long answer is not a phrase", reply{Text: "Baku is the capital of Azerbaijan and the Broncos won in 1992 as everyone knows well"}, false},
		{"a quote found in its passage", reply{Text: "No answer.", Quotes: []rawQuote{{2, "buys oil from Azerbaijan"}}}, true},
		{"a quote found in another passage", reply{Text: "No answer.", Quotes: []rawQuote{{1, "buys oil from Azerbaijan"}}}, false},
		{"a quote too short to count", reply{Text: "No answer.", Quotes: []rawQuote{{2, "buys oil"}}}, false},
		{"an invented quote", reply{Text: "No answer.", Quotes: []rawQuote{{1, "Baku has ten million inhabitants"}}}, false},
	}
	for _, tt := range tests {
		if got := contradicts(tt.r, results); got != tt.want {
			t.Errorf("%s: contradicts(%+v) = %v, want %v", tt.name, tt.r, got, tt.want)
		}
	}
}
