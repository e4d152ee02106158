package static

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A charClass is what the tokenizer does with a character of decomposed text.
type charClass byte

const (
	classLetter charClass = 'l' // part of a word
	classDrop   charClass = 'd' // dropped: control, format, nonspacing mark...
	classSpace  charClass = 's' // ends a word
	classPunct  charClass = 'p' // a word of its own
)

// charTable holds runs of code points of one class, sorted by first code
// point; a run lasts until the next one starts.
type charTable struct {
	starts  []rune
	classes []charClass
}

// parseChars reads lines "HEX CLASS" (the first code point of a run, in
// hexadecimal, and its class), in increasing order from U+0080; lines
// starting with '#' are comments.
func parseChars(s string) (charTable, error) {
	var t charTable
	for n, line := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		r, c, err := parseCharLine(line)
		if err == nil && len(t.starts) == 0 && r != utf8.RuneSelf {
			err = fmt.Errorf("first run starts at U+%04X, not U+0080", r)
		}
		if err == nil && len(t.starts) > 0 && r <= t.starts[len(t.starts)-1] {
			err = fmt.Errorf("U+%04X out of order", r)
		}
		if err != nil {
			return charTable{}, fmt.Errorf("chars line %d: %w", n+1, err)
		}
		t.starts = append(t.starts, r)
		t.classes = append(t.classes, c)
	}
	if len(t.starts) == 0 {
		return charTable{}, fmt.Errorf("chars: no runs")
	}
	return t, nil
}

func parseCharLine(line string) (rune, charClass, error) {
	hex, class, ok := strings.Cut(line, " ")
	if !ok || len(class) != 1 || !strings.Contains("ldsp", class) {
		return 0, 0, fmt.Errorf("bad line %q", line)
	}
	v, err := strconv.ParseUint(hex, 16, 32)
	if err != nil || v > utf8.MaxRune {
		return 0, 0, fmt.Errorf("bad code point %q", hex)
	}
	return rune(v), charClass(class[0]), nil
}

// class returns the class of the non-ASCII rune r.
func (t charTable) class(r rune) charClass {
	i, found := slices.BinarySearch(t.starts, r)
	if !found {
		i--
	}
	if i < 0 {
		return classLetter
	}
	return t.classes[i]
}
