// Package feeds keeps articles in step with the feeds (RSS 2.0, Atom, JSON
// Feed) and sitemaps (including sitemap indexes and gzipped sitemaps) an
// admin subscribed to. A subscription is a small YAML file in the articles
// folder; its entries are saved as article pages in a folder beside it.
// A sync fetches only what changed: documents and pages are asked for
// conditionally (ETag, Last-Modified), entries whose feed date or sitemap
// lastmod has not moved since they were saved are not asked for at all,
// and a page whose saved form is byte for byte the same is not rewritten.
// Every request follows the fetch policy of the client, robots.txt and a
// per-host rate.
package feeds

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/gofrs/flock"
	"github.com/verbatim-bot/verbatim/corpus"
	"github.com/verbatim-bot/verbatim/corpus/fetch"
)

// Defaults of Config.
const (
	// DefaultHostRate is the requests per second sent to one host.
	DefaultHostRate = 2.0
	// DefaultMaxEntries bounds the entries synced per subscription.
	DefaultMaxEntries = 2000
)

const (
	// maxListingBytes bounds a feed or sitemap once uncompressed (the
	// sitemap protocol's own limit).
	maxListingBytes = 50 << 20
	// robotsTTL is how long a robots.txt is trusted before it is read
	// again.
	robotsTTL = 24 * time.Hour
	// checkpointEvery is how many entries a sync handles between saves of
	// its state.
	checkpointEvery = 50
	// robotsAgent is the product token looked for in robots.txt.
	robotsAgent = "verbatim"
	// listingAccept asks for a feed or sitemap.
	listingAccept = "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
	// addAccept asks for what the URL given to Add is, page or feed, so
	// that a server choosing by Accept serves a page as a page.
	addAccept = "text/html, application/xhtml+xml, application/rss+xml;q=0.9, application/atom+xml;q=0.9, application/feed+json;q=0.9, application/xml;q=0.8, text/xml;q=0.8, text/markdown;q=0.8, text/plain;q=0.7, */*;q=0.5"
)

// ErrDisallowed means robots.txt does not let Verbatim fetch a URL.
var ErrDisallowed = errors.New("feeds: disallowed by robots.txt")

// Config configures a Syncer.
type Config struct {
	// ArticlesDir is the articles folder: subscription files and the
	// folders of their entries.
	ArticlesDir string
	// StateDir holds what the last syncs learnt (validators, hashes,
	// outcomes); losing it costs one full fetch, not an article.
	StateDir string
	// Client makes every request; nil means fetch.NewClient with the
	// default policy (public addresses only).
	Client *http.Client
	// HostRate is the requests per second sent to one host (a robots.txt
	// Crawl-delay may lower it); 0 means DefaultHostRate.
	HostRate float64
	// Prune deletes the article of an entry its feed or sitemap no longer
	// lists; by default it is kept.
	Prune bool
	// MaxBytes bounds one page or compressed document; 0 means
	// corpus.DefaultMaxFileBytes.
	MaxBytes int64
	// MaxEntries bounds the entries synced per subscription; 0 means
	// DefaultMaxEntries.
	MaxEntries int
	// Logger receives a line per failure; nil discards them.
	Logger *slog.Logger
}

// Syncer adds subscriptions and syncs them, one operation at a time.
type Syncer struct {
	cfg    Config
	client *http.Client
	log    *slog.Logger

	turn     chan struct{} // held by the one Add or Sync running
	limiters map[string]*rate.Limiter
	robots   map[string]*robotsCache
	// unreadable holds, for the Add or Sync running, the hosts whose
	// robots.txt could not be read, with why: nothing more is asked of
	// them until the next one.
	unreadable map[string]error
}

// robotsCache is one host's robots.txt as last read, kept in the state
// folder too so that a sync soon after another does not ask again.
type robotsCache struct {
	Body    string    `json:"body"`
	Fetched time.Time `json:"fetched"`
	rules   *robots
}

