// Package corpus loads articles from a folder (or the embedded default set),
// splits them into paragraphs and sentences, and matches quotes against their
// text the way Verbatim verifies them: ignoring only letter case, whitespace
// runs, and typographic versus straight quotes, dashes and ellipses.
package corpus

import (
	"fmt"
	"strings"
	"time"
)

// Article is one source document, split into paragraphs.
type Article struct {
	// ID is a slug (see Slug) of the file path without its extension, or
	// of the "id" field (else the title) of a JSONL line, unique within a
	// corpus. When slugs collide, the article loaded first (Load walks in
	// lexical order) keeps the plain slug and each later one gets "-" and
	// 6 hex digits of the SHA-256 of its Source, so an ID does not depend
	// on how many other articles collide. Adding a file can still swap
	// which of two colliding sources keeps the plain slug, so sources
	// should have names that slug differently.
	ID string
	// Title is the article's title: from the file (first line, heading,
	// front matter, page metadata or JSONL field), else the file name
	// or JSONL id.
	Title     string
	URL       string    // canonical link, "" when unknown
	Author    string    // "" when unknown
	Published time.Time // zero when unknown
	// Source names where the article came from: a path relative to the
	// corpus root, with ":N" appended for line N of a JSONL file.
	Source     string
	Paragraphs []Paragraph
	// Fragments counts the source's paragraphs too short to stand alone,
	// which are not indexed.
	Fragments int
}

// Collection is the sub-folder of the corpus root the article was loaded
// from (the first element of Source's path), "" for an article at the
// root. A collection is what a channel may be limited to.
func (a *Article) Collection() string {
	dir, _, ok := strings.Cut(a.Source, "/")
	if !ok {
		return ""
	}
	return dir
}

// Paragraph is one passage of an article: the unit that is embedded,
// retrieved and cited.
type Paragraph struct {
	// ID is ArticleID + "#" + N, stable across reloads while the article
	// keeps its ID and the paragraph its position.
	ID        string
	ArticleID string
	// N is the 1-based position among the article's source paragraphs.
	// Fragments too short to stand alone are skipped without renumbering,
	// so N always points at the same place in the source.
	N    int
	Text string
	// Hash is the hex SHA-256 of Text: the key of the embedding cache.
	Hash string
	// Page is the 1-based page of a PDF the paragraph is on and OnPage
	// its position among that page's paragraphs; both 0 for other formats.
	Page, OnPage int
}

// Cite is how a citation names the paragraph's place: "p. 4 ¶2" in a PDF,
// else "¶7".
func (p Paragraph) Cite() string {
	if p.Page > 0 {
		return fmt.Sprintf("p. %d ¶%d", p.Page, p.OnPage)
	}
	return fmt.Sprintf("¶%d", p.N)
}

// Span is a half-open byte range [Start, End) of a paragraph's Text.
type Span struct{ Start, End int }

// Corpus is the result of a load: the articles read, the files skipped,
// and what the corpus limits left out.
type Corpus struct {
	Articles []Article
	Skipped  []Skipped
	// LeftOut lists what was not loaded because of a corpus limit (see
	// Options): articles cut short, the article that would have crossed a
	// corpus limit, and every file after it. A corpus with LeftOut is
	// incomplete.
	LeftOut []Skipped
}

// Len returns the number of paragraphs in c's articles.
func (c *Corpus) Len() int {
	n := 0
	for _, a := range c.Articles {
		n += len(a.Paragraphs)
	}
	return n
}

// Skipped records a file (or JSONL line) that was not loaded, and why.
type Skipped struct {
	// Source names the file or line as Article.Source does.
	Source string
	// Reason says why it was skipped, for logs and error messages.
	Reason string
}

// Fragments returns the number of source paragraphs of c's articles that
// were too short to keep.
func (c *Corpus) Fragments() int {
	n := 0
	for _, a := range c.Articles {
		n += a.Fragments
	}
	return n
}

// Paragraphs returns the total number of paragraphs in c.
func (c *Corpus) Paragraphs() int {
	n := 0
	for _, a := range c.Articles {
		n += len(a.Paragraphs)
	}
	return n
}
