package corpus

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// minSentenceWords is the fewest words a sentence keeps on its own; shorter
// pieces (`“Stop.`, `Yes.`) are joined to a neighbour so a quote of them
// still comes with its context.
const minSentenceWords = 3

// Sentences splits a paragraph into sentence spans, trimmed of surrounding
// white space. A sentence ends at '.', '!', '?' or '…' (possibly repeated
// and followed by closing quotes or brackets, as in `.”`) when white space
// follows and the next character is not a lower-case letter or a
// continuing punctuation mark. A '.' does not end a sentence after a title
// or Latin abbreviation (Mr., Dr., St., No., vs., e.g., et al.), after a
// single letter (initials such as "F."), or after a dotted initialism
// (U.S., a.m., Ph.D.); decimals such as 3.5 never split because no space
// follows the point. In scripts written without spaces (Chinese,
// Japanese), a sentence also ends at an ideographic or full-width '。',
// '！', '？' or '．' with nothing after it: those boundaries are the ones
// Unicode text segmentation (UAX #29, by github.com/rivo/uniseg) finds
// after such a mark. Pieces of fewer than three words (each Han or Kana
// character counting as one) are joined to the sentence before them (or
// after, for the first).
func Sentences(text string) []Span {
	var raw []Span
	start := 0
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		if !isTerminator(r) {
			i += size
			continue
		}
		j := i + size
		for j < len(text) {
			r2, s2 := utf8.DecodeRuneInString(text[j:])
			if !isTerminator(r2) && !isCloser(r2) {
				break
			}
			j += s2
		}
		if j < len(text) {
			if r2, _ := utf8.DecodeRuneInString(text[j:]); !unicode.IsSpace(r2) {
				i = j
				continue
			}
		}
		k := j
		for k < len(text) {
			r2, s2 := utf8.DecodeRuneInString(text[k:])
			if !unicode.IsSpace(r2) {
				break
			}
			k += s2
		}
		if k < len(text) {
			if next, _ := utf8.DecodeRuneInString(text[k:]); !startsSentence(next) {
				i = k
				continue
			}
		}
		if r == '.' && (i+1 == len(text) || text[i+1] != '.') && isAbbreviation(text[:i]) {
			i = k
			continue
		}
		if sp, ok := trimSpan(text, start, j); ok {
			raw = append(raw, sp)
		}
		start, i = k, k
	}
	if sp, ok := trimSpan(text, start, len(text)); ok {
		raw = append(raw, sp)
	}
	var split []Span
	for _, sp := range raw {
		split = splitUnspaced(text, sp, split)
	}
	return mergeShort(text, split)
}

// splitUnspaced appends to out the sentences of the span sp of text, split
// at the UAX #29 sentence boundaries that follow a full-width terminator.
func splitUnspaced(text string, sp Span, out []Span) []Span {
	s := text[sp.Start:sp.End]
	if !strings.ContainsAny(s, "。！？．｡") {
		return append(out, sp)
	}
	start, pos, state := 0, 0, -1
	for rest := s; len(rest) > 0; {
		var seg string
		seg, rest, state = uniseg.FirstSentenceInString(rest, state)
		pos += len(seg)
		if len(rest) > 0 && !endsWide(seg) {
			continue
		}
		if t, ok := trimSpan(text, sp.Start+start, sp.Start+pos); ok {
			out = append(out, t)
		}
		start = pos
	}
	return out
}

// endsWide reports whether the sentence seg ends with a full-width
// terminator, perhaps followed by closing marks and white space.
func endsWide(seg string) bool {
	seg = strings.TrimRightFunc(seg, func(r rune) bool { return unicode.IsSpace(r) || isCloser(r) })
	r, _ := utf8.DecodeLastRuneInString(seg)
	return strings.ContainsRune("。！？．｡", r)
}

// mergeShort joins sentences with fewer than minSentenceWords words to the
// one before (or, for the first, the one after).
func mergeShort(text string, spans []Span) []Span {
	if len(spans) < 2 {
		return spans
	}
	out := spans[:0:0]
	carry := -1 // start of a short first piece waiting for the next sentence
	for _, sp := range spans {
		if carry >= 0 {
			sp.Start = carry
			carry = -1
		}
		if countWords(text[sp.Start:sp.End]) >= minSentenceWords {
			out = append(out, sp)
			continue
		}
		if len(out) > 0 {
			out[len(out)-1].End = sp.End
		} else {
			carry = sp.Start
		}
	}
	if carry >= 0 {
		out = append(out, Span{carry, spans[len(spans)-1].End})
	}
	return out
}

func trimSpan(text string, start, end int) (Span, bool) {
	s := text[start:end]
	lead := len(s) - len(strings.TrimLeftFunc(s, unicode.IsSpace))
	s = strings.TrimSpace(s)
	if s == "" {
		return Span{}, false
	}
	return Span{start + lead, start + lead + len(s)}, true
}

func isTerminator(r rune) bool {
	return r == '.' || r == '!' || r == '?' || r == '…'
}

func isCloser(r rune) bool {
	switch r {
	case '"', '\'', '”', '’', '»', '›', ')', ']', '}', '」', '』', '）', '〉', '》', '】', '〕', '〞', '〟':
		return true
	}
	return false
}

// startsSentence reports whether r may begin a new sentence.
func startsSentence(r rune) bool {
	if unicode.IsLower(r) {
		return false
	}
	switch r {
	case ',', ';', ':', ')', ']', '}', '%', '-', '–', '—':
		return false
	}
	return true
}

// isUnspaced reports whether r is a letter of a script written without
// spaces between words, where a character stands for a word in the counts
// of fragments and short sentences: Han, Hiragana, Katakana.
func isUnspaced(r rune) bool {
	return r >= 0x3040 && (unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r) || r == 'ー')
}

// isAbbreviation reports whether before ends with a word whose following
// '.' is not a sentence end: a known abbreviation, a single letter, or a
// dotted initialism.
func isAbbreviation(before string) bool {
	i := len(before)
	for i > 0 {
		r, size := utf8.DecodeLastRuneInString(before[:i])
		if !unicode.IsLetter(r) && r != '.' {
			break
		}
		i -= size
	}
	word := strings.TrimLeft(before[i:], ".")
	switch {
	case word == "":
		return false
	case strings.Contains(word, "."):
		return true
	case utf8.RuneCountInString(word) == 1:
		return true
	}
	// Titles and Latin abbreviations almost always followed by more of the
	// sentence.
	switch strings.ToLower(word) {
	case "mr", "mrs", "ms", "messrs", "dr", "prof", "st", "mt", "ft", "sr", "jr",
		"gen", "sen", "rep", "gov", "rev", "hon", "pres", "lt", "col", "capt",
		"sgt", "cmdr", "adm", "maj", "cpl", "pvt",
		"no", "nos", "vs", "cf", "al", "fig", "figs", "vol", "pp", "approx", "dept", "est":
		return true
	}
	return false
}

// countWords counts the runs of letters, digits and marks in s, each Han
// or Kana character counting as a word of its own, without folding it.
func countWords(s string) int {
	n := 0
	in := false
	for i, r := range s {
		switch {
		case isUnspaced(r):
			n++
			in = false
		case isWordRune(r):
			if !in {
				n++
			}
			in = true
		case r == '\'' || r == '’':
			next, _ := utf8.DecodeRuneInString(s[i+utf8.RuneLen(r):])
			in = in && isWordRune(next)
		default:
			in = false
		}
	}
	return n
}