// New returns a Syncer for cfg.
func New(cfg Config) *Syncer {
	if cfg.Client == nil {
		cfg.Client = fetch.NewClient(fetch.Policy{})
	}
	if cfg.HostRate <= 0 {
		cfg.HostRate = DefaultHostRate
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = corpus.DefaultMaxFileBytes
	}
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = DefaultMaxEntries
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Syncer{cfg: cfg, log: log, turn: make(chan struct{}, 1),
		limiters: map[string]*rate.Limiter{}}
	client := *cfg.Client // the caller's client is left as it was
	next := client.CheckRedirect
	client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if next != nil {
			if err := next(req, via); err != nil {
				return err
			}
		} else if len(via) >= 10 { // net/http's own bound
			return errors.New("feeds: stopped after 10 redirects")
		}
		return s.redirect(req, via)
	}
	s.client = &client
	return s
}

// reportKey carries the Report of a request in its context, so that a
// redirect is counted in it.
type reportKey struct{}

// redirect lets a redirected request go on only as get would send it:
// allowed by robots.txt, at the host's rate, and counted. A robots.txt
// request follows its redirects unchecked (RFC 9309), or reading one would
// need another.
func (s *Syncer) redirect(req *http.Request, via []*http.Request) error {
	ctx := req.Context()
	rep, _ := ctx.Value(reportKey{}).(*Report)
	if rep == nil {
		rep = &Report{}
	}
	if via[0].URL.Path != "/robots.txt" {
		if err := s.allowed(ctx, req.URL, rep); err != nil {
			return err
		}
	}
	if err := s.limiter(req.URL.Host).Wait(ctx); err != nil {
		return fmt.Errorf("feeds: %w", err)
	}
	rep.Requests++
	return nil
}

// wait takes the Syncer's turn, giving up when ctx ends first: an Add
// behind a long sync fails with ctx's error rather than outliving it.
func (s *Syncer) wait(ctx context.Context) (done func(), err error) {
	select {
	case s.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("feeds: waiting for the sync in progress: %w", ctx.Err())
	}
	// Another process (verbatim sync beside serve) takes turns through a
	// lock file in StateDir.
	lock, err := s.lockState(ctx)
	if err != nil {
		<-s.turn
		return nil, err
	}
	s.unreadable = map[string]error{}
	return func() {
		_ = lock.Unlock()
		<-s.turn
	}, nil
}

// lockRetry is how often a sync waiting for another process's tries the
// lock again.
const lockRetry = 100 * time.Millisecond

// lockState takes the lock file of StateDir (github.com/gofrs/flock),
// waiting until ctx is done.
func (s *Syncer) lockState(ctx context.Context) (*flock.Flock, error) {
	if err := os.MkdirAll(s.cfg.StateDir, 0o755); err != nil {
		return nil, fmt.Errorf("feeds: %w", err)
	}
	lock := flock.New(filepath.Join(s.cfg.StateDir, "sync.lock"))
	ok, err := lock.TryLockContext(ctx, lockRetry)
	switch {
	case err != nil && ctx.Err() != nil:
		return nil, fmt.Errorf("feeds: waiting for the sync of another process: %w", ctx.Err())
	case err != nil:
		return nil, fmt.Errorf("feeds: locking the sync state: %w", err)
	case !ok:
		return nil, errors.New("feeds: the sync state is locked by another process")
	}
	return lock, nil
}

// Report says what an Add or Sync did.
type Report struct {
	Sources     int // subscriptions synced
	Requests    int // HTTP requests made, robots.txt included
	Conditional int // of which conditional (If-None-Match or If-Modified-Since)
	NotModified int // answered 304
	Added       int // entries saved for the first time
	Updated     int // entries whose saved page changed
	Unchanged   int // entries left as they were
	Removed     int // articles deleted because their entry is gone (Prune)
	Failed      int // entries that could not be fetched or saved
	// Errors lists the subscriptions whose feed or sitemap failed, with
	// why; their articles stay.
	Errors []SourceError
}

// SourceError is a subscription's failure in a sync.
type SourceError struct {
	Source string // the subscription's URL
	Err    string
}

// Changed reports whether the articles folder changed, so that the index
// should be reloaded.
func (r Report) Changed() bool { return r.Added+r.Updated+r.Removed > 0 }

