package corpus

import (
	"path"
	"strings"
)

// format is one kind of article file Load reads. A new format is one entry
// in formats and one parser.
type format struct {
	ext string // file extension, lower case
	// parse reads the one article of a file: its metadata and its
	// paragraphs' text.
	parse func(data string) (Article, []string, error)
	// load reads a file that holds several articles (set instead of
	// parse); it returns only a context error.
	load func(l *loader, name string) error
	// notes is set for formats whose README files are a folder's notes,
	// not articles.
	notes bool
}

// formats are the article formats, by extension.
func formats() []format {
	text := func(s string) (Article, []string, error) {
		a, paras := parseText(s)
		return a, paras, nil
	}
	return []format{
		{ext: ".txt", parse: text, notes: true},
		{ext: ".md", parse: parseMarkdown, notes: true},
		{ext: ".html", parse: parseHTML},
		{ext: ".htm", parse: parseHTML},
		{ext: ".jsonl", load: (*loader).jsonl},
		{ext: ".pdf", load: (*loader).pdf},
	}
}

// formatOf returns the format Load reads name in, or nil when it reads
// no such file (another extension, or a README).
func formatOf(name string) *format {
	ext := strings.ToLower(path.Ext(name))
	for _, f := range formats() {
		if f.ext != ext {
			continue
		}
		if f.notes && strings.EqualFold(strings.TrimSuffix(path.Base(name), path.Ext(name)), "readme") {
			return nil
		}
		return &f
	}
	return nil
}

// supported reports whether Load reads the file name.
func supported(name string) bool { return formatOf(name) != nil }

// extensions lists the extensions Load reads, for messages: ".txt, .md,
// .html, .htm or .jsonl".
func extensions() string {
	fs := formats()
	exts := make([]string, len(fs))
	for i, f := range fs {
		exts[i] = f.ext
	}
	return strings.Join(exts[:len(exts)-1], ", ") + " or " + exts[len(exts)-1]
}
