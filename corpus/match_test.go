package corpus

import (
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestFold(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{"  \t\n ", ""},
		{"Hello,  World\n\tAgain ", "hello, world again"},
		{"Israel’s ‘best’ “friend”", `israel's 'best' "friend"`},
		{"„Gut‟ «bien» ‚x‛ 5′ 6″", `"gut" "bien" 'x' 5' 6"`},
		{"cooperation—positioning", "cooperation-positioning"},
		{"cooperation — positioning", "cooperation-positioning"},
		{"cooperation -- positioning", "cooperation-positioning"},
		{"1992‒1994 – a ‑ b ― c − d ‐ e", "1992-1994-a-b-c-d-e"},
		{"then…through", "then...through"},
		{"non\u00a0breaking\u2003space\u202fnarrow", "non breaking space narrow"},
		{"zero\u200bwidth\u200d join\ufeff soft\u00adhyphen", "zerowidth join softhyphen"},
		{"ÀÉÎ ΣΑΣ İ", "àéî σασ i"},
		{"bad\xffbyte", "bad\uFFFDbyte"},
	}
	for _, tt := range tests {
		got, offsets := Fold(tt.in)
		if got != tt.want {
			t.Errorf("Fold(%q) = %q, want %q", tt.in, got, tt.want)
		}
		checkOffsets(t, tt.in, got, offsets)
	}
}

func TestFoldOffsets(t *testing.T) {
	s := "  A’b — “c” …"
	got, offsets := Fold(s)
	if got != `a'b-"c" ...` {
		t.Fatalf("Fold = %q", got)
	}
	// Each folded byte must point at the source character behind it.
	pairs := []struct {
		folded int
		source string
	}{
		{0, "A"}, {1, "’"}, {2, "b"}, {3, "—"}, {4, "“"}, {5, "c"}, {6, "”"}, {7, " "}, {8, "…"}, {9, "…"}, {10, "…"},
	}
	for _, p := range pairs {
		if !strings.HasPrefix(s[offsets[p.folded]:], p.source) {
			t.Errorf("offsets[%d] = %d points at %q, want %q", p.folded, offsets[p.folded], s[offsets[p.folded]:], p.source)
		}
	}
	if last := offsets[len(offsets)-1]; last != len(s) {
		t.Errorf("last offset = %d, want %d", last, len(s))
	}
}

// checkOffsets asserts the invariants of Fold's offsets.
func checkOffsets(t *testing.T, s, folded string, offsets []int) {
	t.Helper()
	if len(offsets) != len(folded)+1 {
		t.Fatalf("Fold(%q): len(offsets) = %d, want %d", s, len(offsets), len(folded)+1)
	}
	if !utf8.ValidString(folded) {
		t.Fatalf("Fold(%q) = %q: invalid UTF-8", s, folded)
	}
	for i, o := range offsets {
		if o < 0 || o > len(s) || (i > 0 && o < offsets[i-1]) {
			t.Fatalf("Fold(%q): offsets %v not non-decreasing within [0, %d]", s, offsets, len(s))
		}
		if i < len(folded) && (o == len(s) || !charStart(s, o)) {
			t.Fatalf("Fold(%q): offsets[%d] = %d is not a character start", s, i, o)
		}
	}
	if len(folded) == 0 && offsets[0] != 0 {
		t.Fatalf("Fold(%q): empty fold with end offset %d", s, offsets[0])
	}
}

