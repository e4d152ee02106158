package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/verbatim-bot/verbatim/corpus/pdffake"
)

func TestAddPDFCitesPages(t *testing.T) {
	data, err := pdffake.Make(pdffake.Meta{Title: "Harbour Board Report", Author: "Ada Reporter", Created: time.Date(2026, 3, 4, 10, 30, 0, 0, time.UTC)},
		[]string{"The quay was resurfaced during the winter months at a cost of two hundred thousand pounds."},
		[]string{"The board thanked the volunteers who repainted the lifeboat station.",
			"Fishing boats will return to the inner basin in April once the dredging of the channel is finished."},
	)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "Harbour Report.pdf")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	offline(t)
	t.Setenv("DATA_DIR", t.TempDir())
	t.Setenv("ARTICLES_DIR", t.TempDir())
	verbatim := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := run(context.Background(), args, &out, &errb)
		return code, out.String(), errb.String()
	}
	if code, out, stderr := verbatim("add", file); code != 0 || !strings.Contains(out, "added: Harbour Board Report (harbour-report)") {
		t.Fatalf("add PDF: exit %d: %s%s", code, out, stderr)
	}
	code, out, stderr := verbatim("ask", "When will the fishing boats return to the inner basin?")
	if code != 0 || !strings.Contains(out, "Fishing boats will return to the inner basin in April") || !strings.Contains(out, "Harbour Board Report — p. 2 ¶2") {
		t.Errorf("ask: exit %d:\n%s%s", code, out, stderr)
	}
	code, out, stderr = verbatim("articles", "--by-date")
	if code != 0 || !strings.Contains(out, "Harbour Board Report — 2026-03-04 · Ada Reporter") || !strings.Contains(out, "newest: 2026-03-04, ") {
		t.Errorf("articles --by-date: exit %d:\n%s%s", code, out, stderr)
	}
}
