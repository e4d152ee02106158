package corpus

import (
	"errors"
	"strings"

	readability "codeberg.org/readeck/go-readability/v2"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// parseHTML extracts the main text of a page with go-readability, one
// paragraph per innermost block element, with the page's title, byline,
// publication time and canonical URL.
func parseHTML(s string) (Article, []string, error) {
	doc, err := html.Parse(strings.NewReader(s))
	if err != nil {
		return Article{}, nil, err
	}
	a := Article{URL: canonicalURL(doc)}
	parser := readability.NewParser()
	page, err := parser.ParseAndMutate(doc, nil)
	if err != nil {
		return a, nil, err
	}
	if page.Node == nil {
		return a, nil, errors.New("no readable content")
	}
	a.Title = strings.TrimSpace(page.Title())
	a.Author = strings.TrimSpace(page.Byline())
	if t, err := page.PublishedTime(); err == nil {
		a.Published = t
	}
	var paras []string
	collectBlocks(page.Node, &paras)
	// Readability usually removes a headline repeating the title; when it
	// keeps it, it is the title, not a passage.
	if len(paras) > 0 && a.Title != "" {
		if foldString(paras[0]) == foldString(a.Title) {
			paras = paras[1:]
		}
	}
	return a, paras, nil
}

func foldString(s string) string { return fold(s, false).text }

// canonicalURL returns the href of <link rel="canonical">, else the content
// of <meta property="og:url">, else "".
func canonicalURL(doc *html.Node) string {
	var canonical, og string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.DataAtom {
			case atom.Link:
				if canonical == "" && hasToken(attr(n, "rel"), "canonical") {
					canonical = strings.TrimSpace(attr(n, "href"))
				}
			case atom.Meta:
				if og == "" && attr(n, "property") == "og:url" {
					og = strings.TrimSpace(attr(n, "content"))
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if canonical != "" {
		return canonical
	}
	return og
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if strings.EqualFold(a.Key, key) {
			return a.Val
		}
	}
	return ""
}

func hasToken(list, token string) bool {
	for _, f := range strings.Fields(list) {
		if strings.EqualFold(f, token) {
			return true
		}
	}
	return false
}

// isBlock reports whether n is an element whose text is laid out as a
// block of its own.
func isBlock(n *html.Node) bool {
	if n.Type != html.ElementNode {
		return false
	}
	switch n.DataAtom {
	case atom.P, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6,
		atom.Li, atom.Blockquote, atom.Pre, atom.Figcaption, atom.Dd, atom.Dt,
		atom.Td, atom.Th, atom.Div, atom.Section, atom.Article, atom.Main,
		atom.Header, atom.Footer, atom.Aside, atom.Ul, atom.Ol, atom.Dl,
		atom.Table, atom.Tbody, atom.Thead, atom.Tr, atom.Figure, atom.Hr:
		return true
	}
	return false
}

func hasBlock(n *html.Node) bool {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if isBlock(c) || hasBlock(c) {
			return true
		}
	}
	return false
}

// collectBlocks appends the text of n's blocks to paras: an element with
// no block inside is one paragraph; inside any other element, each run of
// inline content between blocks is one.
func collectBlocks(n *html.Node, paras *[]string) {
	if !hasBlock(n) {
		*paras = append(*paras, textOf(n))
		return
	}
	var inline strings.Builder
	flush := func() {
		if text := collapseSpace(inline.String()); text != "" {
			*paras = append(*paras, text)
		}
		inline.Reset()
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if isBlock(c) || hasBlock(c) {
			flush()
			collectBlocks(c, paras)
			continue
		}
		writeText(&inline, c)
	}
	flush()
}

// textOf returns the text of n with HTML white space collapsed, as a
// browser shows it (except inside <pre>).
func textOf(n *html.Node) string {
	var b strings.Builder
	writeText(&b, n)
	if n.DataAtom == atom.Pre {
		return b.String()
	}
	return collapseSpace(b.String())
}

func writeText(b *strings.Builder, n *html.Node) {
	switch {
	case n.Type == html.TextNode:
		b.WriteString(n.Data)
	case n.Type == html.ElementNode && (n.DataAtom == atom.Script || n.DataAtom == atom.Style):
	case n.Type == html.ElementNode && n.DataAtom == atom.Br:
		b.WriteByte('\n')
	default:
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			writeText(b, c)
		}
	}
}

// collapseSpace turns runs of HTML white space (space, tab, LF, FF, CR)
// into one space and trims them; other spaces such as U+00A0 are kept.
func collapseSpace(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\n' || r == '\f' || r == '\r'
	}), " ")
}
