package bot

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/verbatim-bot/verbatim/corpus"
	"github.com/verbatim-bot/verbatim/retrieval"
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
		{`他说「北京是首都」，又说『很古老』。`, []string{"北京是首都", "很古老"}},
		{"‹un mot› and `a phrase` and ``TeX style''", []string{"un mot", "a phrase", "TeX style"}},
		{"``unclosed and `x`", []string{"x"}},
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

// verifyPassages are what the model was given, numbered [1] and [2].
var verifyPassages = func() []retrieval.Result {
	art := &corpus.Article{ID: "az", Title: "Azerbaijan and Israel"}
	texts := []string{
		"Baku is the capital of Azerbaijan. It lies on the Caspian sea.",
		"Israel’s Foreign Minister Gideon Sa’ar met Azerbaijan’s Economy Minister. “We are partners,” he said.",
	}
	out := make([]retrieval.Result, len(texts))
	for i, t := range texts {
		out[i] = retrieval.Result{Article: art, Paragraph: corpus.Paragraph{ID: fmt.Sprintf("az#%d", i+1), ArticleID: "az", N: i + 1, Text: t}}
	}
	return out
}()

func TestVerify(t *testing.T) {
	prose := func(s string) Segment { return Segment{Kind: Prose, Text: s} }
	cite := func(n int) Segment { return Segment{Kind: Citation, Source: n} }
	inline := func(text string, n, start int) Segment {
		return Segment{Kind: InlineQuote, Text: text, Source: n, Span: corpus.Span{Start: start, End: start + len(text)}}
	}
	tests := []struct {
		name      string
		reply     reply
		body      []Segment
		sources   []string // paragraph IDs, in order
		quotes    [][]string
		check     Check
		supported bool
	}{{
		name:      "listed quote kept, marker kept",
		reply:     reply{Text: "Baku is the capital [1].", Quotes: []rawQuote{{1, "Baku is the capital of Azerbaijan."}}},
		body:      []Segment{prose("Baku is the capital "), cite(1), prose(".")},
		sources:   []string{"az#1"},
		quotes:    [][]string{{"Baku is the capital of Azerbaijan."}},
		check:     Check{Kept: 1},
		supported: true,
	}, {
		name:      "inline quotation shows the source's characters",
		reply:     reply{Text: `Sa'ar said "We are partners" [2].`},
		body:      []Segment{prose("Sa'ar said "), inline("We are partners", 1, strings.Index(verifyPassages[1].Paragraph.Text, "We are")), prose(" "), cite(1), prose(".")},
		sources:   []string{"az#2"},
		quotes:    [][]string{{"We are partners"}},
		check:     Check{Kept: 1},
		supported: true,
	}, {
		name:      "quote cited to the wrong passage is re-attributed with its marker",
		reply:     reply{Text: "Baku is the capital [2].", Quotes: []rawQuote{{2, "Baku is the capital of Azerbaijan."}}},
		body:      []Segment{prose("Baku is the capital "), cite(1), prose(".")},
		sources:   []string{"az#1"},
		quotes:    [][]string{{"Baku is the capital of Azerbaijan."}},
		check:     Check{Reattributed: 1},
		supported: true,
	}, {
		name:      "near miss repaired to its sentence",
		reply:     reply{Text: "It is on the sea [1].", Quotes: []rawQuote{{1, "It lies on the Caspian coast."}}},
		body:      []Segment{prose("It is on the sea "), cite(1), prose(".")},
		sources:   []string{"az#1"},
		quotes:    [][]string{{"It lies on the Caspian sea."}},
		check:     Check{Repaired: 1},
		supported: true,
	}, {
		name:  "invented quote dropped, unverified inline quotation loses its marks and its sentence its citation",
		reply: reply{Text: `He said "Baku is the oldest city" [1].`, Quotes: []rawQuote{{1, "Baku is the oldest city in the world."}}},
		// the sentence claimed a quotation that is nowhere: its marker goes too
		body:  []Segment{prose("He said Baku is the oldest city.")},
		check: Check{Dropped: 2, Uncited: 1},
	}, {
		name:      "a repaired inline quotation shows its whole sentence, as its source lists it",
		reply:     reply{Text: `He said “We are partner, he said” [2].`},
		body:      []Segment{prose("He said "), inline("“We are partners,” he said.", 1, strings.Index(verifyPassages[1].Paragraph.Text, "“We")), prose(" "), cite(1), prose(".")},
		sources:   []string{"az#2"},
		quotes:    [][]string{{"“We are partners,” he said."}},
		check:     Check{Repaired: 1},
		supported: true,
	}, {
		name:      "a number none of its cited passages holds loses the citation; the next sentence keeps its own",
		reply:     reply{Text: "Baku became the capital in 1975 [1]. Sa’ar met the Economy Minister [2].", Quotes: []rawQuote{{1, "Baku is the capital of Azerbaijan."}}},
		body:      []Segment{prose("Baku became the capital in 1975. Sa’ar met the Economy Minister "), cite(1), prose(". "), cite(2)},
		sources:   []string{"az#2", "az#1"},
		quotes:    [][]string{{"Baku is the capital of Azerbaijan."}}, // az#2 has none
		check:     Check{Kept: 1, Uncited: 1},
		supported: true,
	}, {
		name:      "a name none of its cited passages holds loses the citation, an inflected one keeps it",
		reply:     reply{Text: "The Israelis met Jabbarov [2]. The Israeli minister met Azerbaijanis [2].", Quotes: []rawQuote{{2, "We are partners"}}},
		body:      []Segment{prose("The Israelis met Jabbarov. The Israeli minister met Azerbaijanis "), cite(1), prose(".")},
		sources:   []string{"az#2"},
		quotes:    [][]string{{"We are partners"}},
		check:     Check{Kept: 1, Uncited: 1},
		supported: true,
	}, {
		name:      "marker to a passage that does not exist is removed with its space",
		reply:     reply{Text: "Baku is the capital [1] [7].", Quotes: []rawQuote{{1, "Baku is the capital of Azerbaijan."}}},
		body:      []Segment{prose("Baku is the capital "), cite(1), prose(".")},
		sources:   []string{"az#1"},
		quotes:    [][]string{{"Baku is the capital of Azerbaijan."}},
		check:     Check{Kept: 1, MarkersRemoved: 1},
		supported: true,
	}, {
		name:      "a quoted passage nothing cites is cited at the end",
		reply:     reply{Text: "Baku is the capital.", Quotes: []rawQuote{{0, "It lies on the Caspian sea."}}},
		body:      []Segment{prose("Baku is the capital. "), cite(1)},
		sources:   []string{"az#1"},
		quotes:    [][]string{{"It lies on the Caspian sea."}},
		check:     Check{Kept: 1},
		supported: true,
	}, {
		name:      "sources renumbered in order of citation; a quote given twice counts once",
		reply:     reply{Text: `He said “We are partners” [2]; Baku is the capital [1].`, Quotes: []rawQuote{{2, "We are partners"}, {1, "Baku is the capital of Azerbaijan."}}},
		body:      []Segment{prose("He said "), inline("We are partners", 1, strings.Index(verifyPassages[1].Paragraph.Text, "We are")), prose(" "), cite(1), prose("; Baku is the capital "), cite(2), prose(".")},
		sources:   []string{"az#2", "az#1"},
		quotes:    [][]string{{"We are partners"}, {"Baku is the capital of Azerbaijan."}},
		check:     Check{Kept: 2},
		supported: true,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := verify(tt.reply, verifyPassages)
			if diff := cmp.Diff(tt.body, v.body); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
			var ids []string
			var quotes [][]string
			for i, src := range v.sources {
				if src.N != i+1 {
					t.Errorf("source %d numbered %d", i+1, src.N)
				}
				ids = append(ids, src.Paragraph.ID)
				var qs []string
				for _, q := range src.Quotes {
					if src.Paragraph.Text[q.Span.Start:q.Span.End] != q.Text {
						t.Errorf("quote %q is not its span %v", q.Text, q.Span)
					}
					qs = append(qs, q.Text)
				}
				if qs != nil {
					quotes = append(quotes, qs)
				}
			}
			if !slices.Equal(ids, tt.sources) || !cmp.Equal(quotes, tt.quotes) {
				t.Errorf("sources %q quotes %q, want %q %q", ids, quotes, tt.sources, tt.quotes)
			}
			if v.check != tt.check || v.supported != tt.supported {
				t.Errorf("check %+v supported %v, want %+v %v", v.check, v.supported, tt.check, tt.supported)
			}
		})
	}
}

