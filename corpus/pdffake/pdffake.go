// Package pdffake writes small PDF files for tests, with github.com/go-pdf/fpdf:
// pages of wrapped paragraphs with a text layer, or pages with none, as a
// scan has.
package pdffake

import (
	"bytes"
	"time"

	"github.com/go-pdf/fpdf"
)

// Meta is the document information a PDF carries.
type Meta struct {
	Title, Author string
	Created       time.Time
}

// Make returns a PDF whose pages hold the given paragraphs, each set as
// wrapped lines of 12-point Helvetica with a blank line after it. A page
// with no paragraphs gets only a filled rectangle: no text layer.
func Make(m Meta, pages ...[]string) ([]byte, error) {
	f := fpdf.New("P", "mm", "A4", "")
	f.SetTitle(m.Title, true)
	f.SetAuthor(m.Author, true)
	if !m.Created.IsZero() {
		f.SetCreationDate(m.Created)
	}
	f.SetFont("Helvetica", "", 12)
	for _, paras := range pages {
		f.AddPage()
		if len(paras) == 0 {
			f.Rect(20, 20, 100, 150, "F")
			continue
		}
		for _, p := range paras {
			f.MultiCell(120, 6, p, "", "L", false)
			f.Ln(6)
		}
	}
	var b bytes.Buffer
	if err := f.Output(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
