package corpus

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// parseText reads a .txt article: the title on the first non-empty line,
// then paragraphs separated by blank lines or, when there is no blank line
// after the title, one per line.
func parseText(s string) (Article, []string) {
	lines := strings.Split(s, "\n")
	for len(lines) > 0 && isBlank(lines[0]) {
		lines = lines[1:]
	}
	if len(lines) == 0 {
		return Article{}, nil
	}
	a := Article{Title: strings.TrimSpace(lines[0])}
	body := lines[1:]
	for len(body) > 0 && isBlank(body[0]) {
		body = body[1:]
	}
	for len(body) > 0 && isBlank(body[len(body)-1]) {
		body = body[:len(body)-1]
	}
	for _, line := range body {
		if isBlank(line) {
			return a, blocks(body, false)
		}
	}
	return a, body
}

// frontMatter is the YAML header a Markdown article may start with.
type frontMatter struct {
	Title     string `yaml:"title"`
	URL       string `yaml:"url"`
	Author    string `yaml:"author"`
	Published string `yaml:"published"`
}

// parseMarkdown reads a .md article: optional front matter, an optional
// leading "# Heading" title line, and blocks separated by blank lines.
func parseMarkdown(s string) (Article, []string, error) {
	var a Article
	if rest, ok := strings.CutPrefix(s, "---\n"); ok {
		header, body, found := cutFrontMatter(rest)
		if !found {
			return a, nil, errors.New("front matter: no closing \"---\" line")
		}
		var fm frontMatter
		if err := yaml.Unmarshal([]byte(header), &fm); err != nil {
			return a, nil, fmt.Errorf("front matter: %w", err)
		}
		a.Title = strings.TrimSpace(fm.Title)
		a.URL = strings.TrimSpace(fm.URL)
		a.Author = strings.TrimSpace(fm.Author)
		if fm.Published != "" {
			t, err := parseDate(fm.Published)
			if err != nil {
				return a, nil, fmt.Errorf("front matter: published: %w", err)
			}
			a.Published = t
		}
		s = body
	}
	paras := blocks(strings.Split(s, "\n"), true)
	if len(paras) > 0 && strings.HasPrefix(paras[0], "# ") {
		if a.Title == "" {
			a.Title = headingText(paras[0])
		}
		paras = paras[1:]
	}
	for i, p := range paras {
		if isHeading(p) {
			paras[i] = headingText(p)
		}
	}
	return a, paras, nil
}

// cutFrontMatter splits the text after the opening "---" line at the
// closing "---" (or "...") line.
func cutFrontMatter(s string) (header, body string, found bool) {
	for i := 0; i <= len(s); {
		end := strings.IndexByte(s[i:], '\n')
		if end < 0 {
			end = len(s)
		} else {
			end += i
		}
		if line := strings.TrimRight(s[i:end], " \t"); line == "---" || line == "..." {
			return s[:i], s[min(end+1, len(s)):], true
		}
		i = end + 1
	}
	return "", "", false
}

// parseDate accepts an RFC 3339 time, a date, or a date and time without
// a zone (read as UTC).
func parseDate(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, time.DateOnly, "2006-01-02T15:04:05", time.DateTime} {
		if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date (2006-01-02) or RFC 3339 time", s)
}

// blocks joins runs of non-blank lines into blocks; with headings set, a
// Markdown ATX heading line is a block of its own.
func blocks(lines []string, headings bool) []string {
	var out []string
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.Join(cur, "\n"))
			cur = cur[:0]
		}
	}
	for _, line := range lines {
		switch {
		case isBlank(line):
			flush()
		case headings && isHeading(line):
			flush()
			out = append(out, line)
		default:
			cur = append(cur, line)
		}
	}
	flush()
	return out
}

// isHeading reports whether line is a Markdown ATX heading: one to six
// '#' then a space.
func isHeading(line string) bool {
	line = strings.TrimLeft(line, " ")
	n := len(line) - len(strings.TrimLeft(line, "#"))
	return n >= 1 && n <= 6 && (len(line) == n || line[n] == ' ' || line[n] == '\t')
}

// headingText strips the '#' markers (leading, and optional closing ones)
// from a heading line.
func headingText(line string) string {
	t := strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(line), "#"))
	if closed := strings.TrimRight(t, "#"); closed != t && (closed == "" || strings.HasSuffix(closed, " ")) {
		t = strings.TrimSpace(closed)
	}
	return t
}

func isBlank(line string) bool { return strings.TrimSpace(line) == "" }
