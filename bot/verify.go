package bot

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/verbatim-bot/verbatim/corpus"
	"github.com/verbatim-bot/verbatim/retrieval"
)

// RepairThreshold is the corpus.Similarity a near-miss quote must reach
// with a sentence of a retrieved passage to be repaired to that sentence.
// Similarity is one minus the word-level edit distance over the longer
// word count, so 0.8 lets a model change one word in five (two in ten,
// three in fifteen) of a whole sentence, while a paraphrase that rewords
// more, an invented quote, or a short fragment of a long sentence scores
// lower and is dropped. The llmfake tests pin both sides: one word changed
// in a 14-word sentence (0.93) is repaired, a reworded sentence is dropped.
const RepairThreshold = 0.8

// verification is the verified form of a model's reply.
type verification struct {
	text      string
	sources   []Source
	check     Check
	supported bool // at least one quote was verified
}

// verify checks a reply against the passages it was given (numbered 1..n in
// the prompt) and returns what may be shown:
//
//   - every quote, in the quotes list or quoted inline in the answer text
//     (“…”, "…", ‘…’, '…', «…» or „…“, even a single word; see tokenize),
//     must be found with corpus.Find in its cited passage (kept), or else in
//     another retrieved passage (re-attributed); failing that, a near miss
//     is replaced by the passage sentence it came from when their
//     Similarity is at least RepairThreshold (repaired), and anything else
//     is dropped. Shown quotes are cut from the paragraph, in its own
//     characters; an inline quotation that cannot be verified loses its
//     quotation marks, and a verified one shows the source's characters;
//   - a marker [n] whose quotes (those citing source n) were all
//     re-attributed to one other passage, and a marker right after an
//     inline quote found elsewhere, is moved with them; other markers to
//     passages that do not exist are removed;
//   - the cited passages become the Sources, renumbered 1..k in order of
//     first citation with markers rewritten to match; a passage that only a
//     quote cites gets a marker at the end of the text; uncited passages
//     are not listed;
//   - a ">" starting a line is removed (see unquoteLines), and mentions
//     in the text are neutralised.
func verify(r reply, passages []retrieval.Result) verification {
	v := &verifier{passages: passages}
	var out verification

	// Quotes from the quotes list.
	stays := make(map[int]bool)         // cited passages that kept a quote
	moved := make(map[int]map[int]bool) // cited passage → where its quotes really were
	for _, q := range r.Quotes {
		cited := q.Source - 1
		loc, how := v.check(q.Text, cited, &out.check)
		if how == dropped {
			continue
		}
		v.add(loc)
		switch {
		case cited == -1:
		case loc.p == cited:
			stays[cited] = true
		default:
			if moved[cited] == nil {
				moved[cited] = make(map[int]bool)
			}
			moved[cited][loc.p] = true
		}
	}
	// Inline quotations, then markers, which quotes may have moved.
	toks := tokenize(r.Text)
	for i := range toks {
		t := &toks[i]
		if t.kind != tokQuote {
			continue
		}
		if len(corpus.Words(t.text)) == 0 {
			t.kind = tokText // quoted symbols, not a quotation
			continue
		}
		next := followingMarker(toks, i)
		cited := -1
		if next != nil && len(next.nums) > 0 {
			cited = next.nums[0] - 1
		}
		loc, how := v.check(t.text, cited, &out.check)
		if how == dropped {
			t.kind, t.raw = tokText, t.text // no longer presented as a quotation
			continue
		}
		v.add(loc)
		stays[loc.p] = true
		t.text = trimQuote(v.text(loc))
		t.passages = []int{loc.p}
		switch {
		case next == nil:
			t.cite = true
		case loc.p != cited:
			next.nums = append([]int{loc.p + 1}, next.nums[1:]...)
		}
	}
	remap := make(map[int]int)
	for from, to := range moved {
		if !stays[from] && len(to) == 1 {
			for p := range to {
				remap[from] = p
			}
		}
	}

	for i := range toks {
		t := &toks[i]
		if t.kind != tokMarker {
			continue
		}
		for _, n := range t.nums {
			p := n - 1
			if to, ok := remap[p]; ok {
				p = to
			} else if p < 0 || p >= len(passages) {
				out.check.MarkersRemoved++
				continue
			}
			t.passages = append(t.passages, p)
		}
	}

	// Number the cited passages in order of first citation.
	number := make(map[int]int)
	var order []int
	cite := func(p int) {
		if _, ok := number[p]; !ok {
			order = append(order, p)
			number[p] = len(order)
		}
	}
	for _, t := range toks {
		if t.kind == tokMarker || t.kind == tokQuote && t.cite {
			for _, p := range t.passages {
				cite(p)
			}
		}
	}
	var tail []int
	for _, loc := range v.shown {
		if _, ok := number[loc.p]; !ok {
			cite(loc.p)
			tail = append(tail, loc.p)
		}
	}

	var b strings.Builder
	for _, t := range toks {
		switch t.kind {
		case tokText:
			b.WriteString(t.raw)
		case tokQuote:
			b.WriteString("“" + t.text + "”")
			if t.cite {
				b.WriteString(" " + markers(t.passages, number))
			}
		case tokMarker:
			if len(t.passages) == 0 {
				trimSpaceEnd(&b)
				continue
			}
			b.WriteString(markers(t.passages, number))
		}
	}
	text := strings.TrimSpace(b.String())
	if len(tail) > 0 {
		text += " " + markers(tail, number)
	}
	out.text = NeutralizeMentions(unquoteLines(text))

	for _, p := range order {
		res := passages[p]
		src := Source{N: number[p], ArticleID: res.Paragraph.ArticleID, Paragraph: res.Paragraph}
		if res.Article != nil {
			src.Title, src.URL = res.Article.Title, res.Article.URL
		}
		for _, loc := range v.shown {
			if loc.p == p {
				src.Quotes = append(src.Quotes, Quote{Text: v.text(loc), Span: loc.span})
			}
		}
		out.sources = append(out.sources, src)
	}
	out.supported = len(v.shown) > 0
	return out
}

