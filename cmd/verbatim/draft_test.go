package main

import (
	"bytes"
	"testing"
)

func TestRows(t *testing.T) {
	tests := []struct {
		text  string
		width int
		want  int
	}{
		{"", 80, 1},
		{"Baku [1].", 80, 1},
		{"0123456789", 10, 1},
		{"0123456789x", 10, 2},
		{"one\ntwo\n", 80, 3},
		{"阿塞拜疆", 4, 2}, // wide characters take two columns
	}
	for _, tt := range tests {
		if got := rows(tt.text, tt.width); got != tt.want {
			t.Errorf("rows(%q, %d) = %d, want %d", tt.text, tt.width, got, tt.want)
		}
	}
}

func TestDraft(t *testing.T) {
	var b bytes.Buffer
	d := &draft{w: &b, width: 10}
	d.update("Baku")
	d.update("Baku is the capital") // extends: only the rest is written
	d.update("Bak")                 // shrinks: erased and redrawn
	d.clear()
	want := "\x1b[2mBaku\x1b[0m" + "\x1b[2m is the capital\x1b[0m" +
		"\r\x1b[1A\x1b[J" + "\x1b[2mBak\x1b[0m" + "\r\x1b[J"
	if got := b.String(); got != want {
		t.Errorf("wrote %q\nwant  %q", got, want)
	}
}

// TestDraftWritesNoControls: a model's draft is shown without the escape
// sequences and control characters it may hold (which could retitle the
// terminal, write its clipboard or move the cursor so that clear erases
// the wrong rows); a tab is shown as a space.
func TestDraftWritesNoControls(t *testing.T) {
	var b bytes.Buffer
	d := &draft{w: &b, width: 80}
	d.update("Baku\x1b]52;c;ZWNobyBoaQ==\x07 is\tthe\r capital\u009b2J\nof Azerbaijan")
	want := "\x1b[2mBaku]52;c;ZWNobyBoaQ== is the capital2J\nof Azerbaijan\x1b[0m"
	if got := b.String(); got != want {
		t.Errorf("wrote %q\nwant  %q", got, want)
	}
}
