package corpus

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// page is an HTML article readability keeps, with head as its <head>.
func page(head string) string {
	return `<!DOCTYPE html><html>` + head + `<title>Canal Locks Reopen</title></head><body><div id="content">` +
		strings.Repeat(`<p>The canal locks reopened to boats on Saturday after a winter of repairs to the old gates and the towpath.</p>`, 4) +
		`</div></body></html>`
}

func TestFileName(t *testing.T) {
	tests := []struct {
		in, want string
		err      error
	}{
		{"story.html", "story.html", nil},
		{"../../etc/Passwd.TXT", "passwd.txt", nil},
		{`..\..\evil name.md`, "evil-name.md", nil},
		{".hidden.md", "hidden.md", nil},
		{"...md", Slug("..") + ".md", nil},
		{"Café Müller.htm", "café-müller.htm", nil},
		{strings.Repeat("é", 80) + ".jsonl", strings.Repeat("é", 50) + ".jsonl", nil},
		{"README.md", "", ErrUnsupported},
		{"photo.png", "", ErrUnsupported},
		{"noext", "", ErrUnsupported},
		{"dir/", "", ErrUnsupported},
	}
	for _, tt := range tests {
		got, err := FileName(tt.in)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("FileName(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

// entries lists the names in dir.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestImport(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	md := []byte("# Ferries Return\n\nFerries to the islands resume on Friday after the harbour wall was repaired.\n")
	imp, err := Import(ctx, dir, "news/Ferries Return.md", md, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, path := imp.Corpus, imp.Path
	if !imp.Created {
		t.Error("Created = false for a new file")
	}
	if path != filepath.Join(dir, "ferries-return.md") || len(c.Articles) != 1 || c.Articles[0].Title != "Ferries Return" || c.Articles[0].Source != "ferries-return.md" {
		t.Fatalf("Import = %+v, %q", c.Articles, path)
	}
	if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, md) {
		t.Fatalf("file holds %q, %v", got, err)
	}
	if names := entries(t, dir); len(names) != 1 {
		t.Errorf("dir holds %v, want only the article (no temporary files)", names)
	}
	loaded, err := LoadDir(ctx, dir, Options{})
	if err != nil || loaded.Articles[0].ID != c.Articles[0].ID {
		t.Fatalf("LoadDir after Import = %+v, %v", loaded, err)
	}

	// The same content again is not an error and writes nothing.
	if again, err := Import(ctx, dir, "ferries-return.md", md, Options{}); err != nil || again.Path != path || again.Created {
		t.Errorf("identical Import = %+v, %v; want the same path, not created", again, err)
	}
	// Different content under the same name is refused, the file kept.
	other := []byte("# Ferries Cancelled\n\nAll ferries to the islands are cancelled until the storm has passed.\n")
	if _, err := Import(ctx, dir, "Ferries Return.md", other, Options{}); !errors.Is(err, ErrExists) {
		t.Errorf("Import over a different file = %v, want ErrExists", err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, md) {
		t.Errorf("existing file changed to %q", got)
	}
}

func TestImportRefusesBadFiles(t *testing.T) {
	tests := []struct {
		name, file string
		data       string
		max        int64
		err        error
		reason     string
	}{
		{"invalid UTF-8", "latin1.html", "<html><body><p>caf\xe9 au lait with enough words to keep</p></body></html>", 0, ErrNoArticles, "invalid UTF-8"},
		{"no paragraphs", "short.txt", "Title\n\nToo short.\n", 0, ErrNoArticles, "no paragraphs"},
		{"binary", "bin.md", "# T\n\x00\x01\x02 data", 0, ErrNoArticles, "binary data"},
		{"bad jsonl", "set.jsonl", "{not json}\n", 0, ErrNoArticles, "set.jsonl:1"},
		{"too large", "big.txt", "Title\n\n" + strings.Repeat("word ", 100), 64, ErrTooLarge, "over the 64-byte limit"},
		{"extension", "photo.png", "Title\n\nA paragraph long enough to be kept as an article passage.", 0, ErrUnsupported, "not a .txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			_, err := Import(context.Background(), dir, tt.file, []byte(tt.data), Options{MaxFileBytes: tt.max})
			if !errors.Is(err, tt.err) || !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("Import = %v, want %v saying %q", err, tt.err, tt.reason)
			}
			if names := entries(t, dir); len(names) != 0 {
				t.Errorf("a refused file left %v", names)
			}
		})
	}
}

func TestFetch(t *testing.T) {
	mux := http.NewServeMux()
	serve := func(path, contentType, body string) {
		mux.HandleFunc(path, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", contentType)
			w.Write([]byte(body))
		})
	}
	serve("/news/canal-locks", "text/html; charset=utf-8", page("<head>"))
	serve("/canonical", "text/html", page(`<head><link rel="canonical" href="https://example.com/canal">`))
	serve("/raw/notes.md", "text/plain; charset=utf-8", "# Notes\n\nA paragraph of notes long enough to keep.\n")
	serve("/plain", "text/plain", "Plain\n\nA plain text article with enough words.\n")
	serve("/markdown", "text/markdown", "# Md\n\nA markdown article with enough words.\n")
	serve("/image", "image/png", "\x89PNG")
	serve("/big", "text/plain", strings.Repeat("x", 200))
	mux.Handle("/old", http.RedirectHandler("/news/canal-locks", http.StatusMovedPermanently))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	host := Slug(u.Hostname())

	ctx := context.Background()
	tests := []struct {
		path, name string
		max        int64
		err        error
	}{
		{"/news/canal-locks", host + "-news-canal-locks.html", 0, nil},
		{"/old", host + "-news-canal-locks.html", 0, nil},
		{"/canonical", host + "-canonical.html", 0, nil},
		{"/raw/notes.md", host + "-raw-notes.md", 0, nil},
		{"/plain", host + "-plain.txt", 0, nil},
		{"/markdown", host + "-markdown.md", 0, nil},
		{"/image", "", 0, ErrUnsupported},
		{"/big", "", 100, ErrTooLarge},
	}
	for _, tt := range tests {
		name, data, err := Fetch(ctx, srv.Client(), srv.URL+tt.path, tt.max)
		if name != tt.name || !errors.Is(err, tt.err) {
			t.Errorf("Fetch(%s) = %q, %v; want %q, %v", tt.path, name, err, tt.name, tt.err)
		}
		if err != nil || !strings.HasSuffix(name, ".html") {
			continue
		}
		// The saved page cites its source: its own canonical link, else
		// the URL it was served from.
		imp, err := Import(ctx, t.TempDir(), name, data, Options{})
		if err != nil {
			t.Fatalf("%s: %v", tt.path, err)
		}
		c := imp.Corpus
		want := srv.URL + "/news/canal-locks"
		if tt.path == "/canonical" {
			want = "https://example.com/canal"
		}
		if a := c.Articles[0]; a.URL != want || a.Title != "Canal Locks Reopen" {
			t.Errorf("%s: article URL, title = %q, %q; want %q", tt.path, a.URL, a.Title, want)
		}
	}

	t.Run("no credentials or fragment kept", func(t *testing.T) {
		withUser := strings.Replace(srv.URL, "://", "://alice:s3cret@", 1) + "/news/canal-locks#frag"
		name, data, err := Fetch(ctx, srv.Client(), withUser, 0)
		if err != nil || name != host+"-news-canal-locks.html" {
			t.Fatalf("Fetch = %q, %v", name, err)
		}
		if bytes.Contains(data, []byte("alice")) || bytes.Contains(data, []byte("s3cret")) || bytes.Contains(data, []byte("frag")) {
			t.Errorf("saved page keeps the credentials or fragment: %s", data)
		}
		imp, err := Import(ctx, t.TempDir(), name, data, Options{})
		if err != nil {
			t.Fatal(err)
		}
		c := imp.Corpus
		if got := c.Articles[0].URL; got != srv.URL+"/news/canal-locks" {
			t.Errorf("article URL = %q", got)
		}
		if _, err := Download(ctx, srv.Client(), "ftp://alice:s3cret@example.com/a.txt", 0); err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Download error %v shows the password", err)
		}
	})

	t.Run("query", func(t *testing.T) {
		long := "/" + strings.Repeat("canal-", 30)
		serve(long, "text/html", page("<head>"))
		names := map[string]bool{}
		for _, p := range []string{"/news/canal-locks?id=1", "/news/canal-locks?id=2", long + "?id=1", long + "?id=2"} {
			name, _, err := Fetch(ctx, srv.Client(), srv.URL+p, 0)
			if err != nil {
				t.Fatalf("Fetch(%s): %v", p, err)
			}
			if file, err := FileName(name); err != nil || file != name {
				t.Errorf("Fetch(%s) = %q, which Import would save as %q, %v", p, name, file, err)
			}
			names[name] = true
		}
		if len(names) != 4 {
			t.Errorf("names %v; want one per URL", names)
		}
	})

	var se *StatusError
	if _, _, err := Fetch(ctx, srv.Client(), srv.URL+"/missing", 0); !errors.As(err, &se) || se.Code != http.StatusNotFound {
		t.Errorf("Fetch of a missing page = %v, want a 404 StatusError", err)
	}
	for _, u := range []string{"ftp://example.com/a.txt", "file:///etc/passwd", "example.com/a.html", "http://"} {
		if _, err := Download(ctx, srv.Client(), u, 0); !errors.Is(err, ErrUnsupported) {
			t.Errorf("Download(%q) = %v, want ErrUnsupported", u, err)
		}
	}
	if data, err := Download(ctx, srv.Client(), srv.URL+"/image", 0); err != nil || string(data) != "\x89PNG" {
		t.Errorf("Download = %q, %v", data, err)
	}
}