// unquoteLines removes the ">" marks (and the white space around them)
// that would make a line of s a Markdown block quote. Only the answerer
// writes "> sentence [n]" lines, for the verified quotes of an extractive
// answer, so a model's text must not look like one.
func unquoteLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if t := strings.TrimLeft(l, " \t"); strings.HasPrefix(t, ">") {
			lines[i] = strings.TrimLeft(t, "> \t")
		}
	}
	return strings.Join(lines, "\n")
}

// markers renders passages as "[a][b]" in their new numbers, without
// repeats.
func markers(ps []int, number map[int]int) string {
	var b strings.Builder
	seen := make(map[int]bool)
	for _, p := range ps {
		if !seen[p] {
			seen[p] = true
			b.WriteString("[" + strconv.Itoa(number[p]) + "]")
		}
	}
	return b.String()
}

func trimSpaceEnd(b *strings.Builder) {
	s := b.String()
	if t := strings.TrimRightFunc(s, unicode.IsSpace); len(t) < len(s) {
		b.Reset()
		b.WriteString(t)
	}
}

// how says what verification did with one quote.
type how int

const (
	kept how = iota
	reattributed
	repaired
	dropped
)

func (c *Check) count(h how) {
	switch h {
	case kept:
		c.Kept++
	case reattributed:
		c.Reattributed++
	case repaired:
		c.Repaired++
	case dropped:
		c.Dropped++
	}
}

// located is a verified quote: a span of passage p's paragraph.
type located struct {
	p    int
	span corpus.Span
}

// verifier matches quotes against the passages of one reply.
type verifier struct {
	passages []retrieval.Result
	folded   []*corpus.Folded
	shown    []located // verified quotes, in order, without repeats
	seen     map[string]checked
}

func (v *verifier) add(loc located) {
	for _, l := range v.shown {
		if l == loc {
			return
		}
	}
	v.shown = append(v.shown, loc)
}

func (v *verifier) text(loc located) string {
	return v.passages[loc.p].Paragraph.Text[loc.span.Start:loc.span.End]
}

func (v *verifier) find(p int, phrase string) (corpus.Span, bool) {
	if v.folded == nil {
		v.folded = make([]*corpus.Folded, len(v.passages))
	}
	if v.folded[p] == nil {
		v.folded[p] = corpus.NewFolded(v.passages[p].Paragraph.Text)
	}
	return v.folded[p].Find(phrase)
}