// charStart reports whether off begins a character of s as
// utf8.DecodeRuneInString walks it (invalid bytes count one each).
func charStart(s string, off int) bool {
	for i := 0; i < len(s); {
		if i == off {
			return true
		}
		if i > off {
			return false
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return off == len(s)
}

func shippedArticle(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("articles/azerbaijan-israel-ties.txt")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFind(t *testing.T) {
	article := shippedArticle(t)
	tests := []struct {
		name, text, phrase string
		want               string // the source text found; "" for no match
	}{
		{"apostrophe", article, "Ze'ev Khanin", "Ze’ev Khanin"},
		{"opening quote", article, `"Azerbaijan is a friendly country to Israel.`, "“Azerbaijan is a friendly country to Israel."},
		{"closing quote", article, `strategic for both sides and are constantly progressing," Sa'ar`, "strategic for both sides and are constantly progressing,” Sa’ar"},
		{"ellipsis", article, "Georgia and then...through Turkey", "Georgia and then…through Turkey"},
		{"dash with spaces", article, "military cooperation - positioning itself", "military cooperation—positioning itself"},
		{"case and whitespace", article, "BAKU   is the\ncapital", "Baku is the capital"},
		{"typographic phrase, straight text", `He said "hi" and left`, "“hi”", `"hi"`},
		{"not found", article, "Azerbaijan is an enemy", ""},
		{"empty", article, "", ""},
		{"whitespace only", article, " \t\n", ""},
		{"punctuation spans whole char", "a—b", "-", "—"},
		{"inside a word", "Iran and Israel", "ran", ""},
		{"word boundary further on", "Iran ran", "ran", "ran"},
		{"trailing partial word", "Israeli forces", "Israel", ""},
		{"punctuation edge ok", "Israel’s oil", "Israel", "Israel"},
		{"dash run", "a -- b", "a—b", "a -- b"},
		{"three dots find an ellipsis", "wait… no", "wait...", "wait…"},
		{"ellipsis finds three dots", "wait... no", "wait…", "wait..."},
		{"bare ellipsis finds three dots", "so ... on", "…", "..."},
		{"dots find a bare ellipsis", "so … on", "...", "…"},
		{"ellipsis after a dot", ".…", "…", "…"},
		{"match starting inside an ellipsis", "…a", "..a", ""},
		{"match ending inside an ellipsis", "no…", "no.", ""},
		{"match ending two dots into an ellipsis", "no… more", "no..", ""},
		{"match inside an ellipsis", "a…b", ".", ""},
		{"later whole ellipsis", "no… but no...", "no.", "no."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp, ok := Find(tt.text, tt.phrase)
			if tt.want == "" {
				if ok {
					t.Fatalf("Find(%q) = %q, want no match", tt.phrase, tt.text[sp.Start:sp.End])
				}
				return
			}
			if !ok {
				t.Fatalf("Find(%q): no match, want %q", tt.phrase, tt.want)
			}
			if got := tt.text[sp.Start:sp.End]; got != tt.want {
				t.Errorf("Find(%q) = %q, want %q", tt.phrase, got, tt.want)
			}
		})
	}
}

func TestFoldString(t *testing.T) {
	for _, in := range []string{"", "  Israel’s ‘best’ — “friend”… ", "a\u200b-\u00a0b", "bad\xffbyte", "ÀΣ İ"} {
		want, _ := Fold(in)
		if got := FoldString(in); got != want {
			t.Errorf("FoldString(%q) = %q, Fold gives %q", in, got, want)
		}
	}
}

func TestWords(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"Israel’s Foreign Minister Gideon Sa’ar", "israel's|foreign|minister|gideon|sa'ar"},
		{"“Azerbaijan is (an) independent state,” he said.", "azerbaijan|is|an|independent|state|he|said"},
		{"60% of oil — 3.5 bln 'quoted' rock'n'roll", "60|of|oil|3|5|bln|quoted|rock'n'roll"},
		{"...", ""},
	}
	for _, tt := range tests {
		if got := strings.Join(Words(tt.in), "|"); got != tt.want {
			t.Errorf("Words(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSimilarity(t *testing.T) {
	article := shippedArticle(t)
	sentence := "Khanin says a priority of Azerbaijani president Ilan Aliyev is to smooth out troubled relations between Israel and Turkey."
	if !strings.Contains(article, sentence) {
		t.Fatal("test sentence not in the article")
	}
	tests := []struct {
		name     string
		a, b     string
		min, max float64
	}{
		{"identical", sentence, sentence, 1, 1},
		{"fold only", sentence, strings.ToUpper(sentence), 1, 1},
		{"one word changed", sentence, strings.Replace(sentence, "priority", "goal", 1), 0.9, 0.95},
		{"two words changed", sentence, strings.Replace(strings.Replace(sentence, "priority", "goal", 1), "troubled", "tense", 1), 0.8, 0.9},
		{"word dropped", sentence, strings.Replace(sentence, " troubled", "", 1), 0.9, 0.97},
		{"unrelated, same article", sentence, "The Jewish community has felt at home there for generations and six years ago, CBN News visited the country for a closer look.", 0, 0.4},
		{"unrelated, same topic", sentence, "Baku is the capital of Azerbaijan. Located on the Caspian sea, the country is one of the world’s major oil producers.", 0, 0.4},
		{"empty", sentence, "", 0, 0},
		{"both empty", "", "—", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ab, ba := Similarity(tt.a, tt.b), Similarity(tt.b, tt.a)
			if ab != ba {
				t.Errorf("not symmetric: %v vs %v", ab, ba)
			}
			if ab < tt.min || ab > tt.max {
				t.Errorf("Similarity = %.3f, want in [%v, %v]", ab, tt.min, tt.max)
			}
		})
	}
}

func TestSentences(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"plain", "One two three. Four five six! Seven eight nine? Ten eleven twelve",
			[]string{"One two three.", "Four five six!", "Seven eight nine?", "Ten eleven twelve"}},
		{"closing quote after terminator", "“Azerbaijan is a friendly country to Israel.” Sa’ar wrote on “X”. We discussed it.",
			[]string{"“Azerbaijan is a friendly country to Israel.”", "Sa’ar wrote on “X”.", "We discussed it."}},
		{"straight quotes", `He said "it is over." Then he left the room.`,
			[]string{`He said "it is over."`, "Then he left the room."}},
		{"question in quote then attribution", `"Is it true?" he asked them all. Nobody replied to him.`,
			[]string{`"Is it true?" he asked them all.`, "Nobody replied to him."}},
		{"titles", "Mr. Erdogan met Dr. Smith and Prof. Jones today. They talked.",
			[]string{"Mr. Erdogan met Dr. Smith and Prof. Jones today. They talked."}},
		{"initialisms", "The U.S. Agriculture Department said so. It met at 10 a.m. Monday in Washington.",
			[]string{"The U.S. Agriculture Department said so.", "It met at 10 a.m. Monday in Washington."}},
		{"initials", "John F. Kennedy and J. R. R. Tolkien were born. Both wrote books.",
			[]string{"John F. Kennedy and J. R. R. Tolkien were born.", "Both wrote books."}},
		{"latin", "Some fruit, e.g. apples, i.e. red ones. Others disagree with this.",
			[]string{"Some fruit, e.g. apples, i.e. red ones.", "Others disagree with this."}},
		{"decimals", "Output rose 3.5 pct to 1.25 mln tonnes. Prices fell 0.5 pct.",
			[]string{"Output rose 3.5 pct to 1.25 mln tonnes.", "Prices fell 0.5 pct."}},
		{"ellipsis mid-sentence", "Through Georgia and then…through Turkey, on the other hand… it works. Next one here.",
			[]string{"Through Georgia and then…through Turkey, on the other hand… it works.", "Next one here."}},
		{"ellipsis ends sentence", "He waited and waited… Nothing came of it at all.",
			[]string{"He waited and waited…", "Nothing came of it at all."}},
		{"short quoted fragment joined", "“Stop. Now,” he said to the driver.",
			[]string{"“Stop. Now,” he said to the driver."}},
		{"short sentence joined to previous", "The talks ended late. Yes. They resumed on Monday.",
			[]string{"The talks ended late. Yes.", "They resumed on Monday."}},
		{"multiple terminators", "Really?! That is new. Wow!!! It works fine.",
			[]string{"Really?! That is new. Wow!!!", "It works fine."}},
		{"surrounding space", "  First sentence is here.   Second one is here.  ",
			[]string{"First sentence is here.", "Second one is here."}},
		{"empty", "   ", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, sp := range Sentences(tt.in) {
				got = append(got, tt.in[sp.Start:sp.End])
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") || len(got) != len(tt.want) {
				t.Errorf("Sentences(%q) =\n%q\nwant\n%q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSentencesShippedArticle(t *testing.T) {
	article := shippedArticle(t)
	lines := strings.Split(strings.TrimSpace(article), "\n")
	n := 0
	for _, line := range lines {
		for _, sp := range Sentences(line) {
			s := line[sp.Start:sp.End]
			if !utf8.ValidString(s) || strings.TrimSpace(s) != s || s == "" {
				t.Errorf("bad sentence %q", s)
			}
			n++
		}
	}
	// The paragraph quoting Khanin on Washington has two sentences inside
	// one quotation.
	p := "“On one hand, I think in Washington, they understand the role of Azerbaijan, what the country is. On the other hand,"
	if !strings.Contains(article, p) {
		t.Fatal("test paragraph not found")
	}
	for _, line := range lines {
		if strings.HasPrefix(line, p) {
			if got := len(Sentences(line)); got != 2 {
				t.Errorf("Khanin quote: %d sentences, want 2", got)
			}
		}
	}
	if n < len(lines) {
		t.Errorf("%d sentences for %d lines", n, len(lines))
	}
}

func FuzzFold(f *testing.F) {
	for _, s := range []string{"", "Ze’ev  Khanin —  “x” …", "a\u200b-\u00a0b", "\xff\xfe", "ÀΣ İ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		folded, offsets := Fold(s)
		checkOffsets(t, s, folded, offsets)
		again, _ := Fold(folded)
		if utf8.ValidString(s) && again != folded {
			t.Errorf("Fold not idempotent: %q -> %q -> %q", s, folded, again)
		}
	})
}

func FuzzFind(f *testing.F) {
	f.Add("“Azerbaijan is a friendly country,” Sa’ar wrote.", `"azerbaijan is`)
	f.Add("then…through — there", "...through-there")
	f.Add("a\u200bb c", "ab")
	f.Add("no… more", "no.")
	f.Add(".…", "…")
	f.Add("a -- b", "a-")
	f.Fuzz(func(t *testing.T, text, phrase string) {
		sp, ok := Find(text, phrase)
		if !ok {
			return
		}
		if sp.Start < 0 || sp.End > len(text) || sp.Start >= sp.End {
			t.Fatalf("Find(%q, %q) = %v: bad span", text, phrase, sp)
		}
		if !charStart(text, sp.Start) || !charStart(text, sp.End) {
			t.Fatalf("Find(%q, %q) = %v: not on character boundaries", text, phrase, sp)
		}
		// The span covers whole characters and exactly the match: it folds
		// to what the phrase folds to (Fold trims white space at the ends).
		got, want := FoldString(text[sp.Start:sp.End]), FoldString(phrase)
		if got != want {
			t.Fatalf("Find(%q, %q) = %q, which folds to %q, not %q", text, phrase, text[sp.Start:sp.End], got, want)
		}
	})
}

func FuzzSentences(f *testing.F) {
	f.Add("“Stop. Now,” he said. Mr. Smith left at 3.5 p.m. Then… what? Yes.")
	f.Add("a. b. c. d.")
	f.Fuzz(func(t *testing.T, text string) {
		prev := 0
		for _, sp := range Sentences(text) {
			if sp.Start < prev || sp.End <= sp.Start || sp.End > len(text) {
				t.Fatalf("Sentences(%q): bad span %v after %d", text, sp, prev)
			}
			s := text[sp.Start:sp.End]
			if strings.TrimSpace(s) != s || !charStart(text, sp.Start) || !charStart(text, sp.End) {
				t.Fatalf("Sentences(%q): span %v = %q not trimmed on character boundaries", text, sp, s)
			}
			prev = sp.End
		}
	})
}

func BenchmarkFind(b *testing.B) {
	article := shippedArticle(b)
	b.SetBytes(int64(len(article)))
	for b.Loop() {
		if _, ok := Find(article, `"Azerbaijan is the first in line," he says.`); !ok {
			b.Fatal("not found")
		}
	}
}

func BenchmarkSentences(b *testing.B) {
	article := shippedArticle(b)
	b.SetBytes(int64(len(article)))
	for b.Loop() {
		Sentences(article)
	}
}

func BenchmarkSimilarity(b *testing.B) {
	x := "Khanin says a priority of Azerbaijani president Ilan Aliyev is to smooth out troubled relations between Israel and Turkey."
	y := "Khanin says a goal of Azerbaijani president Ilan Aliyev is to smooth out tense relations between Israel and Turkey."
	for b.Loop() {
		Similarity(x, y)
	}
}

func BenchmarkFindMiss(b *testing.B) {
	article := shippedArticle(b)
	b.SetBytes(int64(len(article)))
	for b.Loop() {
		if _, ok := Find(article, "a phrase that is not in the article"); ok {
			b.Fatal("found")
		}
	}
}
