package retrieval

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/verbatim-bot/verbatim/corpus"
)

// manyParas is one article of n distinct paragraphs.
func manyParas(n int) *corpus.Corpus {
	paras := make([]string, n)
	for i := range paras {
		paras[i] = fmt.Sprintf("Paragraph %d tells of item%d and thing%d.", i, i, i*7)
	}
	return testCorpus(testArticle{"many", "Many", paras})
}

// stopAfter embeds like its countingEmbedder until limit texts are done;
// after that every call fails with errEmbedderDown, or, with hang set,
// waits until its context is done.
type stopAfter struct {
	*countingEmbedder
	limit int
	hang  bool

	mu   sync.Mutex
	done int
}

func (s *stopAfter) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	s.mu.Lock()
	over := s.done+len(texts) > s.limit
	if !over {
		s.done += len(texts)
	}
	s.mu.Unlock()
	if over && s.hang {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if over {
		return nil, errEmbedderDown
	}
	return s.countingEmbedder.Embed(ctx, texts)
}

// TestFailedFirstBuildResumes checks that a first build whose embedder
// fails part way keeps what was embedded: the next process embeds only
// the texts that were missing.
func TestFailedFirstBuildResumes(t *testing.T) {
	dir := t.TempDir()
	c := manyParas(3000)
	first := &stopAfter{countingEmbedder: newCounting("fake"), limit: 5 * embedBatch}
	ix, err := Open(context.Background(), Config{Embedder: first, Dir: dir, EmbedConcurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Load(context.Background(), c, nil); !errors.Is(err, errEmbedderDown) {
		t.Fatalf("first build: err %v, want the embedder's failure", err)
	}
	before := first.embedded()

	second := newCounting("fake")
	ix = mustOpen(t, Config{Embedder: second, Dir: dir, EmbedConcurrency: 1}, nil)
	stats, err := ix.Load(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Cached != len(before) || stats.Embedded != 3000-len(before) || len(second.embedded()) != 3000-len(before) {
		t.Errorf("resumed build: %d cached, %d embedded (%d texts sent); want %d cached and the other %d embedded",
			stats.Cached, stats.Embedded, len(second.embedded()), len(before), 3000-len(before))
	}
	seen := make(map[string]bool)
	for _, s := range before {
		seen[s] = true
	}
	for _, s := range second.embedded() {
		if seen[s] {
			t.Fatalf("%q embedded twice", s)
		}
	}
	if _, err := os.Stat(journalPath(cachePath(dir, passageCacheDir, "fake"))); !os.IsNotExist(err) {
		t.Errorf("checkpoint still there after the cache was written: %v", err)
	}
}

// TestKilledFirstBuildResumes kills (SIGKILL) a process during a first
// build, once its checkpoint holds vectors, and checks that the next build
// takes every checkpointed vector and embeds only the rest.
func TestKilledFirstBuildResumes(t *testing.T) {
	if dir := os.Getenv("VERBATIM_TEST_BUILD_DIR"); dir != "" {
		buildUntilKilled(dir)
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledFirstBuildResumes$")
	cmd.Env = append(os.Environ(), "VERBATIM_TEST_BUILD_DIR="+dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	journal := journalPath(cachePath(dir, passageCacheDir, "fake"))
	record := int64(32 + 4*64 + 4)
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		if info, err := os.Stat(journal); err == nil && info.Size() >= checkpointTexts*record {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("no checkpoint written within a minute")
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	emb := newCounting("fake")
	ix := mustOpen(t, Config{Embedder: emb, Dir: dir}, nil)
	stats, err := ix.Load(context.Background(), manyParas(3000), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("after the kill: %d cached, %d embedded", stats.Cached, stats.Embedded)
	if stats.Cached < checkpointTexts || stats.Cached+stats.Embedded != 3000 || len(emb.embedded()) != stats.Embedded {
		t.Errorf("after the kill: %d cached, %d embedded, %d texts sent; want at least %d cached and only the rest embedded",
			stats.Cached, stats.Embedded, len(emb.embedded()), checkpointTexts)
	}
}

// buildUntilKilled is the process TestKilledFirstBuildResumes kills: a
// first build whose embedder hangs after 9 batches.
func buildUntilKilled(dir string) {
	emb := &stopAfter{countingEmbedder: newCounting("fake"), limit: 9 * embedBatch, hang: true}
	ix, err := Open(context.Background(), Config{Embedder: emb, Dir: dir, EmbedConcurrency: 1})
	if err != nil {
		os.Exit(2)
	}
	// The load hangs until the test kills the process; the timeout only
	// ends a process whose test died first.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, _ = ix.Load(ctx, manyParas(3000), nil)
	os.Exit(3)
}

// TestJournalTornRecord checks that replay stops at a record cut short by
// a crash and keeps the ones before it.
func TestJournalTornRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.journal")
	c := newVectorCache("m")
	c.dims = 4
	j := newJournal(path, "m")
	for i := range 3 {
		k := contentKey{byte(i + 1)}
		c.vecs[k] = []float32{1, 0, 0, float32(i)}
		j.add(k)
	}
	if err := j.checkpoint(c); err != nil {
		t.Fatal(err)
	}
	j.close()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(make([]byte, 20)) // half a record
	f.Close()
	got := newVectorCache("m")
	keys, err := replayJournal(path, got)
	if err != nil || len(keys) != 3 || got.vecs[contentKey{3}][3] != 2 {
		t.Errorf("replay: %d keys, err %v, vectors %v", len(keys), err, got.vecs)
	}
	if keys, err := replayJournal(path, newVectorCache("other")); err == nil || len(keys) != 0 {
		t.Errorf("replay into another model: %d keys, err %v", len(keys), err)
	}
}

// TestOpenRemovesStaleTemps checks that Open deletes the temporary files a
// killed write left in DATA_DIR, and not one being written.
func TestOpenRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	emb, sents := filepath.Join(dir, passageCacheDir), filepath.Join(dir, sentenceCacheDir)
	for _, d := range []string{emb, sents} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	stale := []string{filepath.Join(emb, ".fake.bin.123.tmp"), filepath.Join(sents, ".enc.bin.7.tmp"), filepath.Join(dir, ".paragraphs.tsv.9.tmp")}
	fresh := filepath.Join(emb, ".fake.bin.456.tmp")
	old := time.Now().Add(-2 * staleAfter)
	for _, p := range append(stale, fresh) {
		if err := os.WriteFile(p, []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range stale {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	mustOpen(t, Config{Embedder: newCounting("fake"), Dir: dir}, threeParas("The second paragraph."))
	for _, p := range stale {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s not removed: %v", p, err)
		}
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a temporary file still being written was removed: %v", err)
	}
}

// TestJournalReplacedOnlyWhenSynced checks that a new journal replaces the
// one replayed at Open only once its first checkpoint, which holds the
// replayed vectors again, is synced: a crash before then loses nothing.
func TestJournalReplacedOnlyWhenSynced(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.journal")
	c := newVectorCache("m")
	c.dims = 2
	k1, k2 := contentKey{1}, contentKey{2}
	c.vecs[k1], c.vecs[k2] = []float32{1, 0}, []float32{0, 1}

	old := newJournal(path, "m")
	old.add(k1)
	if err := old.checkpoint(c); err != nil {
		t.Fatal(err)
	}
	old.close()

	replayed := newVectorCache("m")
	keys, err := replayJournal(path, replayed)
	if err != nil || len(keys) != 1 {
		t.Fatalf("replay: %v, %d keys", err, len(keys))
	}
	j := newJournal(path, "m")
	if err := j.create(2); err != nil { // the new file, before its first checkpoint
		t.Fatal(err)
	}
	if keys, err := replayJournal(path, newVectorCache("m")); err != nil || len(keys) != 1 {
		t.Errorf("before the new journal's first checkpoint the old one holds %d vectors (%v), want 1", len(keys), err)
	}
	j.pending = append(keys, k2)
	if err := j.checkpoint(c); err != nil {
		t.Fatal(err)
	}
	j.close()
	if keys, err := replayJournal(path, newVectorCache("m")); err != nil || len(keys) != 2 {
		t.Errorf("after it, the journal holds %d vectors (%v), want 2", len(keys), err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
