package corpus

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/verbatim-bot/verbatim/corpus/fetch"
)

// Errors of Import, Fetch and Download, checked with errors.Is.
var (
	// ErrExists means a different file already has the name Import would
	// write.
	ErrExists = errors.New("corpus: a different file with that name exists")
	// ErrTooLarge means the data is over the size limit.
	ErrTooLarge = errors.New("corpus: file too large")
	// ErrUnsupported means a file name, URL or content type is not one
	// Load reads.
	ErrUnsupported = errors.New("corpus: unsupported")
)

// StatusError is the error of a download the server answered with a
// status other than 2xx.
type StatusError = fetch.StatusError

// DefaultFetchTimeout bounds Fetch and Download when they are given no
// client.
const DefaultFetchTimeout = fetch.DefaultTimeout

// maxStem bounds the length in bytes of the name FileName gives a file,
// its extension aside, well under the usual 255-byte limit.
const maxStem = 100

// FileName returns the name Import stores name under: its base name
// (after the last '/' or '\'), with the part before the extension turned
// into a Slug (so no path separator, no leading dot, no spaces) of at most
// 100 bytes, and the extension in lower case. It fails with ErrUnsupported
// if the extension is not one Load reads (.txt, .md, .html, .htm, .jsonl,
// .pdf), or the name is a README, which Load does not read.
func FileName(name string) (string, error) {
	base := name[strings.LastIndexAny(name, `/\`)+1:]
	ext := path.Ext(base)
	stem := shorten(Slug(strings.TrimSuffix(base, ext)), maxStem)
	out := stem + strings.ToLower(ext)
	if !supported(out) {
		if stem == "readme" {
			return "", fmt.Errorf("%w: %q: README files are notes, not articles", ErrUnsupported, base)
		}
		return "", fmt.Errorf("%w: %q: not a %s file", ErrUnsupported, base, extensions())
	}
	return out, nil
}

// shorten cuts the slug s to at most n bytes, at a character boundary and
// without a trailing '-'.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for !utf8.RuneStart(s[n]) {
		n--
	}
	return strings.TrimRight(s[:n], "-")
}

// Import adds one article file to the folder dir without disturbing a
// concurrent Load of it. The file is named by FileName(name), and its
// extension picks the format. data is parsed with the same code as Load
// and must yield at least one article; otherwise the error wraps
// ErrNoArticles and says why the file was skipped (invalid UTF-8, no
// paragraphs, …). Data over opts.MaxFileBytes (0 means
// DefaultMaxFileBytes) fails with ErrTooLarge.
//
// The file is written in a temporary folder in dir whose name starts with
// '.' (which Load skips), fsynced, and then linked or renamed into place,
// so dir never holds a partial file. An existing file of that name is never
// replaced: Import fails with ErrExists unless its content is identical,
// in which case nothing is written and Imported.Created is false.
func Import(ctx context.Context, dir, name string, data []byte, opts Options) (*Imported, error) {
	file, err := FileName(name)
	if err != nil {
		return nil, err
	}
	limit := opts.MaxFileBytes
	if limit <= 0 {
		limit = DefaultMaxFileBytes
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: %d bytes, over the %d-byte limit", ErrTooLarge, len(data), limit)
	}
	target := filepath.Join(dir, file)
	if same, err := sameContent(target, data); err != nil {
		return nil, err
	} else if same {
		c, err := LoadFile(ctx, target, opts)
		if err != nil {
			return nil, err
		}
		return &Imported{Corpus: c, Path: target}, nil
	}

	tmp, err := os.MkdirTemp(dir, ".import-")
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	defer os.RemoveAll(tmp)
	staged := filepath.Join(tmp, file)
	withURL := webURL(opts.SourceURL) != "" && !carriesURL(file)
	c, err := stage(ctx, staged, data, withURL, opts)
	if err != nil {
		return nil, err
	}
	placed, err := place(staged, target, data)
	if err != nil {
		return nil, err
	}
	if !placed { // another writer placed the same file
		return &Imported{Corpus: c, Path: target}, nil
	}
	if withURL {
		if err := placeURLFile(staged, target); err != nil {
			os.Remove(target)
			return nil, err
		}
	}
	if err := syncDir(dir); err != nil {
		os.Remove(target)
		return nil, err
	}
	return &Imported{Corpus: c, Path: target, Created: true}, nil
}

// stage writes data as the file staged (with its URL file when withURL)
// and loads it: the articles it holds, or why it holds none.
func stage(ctx context.Context, staged string, data []byte, withURL bool, opts Options) (*Corpus, error) {
	if err := writeSynced(staged, data); err != nil {
		return nil, err
	}
	if withURL {
		if err := writeURLFile(staged, opts.SourceURL); err != nil {
			return nil, err
		}
	}
	file := filepath.Base(staged)
	l := newLoader(ctx, os.DirFS(filepath.Dir(staged)), opts)
	if err := l.file(file); err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	c := l.corpus
	if len(c.Articles) == 0 {
		reason := file + ": no article"
		if len(c.Skipped) > 0 {
			reason = c.Skipped[0].Source + ": " + c.Skipped[0].Reason
		}
		return nil, fmt.Errorf("%w: %s", ErrNoArticles, reason)
	}
	return c, nil
}

// place puts the staged file at target. A hard link never replaces an
// existing file, even one created since Import checked; only where links
// are not supported, rename. It reports false, with no error, when another
// writer placed the same data there meanwhile, and fails with ErrExists
// when different data is there.
func place(staged, target string, data []byte) (bool, error) {
	err := os.Link(staged, target)
	switch {
	case errors.Is(err, os.ErrExist):
		same, err := sameContent(target, data)
		if err != nil {
			return false, err
		}
		if !same { // created and removed again meanwhile: leave it be
			return false, fmt.Errorf("%w: %s", ErrExists, filepath.Base(target))
		}
		return false, nil
	case errors.Is(err, errors.ErrUnsupported) || errors.Is(err, os.ErrPermission):
		if err := os.Rename(staged, target); err != nil {
			return false, fmt.Errorf("corpus: %w", err)
		}
	case err != nil:
		return false, fmt.Errorf("corpus: %w", err)
	}
	return true, nil
}

// Imported is what Import did.
type Imported struct {
	Corpus  *Corpus // the articles the file holds, sources named as a Load of dir names them
	Path    string  // the file in dir
	Created bool    // false when an identical file was already there
}

// Move renames the imported file, with its URL file if any, into dir
// (replacing a file of that name), and records its new Path.
func (imp *Imported) Move(dir string) error {
	to := filepath.Join(dir, filepath.Base(imp.Path))
	if err := os.Rename(imp.Path, to); err != nil {
		return fmt.Errorf("corpus: %w", err)
	}
	if err := os.Rename(imp.Path+URLFileExt, to+URLFileExt); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("corpus: %w", err)
	}
	imp.Path = to
	return nil
}

// Remove deletes the imported file and its URL file, if any: to take back
// an import whose reload failed.
func (imp *Imported) Remove() error { return RemoveArticle(imp.Path) }

// RemoveArticle deletes the article file at path and its URL file, if any.
func RemoveArticle(path string) error {
	if err := os.Remove(path + URLFileExt); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return os.Remove(path)
}

// sameContent reports whether the file at name holds exactly data. A
// missing file is not an error; a different one is ErrExists.
func sameContent(name string, data []byte) (bool, error) {
	f, err := os.Open(name)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("corpus: %w", err)
	}
	defer f.Close()
	old, err := io.ReadAll(io.LimitReader(f, int64(len(data))+1))
	if err != nil {
		return false, fmt.Errorf("corpus: %w", err)
	}
	if !bytes.Equal(old, data) {
		return false, fmt.Errorf("%w: %s", ErrExists, filepath.Base(name))
	}
	return true, nil
}

func writeSynced(name string, data []byte) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("corpus: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("corpus: %w", err)
	}
	return nil
}

// syncDir makes a new directory entry in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("corpus: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("corpus: %w", err)
	}
	return nil
}

// Fetch downloads an article page for Import: http and https only, with
// ctx, through client (nil means fetch.NewClient with the default policy:
// public addresses only), at most maxBytes (0 means DefaultMaxFileBytes;
// more fails with ErrTooLarge). A status other than 2xx is a *StatusError.
// The name and data it returns are those of Page.
func Fetch(ctx context.Context, client *http.Client, rawURL string, maxBytes int64) (name string, data []byte, err error) {
	resp, err := get(ctx, client, rawURL, maxBytes)
	if err != nil {
		return "", nil, err
	}
	return Page(resp.URL, resp.MediaType, resp.Body)
}

// Page names a downloaded page for Import. served is the URL it was
// finally served from and mediaType its lower-case media type.
//
// The name picks the format. An HTML page (text/html or
// application/xhtml+xml) is named for a Slug of the URL's host and path
// (and 8 hex digits of the SHA-256 of its query, if it has one), with
// ".html"; any other response whose URL path ends in an extension
// Load reads keeps that extension; else text/plain is ".txt" and
// text/markdown ".md", application/pdf ".pdf"; anything else fails with
// ErrUnsupported.
//
// The HTML loader takes an article's URL from <link rel="canonical"> or
// og:url. Unless that is an absolute http or https URL, Page adds
// <link rel="canonical" href="URL"> with served (without user name,
// password or fragment) after the page's <head> tag, so that citations of
// the saved page link to its source; the page is otherwise kept as served.
func Page(served *url.URL, mediaType string, data []byte) (name string, out []byte, err error) {
	// The page's own address: no user name or password to keep in the
	// articles folder or show in citations, and no fragment.
	u := *served
	u.User, u.Fragment, u.RawFragment = nil, "", ""
	stem := u.Hostname() + u.Path
	ext := strings.ToLower(path.Ext(u.Path))
	if ext != "" && supported("x"+ext) {
		stem = strings.TrimSuffix(stem, path.Ext(stem))
	} else {
		ext = ""
	}
	stem = Slug(stem)
	if u.RawQuery != "" { // pages differing only in their query differ in name
		sum := sha256.Sum256([]byte(u.RawQuery))
		tag := "-" + hex.EncodeToString(sum[:4])
		stem = shorten(stem, maxStem-len(tag)) + tag
	}
	switch {
	case mediaType == "text/html" || mediaType == "application/xhtml+xml":
		return stem + ".html", withCanonical(data, u.String()), nil
	case ext != "":
	case mediaType == "text/plain":
		ext = ".txt"
	case mediaType == "text/markdown" || mediaType == "text/x-markdown":
		ext = ".md"
	case mediaType == "application/pdf":
		ext = ".pdf"
	default:
		return "", nil, fmt.Errorf("%w: content type %q (want HTML, plain text, Markdown or PDF)", ErrUnsupported, mediaType)
	}
	return stem + ext, data, nil
}

// Download returns the body of rawURL as Fetch reads it (the same schemes,
// bounds and errors), whatever its content type and unchanged: for files
// whose name is known, such as uploads.
func Download(ctx context.Context, client *http.Client, rawURL string, maxBytes int64) ([]byte, error) {
	resp, err := get(ctx, client, rawURL, maxBytes)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// PageAccept is the Accept header of a request for an article page.
const PageAccept = "text/html, text/markdown, text/plain;q=0.9, */*;q=0.5"

// get does the bounded GET of Fetch and Download, with the errors of this
// package.
func get(ctx context.Context, client *http.Client, rawURL string, maxBytes int64) (*fetch.Response, error) {
	if client == nil {
		client = fetch.NewClient(fetch.Policy{})
	}
	if maxBytes <= 0 {
		maxBytes = DefaultMaxFileBytes
	}
	resp, err := fetch.Get(ctx, client, fetch.Request{URL: rawURL, Accept: PageAccept, MaxBytes: maxBytes})
	switch {
	case errors.Is(err, fetch.ErrScheme):
		return nil, fmt.Errorf("%w: %w", ErrUnsupported, err)
	case errors.Is(err, fetch.ErrTooLarge):
		return nil, fmt.Errorf("%w: %w", ErrTooLarge, err)
	case err != nil:
		return nil, err
	}
	return resp, nil
}

// withCanonical returns the HTML page data with <link rel="canonical"
// href="pageURL"> added where headEnd says, before any other tag (so the
// loader reads it first), unless the page's canonical or og:url link is
// already an absolute http or https URL.
func withCanonical(data []byte, pageURL string) []byte {
	if doc, err := html.Parse(bytes.NewReader(data)); err == nil {
		if webURL(canonicalURL(doc)) != "" {
			return data
		}
	}
	return insertHead(data, `<link rel="canonical" href="`+html.EscapeString(pageURL)+`">`)
}

// insertHead returns the HTML page data with tags added where headEnd
// says.
func insertHead(data []byte, tags string) []byte {
	at := headEnd(data)
	out := make([]byte, 0, len(data)+len(tags)+1)
	out = append(out, data[:at]...)
	out = append(out, tags...)
	if at == 0 {
		out = append(out, '\n')
	}
	return append(out, data[at:]...)
}

// WithMeta returns the HTML page data with the author and publication
// time a feed gave for it, as <meta name="author"> and <meta
// property="article:published_time"> (which the HTML loader reads), each
// only when given and when the page names none of its own.
func WithMeta(data []byte, author string, published time.Time) []byte {
	hasAuthor, hasDate := false, false
	if doc, err := html.Parse(bytes.NewReader(data)); err == nil {
		var walk func(*html.Node)
		walk = func(n *html.Node) {
			if n.Type == html.ElementNode && n.DataAtom == atom.Meta {
				key := strings.ToLower(attr(n, "name") + " " + attr(n, "property") + " " + attr(n, "itemprop"))
				hasAuthor = hasAuthor || strings.Contains(key, "author") || strings.Contains(key, "creator")
				hasDate = hasDate || strings.Contains(key, "published") || strings.Contains(key, "pub-date")
			}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c)
			}
		}
		walk(doc)
	}
	var tags string
	if author = strings.TrimSpace(author); author != "" && !hasAuthor {
		tags += `<meta name="author" content="` + html.EscapeString(author) + `">`
	}
	if !published.IsZero() && !hasDate {
		tags += `<meta property="article:published_time" content="` + published.UTC().Format(time.RFC3339) + `">`
	}
	if tags == "" {
		return data
	}
	return insertHead(data, tags)
}

// headEnd returns the offset in data just after its first <head> start
// tag, found by an HTML tokenizer on the bytes as they are (so never one
// in a comment, in <title> or in an attribute value); without one, just
// after the <html> start tag or the doctype, whichever comes last before
// any other tag; else 0.
func headEnd(data []byte) int {
	z := html.NewTokenizer(bytes.NewReader(data))
	at, off := 0, 0
	for {
		tt := z.Next()
		off += len(z.Raw())
		switch tt {
		case html.ErrorToken:
			return at
		case html.DoctypeToken:
			at = off
		case html.StartTagToken, html.SelfClosingTagToken:
			switch name, _ := z.TagName(); string(name) {
			case "head":
				return off
			case "html":
				at = off
			default:
				return at
			}
		}
	}
}
