package main

import (
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/rivo/uniseg"
)

// draft shows, dimmed on a terminal, the answer as the model writes it,
// and erases it before the verified answer is printed in its place.
type draft struct {
	w     io.Writer
	width int    // terminal columns
	shown string // the draft on screen
}

// update shows text, writing only what was added when text extends the
// draft on screen. Control characters are dropped (a tab shows as a
// space): the model's text must not drive the terminal.
func (d *draft) update(text string) {
	text = printable(text)
	if !strings.HasPrefix(text, d.shown) {
		d.clear()
	}
	if add := text[len(d.shown):]; add != "" {
		fmt.Fprint(d.w, "\x1b[2m"+add+"\x1b[0m")
	}
	d.shown = text
}

// clear erases the draft: back to the start of its first row, then clear
// to the end of the screen.
func (d *draft) clear() {
	if d.shown == "" {
		return
	}
	fmt.Fprint(d.w, "\r")
	if up := rows(d.shown, d.width) - 1; up > 0 {
		fmt.Fprintf(d.w, "\x1b[%dA", up)
	}
	fmt.Fprint(d.w, "\x1b[J")
	d.shown = ""
}

// rows is how many terminal rows text takes at width columns.
func rows(text string, width int) int {
	if width <= 0 {
		width = 80
	}
	n := 0
	for line := range strings.SplitSeq(text, "\n") {
		n += max(1, (uniseg.StringWidth(line)+width-1)/width)
	}
	return n
}

// printable returns s without control characters but line feeds, a tab
// turned into a space.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n':
			return r
		case r == '\t':
			return ' '
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
}