func TestWithCanonical(t *testing.T) {
	const u = "https://example.com/a?b=1&c=2"
	link := `<link rel="canonical" href="https://example.com/a?b=1&amp;c=2">`
	// before is what the page must hold before the added link.
	tests := []struct{ name, page, before string }{
		{"head tag", page("<head>"), "<!DOCTYPE html><html><head>"},
		{"head with attributes", page(`<HEAD lang="en">`), `<!DOCTYPE html><html><HEAD lang="en">`},
		{"header is not head", `<html><body><header>x</header><p>text</p></body></html>`, "<html>"},
		{"no head", `<p>just a paragraph</p>`, ""},
		{"no head, doctype", "<!doctype html>\n<p>text</p>", "<!doctype html>"},
		{"unterminated head", `<p>text</p><head`, ""},
		{"Latin-1 before head", "<!-- \xe9t\xe9 \xc9T\xc9 -->\xe9\xe9<html><head>", "<!-- \xe9t\xe9 \xc9T\xc9 -->\xe9\xe9<html><head>"},
		{"head in a comment", "<html><!-- <head> --><head>", "<html><!-- <head> --><head>"},
		{"> in a head attribute", `<html><head data-x="a>b">`, `<html><head data-x="a>b">`},
		{"head in the title", `<html><title><head></title>`, "<html>"},
		{"relative canonical", page(`<head><link rel="canonical" href="/canal">`), "<!DOCTYPE html><html><head>"},
		{"scheme-relative canonical", page(`<head><link rel="canonical" href="//example.com/canal">`), "<!DOCTYPE html><html><head>"},
		{"relative og:url", page(`<head><meta property="og:url" content="canal">`), "<!DOCTYPE html><html><head>"},
		{"ftp canonical", `<link rel="canonical" href="ftp://example.com/canal"><p>text</p>`, ""},
	}
	for _, tt := range tests {
		out := withCanonical([]byte(tt.page), u)
		if !bytes.HasPrefix(out, []byte(tt.before+link)) {
			t.Errorf("%s: got %q, want the link after %q", tt.name, out, tt.before)
		}
		doc, err := html.Parse(bytes.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		if got := canonicalURL(doc); got != u {
			t.Errorf("%s: canonical = %q in %s", tt.name, got, out)
		}
		if again := withCanonical(out, "https://other.example"); !bytes.Equal(again, out) {
			t.Errorf("%s: a page with a canonical link was changed", tt.name)
		}
	}
}

func TestWithMeta(t *testing.T) {
	t.Parallel()
	when := time.Date(2026, 3, 4, 10, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, page string
		want       []string
		not        []string
	}{
		{"adds both", `<html><head><title>T</title></head><body></body></html>`,
			[]string{`<head><meta name="author" content="Ada &amp; Bo"><meta property="article:published_time" content="2026-03-04T10:30:00Z">`}, nil},
		{"keeps the page's own", `<html><head><meta name="author" content="Page Author"><meta property="article:published_time" content="2020-01-01"></head></html>`,
			nil, []string{"Ada", "2026-03-04"}},
	} {
		got := string(WithMeta([]byte(tc.page), "Ada & Bo", when))
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %s lacks %s", tc.name, got, w)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(got, n) {
				t.Errorf("%s: %s has %s", tc.name, got, n)
			}
		}
	}
}
