package corpus

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DefaultMaxFileBytes is the size limit used when Options.MaxFileBytes is 0.
const DefaultMaxFileBytes = 10 << 20

// Defaults of the corpus limits, used when the Options field is 0. They
// keep a corpus within what one process searches quickly on a small
// machine (see README.md, Limits).
const (
	DefaultMaxParagraphs        = 200_000
	DefaultMaxCorpusBytes       = 256 << 20
	DefaultMaxArticleParagraphs = 20_000
)

// ErrNoArticles is returned (wrapped) by Load when nothing could be loaded,
// so that a reload of an emptied or broken folder never replaces a good
// index.
var ErrNoArticles = errors.New("corpus: no articles loaded")

// Options configure Load.
type Options struct {
	// MaxFileBytes skips larger files (0 means DefaultMaxFileBytes). For
	// .jsonl files it limits each line, that is each article, instead.
	MaxFileBytes int64
	// MaxParagraphs and MaxCorpusBytes (of paragraph text) bound the
	// whole corpus: the article that would cross either is left out and
	// the load stops adding, recording what it left out in
	// Corpus.LeftOut. MaxArticleParagraphs keeps only the first that many
	// paragraphs of an article. 0 means the Default of each.
	MaxParagraphs        int
	MaxCorpusBytes       int64
	MaxArticleParagraphs int
	// FollowExternalLinks reads files through symbolic links that lead
	// outside the folder given to LoadDir; by default they are skipped.
	// Links into /proc, /sys and /dev are skipped either way.
	FollowExternalLinks bool
	// Logger receives a warning for every file skipped and every ID
	// disambiguated; nil discards them.
	Logger *slog.Logger
	// SourceURL, for Import only, is the http(s) URL the data was fetched
	// from: a file with no place for it (PDF, plain text, Markdown) gets it
	// in a URL file (see URLFileExt).
	SourceURL string
}

//go:embed articles
var shipped embed.FS

// Default returns the shipped articles, embedded in the binary so that it
// works from any folder.
func Default() fs.FS {
	sub, err := fs.Sub(shipped, "articles")
	if err != nil {
		panic(err) // "articles" is a valid path, embedded at build time
	}
	return sub
}

// LoadDir loads the articles under the directory dir, with sources named
// relative to it. It fails if dir cannot be read.
func LoadDir(ctx context.Context, dir string, opts Options) (*Corpus, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("corpus: %s is not a directory", dir)
	}
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	return Load(ctx, rootedFS{FS: os.DirFS(root), root: root, follow: opts.FollowExternalLinks}, opts)
}

// rootedFS is a folder whose symbolic links may point only inside it: Stat
// of a file whose link leads elsewhere (/etc/hostname) fails, so Load
// skips it with that reason. With follow set, links outside are allowed,
// except into the kernel's pseudo-file systems (/proc/self/environ,
// /dev/urandom), whose files are not articles and may hold secrets.
type rootedFS struct {
	fs.FS
	root   string
	follow bool
}

func (r rootedFS) Stat(name string) (fs.FileInfo, error) {
	real, err := filepath.EvalSymlinks(filepath.Join(r.root, filepath.FromSlash(name)))
	if err != nil {
		return nil, err
	}
	switch {
	case within(r.root, real):
	case !r.follow:
		return nil, fmt.Errorf("a link to %s, outside the articles folder (not followed unless FOLLOW_EXTERNAL_LINKS=true)", real)
	case within("/proc", real) || within("/sys", real) || within("/dev", real):
		return nil, fmt.Errorf("a link to %s, a system file", real)
	}
	return fs.Stat(r.FS, name)
}