// TestVerifyOtherQuotationMarks checks that quotations in the marks of
// other languages are verified against their passage like “…”.
func TestVerifyOtherQuotationMarks(t *testing.T) {
	art := &corpus.Article{ID: "bj", Title: "北京"}
	passages := []retrieval.Result{{Article: art, Paragraph: corpus.Paragraph{ID: "bj#1", ArticleID: "bj", N: 1,
		Text: "北京是中华人民共和国的首都，也是全国的政治和文化中心。Baku is the capital of Azerbaijan."}}}
	for _, text := range []string{
		"资料说「北京是中华人民共和国的首都」[1]。",
		"资料说『也是全国的政治和文化中心』[1]。",
		"资料说北京是「中华人民共和国的首都」[1]。",
		"It says ‹Baku is the capital› [1].",
		"It says `Baku is the capital` [1].",
		"It says ``Baku is the capital'' [1].",
	} {
		v := verify(reply{Text: text}, passages)
		if v.check.Kept != 1 || !v.supported || len(v.sources) != 1 {
			t.Errorf("%s: check %+v, supported %v, %d sources; want the quotation kept", text, v.check, v.supported, len(v.sources))
		}
	}
	v := verify(reply{Text: "资料说「北京是世界上最大的城市」[1]。"}, passages)
	if v.check.Kept != 0 || v.supported {
		t.Errorf("an invented quotation in 「…」: check %+v, supported %v", v.check, v.supported)
	}
}
