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
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/verbatim-bot/verbatim/corpus"
)

// vectorCache maps paragraph content hashes to their embeddings under one
// model, so that unchanged paragraphs are never embedded twice.
type vectorCache struct {
	model string
	dims  int // 0 until the first vector
	vecs  map[contentKey][]float32
}

// contentKey is a paragraph's SHA-256 content hash.
type contentKey [sha256.Size]byte

// keyOf returns p's content hash, decoded from p.Hash, or computed from its
// text when p.Hash is not a hex SHA-256.
func keyOf(p *corpus.Paragraph) contentKey {
	var k contentKey
	if len(p.Hash) != 2*len(k) {
		return sha256.Sum256([]byte(p.Text))
	}
	for i := range k {
		hi, ok1 := fromHex(p.Hash[2*i])
		lo, ok2 := fromHex(p.Hash[2*i+1])
		if !ok1 || !ok2 {
			return sha256.Sum256([]byte(p.Text))
		}
		k[i] = hi<<4 | lo
	}
	return k
}

func fromHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func newVectorCache(model string) *vectorCache {
	return &vectorCache{model: model, vecs: make(map[contentKey][]float32)}
}

// The cache file holds, in little-endian order:
//
//	magic     [8]byte "VBVECS\x00\x01"
//	version   uint32  (cacheVersion)
//	dims      uint32
//	count     uint64
//	modelLen  uint32, then the model name
//	count × { hash [32]byte; vector [dims]float32 }
//	crc       uint32  CRC-32C of everything before it
const (
	cacheMagic   = "VBVECS\x00\x01"
	cacheVersion = 1
	maxModelLen  = 1 << 12
)

// cacheHeader is the fixed-size start of a cache file.
type cacheHeader struct {
	Magic    [8]byte
	Version  uint32
	Dims     uint32
	Count    uint64
	ModelLen uint32
}

// Folders of Config.Dir that hold the caches of passage embeddings and of
// sentence vectors.
const (
	passageCacheDir  = "embeddings"
	sentenceCacheDir = "sentences"
)

// cachePath names the cache file of model in folder sub of dir: the model
// name made safe for a file name, plus a short hash of the exact name so
// that names that sanitise alike do not share a file.
func cachePath(dir, sub, model string) string {
	safe := strings.Map(func(r rune) rune {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9', r == '-', r == '.', r == '_':
			return r
		}
		return '_'
	}, model)
	if len(safe) > 64 {
		safe = safe[:64]
	}
	sum := sha256.Sum256([]byte(model))
	return filepath.Join(dir, sub, fmt.Sprintf("%s-%x.bin", safe, sum[:4]))
}

// readCache reads the cache file at path, which must hold vectors of model.
func readCache(path, model string) (*vectorCache, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	crc := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	r := io.TeeReader(bufio.NewReaderSize(f, 1<<20), crc)

	var hdr cacheHeader
	if err := binary.Read(r, binary.LittleEndian, &hdr); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	switch {
	case string(hdr.Magic[:]) != cacheMagic:
		return nil, errors.New("not an embedding cache file")
	case hdr.Version != cacheVersion:
		return nil, fmt.Errorf("unsupported version %d", hdr.Version)
	case hdr.ModelLen > maxModelLen:
		return nil, errors.New("corrupt header")
	}
	name := make([]byte, hdr.ModelLen)
	if _, err := io.ReadFull(r, name); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	if string(name) != model {
		return nil, fmt.Errorf("holds model %q, not %q", name, model)
	}
	record := uint64(sha256.Size) + 4*uint64(hdr.Dims)
	size := uint64(binary.Size(hdr)) + uint64(hdr.ModelLen) + 4
	fileSize := uint64(fi.Size())
	if fileSize < size || hdr.Dims == 0 && hdr.Count > 0 || (fileSize-size)%record != 0 || (fileSize-size)/record != hdr.Count {
		return nil, fmt.Errorf("size %d bytes does not match its header (truncated?)", fi.Size())
	}

	c := newVectorCache(model)
	c.dims = int(hdr.Dims)
	c.vecs = make(map[contentKey][]float32, hdr.Count)
	slab := make([]float32, hdr.Count*uint64(hdr.Dims))
	buf := make([]byte, record)
	for i := range int(hdr.Count) {
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
		var k contentKey
		copy(k[:], buf)
		v := slab[i*c.dims : (i+1)*c.dims : (i+1)*c.dims]
		for j := range v {
			v[j] = math.Float32frombits(binary.LittleEndian.Uint32(buf[sha256.Size+4*j:]))
		}
		c.vecs[k] = v
	}
	sum := crc.Sum32()
	var want uint32
	if err := binary.Read(r, binary.LittleEndian, &want); err != nil {
		return nil, fmt.Errorf("checksum: %w", err)
	}
	if sum != want {
		return nil, errors.New("checksum mismatch")
	}
	return c, nil
}

// write saves c to path atomically (see writeAtomic), with a trailing
// CRC-32C of everything before it.
func (c *vectorCache) write(path string) error {
	return writeAtomic(path, func(w io.Writer) error {
		crc := crc32.New(crc32.MakeTable(crc32.Castagnoli))
		if err := c.encode(io.MultiWriter(w, crc)); err != nil {
			return err
		}
		return binary.Write(w, binary.LittleEndian, crc.Sum32())
	})
}

// writeAtomic writes a file through fill: into a temporary file in the same
// directory, synced, renamed over path, then the directory synced, so a
// crash at any point leaves either the old file or the new one.
func writeAtomic(path string, fill func(w io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := fill(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// encode writes the header and records of c (everything but the checksum)
// to w, in hash order so that equal caches give identical files.
func (c *vectorCache) encode(w io.Writer) error {
	keys := make([]contentKey, 0, len(c.vecs))
	for k := range c.vecs {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b contentKey) int { return bytes.Compare(a[:], b[:]) })
	hdr := cacheHeader{Version: cacheVersion, Dims: uint32(c.dims), Count: uint64(len(keys)), ModelLen: uint32(len(c.model))}
	copy(hdr.Magic[:], cacheMagic)
	if err := binary.Write(w, binary.LittleEndian, &hdr); err != nil {
		return err
	}
	if _, err := io.WriteString(w, c.model); err != nil {
		return err
	}
	buf := make([]byte, sha256.Size+4*c.dims)
	for _, k := range keys {
		copy(buf, k[:])
		for j, x := range c.vecs[k] {
			binary.LittleEndian.PutUint32(buf[sha256.Size+4*j:], math.Float32bits(x))
		}
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return nil
}
