package bot

import (
	"regexp"
	"strings"
	"unicode"

	"github.com/verbatim-bot/verbatim/corpus"
)

// holdClaims removes the citations of the model's sentences that their
// cited passages do not support, counting them in Check.Uncited. A
// sentence of the reply (its prose and inline quotations up to a full
// stop) loses its markers when:
//
//   - it held a quotation that could not be verified (verification turned
//     it into plain text): what it claims to quote is nowhere; or
//   - its prose states a number (digits, as in "1975" or "60%") or a name
//     (a capitalised word that does not start the sentence) that none of
//     its cited passages contains. A name counts as contained when a word
//     of the passage shares its first five letters ("Israeli" and
//     "Israel's"), so that inflections and demonyms do not lose support.
//
// It runs on the tokens after their markers are resolved to passages.
func (v *verifier) holdClaims(toks []token) {
	for _, c := range claimsOf(toks) {
		var cited []int
		for _, i := range c.markers {
			cited = append(cited, toks[i].passages...)
		}
		if len(cited) == 0 || !c.unverified && v.supports(cited, c.prose.String()) {
			continue
		}
		for _, i := range c.markers {
			if len(toks[i].passages) > 0 {
				toks[i].passages = nil
				v.tally.Uncited++
			}
		}
	}
}

// claim is one sentence of the reply: its prose, its markers (indexes in
// the tokens), and whether it held a quotation that failed verification.
type claim struct {
	prose      strings.Builder
	markers    []int
	unverified bool
}

// claimsOf splits the tokens into sentences at full stops (., ! or ?
// followed by white space or the end). Markers right after a stop, before
// any other text, belong to the sentence the stop ends ("… capital. [1]").
func claimsOf(toks []token) []*claim {
	var out []*claim
	cur := &claim{}
	for i, t := range toks {
		switch t.kind {
		case tokMarker:
			if strings.TrimSpace(cur.prose.String()) == "" && len(out) > 0 && !cur.unverified {
				out[len(out)-1].markers = append(out[len(out)-1].markers, i)
			} else {
				cur.markers = append(cur.markers, i)
			}
		case tokText:
			cur.unverified = cur.unverified || t.dropped
			rest := t.raw
			for loc := claimEnd.FindStringIndex(rest); loc != nil; loc = claimEnd.FindStringIndex(rest) {
				cur.prose.WriteString(rest[:loc[1]])
				out = append(out, cur)
				cur, rest = &claim{}, rest[loc[1]:]
			}
			cur.prose.WriteString(rest)
		}
	}
	return append(out, cur)
}

// supports reports whether the passages together contain every number and
// name that prose states.
func (v *verifier) supports(passages []int, prose string) bool {
	var text strings.Builder
	for _, p := range passages {
		text.WriteString(v.passages[p].Paragraph.Text)
		text.WriteString("\n")
	}
	words := corpus.Words(text.String())
	for _, n := range numberRe.FindAllString(prose, -1) {
		if !hasNumberWord(words, digitsOf(n)) {
			return false
		}
	}
	for _, name := range names(prose) {
		if !hasPrefixWord(words, strings.ToLower(name)) {
			return false
		}
	}
	return true
}

// numberRe finds a number as a reply states it: "1992", "60%", "1,000",
// "3.5".
var numberRe = regexp.MustCompile(`\d[\d,.]*\d|\d`)

// digitsOf drops thousands separators: "1,000" → "1000".
func digitsOf(n string) string { return strings.ReplaceAll(n, ",", "") }

func hasNumberWord(words []string, n string) bool {
	for _, w := range words {
		if strings.ReplaceAll(w, ",", "") == n || strings.HasPrefix(w, n) && strings.TrimLeft(w[len(n):], "%") == "" {
			return true
		}
	}
	return false
}

// namePrefix is how many first letters a passage word must share with a
// name to contain it.
const namePrefix = 5

func hasPrefixWord(words []string, name string) bool {
	p := name
	if r := []rune(name); len(r) > namePrefix {
		p = string(r[:namePrefix])
	}
	for _, w := range words {
		if strings.HasPrefix(w, p) {
			return true
		}
	}
	return false
}

// names returns the capitalised words of prose that do not start a
// sentence or a line: the names it states. Words of one letter ("I", "A")
// are not names.
func names(prose string) []string {
	var out []string
	start := true
	for _, f := range strings.Fields(prose) {
		w := strings.TrimFunc(f, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		if !start && len([]rune(w)) > 1 && unicode.IsUpper([]rune(w)[0]) {
			out = append(out, w)
		}
		start = strings.ContainsAny(f[len(f)-1:], ".!?:;") || strings.HasSuffix(f, "\n")
	}
	return out
}

// claimEnd finds a full stop that ends a sentence within a text token.
var claimEnd = regexp.MustCompile(`[.!?]+(?:\s+|$)`)
