package corpus

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
)

// TestImportKeepsTheURLOfAPDF checks that a PDF imported from a link keeps
// its URL in a URL file (credentials left out), which Load gives the
// article, and that a page, which carries its canonical link, gets none.
func TestImportKeepsTheURLOfAPDF(t *testing.T) {
	dir := t.TempDir()
	pdf := makePDF(t, "Harbour Board Report", []string{"The quay was resurfaced during the winter months at a cost of two hundred thousand pounds."})
	imp, err := Import(context.Background(), dir, "harbour.pdf", pdf, Options{SourceURL: "https://user:secret@example.com/reports/harbour.pdf#page=2"})
	if err != nil {
		t.Fatal(err)
	}
	if got := imp.Corpus.Articles[0].URL; got != "https://example.com/reports/harbour.pdf" {
		t.Errorf("imported article URL %q", got)
	}
	page := []byte("<html><head><title>Quay</title></head><body><p>The quay was resurfaced during the winter months at great cost to the town.</p></body></html>")
	if _, err := Import(context.Background(), dir, "quay.html", page, Options{SourceURL: "https://example.com/quay"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "quay.html"+URLFileExt)); !os.IsNotExist(err) {
		t.Errorf("a page got a URL file: %v", err)
	}
	c, err := LoadDir(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Articles) != 2 || len(c.Skipped) != 0 {
		t.Fatalf("loaded %d articles, skipped %v; want 2 and nothing skipped (the URL file is no article)", len(c.Articles), c.Skipped)
	}
	for _, a := range c.Articles {
		if a.Title == "Harbour Board Report" && a.URL != "https://example.com/reports/harbour.pdf" {
			t.Errorf("loaded PDF URL %q", a.URL)
		}
	}
}

func TestURLFile(t *testing.T) {
	body := "A plain text article that is long enough to be kept as a paragraph.\n"
	fsys := fstest.MapFS{
		"a.txt":     {Data: []byte("A\n\n" + body)},
		"a.txt.url": {Data: []byte("https://example.com/a\nignored\n")},
		"b.txt":     {Data: []byte("B\n\n" + body)},
		"b.txt.url": {Data: []byte("javascript:alert(1)\n")},
	}
	c, err := Load(context.Background(), fsys, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range c.Articles {
		want := map[string]string{"A": "https://example.com/a", "B": ""}[a.Title]
		if a.URL != want {
			t.Errorf("%s: URL %q, want %q", a.Title, a.URL, want)
		}
	}
}