// Added is what Add did with a URL.
type Added struct {
	// PageName and PageData are set when the URL is an article page, as
	// corpus.Page names and prepares it: for corpus.Import.
	PageName string
	PageData []byte
	// Subscription is set when the URL is a feed or sitemap: it is now
	// subscribed and synced once, as Report says.
	Subscription *Subscription
	Existed      bool // it was subscribed already
	Report       Report
}

// Add downloads rawURL. A feed or sitemap is subscribed (a subscription
// file is written in the articles folder, or found there) and synced at
// once; anything else is returned for the caller to save as a page. Add
// waits for a Sync in progress, until ctx ends.
func (s *Syncer) Add(ctx context.Context, rawURL string) (*Added, error) {
	return s.AddIn(ctx, rawURL, "")
}

// AddIn is Add saving a new subscription's entries inside collection, a
// sub-folder of the articles folder ("" for the folder itself), so that a
// channel limited to that collection sees them.
func (s *Syncer) AddIn(ctx context.Context, rawURL, collection string) (*Added, error) {
	if collection != "" && !insideFolder(collection) {
		return nil, fmt.Errorf("feeds: collection %q is not a folder inside the articles folder", collection)
	}
	done, err := s.wait(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	var rep Report
	resp, err := s.get(ctx, fetch.Request{URL: rawURL, Accept: addAccept, MaxBytes: s.cfg.MaxBytes}, &rep)
	if err != nil {
		return nil, err
	}
	body, err := gunzip(resp.Body, maxListingBytes)
	if err != nil {
		return nil, err
	}
	kind := detect(body)
	if kind == "" {
		name, data, err := corpus.Page(resp.URL, resp.MediaType, resp.Body)
		if err != nil {
			return nil, err
		}
		return &Added{PageName: name, PageData: data}, nil
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("feeds: %w", err)
	}
	u.User, u.Fragment, u.RawFragment = nil, "", ""
	sub, existed, err := s.subscribe(u.String(), kind, collection)
	if err != nil {
		return nil, err
	}
	first := &document{url: sub.URL, resp: resp, body: body}
	rep.Sources = 1
	if err := s.syncOne(ctx, sub, first, &rep); err != nil {
		return nil, err
	}
	return &Added{Subscription: sub, Existed: existed, Report: rep}, nil
}

// subscribe finds the subscription to link, or writes a new one whose
// entries go in collection.
func (s *Syncer) subscribe(link string, kind Kind, collection string) (*Subscription, bool, error) {
	subs, _, err := subscriptions(s.cfg.ArticlesDir)
	if err != nil {
		return nil, false, err
	}
	names := map[string]bool{}
	for _, sub := range subs {
		if sub.URL == link {
			return sub, true, nil
		}
		names[sub.name] = true
		names[sub.Folder] = true
	}
	u, _ := url.Parse(link)
	name := corpus.Slug(u.Host + u.Path + "?" + u.RawQuery)
	if name == "" {
		name = "subscription"
	}
	if len(name) > 80 {
		name = strings.TrimRight(name[:80], "-")
	}
	folder := path.Join(collection, name)
	if names[name] || names[folder] || exists(filepath.Join(s.cfg.ArticlesDir, filepath.FromSlash(folder))) {
		sum := sha256.Sum256([]byte(link))
		name += "-" + hex.EncodeToString(sum[:3])
		folder = path.Join(collection, name)
	}
	sub := &Subscription{URL: link, Kind: kind, Folder: folder, Added: time.Now().UTC().Truncate(time.Second), name: name}
	if err := writeSubscription(s.cfg.ArticlesDir, sub); err != nil {
		return nil, false, err
	}
	return sub, false, nil
}

// Sync syncs every subscription once. A failing feed, sitemap or page is
// recorded in the Report and in the subscription's state, never aborting
// the rest; Sync fails only when the articles folder or its state cannot
// be read or written, or when ctx ends (waiting for an Add included).
func (s *Syncer) Sync(ctx context.Context) (Report, error) {
	var rep Report
	done, err := s.wait(ctx)
	if err != nil {
		return rep, err
	}
	defer done()
	subs, bad, err := subscriptions(s.cfg.ArticlesDir)
	if err != nil {
		return rep, err
	}
	for name, err := range bad {
		rep.Errors = append(rep.Errors, SourceError{Source: name, Err: err.Error()})
	}
	for _, sub := range subs {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		rep.Sources++
		if err := s.syncOne(ctx, sub, nil, &rep); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

func (s *Syncer) statePath(sub *Subscription) string {
	return filepath.Join(s.cfg.StateDir, sub.name+".json")
}

// document is a feed or sitemap already downloaded.
type document struct {
	url  string
	resp *fetch.Response
	body []byte // uncompressed
}

// syncOne syncs sub, starting from its document first when it has just
// been downloaded. Only a failure to keep its state is returned.
func (s *Syncer) syncOne(ctx context.Context, sub *Subscription, first *document, rep *Report) error {
	st, err := readState(s.statePath(sub))
	if err != nil {
		return err
	}
	if st.Docs == nil {
		st.Docs = map[string]*docState{}
	}
	if st.Entries == nil {
		st.Entries = map[string]*entry{}
	}
	st.LastSync = time.Now().UTC()
	entries, docErrs := s.list(ctx, sub, st, first, rep)
	if len(docErrs) > 0 {
		st.LastError = strings.Join(docErrs, "; ")
		rep.Errors = append(rep.Errors, SourceError{Source: sub.URL, Err: st.LastError})
		s.log.Warn("sync: feed or sitemap failed", "source", sub.URL, "err", st.LastError)
	} else {
		st.LastError = ""
		st.LastOK = st.LastSync
	}
	if entries != nil {
		s.markGone(sub, st, entries, len(docErrs) == 0, rep)
		for i, l := range entries {
			if i >= s.cfg.MaxEntries || ctx.Err() != nil {
				break
			}
			s.entry(ctx, sub, st, l, rep)
			if (i+1)%checkpointEvery == 0 { // a long first sync cut short keeps what it learnt
				if err := writeState(s.statePath(sub), st); err != nil {
					return err
				}
			}
		}
	}
	return writeState(s.statePath(sub), st)
}

// markGone marks the entries no longer listed, and with Prune (and a
// complete listing) deletes their articles. A listing with no entries at
// all is taken for a broken feed, not an emptied one: nothing is marked.
func (s *Syncer) markGone(sub *Subscription, st *state, listed []listedIn, complete bool, rep *Report) {
	if !complete || len(listed) == 0 {
		return
	}
	now := map[string]bool{}
	for _, l := range listed {
		now[l.url] = true
	}
	inUse := map[string]bool{} // files of listed entries, which may share one
	for u, e := range st.Entries {
		if now[u] && e.File != "" {
			inUse[e.File] = true
		}
	}
	for u, e := range st.Entries {
		if now[u] {
			continue
		}
		e.Gone = true
		if !s.cfg.Prune {
			continue
		}
		if e.File != "" && !inUse[e.File] {
			err := corpus.RemoveArticle(filepath.Join(s.cfg.ArticlesDir, sub.Folder, e.File))
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				s.log.Warn("sync: removing a gone entry", "file", e.File, "err", err)
				continue
			}
			if err == nil {
				rep.Removed++
			}
		}
		delete(st.Entries, u)
	}
}

// listedIn is an entry and the document that lists it.
type listedIn struct {
	listed
	doc string
}

// list returns the entries sub lists now, reading its feed or sitemap
// (and a sitemap index's sitemaps) conditionally, and the errors of the
// documents that failed. The entries are nil when the top document
// failed.
func (s *Syncer) list(ctx context.Context, sub *Subscription, st *state, first *document, rep *Report) ([]listedIn, []string) {
	var out []listedIn
	var errs []string
	seen := map[string]bool{}
	queue := []listed{{url: sub.URL}}
	for depth := 0; len(queue) > 0 && depth < 2; depth++ {
		var next []listed
		for _, d := range queue {
			if seen[d.url] {
				continue
			}
			seen[d.url] = true
			var doc *document
			if depth == 0 {
				doc = first
			}
			entries, children, err := s.document(ctx, sub, st, d, doc, rep)
			if err != nil {
				if depth == 0 {
					return nil, []string{err.Error()}
				}
				errs = append(errs, d.url+": "+err.Error())
				out = append(out, stored(st, d.url)...) // its entries stay listed
				continue
			}
			out = append(out, entries...)
			next = append(next, children...)
		}
		queue = next
	}
	return out, errs
}

// stored returns the entries st has from the document doc.
func stored(st *state, doc string) []listedIn {
	var out []listedIn
	for u, e := range st.Entries {
		if e.Doc == doc && !e.Gone {
			out = append(out, listedIn{listed: listed{url: u, updated: e.Updated, author: e.Author, published: e.Published}, doc: doc})
		}
	}
	slices.SortFunc(out, func(a, b listedIn) int { return strings.Compare(a.url, b.url) })
	return out
}

// document reads one feed or sitemap d (downloaded already when doc is
// set), or takes what it listed from st when it has not changed.
func (s *Syncer) document(ctx context.Context, sub *Subscription, st *state, d listed, doc *document, rep *Report) ([]listedIn, []listed, error) {
	ds := st.Docs[d.url]
	if ds != nil && d.updated != "" && ds.Updated == d.updated {
		return stored(st, d.url), ds.Children, nil // a sitemap index says it has not changed
	}
	if doc == nil {
		req := fetch.Request{URL: d.url, Accept: listingAccept, MaxBytes: s.cfg.MaxBytes}
		if ds != nil {
			req.ETag, req.LastModified = ds.ETag, ds.LastModified
		}
		resp, err := s.get(ctx, req, rep)
		if err != nil {
			return nil, nil, err
		}
		doc = &document{url: d.url, resp: resp}
		if !resp.NotModified {
			if doc.body, err = gunzip(resp.Body, maxListingBytes); err != nil {
				return nil, nil, err
			}
		}
	}
	if doc.resp.NotModified && ds != nil {
		ds.Updated = d.updated
		return stored(st, d.url), ds.Children, nil
	}
	kind := detect(doc.body)
	if kind == "" {
		return nil, nil, fmt.Errorf("%w: not a feed or sitemap any more", ErrMalformed)
	}
	l, err := parse(kind, doc.body, doc.resp.URL)
	if err != nil {
		return nil, nil, err
	}
	if sub.Title == "" && l.title != "" && d.url == sub.URL {
		sub.Title = l.title
		if err := writeSubscription(s.cfg.ArticlesDir, sub); err != nil {
			s.log.Warn("sync: saving the title", "source", sub.URL, "err", err)
		}
	}
	st.Docs[d.url] = &docState{ETag: doc.resp.ETag, LastModified: doc.resp.LastModified, Updated: d.updated, Children: l.children}
	out := make([]listedIn, len(l.entries))
	for i, e := range l.entries {
		out[i] = listedIn{listed: e, doc: d.url}
	}
	return out, l.children, nil
}

// entry brings one listed entry up to date: no request when the listing
// dates it as saved, else a conditional request, and a write only when
// the page changed.
func (s *Syncer) entry(ctx context.Context, sub *Subscription, st *state, l listedIn, rep *Report) {
	e := st.Entries[l.url]
	if e == nil {
		e = &entry{}
		st.Entries[l.url] = e
	}
	e.Doc, e.Gone, e.Author, e.Published = l.doc, false, l.author, l.published
	dir := filepath.Join(s.cfg.ArticlesDir, sub.Folder)
	saved := e.File != "" && exists(filepath.Join(dir, e.File))
	if saved && e.Error == "" && l.updated != "" && l.updated == e.Updated {
		rep.Unchanged++
		return
	}
	req := fetch.Request{URL: l.url, Accept: corpus.PageAccept, MaxBytes: s.cfg.MaxBytes}
	if saved {
		req.ETag, req.LastModified = e.ETag, e.LastModified
	}
	fail := func(err error) {
		e.Error = err.Error()
		rep.Failed++
		s.log.Warn("sync: entry failed", "source", sub.URL, "entry", l.url, "err", err)
	}
	resp, err := s.get(ctx, req, rep)
	if err != nil {
		fail(err)
		return
	}
	if resp.NotModified {
		e.Updated, e.Error = l.updated, ""
		rep.Unchanged++
		return
	}
	name, data, err := corpus.Page(resp.URL, resp.MediaType, resp.Body)
	if err != nil {
		fail(err)
		return
	}
	if strings.HasSuffix(name, ".html") {
		data = corpus.WithMeta(data, l.author, l.published)
	}
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])
	if saved && hash == e.Hash {
		rep.Unchanged++
	} else {
		file, err := s.save(ctx, dir, fileFor(st, e, saved, l.url, name, hash), resp.URL.String(), data)
		if err != nil {
			fail(err)
			return
		}
		if saved && file != e.File {
			os.Remove(filepath.Join(dir, e.File))
		}
		if saved {
			rep.Updated++
		} else {
			rep.Added++
		}
		e.File, e.Hash = file, hash
	}
	e.ETag, e.LastModified, e.Updated, e.Error = resp.ETag, resp.LastModified, l.updated, ""
}

