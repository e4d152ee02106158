package retrieval

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// manifest is the layout of the last corpus an Index loaded: paragraph ID
// → the first 8 bytes of its content key. It is kept in Dir so that the
// first Load after a restart reports what changed since the previous run
// (added, changed, removed paragraphs) rather than counting everything as
// added.
type manifest map[string]uint64

// manifestPath is where an Index with a Dir keeps its manifest. It does not
// depend on the embedder: the layout is the corpus's.
func manifestPath(dir string) string { return filepath.Join(dir, "paragraphs.tsv") }

// manifestOf returns the layout of s.
func manifestOf(s *snapshot) manifest {
	m := make(manifest, len(s.paras))
	for i, p := range s.paras {
		m[p.ID] = binary.BigEndian.Uint64(s.keys[i][:8])
	}
	return m
}

// diff counts the paragraphs of s that are new or changed since m, and the
// paragraphs of m that s no longer has.
func (m manifest) diff(s *snapshot, stats *Stats) {
	for i, p := range s.paras {
		k, ok := m[p.ID]
		switch {
		case !ok:
			stats.Added++
		case k != binary.BigEndian.Uint64(s.keys[i][:8]):
			stats.Changed++
		}
	}
	for id := range m {
		if _, ok := s.byPID[id]; !ok {
			stats.Removed++
		}
	}
}

// readManifest reads a manifest written by write.
func readManifest(path string) (manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := make(manifest)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		id, hex, ok := strings.Cut(sc.Text(), "\t")
		k, err := strconv.ParseUint(hex, 16, 64)
		if !ok || err != nil {
			return nil, fmt.Errorf("%s:%d: malformed line", path, n)
		}
		m[id] = k
	}
	return m, sc.Err()
}

// write saves m to path atomically, one "ID<TAB>key" line a paragraph.
func (m manifest) write(path string) error {
	return writeAtomic(path, func(w io.Writer) error {
		for id, k := range m {
			if _, err := fmt.Fprintf(w, "%s\t%016x\n", id, k); err != nil {
				return err
			}
		}
		return nil
	})
}
