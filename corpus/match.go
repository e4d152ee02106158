package corpus

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Fold returns the normalised form of s that quotes are matched in, and the
// map from it back to s. Folding
//
//   - lower-cases letters (unicode.ToLower, rune by rune);
//   - turns every run of white space into one space, and drops white space
//     at either end;
//   - maps typographic single quotes and apostrophes (‘ ’ ‚ ‛ ′ ‹ › ʼ) to '
//     and typographic double quotes (“ ” „ ‟ ″ « » 〝 〞, and the corner
//     brackets 「 」 『 』 of Chinese and Japanese) to ";
//   - maps dashes and minus signs (‐ ‑ ‒ – — ― − and ASCII -) to '-', folds
//     a run of them into one '-', and drops white space on either side of
//     it, so "cooperation—positioning", "cooperation — positioning" and
//     "cooperation -- positioning" all match;
//   - maps the ellipsis … to "...";
//   - drops invisible characters (zero-width spaces and joiners, the word
//     joiner, the byte-order mark and the soft hyphen).
//
// offsets has len(folded)+1 entries: offsets[i] is the byte offset in s of
// the source character that produced folded byte i, and the last entry is
// the end of the last source character that produced output (0 when folded
// is empty). Invalid UTF-8 bytes fold to U+FFFD, so folded is always valid.
// Callers that need only the folded form should use FoldString.
func Fold(s string) (folded string, offsets []int) {
	f := fold(s, true)
	return f.text, append(f.starts, f.end)
}

// FoldString returns the folded form of s, as Fold does, without building
// the map back to s: the cheap way to compare texts as quotes are matched.
func FoldString(s string) string {
	return fold(s, false).text
}

// Find reports the first occurrence of phrase in text, compared after Fold,
// that does not begin or end inside a word or inside a character: a match
// whose first (last) character is a letter or digit must not be preceded
// (followed) by one in text, so "ran" is not found in "Iran" (in scripts
// written without spaces, Han and Kana, any character may end a word, so
// "中华人民共和国" is found in "北京是中华人民共和国的首都"), and a match
// must use all of the folded form of the source characters at its ends, so
// "no." is not found in "no…". The span is in text's bytes and covers whole
// source characters, so text[span.Start:span.End] shows the source's own
// characters (a straight-quoted phrase finds the typographic text), and it
// folds to the same as phrase. A phrase that folds to nothing is never
// found.
func Find(text, phrase string) (Span, bool) {
	p := FoldString(phrase)
	if p == "" || !strings.Contains(FoldString(text), p) {
		return Span{}, false // the common case, decided without building offsets
	}
	return NewFolded(text).Find(p)
}

// Folded is a text kept with its folded form and the map back to it, for
// matching many phrases against one text without folding it again. To
// search many texts for one phrase, compare folded forms first
// (FoldString) and build a Folded only for the texts that contain the
// phrase: the map costs far more than the fold.
type Folded struct {
	text   string
	starts []int // starts[i]: offset in src of the character behind byte i
	ends   []int // ends[i]: end in src of the character(s) behind byte i
	end    int
}

// NewFolded folds s for repeated matching.
func NewFolded(s string) *Folded {
	f := fold(s, true)
	return &f
}

// Find is the package-level Find with an already folded phrase p (see
// FoldString).
func (f *Folded) Find(p string) (Span, bool) {
	if p == "" {
		return Span{}, false
	}
	first, _ := utf8.DecodeRuneInString(p)
	last, _ := utf8.DecodeLastRuneInString(p)
	for from := 0; from <= len(f.text)-len(p); {
		i := strings.Index(f.text[from:], p)
		if i < 0 {
			return Span{}, false
		}
		a := from + i
		b := a + len(p)
		before, _ := utf8.DecodeLastRuneInString(f.text[:a])
		after, _ := utf8.DecodeRuneInString(f.text[b:])
		// A source character folding to several bytes ("…" to "...")
		// gives them all the same start: the match must not split one.
		whole := (a == 0 || f.starts[a-1] != f.starts[a]) &&
			(b == len(f.text) || f.starts[b] != f.starts[b-1])
		if whole && (a == 0 || wordEdge(first, before)) && (b == len(f.text) || wordEdge(last, after)) {
			return Span{f.starts[a], f.ends[b-1]}, true
		}
		from = a + 1
	}
	return Span{}, false
}

