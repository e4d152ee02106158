package corpus

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
)

// paragraphs returns a .txt article of n paragraphs of about 50 bytes.
func paragraphs(title string, n int) string {
	var b strings.Builder
	b.WriteString(title + "\n")
	for i := range n {
		fmt.Fprintf(&b, "\nParagraph number %d of this article, long enough.\n", i+1)
	}
	return b.String()
}

// TestLoadLimits checks that an article that would take the corpus over a
// limit is left out with a reason naming the limit, that loading stops
// there (later files are listed, not read), and that an article over the
// per-article limit keeps its first paragraphs.
func TestLoadLimits(t *testing.T) {
	fsys := fstest.MapFS{
		"a.txt":   {Data: []byte(paragraphs("A", 4))},
		"b.txt":   {Data: []byte(paragraphs("B", 4))},
		"c.txt":   {Data: []byte(paragraphs("C", 4))},
		"d.jsonl": {Data: []byte(`{"id":"d","paragraphs":["A paragraph long enough to be kept on its own."]}` + "\n")},
	}
	tests := []struct {
		name     string
		opts     Options
		articles []string // IDs loaded
		paras    int
		leftOut  []string // Source: reason fragment
	}{
		{"defaults", Options{}, []string{"a", "b", "c", "d"}, 13, nil},
		{"paragraphs", Options{MaxParagraphs: 9}, []string{"a", "b"}, 8,
			[]string{"c.txt: over its limit of 9 paragraphs", "d.jsonl: not read"}},
		{"bytes", Options{MaxCorpusBytes: 300}, []string{"a"}, 4,
			[]string{"b.txt: over its limit of 300 bytes", "c.txt: not read", "d.jsonl: not read"}},
		{"per article", Options{MaxArticleParagraphs: 3}, []string{"a", "b", "c", "d"}, 10,
			[]string{"a.txt: from ¶4 on: over the limit of 3 paragraphs an article", "b.txt: from ¶4", "c.txt: from ¶4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(context.Background(), fsys, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, a := range c.Articles {
				ids = append(ids, a.ID)
			}
			if strings.Join(ids, " ") != strings.Join(tt.articles, " ") || c.Paragraphs() != tt.paras {
				t.Errorf("articles %v with %d paragraphs, want %v with %d", ids, c.Paragraphs(), tt.articles, tt.paras)
			}
			if len(c.LeftOut) != len(tt.leftOut) {
				t.Fatalf("left out %+v, want %d entries", c.LeftOut, len(tt.leftOut))
			}
			for i, want := range tt.leftOut {
				src, reason, _ := strings.Cut(want, ": ")
				if got := c.LeftOut[i]; got.Source != src || !strings.Contains(got.Reason, reason) {
					t.Errorf("left out %d = %+v, want %s with %q", i, got, src, reason)
				}
			}
		})
	}
}

// TestLoadLimitsJSONL checks that a .jsonl set stops at the line that
// crosses the paragraph limit and reports where the rest starts.
func TestLoadLimitsJSONL(t *testing.T) {
	var b strings.Builder
	for i := range 10 {
		fmt.Fprintf(&b, `{"id":"a%d","paragraphs":["First paragraph long enough to keep.","Second paragraph long enough to keep."]}`+"\n", i)
	}
	c, err := Load(context.Background(), fstest.MapFS{"set.jsonl": {Data: []byte(b.String())}}, Options{MaxParagraphs: 7})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Articles) != 3 || c.Paragraphs() != 6 {
		t.Errorf("%d articles, %d paragraphs; want 3, 6", len(c.Articles), c.Paragraphs())
	}
	want := []string{"set.jsonl:4", "set.jsonl:5 on"}
	if len(c.LeftOut) != 2 || c.LeftOut[0].Source != want[0] || c.LeftOut[1].Source != want[1] {
		t.Errorf("left out %+v, want sources %v", c.LeftOut, want)
	}
}

// TestLoadCancelledMidway checks that a load whose context ends while it
// reads files stops with the context's error instead of reading on.
func TestLoadCancelledMidway(t *testing.T) {
	fsys := fstest.MapFS{}
	for i := range 50 {
		fsys[fmt.Sprintf("a%02d.txt", i)] = &fstest.MapFile{Data: []byte(paragraphs("A", 2))}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cf := &cancellingFS{FS: fsys, after: 5, cancel: cancel}
	_, err := Load(ctx, cf, Options{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if cf.opened > 6 {
		t.Errorf("%d files opened after the cancel at the 5th", cf.opened)
	}
}

// cancellingFS cancels a context when its after'th file is opened.
type cancellingFS struct {
	fs.FS
	after, opened int
	cancel        context.CancelFunc
}

func (c *cancellingFS) Open(name string) (fs.File, error) {
	if strings.HasSuffix(name, ".txt") {
		c.opened++
		if c.opened == c.after {
			c.cancel()
		}
	}
	return c.FS.Open(name)
}
