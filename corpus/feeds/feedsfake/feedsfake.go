// Package feedsfake is a small web site for tests of feeds and sync: HTML
// article pages, an RSS 2.0 feed, an Atom feed, a JSON Feed, a sitemap
// (plain and gzipped), a sitemap index and robots.txt, all answering
// conditional requests with ETag and Last-Modified, and a log of the
// requests it served.
package feedsfake

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Paths the Site serves besides its pages.
const (
	RSS          = "/feed.xml"
	Atom         = "/atom.xml"
	JSONFeed     = "/feed.json"
	Sitemap      = "/sitemap.xml"
	SitemapGzip  = "/sitemap.xml.gz"
	SitemapIndex = "/sitemap-index.xml"
	Robots       = "/robots.txt"
	// Disallowed is a page path robots.txt forbids.
	Disallowed = "/private/"
	// Author is the author the Atom feed names for every entry.
	Author = "Fake Reporter"
)

// epoch is the modification time of a page's first version.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Request is one request the Site served.
type Request struct {
	Path        string
	Conditional bool // sent If-None-Match or If-Modified-Since
	Status      int
}

// Site is the fake web site.
type Site struct {
	srv *httptest.Server

	mu         sync.Mutex
	pages      map[string]*page
	order      []string
	feedStatus int  // 0 = serve the feeds
	malformed  bool // serve broken XML as the feeds
	undated    bool // no dates in the feeds and sitemaps
	robots     int  // 0 = serve robots.txt, else answer this status
	log        []Request
}

type page struct {
	title    string
	paras    []string
	version  int
	modified time.Time
}

// New starts a Site on loopback, closed when the test ends.
func New(tb interface{ Cleanup(func()) }) *Site {
	s := &Site{pages: map[string]*page{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.srv.Close)
	return s
}

// URL returns the absolute URL of path on the Site.
func (s *Site) URL(path string) string { return s.srv.URL + path }

// Set adds the page at path or, if it exists, gives it a new version.
func (s *Site) Set(path, title string, paras ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pages[path]
	if p == nil {
		p = &page{}
		s.pages[path] = p
		s.order = append(s.order, path)
	}
	p.title, p.paras = title, paras
	p.version++
	p.modified = epoch.Add(time.Duration(len(s.order)*1000+p.version) * time.Minute)
}

// Remove takes the page at path off the Site and its feeds.
func (s *Site) Remove(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.pages, path)
	for i, p := range s.order {
		if p == path {
			s.order = append(s.order[:i], s.order[i+1:]...)
			break
		}
	}
}

// FailFeeds makes every feed and sitemap answer status (0 restores them).
func (s *Site) FailFeeds(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.feedStatus = status
}

// BreakFeeds makes every feed and sitemap serve malformed XML (false
// restores them).
func (s *Site) BreakFeeds(broken bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.malformed = broken
}

// FailRobots makes robots.txt answer status (0 restores it).
func (s *Site) FailRobots(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.robots = status
}

// OmitDates leaves the entry dates (pubDate, updated, date_modified,
// lastmod) out of the feeds and sitemaps, as many sites do.
func (s *Site) OmitDates(omit bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.undated = omit
}

// Requests returns the requests served since the last call.
func (s *Site) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.log
	s.log = nil
	return out
}

func (s *Site) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := Request{Path: r.URL.Path, Conditional: r.Header.Get("If-None-Match") != "" || r.Header.Get("If-Modified-Since") != ""}
	status := s.respond(w, r)
	rec.Status = status
	s.log = append(s.log, rec)
}