// within reports whether path is dir or inside it.
func within(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// LoadFile loads the articles of one file (of any format Load reads, such
// as a .jsonl set), with sources named by the file's base name. It fails if
// the file cannot be opened, its format is not one Load reads, or it yields
// no article.
func LoadFile(ctx context.Context, name string, opts Options) (*Corpus, error) {
	base := filepath.Base(name)
	if !supported(base) {
		return nil, fmt.Errorf("corpus: %s: not a %s file", name, extensions())
	}
	if _, err := os.Stat(name); err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	l := newLoader(ctx, os.DirFS(filepath.Dir(name)), opts)
	if err := l.file(base); err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	return l.result()
}

// Load reads every article under the root of fsys, recursively, in lexical
// order. Files and directories whose names begin with '.' are skipped, as
// are README files (README.md, readme.txt: a folder's notes, not an
// article) and files of other extensions. Formats by extension:
//
//   - .txt: the first non-empty line is the title. The paragraphs are the
//     blocks separated by blank lines or, when the rest of the file has no
//     blank line, each non-empty line.
//   - .md: optional YAML front matter (title, url, author, published as a
//     date or RFC 3339 time) between "---" lines; a first block that is a
//     "# Heading" is the title line (its text is the title unless the
//     front matter gives one) and not a paragraph. Paragraphs are the
//     blocks separated by blank lines, kept verbatim, so a quote matches
//     what a reader of the source sees, except that sub-headings lose
//     their leading '#' markers.
//   - .html, .htm: the main text as extracted by go-readability, one
//     paragraph per block element; the title from the page's metadata and
//     the URL from <link rel="canonical"> or og:url.
//   - .jsonl: one article a line, {"id", "title", "url", "paragraphs"}
//     (other fields ignored). A bad line is skipped and the rest loads.
//
// Paragraphs are trimmed, with CR LF and CR line ends read as LF, and
// numbered by source position from 1. Fragments too short to stand alone
// (fewer than three words or twelve letters; see isFragment for scripts
// without spaces) are dropped without renumbering the rest, and counted in
// Article.Fragments.
//
// A file that cannot be used (unreadable, over the size limit, binary,
// invalid UTF-8, malformed front matter, no paragraphs) is recorded in
// Corpus.Skipped and logged; it never aborts the load. Load fails only if
// the root cannot be read, ctx is done, or no article at all was loaded
// (ErrNoArticles).
func Load(ctx context.Context, fsys fs.FS, opts Options) (*Corpus, error) {
	l := newLoader(ctx, fsys, opts)
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if err != nil {
			if name == "." {
				return err
			}
			l.skip(name, err.Error())
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if name != "." && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || !supported(name) {
			return nil
		}
		return l.file(name)
	})
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	return l.result()
}

// loader holds the state of one Load.
type loader struct {
	ctx    context.Context
	fsys   fs.FS
	max    int64
	limits limits
	log    *slog.Logger
	ids    map[string]bool
	corpus *Corpus

	paras int   // paragraphs loaded so far
	bytes int64 // bytes of paragraph text loaded so far
	full  bool  // a corpus limit was reached: nothing more is added
}

// limits are the corpus limits of Options, defaults filled in.
type limits struct {
	paras, articleParas int
	bytes               int64
}

