//go:build unix

package discord

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/verbatim-bot/verbatim/bot/discord/discordfake"
	"github.com/verbatim-bot/verbatim/corpus"
	"github.com/verbatim-bot/verbatim/retrieval"
)

// TestReloadWithNamedPipe checks that /reload of a folder holding a named
// pipe completes, reporting the pipe as skipped, and that the next /reload
// runs too: the pipe neither blocks the load nor keeps the reload slot.
func TestReloadWithNamedPipe(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("A title\n\nA paragraph long enough to be kept as one.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.txt"), 0o644); err != nil {
		t.Skip("no named pipes here:", err)
	}
	f := newFake(t, discordfake.Options{})
	ix, a := library(t)
	reload := func(ctx context.Context) (retrieval.Stats, error) {
		c, err := corpus.LoadDir(ctx, dir, corpus.Options{})
		if err != nil {
			return retrieval.Stats{}, err
		}
		return ix.Load(ctx, c, nil)
	}
	h := start(t, f, Config{}, a, ix, reload)
	admin := member(2, 32)
	for range 2 {
		in := h.command(admin, "reload")
		h.callback(in)
		if _, p := h.original(in); !strings.HasPrefix(p.Content, "Reloaded") || !strings.Contains(p.Content, "1 file skipped") {
			t.Errorf("/reload = %q, want it reloaded with the pipe skipped", p.Content)
		}
	}
	if ix.Len() != 1 {
		t.Errorf("%d paragraphs served, want the one of a.txt", ix.Len())
	}
}