// check verifies a quote with locate and counts the outcome in c, unless
// the same words were already checked (a quote given both in the quotes
// list and inline in the text counts once).
func (v *verifier) check(quote string, cited int, c *Check) (located, how) {
	key := corpus.FoldString(trimQuote(quote))
	if r, ok := v.seen[key]; ok {
		return r.loc, r.how
	}
	loc, h := v.locate(quote, cited)
	if v.seen == nil {
		v.seen = make(map[string]checked)
	}
	v.seen[key] = checked{loc, h}
	c.count(h)
	return loc, h
}

type checked struct {
	loc located
	how how
}

// locate verifies one quote cited to passage cited, as described for
// verify. cited is -1 when the quote names no passage, and may be a number
// that is not a passage: a quote found verbatim then counts as kept when it
// named none, re-attributed when it named a wrong one.
func (v *verifier) locate(quote string, cited int) (located, how) {
	q := trimQuote(quote)
	if len(corpus.Words(q)) == 0 {
		return located{}, dropped
	}
	folded := corpus.FoldString(q)
	order := make([]int, 0, len(v.passages))
	if cited >= 0 && cited < len(v.passages) {
		order = append(order, cited)
	}
	for p := range v.passages {
		if p != cited {
			order = append(order, p)
		}
	}
	for _, p := range order {
		if sp, ok := v.find(p, folded); ok {
			if p == cited || cited == -1 {
				return located{p, sp}, kept
			}
			return located{p, sp}, reattributed
		}
	}
	best, bestSim := located{}, 0.0
	for _, p := range order {
		text := v.passages[p].Paragraph.Text
		for _, sp := range corpus.Sentences(text) {
			if s := corpus.Similarity(q, text[sp.Start:sp.End]); s > bestSim {
				best, bestSim = located{p, sp}, s
			}
		}
	}
	if bestSim >= RepairThreshold {
		return best, repaired
	}
	return located{}, dropped
}

// trimQuote strips white space, quotation marks and ellipses that a model
// puts around a quote; the words inside are left alone.
func trimQuote(s string) string {
	for {
		t := strings.TrimSpace(s)
		t = strings.Trim(t, "\"“”„«»'‘’")
		t = strings.TrimPrefix(t, "…")
		t = strings.TrimSuffix(t, "…")
		t = strings.TrimPrefix(t, "...")
		t = strings.TrimSuffix(t, "...")
		if t == s {
			return s
		}
		s = t
	}
}

// Token kinds of an answer text.
const (
	tokText = iota
	tokQuote
	tokMarker
)

// token is a piece of answer text: plain text, an inline quotation (text is
// what is between its quotation marks), or a citation marker.
type token struct {
	kind     int
	raw      string
	text     string
	nums     []int // marker numbers as written
	passages []int // resolved 0-based passages
	cite     bool  // a verified quote with no marker after it: add one
}

// markerRe finds a citation marker such as [2], [1, 3] or [1; 2] with the
// white space before it; markerAt matches one at the start of a text.
var (
	markerRe = regexp.MustCompile(`\s*` + markerPattern)
	markerAt = regexp.MustCompile(`^` + markerPattern)
)

const markerPattern = `\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\]`

// doubleClosers returns the marks that close an inline quotation opened by
// the double quotation mark open: “…”, "…", «…», and „…“ or „…”; "" when
// open does not open one.
func doubleClosers(open rune) string {
	switch open {
	case '“':
		return "”"
	case '"':
		return `"`
	case '«':
		return "»"
	case '„':
		return "“”"
	}
	return ""
}