// fileFor is the name the page of the entry e at link, first named name,
// is saved under: the entry's file, if saved with that extension, so that
// the article keeps its ID; else a name no other entry's article has.
func fileFor(st *state, e *entry, saved bool, link, name, hash string) string {
	if saved && filepath.Ext(e.File) == filepath.Ext(name) {
		return e.File
	}
	return unclaimed(st, link, name, hash)
}

// unclaimed returns name for the entry at link, unless another entry of st
// saved its article under that name (two URLs may slug to one name, such
// as /a-b and /a/b): then the name starts with 8 hex digits of the SHA-256
// of link, so that neither article replaces the other. Long URLs that
// differ only past the length a file name keeps collide the same way.
//
// An entry whose page is the same as the other's (two links redirected to
// one page) shares its file rather than adding the article twice.
func unclaimed(st *state, link, name, hash string) string {
	if n, err := corpus.FileName(name); err == nil {
		name = n // as Import will name it, a long one cut short
	}
	for u, e := range st.Entries {
		if u != link && e.File == name && e.Hash != hash {
			sum := sha256.Sum256([]byte(link))
			return hex.EncodeToString(sum[:4]) + "-" + name
		}
	}
	return name
}

// save writes the page data as the file name in dir, replacing any older
// version at once. It is checked first by corpus.Import, in a folder that
// the corpus loader skips, so that only a page that loads as an article
// is saved. It returns the file's name.
func (s *Syncer) save(ctx context.Context, dir, name, pageURL string, data []byte) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("feeds: %w", err)
	}
	tmp, err := os.MkdirTemp(dir, ".sync-")
	if err != nil {
		return "", fmt.Errorf("feeds: %w", err)
	}
	defer os.RemoveAll(tmp)
	imp, err := corpus.Import(ctx, tmp, name, data, corpus.Options{MaxFileBytes: s.cfg.MaxBytes, SourceURL: pageURL})
	if err != nil {
		return "", err
	}
	if err := imp.Move(dir); err != nil {
		return "", fmt.Errorf("feeds: %w", err)
	}
	return filepath.Base(imp.Path), nil
}