func newLoader(ctx context.Context, fsys fs.FS, opts Options) *loader {
	l := &loader{
		ctx:    ctx,
		fsys:   fsys,
		max:    cmp.Or(max(opts.MaxFileBytes, 0), DefaultMaxFileBytes),
		log:    opts.Logger,
		ids:    make(map[string]bool),
		corpus: &Corpus{},
		limits: limits{
			paras:        cmp.Or(max(opts.MaxParagraphs, 0), DefaultMaxParagraphs),
			articleParas: cmp.Or(max(opts.MaxArticleParagraphs, 0), DefaultMaxArticleParagraphs),
			bytes:        cmp.Or(max(opts.MaxCorpusBytes, 0), DefaultMaxCorpusBytes),
		},
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	return l
}

func (l *loader) result() (*Corpus, error) {
	if len(l.corpus.Articles) == 0 {
		if len(l.corpus.LeftOut) > 0 {
			first := l.corpus.LeftOut[0]
			return nil, fmt.Errorf("%w (first %s: %s)", ErrNoArticles, first.Source, first.Reason)
		}
		if len(l.corpus.Skipped) == 0 {
			return nil, fmt.Errorf("%w (0 skipped)", ErrNoArticles)
		}
		first := l.corpus.Skipped[0]
		return nil, fmt.Errorf("%w (%d skipped; first %s: %s)", ErrNoArticles, len(l.corpus.Skipped), first.Source, first.Reason)
	}
	return l.corpus, nil
}

// file loads one supported file in its format. It returns only a
// context error.
func (l *loader) file(name string) error {
	if l.full {
		l.leaveOut(name, "not read: the corpus had reached its limit")
		return nil
	}
	// Only regular files: opening a named pipe would block until someone
	// writes to it, and a device may never end. Stat follows links.
	if info, err := fs.Stat(l.fsys, name); err != nil {
		l.skip(name, err.Error())
		return nil
	} else if !info.Mode().IsRegular() {
		l.skip(name, "not a regular file ("+info.Mode().Type().String()+")")
		return nil
	}
	f := formatOf(name)
	if f.load != nil {
		return f.load(l, name)
	}
	data, err := l.read(name)
	if err != nil {
		l.skip(name, err.Error())
		return nil
	}
	a, paras, err := f.parse(data)
	if err != nil {
		l.skip(name, err.Error())
		return nil
	}
	if l.article(name, &a, paras) {
		l.add(a)
	}
	return nil
}

// article completes the one article of file name from its paragraphs'
// text: its title (the file's name when it has none), source and
// paragraphs. It reports false, with the file skipped, when no paragraph
// is left.
func (l *loader) article(name string, a *Article, paras []string) bool {
	if a.Title == "" {
		a.Title = strings.TrimSuffix(path.Base(name), path.Ext(name))
	}
	a.Source = name
	if a.URL == "" {
		a.URL = l.urlFile(name)
	}
	if reason := prepare(a, strings.TrimSuffix(name, path.Ext(name)), paras); reason != "" {
		l.skip(name, reason)
		return false
	}
	return true
}

// read returns the contents of a text file, checked for size, NUL bytes
// and UTF-8 validity, with a byte-order mark removed and line ends
// normalised to LF.
func (l *loader) read(name string) (string, error) {
	f, err := l.fsys.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if info, err := f.Stat(); err == nil && info.Size() > l.max {
		return "", fmt.Errorf("%d bytes, over the %d-byte limit", info.Size(), l.max)
	}
	data, err := io.ReadAll(io.LimitReader(f, l.max+1))
	if err != nil {
		return "", err
	}
	if int64(len(data)) > l.max {
		return "", fmt.Errorf("over the %d-byte limit", l.max)
	}
	if err := checkText(data); err != nil {
		return "", err
	}
	return normalizeNewlines(string(bytes.TrimPrefix(data, []byte("\uFEFF")))), nil
}

// checkText rejects binary data and invalid UTF-8.
func checkText(data []byte) error {
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return fmt.Errorf("binary data (NUL byte at offset %d)", i)
	}
	if !utf8.Valid(data) {
		for i := 0; ; {
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size == 1 {
				return fmt.Errorf("invalid UTF-8 at offset %d", i)
			}
			i += size
		}
	}
	return nil
}