// tokenize splits an answer text into plain text, inline quotations and
// markers. An inline quotation lies within one line, between double marks
// (see doubleClosers) or single ones, ‘…’ or '…' (see singleQuoted, which
// tells them from apostrophes). Markers a model put inside a quotation
// (“… [1]”) are taken out of it and placed after it, where they cite it.
func tokenize(s string) []token {
	var toks []token
	last := 0
	for i := 0; i < len(s); {
		end, inner := 0, ""
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '[':
			if m := markerAt.FindString(s[i:]); m != "" {
				end = i + len(m)
			}
		case doubleClosers(r) != "":
			if n := doubleQuoted(s[i+size:], r); n > 0 {
				_, csize := utf8.DecodeRuneInString(s[i+size+n:])
				end, inner = i+size+n+csize, s[i+size:i+size+n]
			}
		case r == '‘' || r == '\'':
			if n := singleQuoted(s, i, r); n > 0 {
				end, inner = i+size+n+size, s[i+size:i+size+n]
			}
		}
		if end == 0 {
			i += size
			continue
		}
		if i > last {
			toks = append(toks, token{kind: tokText, raw: s[last:i]})
		}
		raw := s[i:end]
		i, last = end, end
		if r == '[' {
			toks = append(toks, marker(raw))
			continue
		}
		inside := markerRe.FindAllString(inner, -1)
		if inside != nil {
			inner = strings.TrimSpace(markerRe.ReplaceAllString(inner, ""))
		}
		toks = append(toks, token{kind: tokQuote, raw: raw, text: inner})
		for j, mk := range inside {
			if j == 0 {
				toks = append(toks, token{kind: tokText, raw: " "})
			}
			toks = append(toks, marker(mk))
		}
	}
	if last < len(s) {
		toks = append(toks, token{kind: tokText, raw: s[last:]})
	}
	return toks
}

// doubleQuoted returns the length of the quotation in s, which follows the
// opening mark open, up to its closing mark: 0 when it is empty, runs past
// the end of the line, or meets another mark of its kind first.
func doubleQuoted(s string, open rune) int {
	closers := doubleClosers(open)
	for i, r := range s {
		switch {
		case strings.ContainsRune(closers, r):
			return i
		case r == '\n' || r == open:
			return 0
		}
	}
	return 0
}

// singleQuoted returns the length of the text between the single quotation
// mark open at s[i] and its closing mark, or 0 when that mark is not the
// start of a quotation. A mark opens a quotation only at the start of the
// text or after white space or punctuation, before a letter or digit ('
// only before a letter, so '90s stays as written), and closes one only
// after a character that is not white space and before the end of the
// text, white space or punctuation: an apostrophe inside a word (Ze’ev,
// don’t) neither opens nor closes one. The quotation lies within one line.
func singleQuoted(s string, i int, open rune) int {
	if before, _ := utf8.DecodeLastRuneInString(s[:i]); i > 0 && !isBoundary(before) {
		return 0
	}
	start := i + utf8.RuneLen(open)
	first, _ := utf8.DecodeRuneInString(s[start:])
	if !unicode.IsLetter(first) && (open == '\'' || !unicode.IsDigit(first)) {
		return 0
	}
	close := '’'
	if open == '\'' {
		close = '\''
	}
	prev := first
	for j, r := range s[start:] {
		if r == '\n' {
			return 0
		}
		if r == close && j > 0 && !unicode.IsSpace(prev) {
			after, _ := utf8.DecodeRuneInString(s[start+j+utf8.RuneLen(r):])
			if start+j+utf8.RuneLen(r) == len(s) || isBoundary(after) {
				return j
			}
		}
		prev = r
	}
	return 0
}

// isBoundary reports whether r may stand next to a quotation mark that
// opens or closes a quotation: white space or punctuation, not a letter or
// digit.
func isBoundary(r rune) bool {
	return unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r)
}

func marker(raw string) token {
	t := token{kind: tokMarker, raw: raw}
	for _, f := range strings.FieldsFunc(raw, func(r rune) bool { return r < '0' || r > '9' }) {
		n, _ := strconv.Atoi(f)
		t.nums = append(t.nums, n)
	}
	return t
}

// followingMarker returns the marker token right after toks[i], allowing
// only white space and punctuation between them; nil if there is none.
func followingMarker(toks []token, i int) *token {
	for j := i + 1; j < len(toks); j++ {
		switch t := &toks[j]; t.kind {
		case tokMarker:
			return t
		case tokText:
			if strings.TrimFunc(t.raw, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) }) != "" || len(t.raw) > 3 {
				return nil
			}
		default:
			return nil
		}
	}
	return nil
}