// respond writes the answer to r and returns its status.
func (s *Site) respond(w http.ResponseWriter, r *http.Request) int {
	var body []byte
	var ctype string
	var modified time.Time
	listing := true
	switch r.URL.Path {
	case Robots:
		if s.robots != 0 {
			http.Error(w, "robots", s.robots)
			return s.robots
		}
		body, ctype, listing = []byte("User-agent: *\nDisallow: "+Disallowed+"\n"), "text/plain", false
	case RSS:
		body, ctype = s.rss(), "application/rss+xml"
	case Atom:
		body, ctype = s.atom(), "application/atom+xml"
	case JSONFeed:
		body, ctype = s.jsonFeed(), "application/feed+json"
	case Sitemap:
		body, ctype = s.sitemap(), "application/xml"
	case SitemapGzip:
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(s.sitemap())
		zw.Close()
		body, ctype = b.Bytes(), "application/gzip"
	case SitemapIndex:
		body, ctype = []byte(`<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>`+s.URL(Sitemap)+`</loc></sitemap></sitemapindex>`), "application/xml"
	default:
		p := s.pages[r.URL.Path]
		if p == nil {
			http.NotFound(w, r)
			return http.StatusNotFound
		}
		body, ctype, modified, listing = s.html(p), "text/html; charset=utf-8", p.modified, false
	}
	if listing {
		if s.feedStatus != 0 {
			http.Error(w, "failing", s.feedStatus)
			return s.feedStatus
		}
		if s.malformed {
			body = []byte(`<?xml version="1.0"?><rss version="2.0"><channel><title>Broken</title><item><link>`)
		}
		modified = s.latest()
	}
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	w.Header().Set("ETag", etag)
	if !modified.IsZero() {
		w.Header().Set("Last-Modified", modified.Format(http.TimeFormat))
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		if inm == etag {
			w.WriteHeader(http.StatusNotModified)
			return http.StatusNotModified
		}
	} else if ims, err := http.ParseTime(r.Header.Get("If-Modified-Since")); err == nil && !modified.IsZero() && !modified.After(ims) {
		w.WriteHeader(http.StatusNotModified)
		return http.StatusNotModified
	}
	w.Header().Set("Content-Type", ctype)
	w.Write(body)
	return http.StatusOK
}

// latest is the newest page's modification time.
func (s *Site) latest() time.Time {
	var t time.Time
	for _, p := range s.pages {
		if p.modified.After(t) {
			t = p.modified
		}
	}
	return t
}

func (s *Site) html(p *page) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "<!DOCTYPE html><html><head><title>%s</title></head><body><article><h1>%s</h1>\n", html.EscapeString(p.title), html.EscapeString(p.title))
	for _, para := range p.paras {
		fmt.Fprintf(&b, "<p>%s</p>\n", html.EscapeString(para))
	}
	b.WriteString("</article></body></html>")
	return []byte(b.String())
}

// sorted returns the page paths in the order they were added.
func (s *Site) sorted() []string {
	return append([]string(nil), s.order...)
}

func (s *Site) rss() []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Fake News</title><link>` + s.URL("/") + `</link><description>Test feed</description>`)
	for _, path := range s.sorted() {
		p := s.pages[path]
		fmt.Fprintf(&b, "<item><title>%s</title><link>%s</link><guid>%s</guid>%s</item>",
			html.EscapeString(p.title), s.URL(path), s.URL(path), s.date("<pubDate>%s</pubDate>", p.modified.Format(time.RFC1123Z)))
	}
	b.WriteString("</channel></rss>")
	return []byte(b.String())
}

func (s *Site) atom() []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Fake News</title><id>urn:fake</id><updated>` + s.latest().Format(time.RFC3339) + `</updated>`)
	for _, path := range s.sorted() {
		p := s.pages[path]
		fmt.Fprintf(&b, `<entry><title>%s</title><link href="%s"/><id>%s</id><author><name>`+Author+`</name></author>%s</entry>`,
			html.EscapeString(p.title), s.URL(path), s.URL(path), s.date("<updated>%s</updated>", p.modified.Format(time.RFC3339)))
	}
	b.WriteString("</feed>")
	return []byte(b.String())
}

func (s *Site) jsonFeed() []byte {
	type item struct {
		ID       string `json:"id"`
		URL      string `json:"url"`
		Title    string `json:"title"`
		Modified string `json:"date_modified,omitempty"`
	}
	f := struct {
		Version string `json:"version"`
		Title   string `json:"title"`
		Items   []item `json:"items"`
	}{Version: "https://jsonfeed.org/version/1.1", Title: "Fake News"}
	for _, path := range s.sorted() {
		p := s.pages[path]
		f.Items = append(f.Items, item{ID: s.URL(path), URL: s.URL(path), Title: p.title, Modified: s.date("%s", p.modified.Format(time.RFC3339))})
	}
	data, _ := json.Marshal(f)
	return data
}

func (s *Site) sitemap() []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">`)
	for _, path := range s.sorted() {
		fmt.Fprintf(&b, "<url><loc>%s</loc>%s</url>", s.URL(path), s.date("<lastmod>%s</lastmod>", s.pages[path].modified.Format(time.RFC3339)))
	}
	b.WriteString("</urlset>")
	return []byte(b.String())
}

// date formats an entry date, or returns "" when dates are omitted.
func (s *Site) date(format, value string) string {
	if s.undated {
		return ""
	}
	return fmt.Sprintf(format, value)
}