func normalizeNewlines(s string) string {
	if !strings.Contains(s, "\r") {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

// prepare fills in a's paragraphs from paras (in source order, numbered
// from 1, fragments dropped) and its ID from key. It returns a reason when
// no paragraph is left.
func prepare(a *Article, key string, paras []string) string {
	fragments := 0
	a.Paragraphs = make([]Paragraph, 0, len(paras))
	for i, p := range paras {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if isFragment(p) {
			fragments++
			continue
		}
		sum := sha256.Sum256([]byte(p))
		a.Paragraphs = append(a.Paragraphs, Paragraph{N: i + 1, Text: p, Hash: hex.EncodeToString(sum[:])})
	}
	a.Fragments = fragments
	if len(a.Paragraphs) == 0 {
		if fragments > 0 {
			return fmt.Sprintf("no paragraphs (%d fragments too short to keep)", fragments)
		}
		return "no paragraphs"
	}
	setID(a, Slug(key))
	return ""
}

func setID(a *Article, id string) {
	a.ID = id
	for i := range a.Paragraphs {
		p := &a.Paragraphs[i]
		p.ArticleID = id
		p.ID = id + "#" + strconv.Itoa(p.N)
	}
}

// add appends a prepared article, renaming it if its ID is taken, within
// the corpus limits: beyond the per-article limit its paragraphs are cut,
// and an article that would take the corpus over a limit is left out and
// ends the adding.
func (l *loader) add(a Article) {
	if l.full {
		l.leaveOut(a.Source, "not loaded: the corpus had reached its limit")
		return
	}
	if n := l.limits.articleParas; len(a.Paragraphs) > n {
		l.leaveOut(a.Source, fmt.Sprintf("paragraphs from ¶%d on: over the limit of %d paragraphs an article", a.Paragraphs[n].N, n))
		a.Paragraphs = a.Paragraphs[:n:n]
	}
	var size int64
	for _, p := range a.Paragraphs {
		size += int64(len(p.Text))
	}
	switch {
	case l.paras+len(a.Paragraphs) > l.limits.paras:
		l.full = true
		l.leaveOut(a.Source, fmt.Sprintf("%d paragraphs would take the corpus over its limit of %d paragraphs; loading stopped here", len(a.Paragraphs), l.limits.paras))
		return
	case l.bytes+size > l.limits.bytes:
		l.full = true
		l.leaveOut(a.Source, fmt.Sprintf("%d bytes of text would take the corpus over its limit of %d bytes; loading stopped here", size, l.limits.bytes))
		return
	}
	l.paras += len(a.Paragraphs)
	l.bytes += size
	if id := l.uniqueID(a.ID, a.Source); id != a.ID {
		setID(&a, id)
	}
	l.corpus.Articles = append(l.corpus.Articles, a)
}

// leaveOut records what a corpus limit kept out of the load.
func (l *loader) leaveOut(source, reason string) {
	l.corpus.LeftOut = append(l.corpus.LeftOut, Skipped{Source: source, Reason: reason})
	l.log.Warn("corpus: left out over a limit", "source", source, "reason", reason)
}

// uniqueID returns id if it is free. Otherwise it returns id, '-' and the
// first 6 hex digits of the SHA-256 of source (more digits if that is
// taken too), so the renamed ID depends on the article's own source and
// not on how many other articles share its slug.
func (l *loader) uniqueID(id, source string) string {
	unique := id
	if l.ids[unique] {
		sum := sha256.Sum256([]byte(source))
		h := hex.EncodeToString(sum[:])
		for n := 6; l.ids[unique]; n++ {
			if n <= len(h) {
				unique = id + "-" + h[:n]
			} else {
				unique = id + "-" + h + "-" + strconv.Itoa(n-len(h))
			}
		}
		l.log.Warn("corpus: duplicate article ID", "source", source, "id", id, "renamed", unique)
	}
	l.ids[unique] = true
	return unique
}

func (l *loader) skip(source, reason string) {
	l.corpus.Skipped = append(l.corpus.Skipped, Skipped{Source: source, Reason: reason})
	l.log.Warn("corpus: skipped", "source", source, "reason", reason)
}

// isFragment reports whether p is too short to be a passage of its own:
// fewer than three words or fewer than twelve letters. Where words are not
// separated by spaces, characters are counted instead: each Han or Kana
// character is a word and two letters (it stands for about a syllable of
// other scripts), so six of them make a passage.
func isFragment(p string) bool {
	words, letters := 0, 0
	inWord := false
	for _, r := range p {
		switch {
		case isUnspaced(r):
			words++
			letters += 2
			inWord = false
		case unicode.IsLetter(r):
			letters++
			fallthrough
		case unicode.IsDigit(r):
			if !inWord {
				words++
			}
			inWord = true
		default:
			inWord = false
		}
		if words >= 3 && letters >= 12 {
			return false
		}
	}
	return true
}

// Slug turns s into an article ID: its letters, digits and combining
// marks (any script), lower-cased, with every run of other characters
// turned into one '-' and none at either end ("news/Super_Bowl 50" →
// "news-super-bowl-50", "Café Müller" → "café-müller"). When nothing is
// left, it returns "article-" and 8 hex digits of the SHA-256 of s, so
// distinct inputs stay distinct.
func Slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	if b.Len() == 0 {
		sum := sha256.Sum256([]byte(s))
		return "article-" + hex.EncodeToString(sum[:4])
	}
	return b.String()
}