// get makes one request under the policy of the Syncer: robots.txt first,
// then the host's rate.
func (s *Syncer) get(ctx context.Context, req fetch.Request, rep *Report) (*fetch.Response, error) {
	u, err := url.Parse(req.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fetch.Get(ctx, s.client, req) // refused there, with its error
	}
	if err := s.allowed(ctx, u, rep); err != nil {
		return nil, err
	}
	return s.do(ctx, u.Host, req, rep)
}

// allowed checks u against its host's robots.txt.
func (s *Syncer) allowed(ctx context.Context, u *url.URL, rep *Report) error {
	rules, err := s.robotsFor(ctx, u, rep)
	if err != nil {
		return err
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	if u.RawQuery != "" {
		path += "?" + u.RawQuery
	}
	if !rules.allowed(path) {
		return fmt.Errorf("%w: %s", ErrDisallowed, path)
	}
	return nil
}

// do sends req at the host's rate and counts it.
func (s *Syncer) do(ctx context.Context, host string, req fetch.Request, rep *Report) (*fetch.Response, error) {
	lim := s.limiter(host)
	if err := lim.Wait(ctx); err != nil {
		return nil, fmt.Errorf("feeds: %w", err)
	}
	rep.Requests++
	if req.ETag != "" || req.LastModified != "" {
		rep.Conditional++
	}
	resp, err := fetch.Get(context.WithValue(ctx, reportKey{}, rep), s.client, req)
	if err == nil && resp.NotModified {
		rep.NotModified++
	}
	return resp, err
}

func (s *Syncer) limiter(host string) *rate.Limiter {
	lim := s.limiters[host]
	if lim == nil {
		lim = rate.NewLimiter(rate.Limit(s.cfg.HostRate), 1)
		s.limiters[host] = lim
	}
	return lim
}

// robotsFor returns the robots.txt rules of u's host, read at most once
// per robotsTTL. A robots.txt that is missing (4xx) allows everything;
// one that cannot be read (5xx, network) disallows everything, as RFC 9309
// asks, for the rest of the Add or Sync: the error wraps ErrDisallowed
// and the reason.
func (s *Syncer) robotsFor(ctx context.Context, u *url.URL, rep *Report) (*robots, error) {
	key := u.Scheme + "://" + u.Host
	if s.robots == nil {
		s.robots = s.readRobots()
	}
	if err := s.unreadable[key]; err != nil {
		return nil, err
	}
	if c := s.robots[key]; c != nil && time.Since(c.Fetched) < robotsTTL {
		if c.rules == nil {
			c.rules = parseRobots([]byte(c.Body), robotsAgent)
		}
		s.slowDown(u.Host, c.rules)
		return c.rules, nil
	}
	resp, err := s.do(ctx, u.Host, fetch.Request{URL: key + "/robots.txt", Accept: "text/plain", MaxBytes: 500 << 10}, rep)
	var status *fetch.StatusError
	var body []byte
	switch {
	case err == nil:
		body = resp.Body
	case errors.As(err, &status) && status.Code >= 400 && status.Code < 500:
	case errors.Is(err, fetch.ErrNotPublic): // the policy refuses the host itself
		return nil, fmt.Errorf("%s: %w", u.Redacted(), fetch.ErrNotPublic)
	default:
		err = fmt.Errorf("%w: robots.txt could not be read: %w", ErrDisallowed, err)
		if ctx.Err() == nil { // not the host's fault
			s.unreadable[key] = err
		}
		return nil, err
	}
	c := &robotsCache{Body: string(body), Fetched: time.Now().UTC(), rules: parseRobots(body, robotsAgent)}
	s.robots[key] = c
	s.writeRobots()
	s.slowDown(u.Host, c.rules)
	return c.rules, nil
}

// slowDown lowers the host's rate to its robots.txt Crawl-delay.
func (s *Syncer) slowDown(host string, rules *robots) {
	if rules.crawlDelay > 0 {
		if r := rate.Every(rules.crawlDelay); r < rate.Limit(s.cfg.HostRate) {
			s.limiter(host).SetLimit(r)
		}
	}
}

func (s *Syncer) robotsPath() string { return filepath.Join(s.cfg.StateDir, "robots.json") }

func (s *Syncer) readRobots() map[string]*robotsCache {
	m := map[string]*robotsCache{}
	if data, err := os.ReadFile(s.robotsPath()); err == nil {
		_ = json.Unmarshal(data, &m) // a damaged file is read again from the hosts
	}
	return m
}

func (s *Syncer) writeRobots() {
	data, err := json.Marshal(s.robots)
	if err == nil {
		err = os.MkdirAll(s.cfg.StateDir, 0o755)
	}
	if err == nil {
		err = writeAtomic(s.robotsPath(), data)
	}
	if err != nil {
		s.log.Warn("sync: saving robots.txt", "err", err)
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
