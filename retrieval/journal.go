package retrieval

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// A journal is the checkpoint of an index build: the vectors embedded
// since the cache file was last written, appended and synced every
// checkpointTexts texts or checkpointEvery, so that a crash during a long
// first build loses at most that much work. Open replays it into the cache;
// a successful Load writes the cache and removes it.
//
// The file holds, in little-endian order:
//
//	magic     [8]byte "VBJRNL\x00\x01"
//	dims      uint32
//	modelLen  uint32, then the model name
//	records   { hash [32]byte; vector [dims]float32; crc uint32 }...
//
// each record's CRC-32C covering its hash and vector, so a record torn by a
// crash ends the replay and nothing after it is trusted.
const (
	journalMagic    = "VBJRNL\x00\x01"
	checkpointTexts = 2048
	checkpointEvery = 2 * time.Second
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// journalPath names the journal of the cache file at cache.
func journalPath(cache string) string {
	return strings.TrimSuffix(cache, ".bin") + ".journal"
}

// journal appends checkpoints to one journal file.
type journal struct {
	path    string
	model   string
	f       *os.File // nil until the first checkpoint
	fresh   string   // the new file's temporary name until its first checkpoint is synced
	pending []contentKey
	last    time.Time // of the last checkpoint
}

func newJournal(path, model string) *journal {
	return &journal{path: path, model: model, last: time.Now()}
}

// add notes that k's vector is in the cache but not yet in the journal.
func (j *journal) add(k contentKey) { j.pending = append(j.pending, k) }

// due reports whether a checkpoint should be written now.
func (j *journal) due() bool {
	return len(j.pending) >= checkpointTexts || len(j.pending) > 0 && time.Since(j.last) >= checkpointEvery
}

// checkpoint appends the pending vectors of c to the file and syncs it.
func (j *journal) checkpoint(c *vectorCache) error {
	if len(j.pending) == 0 {
		return nil
	}
	if j.f == nil {
		if err := j.create(c.dims); err != nil {
			return err
		}
	}
	rec := sha256.Size + 4*c.dims
	buf := make([]byte, 0, len(j.pending)*(rec+4))
	for _, k := range j.pending {
		v := c.vecs[k]
		if len(v) != c.dims {
			continue // dropped since, or of another dimension
		}
		start := len(buf)
		buf = append(buf, k[:]...)
		for _, x := range v {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(x))
		}
		buf = binary.LittleEndian.AppendUint32(buf, crc32.Checksum(buf[start:], castagnoli))
	}
	end, err := j.f.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	if _, err := j.f.Write(buf); err != nil {
		// A short write (a full disk) must not leave a torn record
		// before the next checkpoint's: replay stops at the first one.
		if terr := j.f.Truncate(end); terr == nil {
			_, _ = j.f.Seek(end, io.SeekStart)
		}
		return err
	}
	if err := j.f.Sync(); err != nil {
		return err
	}
	if j.fresh != "" { // only now does the new file replace the old one
		if err := os.Rename(j.fresh, j.path); err != nil {
			return err
		}
		syncDir(filepath.Dir(j.path))
		j.fresh = ""
	}
	j.pending, j.last = j.pending[:0], time.Now()
	return nil
}

// create starts a new journal file, which replaces any older one once
// its first checkpoint is synced: the older one's vectors were replayed
// into the cache at Open and are that checkpoint's first records, so a
// crash before then still finds them in the older file. The header is
// written and synced before any record.
func (j *journal) create(dims int) error {
	dir := filepath.Dir(j.path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	j.fresh = filepath.Join(dir, "."+filepath.Base(j.path)+".new.tmp")
	f, err := os.OpenFile(j.fresh, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	hdr := append([]byte(journalMagic), 0, 0, 0, 0, 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(hdr[8:], uint32(dims))
	binary.LittleEndian.PutUint32(hdr[12:], uint32(len(j.model)))
	hdr = append(hdr, j.model...)
	if _, err := f.Write(hdr); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	j.f = f
	return nil
}

// syncDir syncs a directory, so that a rename in it is durable.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// close closes the file, keeping it (a new one that never took a
// checkpoint is deleted: the older one still holds its records).
func (j *journal) close() {
	if j.f != nil {
		j.f.Close()
		j.f = nil
	}
	if j.fresh != "" {
		_ = os.Remove(j.fresh)
		j.fresh = ""
	}
}

// remove closes and deletes the file: the cache file now holds everything
// it did, or it belongs to vectors that were discarded.
func (j *journal) remove() error {
	j.close()
	j.pending = j.pending[:0]
	if err := os.Remove(j.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// replayJournal adds to c the vectors of the journal at path, up to its
// first damaged record, and returns their keys. A journal of another model
// or dimension adds nothing.
func replayJournal(path string, c *vectorCache) ([]contentKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	hdr := make([]byte, 16)
	if _, err := io.ReadFull(r, hdr); err != nil || !bytes.Equal(hdr[:8], []byte(journalMagic)) {
		return nil, errors.New("not a journal file")
	}
	dims, modelLen := int(binary.LittleEndian.Uint32(hdr[8:])), binary.LittleEndian.Uint32(hdr[12:])
	if modelLen > maxModelLen {
		return nil, errors.New("corrupt journal header")
	}
	model := make([]byte, modelLen)
	if _, err := io.ReadFull(r, model); err != nil {
		return nil, fmt.Errorf("journal header: %w", err)
	}
	if string(model) != c.model {
		return nil, fmt.Errorf("journal of model %q, not %q", model, c.model)
	}
	if dims == 0 || c.dims != 0 && c.dims != dims {
		return nil, fmt.Errorf("journal of %d dimensions, cache of %d", dims, c.dims)
	}
	c.dims = dims
	var keys []contentKey
	rec := make([]byte, sha256.Size+4*dims+4)
	for {
		if _, err := io.ReadFull(r, rec); err != nil {
			return keys, nil // the end, or a record cut short by a crash
		}
		body := rec[:len(rec)-4]
		if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(rec[len(rec)-4:]) {
			return keys, nil
		}
		var k contentKey
		copy(k[:], body)
		v := make([]float32, dims)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(body[sha256.Size+4*i:]))
		}
		c.vecs[k] = v
		keys = append(keys, k)
	}
}

// staleAfter is how long a temporary file must have gone unmodified to be
// counted as litter: a writer in progress modifies its file all along.
const staleAfter = time.Minute

// removeStaleTemps deletes the temporary files writeAtomic leaves in dir
// when a process is killed while it writes, and returns how many it did.
func removeStaleTemps(dir string) int {
	n := 0
	for _, d := range []string{dir, filepath.Join(dir, passageCacheDir), filepath.Join(dir, sentenceCacheDir)} {
		matches, _ := filepath.Glob(filepath.Join(d, ".*.tmp"))
		for _, m := range matches {
			if info, err := os.Lstat(m); err == nil && info.Mode().IsRegular() && time.Since(info.ModTime()) >= staleAfter {
				if os.Remove(m) == nil {
					n++
				}
			}
		}
	}
	return n
}
