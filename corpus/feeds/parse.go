package feeds

import (
	"bytes"
	"compress/gzip"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"
)

// Kind is what a downloaded document is.
type Kind string

// The kinds of subscription; a document of neither kind is a page.
const (
	KindFeed    Kind = "feed"    // RSS 2.0, Atom or JSON Feed
	KindSitemap Kind = "sitemap" // sitemap or sitemap index, perhaps gzipped
)

// ErrMalformed means a feed or sitemap could not be parsed.
var ErrMalformed = errors.New("feeds: malformed feed or sitemap")

// listing is what one feed or sitemap document lists.
type listing struct {
	title    string
	entries  []listed
	children []listed // of a sitemap index: the sitemaps it names
}

// listed is one entry of a feed or sitemap: an absolute http or https URL
// and when it last changed, as the document says ("" when it does not).
type listed struct {
	url     string
	updated string
	// author and published are what a feed says of the entry.
	author    string
	published time.Time
}

// gunzip returns data uncompressed if it is gzipped, at most limit bytes.
func gunzip(data []byte, limit int64) ([]byte, error) {
	if len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
		return data, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	out, err := io.ReadAll(io.LimitReader(zr, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if int64(len(out)) > limit {
		return nil, fmt.Errorf("feeds: uncompressed sitemap over the %d-byte limit", limit)
	}
	return out, nil
}

// detect says whether data (uncompressed) is a feed or a sitemap, or ""
// for anything else, such as an HTML page.
func detect(data []byte) Kind {
	if gofeed.DetectFeedType(bytes.NewReader(data)) != gofeed.FeedTypeUnknown {
		return KindFeed
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = false
	for {
		tok, err := d.Token()
		if err != nil {
			return ""
		}
		if se, ok := tok.(xml.StartElement); ok {
			switch se.Name.Local {
			case "urlset", "sitemapindex":
				return KindSitemap
			}
			return ""
		}
	}
}

// parse reads a document of kind k served from base.
func parse(k Kind, data []byte, base *url.URL) (*listing, error) {
	if k == KindFeed {
		return parseFeed(data, base)
	}
	return parseSitemap(data, base)
}

func parseFeed(data []byte, base *url.URL) (*listing, error) {
	f, err := gofeed.NewParser().Parse(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	l := &listing{title: strings.TrimSpace(f.Title)}
	for _, it := range f.Items {
		link := it.Link
		if link == "" && len(it.Links) > 0 {
			link = it.Links[0]
		}
		u, ok := absolute(base, link)
		if !ok {
			continue
		}
		var updated string
		switch {
		case it.UpdatedParsed != nil:
			updated = it.UpdatedParsed.UTC().Format(time.RFC3339)
		case it.PublishedParsed != nil:
			updated = it.PublishedParsed.UTC().Format(time.RFC3339)
		}
		e := listed{url: u, updated: updated}
		if it.PublishedParsed != nil {
			e.published = *it.PublishedParsed
		} else if it.UpdatedParsed != nil {
			e.published = *it.UpdatedParsed
		}
		for _, a := range it.Authors {
			if a != nil && strings.TrimSpace(a.Name) != "" {
				e.author = strings.TrimSpace(a.Name)
				break
			}
		}
		l.entries = append(l.entries, e)
	}
	return l, nil
}

// sitemapDoc is a sitemap (urlset) or a sitemap index, as
// sitemaps.org defines them.
type sitemapDoc struct {
	XMLName  xml.Name
	URLs     []sitemapLoc `xml:"url"`
	Sitemaps []sitemapLoc `xml:"sitemap"`
}

type sitemapLoc struct {
	Loc     string `xml:"loc"`
	Lastmod string `xml:"lastmod"`
}

func parseSitemap(data []byte, base *url.URL) (*listing, error) {
	var doc sitemapDoc
	if err := xml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	l := &listing{}
	add := func(to *[]listed, locs []sitemapLoc) {
		for _, x := range locs {
			if u, ok := absolute(base, strings.TrimSpace(x.Loc)); ok {
				*to = append(*to, listed{url: u, updated: strings.TrimSpace(x.Lastmod)})
			}
		}
	}
	switch doc.XMLName.Local {
	case "urlset":
		add(&l.entries, doc.URLs)
	case "sitemapindex":
		add(&l.children, doc.Sitemaps)
	default:
		return nil, fmt.Errorf("%w: root element <%s>, want <urlset> or <sitemapindex>", ErrMalformed, doc.XMLName.Local)
	}
	return l, nil
}

// absolute resolves ref against base and reports whether it is an http
// or https URL; the fragment is dropped.
func absolute(base *url.URL, ref string) (string, bool) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return "", false
	}
	r, err := url.Parse(ref)
	if err != nil {
		return "", false
	}
	u := base.ResolveReference(r)
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", false
	}
	u.User, u.Fragment, u.RawFragment = nil, "", ""
	return u.String(), true
}
