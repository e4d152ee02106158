package corpus

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ledongthuc/pdf"
)

// pdf loads a PDF file as one article: its text layer read page by page
// with github.com/ledongthuc/pdf, glyphs grouped into lines by position
// and lines into paragraphs by the vertical gaps between them. Each
// paragraph records its page (Paragraph.Page, OnPage), so citations can
// say "p. 4 ¶2". A PDF without a text layer (a scan) is skipped with a
// reason; so is an encrypted or damaged one.
func (l *loader) pdf(name string) error {
	data, err := l.readBytes(name)
	if err != nil {
		l.skip(name, err.Error())
		return nil
	}
	a, paras, pages, reason := parsePDF(data)
	if reason != "" {
		l.skip(name, reason)
		return nil
	}
	if !l.article(name, &a, paras) {
		return nil
	}
	for i := range a.Paragraphs {
		p := &a.Paragraphs[i]
		p.Page, p.OnPage = pages[p.N-1].page, pages[p.N-1].n
	}
	l.add(a)
	return nil
}

// readBytes returns the contents of a binary file, checked for size.
func (l *loader) readBytes(name string) ([]byte, error) {
	f, err := l.fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if info, err := f.Stat(); err == nil && info.Size() > l.max {
		return nil, fmt.Errorf("%d bytes, over the %d-byte limit", info.Size(), l.max)
	}
	data, err := io.ReadAll(io.LimitReader(f, l.max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > l.max {
		return nil, fmt.Errorf("over the %d-byte limit", l.max)
	}
	return data, nil
}

// pagePos is where a paragraph of a PDF is: its page and its position
// among that page's paragraphs, both from 1.
type pagePos struct{ page, n int }

// parsePDF returns the PDF's metadata, paragraphs and their pages, or
// the reason it cannot be read.
func parsePDF(data []byte) (a Article, paras []string, pages []pagePos, reason string) {
	defer func() {
		if r := recover(); r != nil { // the reader panics on some damaged files
			reason = fmt.Sprintf("unreadable PDF (%v)", r)
		}
	}()
	r, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return a, nil, nil, "unreadable PDF (" + err.Error() + ")"
	}
	info := r.Trailer().Key("Info")
	a.Title = cleanPDFText(info.Key("Title").Text())
	a.Author = cleanPDFText(info.Key("Author").Text())
	a.Published = pdfDate(info.Key("CreationDate").Text())
	n := r.NumPage()
	for i := 1; i <= n; i++ {
		for j, p := range pageParagraphs(r.Page(i)) {
			paras = append(paras, p)
			pages = append(pages, pagePos{page: i, n: j + 1})
		}
	}
	if len(paras) == 0 {
		return a, nil, nil, fmt.Sprintf("no text layer on any of its %d pages (a scanned PDF? run OCR on it first)", n)
	}
	return a, paras, pages, ""
}

// cleanPDFText drops control characters and trims s.
func cleanPDFText(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// pdfDate parses a PDF date, D:YYYYMMDDHHmmSS and an optional offset;
// zero when it cannot.
func pdfDate(s string) time.Time {
	s = strings.TrimPrefix(strings.TrimSpace(s), "D:")
	s = strings.ReplaceAll(s, "'", "")
	for _, layout := range []string{"20060102150405-0700", "20060102150405Z", "20060102150405", "200601021504", "20060102"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	if len(s) >= 14 {
		if t, err := time.Parse("20060102150405", s[:14]); err == nil {
			return t
		}
	}
	return time.Time{}
}

// pdfLine is one line of text on a page.
type pdfLine struct {
	y, size    float64 // baseline and font size
	x0, x1     float64 // horizontal extent
	text       strings.Builder
	lastX      float64 // where the last glyph ended
	lastSpaced bool    // the text ends in a space
}

// pageParagraphs reads the text of one page as paragraphs.
func pageParagraphs(p pdf.Page) []string {
	if p.V.IsNull() {
		return nil
	}
	return paragraphsOf(linesOf(p.Content().Text))
}

// linesOf groups glyphs, in the order the page draws them, into lines: a
// glyph whose baseline moves by more than half its size starts a new
// line, and a gap wider than a fifth of the font size is a space.
func linesOf(glyphs []pdf.Text) []*pdfLine {
	var lines []*pdfLine
	var cur *pdfLine
	for _, g := range glyphs {
		if g.S == "" {
			continue
		}
		size := math.Max(g.FontSize, 1)
		if cur == nil || math.Abs(g.Y-cur.y) > size/2 || g.X < cur.lastX-size*3 {
			cur = &pdfLine{y: g.Y, size: size, x0: g.X, lastX: g.X}
			lines = append(lines, cur)
		} else if g.X-cur.lastX > size/5 && !cur.lastSpaced && g.S != " " {
			cur.text.WriteByte(' ')
		}
		cur.text.WriteString(g.S)
		cur.lastSpaced = strings.HasSuffix(g.S, " ")
		cur.lastX = g.X + g.W
		cur.x1 = math.Max(cur.x1, cur.lastX)
		cur.x0 = math.Min(cur.x0, g.X)
	}
	return lines
}

// paragraphsOf joins lines into paragraphs. A new paragraph starts after a
// vertical gap clearly wider than the page's usual line spacing, or after
// a line that ends a sentence well short of the right margin. A word
// hyphenated across lines is joined.
func paragraphsOf(lines []*pdfLine) []string {
	var gaps []float64
	right := 0.0
	for i, ln := range lines {
		right = math.Max(right, ln.x1)
		if i > 0 {
			if d := lines[i-1].y - ln.y; d > 0 {
				gaps = append(gaps, d)
			}
		}
	}
	usual := 0.0
	if len(gaps) > 0 {
		sort.Float64s(gaps)
		usual = gaps[len(gaps)/2]
	}
	var out []string
	var b strings.Builder
	flush := func() {
		if s := strings.Join(strings.Fields(b.String()), " "); s != "" {
			out = append(out, s)
		}
		b.Reset()
	}
	for i, ln := range lines {
		text := strings.TrimSpace(ln.text.String())
		if text == "" {
			continue
		}
		if i > 0 && b.Len() > 0 {
			prev := lines[i-1]
			gap := prev.y - ln.y
			ended := strings.ContainsAny(lastRune(strings.TrimSpace(prev.text.String())), ".!?:\"”’)")
			short := right > 0 && prev.x1 < right-6*prev.size
			switch {
			case gap > usual*1.4 && usual > 0, gap < 0, ended && short:
				flush()
			case strings.HasSuffix(b.String(), "-") && startsLower(text):
				s := strings.TrimSuffix(b.String(), "-")
				b.Reset()
				b.WriteString(s)
			default:
				b.WriteByte(' ')
			}
		}
		b.WriteString(text)
	}
	flush()
	return out
}

func lastRune(s string) string {
	r, _ := utf8.DecodeLastRuneInString(s)
	return string(r)
}

func startsLower(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsLower(r)
}
