//go:build unix

package corpus

import (
	"context"
	"errors"
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

// TestLoadSkipsLinksOutside checks that a symbolic link in the folder that
// leads outside it is skipped with a reason, while one inside is read.
func TestLoadSkipsLinksOutside(t *testing.T) {
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret.txt")
	if err := os.WriteFile(secret, []byte("Secret\n\nA paragraph from outside the articles folder.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	inside := filepath.Join(dir, "a.txt")
	if err := os.WriteFile(inside, []byte("A title\n\nA paragraph long enough to be kept as one.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(dir, "out.txt")); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	if err := os.Symlink(inside, filepath.Join(dir, "in.txt")); err != nil {
		t.Fatal(err)
	}
	c, err := LoadDir(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Articles) != 2 || len(c.Skipped) != 1 || c.Skipped[0].Source != "out.txt" || !strings.Contains(c.Skipped[0].Reason, "outside the articles folder") {
		t.Errorf("articles %d, skipped %+v", len(c.Articles), c.Skipped)
	}
}

// TestLoadFollowExternalLinks checks that with FollowExternalLinks a link
// outside the folder is read, while one into /proc is still skipped.
func TestLoadFollowExternalLinks(t *testing.T) {
	outside := t.TempDir()
	secret := filepath.Join(outside, "other.txt")
	if err := os.WriteFile(secret, []byte("Other\n\nA paragraph from outside the articles folder.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Symlink(secret, filepath.Join(dir, "out.txt")); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	if err := os.Symlink("/proc/self/environ", filepath.Join(dir, "environ.txt")); err != nil {
		t.Fatal(err)
	}
	for _, follow := range []bool{false, true} {
		c, err := LoadDir(context.Background(), dir, Options{FollowExternalLinks: follow})
		switch {
		case !follow:
			if !errors.Is(err, ErrNoArticles) || !strings.Contains(err.Error(), "outside the articles folder") {
				t.Errorf("not following: err %v, want ErrNoArticles naming the link", err)
			}
		case err != nil:
			t.Fatal(err)
		case len(c.Articles) != 1 || c.Articles[0].Title != "Other" || len(c.Skipped) != 1 || c.Skipped[0].Source != "environ.txt" || !strings.Contains(c.Skipped[0].Reason, "system file"):
			t.Errorf("following: articles %+v, skipped %+v", c.Articles, c.Skipped)
		}
	}
}
