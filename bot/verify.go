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
// lower and is dropped. TestVerify and TestGenerated pin both sides.
const RepairThreshold = 0.8

// verification is the verified form of a model's reply.
type verification struct {
	body      []Segment
	sources   []Source
	check     Check
	supported bool // at least one quote was verified
}

// verify checks a reply against the passages it was given (numbered 1..n in
// the prompt) and returns what may be shown:
//
//   - every quote, in the quotes list or quoted inline in the answer text
//     (“…”, "…", ‘…’, '…', «…», „…“, 「…」, 『…』, ‹…›, `…`, or TeX's two
//     backticks and two apostrophes, even a single word; see tokenize),
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
//     first citation; a passage that only a quote cites gets a citation at
//     the end of the body; uncited passages are not listed.
func verify(r reply, passages []retrieval.Result) verification {
	v := &verifier{passages: passages}
	stays, moved := v.checkListed(r.Quotes)
	toks := tokenize(r.Text)
	v.checkInline(toks, stays)
	v.resolveMarkers(toks, remapMoved(stays, moved))
	v.holdClaims(toks)
	order, number, tail := v.numbering(toks)
	return verification{
		body:      v.body(toks, tail, number),
		sources:   v.sources(order, number),
		check:     v.tally,
		supported: len(v.shown) > 0,
	}
}

// checkListed verifies the reply's quotes list. It returns the cited
// passages that kept a quote, and for each cited passage the passages its
// quotes were really found in.
func (v *verifier) checkListed(quotes []rawQuote) (stays map[int]bool, moved map[int]map[int]bool) {
	stays = make(map[int]bool)
	moved = make(map[int]map[int]bool)
	for _, q := range quotes {
		cited := q.Source - 1
		loc, how := v.check(q.Text, cited)
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
	return stays, moved
}

// checkInline verifies the inline quotations among toks: a verified one
// shows its source's characters and cites the passage it was found in; an
// unverified one becomes plain text.
func (v *verifier) checkInline(toks []token, stays map[int]bool) {
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
		loc, how := v.check(t.text, cited)
		if how == dropped {
			t.kind, t.raw, t.dropped = tokText, t.text, true // no longer presented as a quotation
			continue
		}
		if how != repaired {
			loc = trimLocated(loc, v.text(loc)) // a repaired quote is a whole sentence
		}
		v.add(loc)
		stays[loc.p] = true
		t.loc = loc
		t.passages = []int{loc.p}
		switch {
		case next == nil:
			t.cite = true
		case loc.p != cited:
			next.nums = append([]int{loc.p + 1}, next.nums[1:]...)
		}
	}
}

// trimLocated narrows loc to the quote without the quotation marks and
// ellipses that trimQuote removes from text, the passage's characters at
// loc.
func trimLocated(loc located, text string) located {
	inner := trimQuote(text)
	if i := strings.Index(text, inner); i >= 0 {
		loc.span = corpus.Span{Start: loc.span.Start + i, End: loc.span.Start + i + len(inner)}
	}
	return loc
}

// remapMoved returns where a marker [n] moves: to the one passage its
// quotes were found in, when none of them stayed in passage n.
func remapMoved(stays map[int]bool, moved map[int]map[int]bool) map[int]int {
	remap := make(map[int]int)
	for from, to := range moved {
		if !stays[from] && len(to) == 1 {
			for p := range to {
				remap[from] = p
			}
		}
	}
	return remap
}

// resolveMarkers turns each marker's numbers into passages, moved by
// remap; numbers of passages that do not exist are removed and counted.
func (v *verifier) resolveMarkers(toks []token, remap map[int]int) {
	for i := range toks {
		t := &toks[i]
		if t.kind != tokMarker {
			continue
		}
		for _, n := range t.nums {
			p := n - 1
			if to, ok := remap[p]; ok {
				p = to
			} else if p < 0 || p >= len(v.passages) {
				v.tally.MarkersRemoved++
				continue
			}
			t.passages = append(t.passages, p)
		}
	}
}

// numbering numbers the cited passages 1..k in order of first citation:
// by markers and uncited inline quotes, then by listed quotes whose
// passage nothing cites (tail, cited at the end of the body).
func (v *verifier) numbering(toks []token) (order []int, number map[int]int, tail []int) {
	number = make(map[int]int)
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
	for _, loc := range v.shown {
		if _, ok := number[loc.p]; !ok {
			cite(loc.p)
			tail = append(tail, loc.p)
		}
	}
	return order, number, tail
}

// body assembles the verified reply as segments.
func (v *verifier) body(toks []token, tail []int, number map[int]int) []Segment {
	var b segments
	for _, t := range toks {
		switch t.kind {
		case tokText:
			b.prose(t.raw)
		case tokQuote:
			b.add(Segment{Kind: InlineQuote, Text: v.text(t.loc), Source: number[t.loc.p], Span: t.loc.span})
			if t.cite {
				b.prose(" ")
				b.cite(t.passages, number)
			}
		case tokMarker:
			if len(t.passages) == 0 {
				b.trimSpaceEnd()
				continue
			}
			b.cite(t.passages, number)
		}
	}
	b.trim()
	if len(tail) > 0 {
		b.prose(" ")
		b.cite(tail, number)
	}
	return b.segs
}

