//go:build unix

package corpus

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLoadSkipsNamedPipes checks that a named pipe in the folder is
// skipped with a reason instead of blocking the load forever.
func TestLoadSkipsNamedPipes(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("A title\n\nA paragraph long enough to be kept as one.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.txt"), 0o644); err != nil {
		t.Skip("no named pipes here:", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := LoadDir(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Articles) != 1 || len(c.Skipped) != 1 || c.Skipped[0].Source != "pipe.txt" || !strings.Contains(c.Skipped[0].Reason, "not a regular file") {
		t.Errorf("articles %d, skipped %+v", len(c.Articles), c.Skipped)
	}
}
