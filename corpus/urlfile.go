package corpus

import (
	"bufio"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"strings"
)

// URLFileExt is the extension of the file that gives the URL of the
// article file it is named after ("report.pdf.url" for "report.pdf"): its
// first line, an http or https URL. It keeps where an article came from
// for formats with no place for it (PDF, plain text); an article that names
// its own URL (a canonical link, front matter) keeps that. Import writes
// one for such a file fetched from a link (Options.SourceURL); Load reads
// it and otherwise skips it, like any file of no article format.
const URLFileExt = ".url"

// maxURLFileBytes bounds what is read of a URL file.
const maxURLFileBytes = 4 << 10

// urlFile returns the URL named by the URL file of article file name, or
// "" when there is none or it names no http(s) URL.
func (l *loader) urlFile(name string) string {
	f, err := l.fsys.Open(name + URLFileExt)
	if err != nil {
		return ""
	}
	defer f.Close()
	line, _ := bufio.NewReader(io.LimitReader(f, maxURLFileBytes)).ReadString('\n')
	return webURL(strings.TrimSpace(line))
}

// webURL returns s if it is an absolute http or https URL, else "".
func webURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return s
}

// carriesURL reports whether an article file of this name holds its own
// URL when it is saved from a link (a page's canonical link), or several
// articles (JSON lines): such files get no URL file.
func carriesURL(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".html", ".htm", ".jsonl":
		return true
	}
	return false
}

// writeURLFile writes the URL file of article file name, synced, without
// the URL's user name, password or fragment.
func writeURLFile(name, sourceURL string) error {
	u, err := url.Parse(sourceURL)
	if err != nil {
		return fmt.Errorf("corpus: %w", err)
	}
	u.User, u.Fragment, u.RawFragment = nil, "", ""
	return writeSynced(name+URLFileExt, []byte(u.String()+"\n"))
}

// placeURLFile moves the URL file staged beside staged to target's.
func placeURLFile(staged, target string) error {
	if err := os.Rename(staged+URLFileExt, target+URLFileExt); err != nil {
		return fmt.Errorf("corpus: %w", err)
	}
	return nil
}
