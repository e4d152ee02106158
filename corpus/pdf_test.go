package corpus

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/verbatim-bot/verbatim/corpus/pdffake"
)

func makePDF(t *testing.T, title string, pages ...[]string) []byte {
	t.Helper()
	data, err := pdffake.Make(pdffake.Meta{Title: title, Author: "Ada Reporter", Created: time.Date(2026, 3, 4, 10, 30, 0, 0, time.UTC)}, pages...)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestLoadPDF(t *testing.T) {
	t.Parallel()
	long := "The harbour board met on Tuesday evening to discuss the state of the eastern breakwater, " +
		"which was damaged in the January storms and has since been closed to walkers and anglers alike."
	fsys := fstest.MapFS{
		"reports/harbour.pdf": {Data: makePDF(t, "Harbour Board Report",
			[]string{"The quay was resurfaced during the winter months at a cost of two hundred thousand pounds.", long},
			[]string{"Fishing boats will return to the inner basin in April once the dredging is finished.", "The board thanked the volunteers who repainted the lifeboat station."},
		)},
		"scans/scan.pdf":  {Data: makePDF(t, "A Scan", nil, nil)},
		"broken/bad.pdf":  {Data: []byte("%PDF-1.4\nthis is not really a PDF\n")},
		"notes/other.txt": {Data: []byte("Other\n\nA plain text article that is long enough to be kept as a paragraph.\n")},
	}
	c, err := Load(context.Background(), fsys, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got *Article
	for i := range c.Articles {
		if c.Articles[i].ID == "reports-harbour" {
			got = &c.Articles[i]
		}
	}
	if got == nil {
		t.Fatalf("no PDF article in %+v", c)
	}
	if got.Title != "Harbour Board Report" || got.Author != "Ada Reporter" || got.Published.IsZero() {
		t.Errorf("metadata = %q, %q, %v", got.Title, got.Author, got.Published)
	}
	want := []struct {
		cite, text string
	}{
		{"p. 1 ¶1", "The quay was resurfaced during the winter months at a cost of two hundred thousand pounds."},
		{"p. 1 ¶2", long},
		{"p. 2 ¶1", "Fishing boats will return to the inner basin in April once the dredging is finished."},
		{"p. 2 ¶2", "The board thanked the volunteers who repainted the lifeboat station."},
	}
	if len(got.Paragraphs) != len(want) {
		t.Fatalf("paragraphs = %+v", got.Paragraphs)
	}
	for i, w := range want {
		p := got.Paragraphs[i]
		if p.Cite() != w.cite || p.Text != w.text {
			t.Errorf("paragraph %d = %s %q, want %s %q", i, p.Cite(), p.Text, w.cite, w.text)
		}
	}
	reasons := map[string]string{}
	for _, s := range c.Skipped {
		reasons[s.Source] = s.Reason
	}
	if r := reasons["scans/scan.pdf"]; !strings.Contains(r, "no text layer") {
		t.Errorf("scan skipped with %q, want no text layer", r)
	}
	if r := reasons["broken/bad.pdf"]; !strings.Contains(r, "unreadable PDF") {
		t.Errorf("broken PDF skipped with %q", r)
	}
	if (Paragraph{N: 7}).Cite() != "¶7" {
		t.Errorf("Cite of a text paragraph = %q", Paragraph{N: 7}.Cite())
	}
}
