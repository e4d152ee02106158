// Package evaldata locates the evaluation data that lives beside the
// repository, in ../shared/eval (SQuAD, BBC, Reuters, seed questions), for
// tests and benchmarks. It is never copied into the repository; where it is
// absent the caller is skipped with a message, so the project still builds
// and tests anywhere.
package evaldata

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the evaluation data folder, or skips tb when there is none.
func Dir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Skip("repository root (go.mod) not found: skipping")
		}
		dir = parent
	}
	eval := filepath.Join(filepath.Dir(dir), "shared", "eval")
	if _, err := os.Stat(eval); err != nil {
		tb.Skipf("evaluation data not found (%v): skipping", err)
	}
	return eval
}

// Path returns the file name (slash-separated, e.g.
// "squad-dev/articles.jsonl") under Dir, or skips tb when it is absent.
func Path(tb testing.TB, name string) string {
	tb.Helper()
	path := filepath.Join(Dir(tb), filepath.FromSlash(name))
	if _, err := os.Stat(path); err != nil {
		tb.Skipf("evaluation data not found (%v): skipping", err)
	}
	return path
}