// sources lists the passages in order as Sources with their verified
// quotes.
func (v *verifier) sources(order []int, number map[int]int) []Source {
	var out []Source
	for _, p := range order {
		src := newSource(number[p], v.passages[p])
		for _, loc := range v.shown {
			if loc.p == p {
				src.Quotes = append(src.Quotes, Quote{Text: v.text(loc), Span: loc.span})
			}
		}
		out = append(out, src)
	}
	return out
}

// newSource returns source n for a retrieved passage, with no quotes yet.
func newSource(n int, r retrieval.Result) Source {
	src := Source{N: n, ArticleID: r.Paragraph.ArticleID, Paragraph: r.Paragraph}
	if r.Article != nil {
		src.Title, src.URL = r.Article.Title, r.Article.URL
		src.Author, src.Published = r.Article.Author, r.Article.Published
	}
	return src
}

// segments builds a Body, merging adjacent prose.
type segments struct{ segs []Segment }

func (b *segments) add(s Segment) { b.segs = append(b.segs, s) }

func (b *segments) prose(s string) {
	if s == "" {
		return
	}
	if n := len(b.segs); n > 0 && b.segs[n-1].Kind == Prose {
		b.segs[n-1].Text += s
		return
	}
	b.add(Segment{Kind: Prose, Text: s})
}

// cite adds one citation per passage, in their new numbers, without
// repeats.
func (b *segments) cite(ps []int, number map[int]int) {
	seen := make(map[int]bool)
	for _, p := range ps {
		if !seen[p] {
			seen[p] = true
			b.add(Segment{Kind: Citation, Source: number[p]})
		}
	}
}

// trimSpaceEnd removes white space at the end of the last prose segment
// (before a marker that was removed).
func (b *segments) trimSpaceEnd() {
	if n := len(b.segs); n > 0 && b.segs[n-1].Kind == Prose {
		b.segs[n-1].Text = strings.TrimRightFunc(b.segs[n-1].Text, unicode.IsSpace)
		if b.segs[n-1].Text == "" {
			b.segs = b.segs[:n-1]
		}
	}
}

// trim removes white space at both ends of the body.
func (b *segments) trim() {
	if len(b.segs) > 0 && b.segs[0].Kind == Prose {
		b.segs[0].Text = strings.TrimLeftFunc(b.segs[0].Text, unicode.IsSpace)
		if b.segs[0].Text == "" {
			b.segs = b.segs[1:]
		}
	}
	b.trimSpaceEnd()
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
	tally    Check
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

// check verifies a quote with locate and counts the outcome, unless the
// same words were already checked (a quote given both in the quotes list
// and inline in the text counts once).
func (v *verifier) check(quote string, cited int) (located, how) {
	key := corpus.FoldString(trimQuote(quote))
	if r, ok := v.seen[key]; ok {
		return r.loc, r.how
	}
	loc, h := v.locate(quote, cited)
	if v.seen == nil {
		v.seen = make(map[string]checked)
	}
	v.seen[key] = checked{loc, h}
	v.tally.count(h)
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
		t = strings.Trim(t, "\"“”„«»'‘’「」『』‹›`")
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
	nums     []int   // marker numbers as written
	passages []int   // resolved 0-based passages
	loc      located // a verified quotation's place
	dropped  bool    // text that was a quotation verification could not find
	cite     bool    // a verified quote with no marker after it: add one
}

// markerRe finds a citation marker such as [2], [1, 3] or [1; 2] with the
// white space before it; markerAt matches one at the start of a text.
var (
	markerRe = regexp.MustCompile(`\s*` + markerPattern)
	markerAt = regexp.MustCompile(`^` + markerPattern)
)

const markerPattern = `\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\]`

// doubleClosers returns the marks that close an inline quotation opened by
// the quotation mark open: “…”, "…", «…», „…“ or „…”, the corner brackets
// 「…」 and 『…』 of Chinese and Japanese, ‹…›, and `…`; "" when open does
// not open one. (TeX's two backticks, closed by two apostrophes, are told
// apart in tokenize.)
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
	case '「':
		return "」"
	case '『':
		return "』"
	case '‹':
		return "›"
	case '`':
		return "`"
	}
	return ""
}

// texQuoted returns the length of the quotation in s, which follows an
// opening pair of backticks, up to its closing pair of apostrophes; 0 when
// there is none on the line.
func texQuoted(s string) int {
	line, _, _ := strings.Cut(s, "\n")
	if n := strings.Index(line, "''"); n > 0 {
		return n
	}
	return 0
}

// tokenize splits an answer text into plain text, inline quotations and
// markers. An inline quotation lies within one line, between double marks
// (see doubleClosers), TeX's two backticks and two apostrophes, or single
// ones, ‘…’ or '…' (see singleQuoted, which tells them from apostrophes).
// Markers a model put inside a quotation (“… [1]”) are taken out of it and
// placed after it, where they cite it.
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
		case strings.HasPrefix(s[i:], "``"):
			n := texQuoted(s[i+2:])
			if n == 0 {
				i += 2 // neither mark opens a quotation
				continue
			}
			end, inner = i+2+n+2, s[i+2:i+2+n]
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