// fold folds s; with offsets set it also records the map back to s.
//
// It is one pass over the bytes, a state machine on the hot path of every
// load and quote check: its cases stay together in one loop rather than
// split into calls.
//
//gocyclo:ignore
func fold(s string, offsets bool) Folded {
	var f Folded
	if offsets {
		f.starts = make([]int, 0, len(s))
		f.ends = make([]int, 0, len(s))
	}
	out := make([]byte, 0, len(s))
	space := -1 // start of a pending white-space run, -1 when none
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf && c != '-' && !asciiSpace(c) {
			// Fast path for the common case: one ASCII byte in, one out.
			if space >= 0 {
				out = append(out, ' ')
				if offsets {
					f.starts = append(f.starts, space)
					f.ends = append(f.ends, space+1)
				}
				space = -1
			}
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			out = append(out, c)
			if offsets {
				f.starts = append(f.starts, i)
				f.ends = append(f.ends, i+1)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case isInvisible(r):
		case unicode.IsSpace(r):
			if space < 0 && len(out) > 0 && out[len(out)-1] != '-' {
				space = i
			}
		case isDash(r):
			space = -1
			if len(out) > 0 && out[len(out)-1] == '-' {
				if offsets {
					f.ends[len(f.ends)-1] = i + size
				}
				break
			}
			out = append(out, '-')
			if offsets {
				f.starts = append(f.starts, i)
				f.ends = append(f.ends, i+size)
			}
		default:
			if space >= 0 {
				out = append(out, ' ')
				if offsets {
					f.starts = append(f.starts, space)
					f.ends = append(f.ends, space+1)
				}
				space = -1
			}
			n := len(out)
			if r = foldRune(r); r == '…' {
				out = append(out, "..."...)
			} else {
				out = utf8.AppendRune(out, r)
			}
			if offsets {
				for range len(out) - n {
					f.starts = append(f.starts, i)
					f.ends = append(f.ends, i+size)
				}
			}
		}
		i += size
	}
	f.text = string(out)
	if n := len(f.ends); n > 0 {
		f.end = f.ends[n-1]
	}
	return f
}

// foldRune maps typographic quotes to straight ones and lower-cases the
// rest; dashes, white space and invisible characters are handled by fold.
func foldRune(r rune) rune {
	switch r {
	case '‘', '’', '‚', '‛', '′', '‹', '›', 'ʼ', '＇':
		return '\''
	case '“', '”', '„', '‟', '″', '«', '»', '〝', '〞', '〟', '＂', '「', '」', '『', '』':
		return '"'
	}
	return unicode.ToLower(r)
}

func asciiSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func isDash(r rune) bool {
	switch r {
	case '-', '‐', '‑', '‒', '–', '—', '―', '−', '﹘', '﹣', '－':
		return true
	}
	return false
}

func isInvisible(r rune) bool {
	switch r {
	case '\u200B', '\u200C', '\u200D', '\u2060', '\uFEFF', '\u00AD':
		return true
	}
	return false
}

// wordEdge reports whether a match may end with r beside next: unless
// both are letters, digits or marks of a word, or either is a Han or Kana
// character, whose words are not marked off.
func wordEdge(r, next rune) bool {
	return !isWordRune(r) || !isWordRune(next) || isUnspaced(r) || isUnspaced(next)
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// Words returns the word tokens of s after Fold: maximal runs of letters,
// digits and combining marks, keeping an apostrophe between two such
// characters ("israel's", "ze'ev", "doesn't"); each Han or Kana character
// is a token of its own, as those scripts do not mark words off.
func Words(s string) []string {
	t := FoldString(s)
	var words []string
	start := -1
	for i, r := range t {
		switch {
		case isUnspaced(r):
			if start >= 0 {
				words = append(words, t[start:i])
				start = -1
			}
			words = append(words, string(r))
		case isWordRune(r):
			if start < 0 {
				start = i
			}
		case r == '\'' && start >= 0:
			next, _ := utf8.DecodeRuneInString(t[i+1:])
			if !isWordRune(next) {
				words = append(words, t[start:i])
				start = -1
			}
		default:
			if start >= 0 {
				words = append(words, t[start:i])
				start = -1
			}
		}
	}
	if start >= 0 {
		words = append(words, t[start:])
	}
	return words
}

// Similarity is the one rule Verbatim uses to say how close a quote is to a
// sentence (near misses, fuzzy quote lookup). With A = Words(a) and
// B = Words(b), it is
//
//	1 − d(A, B) / max(|A|, |B|)
//
// where d is the word-level Levenshtein distance: the fewest word
// insertions, deletions and substitutions that turn A into B. It is
// symmetric and lies in [0, 1]: 1 when the texts have the same words in the
// same order (differing only as Fold allows, or in punctuation), and 0 when
// either has no words. Changing two words of a 15-word sentence scores
// 1 − 2/15 ≈ 0.87; unrelated sentences share few words in order and score
// low.
func Similarity(a, b string) float64 {
	return wordSimilarity(Words(a), Words(b))
}

func wordSimilarity(a, b []string) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	if len(a) < len(b) {
		a, b = b, a
	}
	// Two-row dynamic programme over the shorter sequence.
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return 1 - float64(prev[len(b)])/float64(len(a))
}
