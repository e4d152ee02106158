package feeds_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofrs/flock"
	"github.com/verbatim-bot/verbatim/corpus"
	"github.com/verbatim-bot/verbatim/corpus/feeds"
	"github.com/verbatim-bot/verbatim/corpus/feeds/feedsfake"
	"github.com/verbatim-bot/verbatim/corpus/fetch"
	"github.com/verbatim-bot/verbatim/retrieval"
)

// world is a feedsfake site, an articles folder, a Syncer on them and an
// index over the folder.
type world struct {
	t        *testing.T
	site     *feedsfake.Site
	articles string
	syncer   *feeds.Syncer
	ix       *retrieval.Index
}

func newWorld(t *testing.T, prune bool) *world {
	t.Helper()
	w := &world{t: t, site: feedsfake.New(t), articles: t.TempDir()}
	w.syncer = feeds.New(feeds.Config{
		ArticlesDir: w.articles,
		StateDir:    t.TempDir(),
		Client:      fetch.NewClient(fetch.Policy{AllowPrivate: true}),
		HostRate:    1000,
		Prune:       prune,
	})
	ix, err := retrieval.Open(context.Background(), retrieval.Config{Embedder: retrieval.NewLocal(0), Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	w.ix = ix
	return w
}

// story returns three distinct paragraphs for article n.
func story(n int, edit string) []string {
	return []string{
		fmt.Sprintf("The harbour master of town %d counted forty fishing boats in the bay on Monday morning.", n),
		fmt.Sprintf("Volunteers in town %d repainted the old lighthouse and cleared the path to the pier%s.", n, edit),
		fmt.Sprintf("The council of town %d will decide next week whether to rebuild the eastern breakwater.", n),
	}
}

// reload loads the articles folder into the index.
func (w *world) reload() retrieval.Stats {
	w.t.Helper()
	c, err := corpus.LoadDir(context.Background(), w.articles, corpus.Options{})
	if err != nil {
		w.t.Fatal(err)
	}
	st, err := w.ix.Load(context.Background(), c, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	return st
}

func (w *world) sync() feeds.Report {
	w.t.Helper()
	rep, err := w.syncer.Sync(context.Background())
	if err != nil {
		w.t.Fatal(err)
	}
	return rep
}

// unconditional returns the paths of the requests the site served
// without If-None-Match or If-Modified-Since.
func unconditional(reqs []feedsfake.Request) []string {
	var out []string
	for _, r := range reqs {
		if !r.Conditional {
			out = append(out, r.Path)
		}
	}
	return out
}

func TestSyncFetchesOnlyWhatChanged(t *testing.T) {
	for _, tc := range []struct {
		doc     string
		undated bool
	}{
		{doc: feedsfake.RSS}, {doc: feedsfake.Atom}, {doc: feedsfake.JSONFeed},
		{doc: feedsfake.Sitemap}, {doc: feedsfake.SitemapGzip}, {doc: feedsfake.SitemapIndex},
		{doc: feedsfake.RSS, undated: true}, {doc: feedsfake.Sitemap, undated: true},
	} {
		doc := tc.doc
		name := strings.TrimPrefix(doc, "/")
		if tc.undated {
			name += " without dates"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, false)
			w.site.OmitDates(tc.undated)
			for i := 1; i <= 3; i++ {
				w.site.Set(fmt.Sprintf("/news/story-%d", i), fmt.Sprintf("Story %d", i), story(i, "")...)
			}
			added, err := w.syncer.Add(context.Background(), w.site.URL(doc))
			if err != nil {
				t.Fatal(err)
			}
			if added.Subscription == nil || added.Report.Added != 3 || added.Report.Failed != 0 {
				t.Fatalf("Add = %+v", added)
			}
			first := w.reload()
			if first.Articles != 3 || first.Embedded != 9 {
				t.Fatalf("first load: %d articles, %d embedded; want 3 and 9", first.Articles, first.Embedded)
			}
			w.site.Requests()

			// Nothing changed: only conditional requests (or none), nothing saved, nothing embedded.
			rep := w.sync()
			reqs := w.site.Requests()
			if u := unconditional(reqs); len(u) > 0 || rep.Changed() || rep.Unchanged != 3 {
				t.Errorf("unchanged sync: report %+v, unconditional requests %v", rep, u)
			}
			// The document (and an index's sitemap) one conditional request
			// each; dated entries nothing, undated ones one conditional each.
			want := 1
			if doc == feedsfake.SitemapIndex {
				want++
			}
			if tc.undated {
				want += 3
			}
			if len(reqs) != want {
				t.Errorf("unchanged sync made %d requests (%v), want %d", len(reqs), reqs, want)
			}
			if st := w.reload(); st.Embedded != 0 || st.Articles != 3 {
				t.Errorf("unchanged sync then load: %d embedded, %d articles; want 0 and 3", st.Embedded, st.Articles)
			}

			// One paragraph of one entry edited: that entry is fetched, one paragraph re-embedded.
			w.site.Set("/news/story-2", "Story 2", story(2, " before the summer")...)
			rep = w.sync()
			if rep.Updated != 1 || rep.Added != 0 || rep.Unchanged != 2 {
				t.Errorf("edited sync: %+v", rep)
			}
			if st := w.reload(); st.Embedded != 1 || st.Changed != 1 {
				t.Errorf("edited sync then load: %d embedded, %d changed; want 1 and 1", st.Embedded, st.Changed)
			}

			// A fourth entry: exactly one article more.
			w.site.Set("/news/story-4", "Story 4", story(4, "")...)
			rep = w.sync()
			if rep.Added != 1 || rep.Updated != 0 {
				t.Errorf("new entry sync: %+v", rep)
			}
			if st := w.reload(); st.Articles != 4 || st.Embedded != 3 {
				t.Errorf("after the fourth entry: %d articles, %d embedded; want 4 and 3", st.Articles, st.Embedded)
			}
		})
	}
}

func TestFailingFeedKeepsArticles(t *testing.T) {
	for _, tc := range []struct {
		name  string
		brk   func(*feedsfake.Site)
		error string
	}{
		{"500", func(s *feedsfake.Site) { s.FailFeeds(http.StatusInternalServerError) }, "500"},
		{"malformed XML", func(s *feedsfake.Site) { s.BreakFeeds(true) }, "malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, true) // even with Prune, a failed listing deletes nothing
			for i := 1; i <= 2; i++ {
				w.site.Set(fmt.Sprintf("/news/story-%d", i), fmt.Sprintf("Story %d", i), story(i, "")...)
			}
			if _, err := w.syncer.Add(context.Background(), w.site.URL(feedsfake.RSS)); err != nil {
				t.Fatal(err)
			}
			w.reload()
			tc.brk(w.site)
			w.site.Set("/news/story-2", "Story 2", story(2, " again")...)
			rep := w.sync()
			if len(rep.Errors) != 1 || !strings.Contains(rep.Errors[0].Err, tc.error) {
				t.Errorf("report errors = %+v, want one mentioning %q", rep.Errors, tc.error)
			}
			st := w.reload()
			if st.Articles != 2 || st.Removed != 0 {
				t.Errorf("after the failed sync: %d articles, %d paragraphs removed; want 2 and 0", st.Articles, st.Removed)
			}
			res, err := w.ix.Search(context.Background(), "harbour master boats town 1", retrieval.SearchOptions{K: 1})
			if err != nil || len(res) == 0 || !strings.Contains(res[0].Paragraph.Text, "town 1 counted forty") {
				t.Errorf("search after the failed sync = %v, %v", res, err)
			}
			srcs, err := w.syncer.Sources()
			if err != nil {
				t.Fatal(err)
			}
			if len(srcs) != 1 || !strings.Contains(srcs[0].LastError, tc.error) || srcs[0].Saved != 2 || srcs[0].LastSync.IsZero() {
				t.Errorf("Sources = %+v", srcs)
			}

			// Mended: the error clears and the edit arrives.
			w.site.FailFeeds(0)
			w.site.BreakFeeds(false)
			if rep := w.sync(); len(rep.Errors) != 0 || rep.Updated != 1 {
				t.Errorf("mended sync: %+v", rep)
			}
			if srcs, _ := w.syncer.Sources(); srcs[0].LastError != "" {
				t.Errorf("error after mending = %q", srcs[0].LastError)
			}
		})
	}
}

func TestRemovedEntriesKeptUnlessPrune(t *testing.T) {
	for _, prune := range []bool{false, true} {
		t.Run(fmt.Sprintf("prune=%v", prune), func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, prune)
			w.site.Set("/news/story-1", "Story 1", story(1, "")...)
			w.site.Set("/news/story-2", "Story 2", story(2, "")...)
			if _, err := w.syncer.Add(context.Background(), w.site.URL(feedsfake.Sitemap)); err != nil {
				t.Fatal(err)
			}
			w.site.Remove("/news/story-2")
			rep := w.sync()
			want, removed := 2, 0
			if prune {
				want, removed = 1, 1
			}
			if rep.Removed != removed {
				t.Errorf("removed = %d, want %d", rep.Removed, removed)
			}
			if st := w.reload(); st.Articles != want {
				t.Errorf("%d articles, want %d", st.Articles, want)
			}
			srcs, _ := w.syncer.Sources()
			if gone := srcs[0].Gone; gone != 1-removed {
				t.Errorf("gone = %d, want %d", gone, 1-removed)
			}
		})
	}
}

// TestEmptiedListingPrunesNothing checks that with SYNC_PRUNE a sitemap
// that suddenly lists nothing (a broken CMS, say) deletes no article.
func TestEmptiedListingPrunesNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t, true)
	w.site.Set("/news/story-1", "Story 1", story(1, "")...)
	w.site.Set("/news/story-2", "Story 2", story(2, "")...)
	if _, err := w.syncer.Add(context.Background(), w.site.URL(feedsfake.Sitemap)); err != nil {
		t.Fatal(err)
	}
	w.site.Remove("/news/story-1")
	w.site.Remove("/news/story-2")
	if rep := w.sync(); rep.Removed != 0 {
		t.Errorf("removed = %d, want 0", rep.Removed)
	}
	if st := w.reload(); st.Articles != 2 {
		t.Errorf("%d articles, want the 2 kept", st.Articles)
	}
}

func TestRobotsAndPages(t *testing.T) {
	t.Parallel()
	w := newWorld(t, false)
	w.site.Set("/news/story-1", "Story 1", story(1, "")...)
	w.site.Set(feedsfake.Disallowed+"story-2", "Story 2", story(2, "")...)
	added, err := w.syncer.Add(context.Background(), w.site.URL(feedsfake.RSS))
	if err != nil {
		t.Fatal(err)
	}
	if added.Report.Added != 1 || added.Report.Failed != 1 {
		t.Errorf("Add = %+v, want the disallowed entry failed", added.Report)
	}
	for _, r := range w.site.Requests() {
		if strings.HasPrefix(r.Path, feedsfake.Disallowed) {
			t.Errorf("fetched %s, which robots.txt disallows", r.Path)
		}
	}
	// A page is not subscribed: it comes back for the caller to import.
	page, err := w.syncer.Add(context.Background(), w.site.URL("/news/story-1"))
	if err != nil || page.Subscription != nil || page.PageName != "127-0-0-1-news-story-1.html" || !strings.Contains(string(page.PageData), `rel="canonical"`) {
		t.Errorf("Add(page) = %+v, %v", page, err)
	}
	// The subscription file is in the folder, and not an article.
	files, _ := filepath.Glob(filepath.Join(w.articles, "*"+feeds.SubscriptionSuffix))
	if len(files) != 1 {
		t.Fatalf("subscription files = %v", files)
	}
	data, _ := os.ReadFile(files[0])
	if !strings.Contains(string(data), "url: "+w.site.URL(feedsfake.RSS)) || !strings.Contains(string(data), "kind: feed") {
		t.Errorf("subscription file:\n%s", data)
	}
	c, err := corpus.LoadDir(context.Background(), w.articles, corpus.Options{})
	if err != nil || len(c.Articles) != 1 || len(c.Skipped) != 0 {
		t.Errorf("LoadDir = %+v, %v; want only the one entry", c, err)
	}
	// Subscribing again finds the same subscription.
	again, err := w.syncer.Add(context.Background(), w.site.URL(feedsfake.RSS))
	if err != nil || !again.Existed {
		t.Errorf("second Add = %+v, %v", again, err)
	}
}

func TestDefaultPolicyRefusesLoopback(t *testing.T) {
	t.Parallel()
	site := feedsfake.New(t)
	s := feeds.New(feeds.Config{ArticlesDir: t.TempDir(), StateDir: t.TempDir()})
	if _, err := s.Add(context.Background(), site.URL(feedsfake.RSS)); err == nil || !strings.Contains(err.Error(), "not a public") {
		t.Errorf("Add of a loopback feed = %v, want refused", err)
	}
}

func TestRunReloadsAfterAChange(t *testing.T) {
	t.Parallel()
	w := newWorld(t, false)
	w.site.Set("/news/story-1", "Story 1", story(1, "")...)
	if _, err := w.syncer.Add(context.Background(), w.site.URL(feedsfake.RSS)); err != nil {
		t.Fatal(err)
	}
	w.reload()
	w.site.Set("/news/story-2", "Story 2", story(2, "")...)
	ctx, cancel := context.WithCancel(context.Background())
	reloaded := make(chan retrieval.Stats, 1)
	done := make(chan error, 1)
	go func() {
		done <- w.syncer.Run(ctx, time.Hour, func(context.Context) error {
			reloaded <- w.reload()
			return nil
		})
	}()
	st := <-reloaded // the first sync runs at once
	cancel()
	if err := <-done; err != context.Canceled {
		t.Errorf("Run returned %v, want context.Canceled", err)
	}
	if st.Articles != 2 || st.Embedded != 3 {
		t.Errorf("reload after the sync: %d articles, %d embedded; want 2 and 3", st.Articles, st.Embedded)
	}
}

func TestFeedMetadataKept(t *testing.T) {
	t.Parallel()
	w := newWorld(t, false)
	w.site.Set("/news/story-1", "Story 1", story(1, "")...)
	if _, err := w.syncer.Add(context.Background(), w.site.URL(feedsfake.Atom)); err != nil {
		t.Fatal(err)
	}
	c, err := corpus.LoadDir(context.Background(), w.articles, corpus.Options{})
	if err != nil || len(c.Articles) != 1 {
		t.Fatalf("LoadDir = %+v, %v", c, err)
	}
	a := c.Articles[0]
	if a.Author != feedsfake.Author || a.Published.IsZero() || a.URL != w.site.URL("/news/story-1") {
		t.Errorf("article metadata: author %q, published %v, URL %q", a.Author, a.Published, a.URL)
	}
}

func TestRobotsStatus(t *testing.T) {
	for _, tc := range []struct {
		status int
		allow  bool
	}{{http.StatusNotFound, true}, {http.StatusForbidden, true}, {http.StatusServiceUnavailable, false}} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, false)
			w.site.Set("/news/story-1", "Story 1", story(1, "")...)
			w.site.FailRobots(tc.status)
			added, err := w.syncer.Add(context.Background(), w.site.URL(feedsfake.RSS))
			if tc.allow {
				if err != nil || added.Report.Added != 1 {
					t.Errorf("robots.txt %d: Add = %+v, %v; want the feed read", tc.status, added, err)
				}
				return
			}
			if !errors.Is(err, feeds.ErrDisallowed) {
				t.Errorf("robots.txt %d: Add = %+v, %v; want ErrDisallowed", tc.status, added, err)
			}
			for _, r := range w.site.Requests() {
				if r.Path != feedsfake.Robots {
					t.Errorf("robots.txt %d: fetched %s", tc.status, r.Path)
				}
			}
		})
	}
}

func TestEntriesWhoseNamesCollideAreBothKept(t *testing.T) {
	t.Parallel()
	w := newWorld(t, false)
	// Both URLs slug to the same file name, and so do the two long ones,
	// which differ only past the length a file name keeps.
	w.site.Set("/news/a-b", "Story 1", story(1, "")...)
	w.site.Set("/news/a/b", "Story 2", story(2, "")...)
	long := "/news/" + strings.Repeat("harbour-", 15)
	w.site.Set(long+"one", "Story 3", story(3, "")...)
	w.site.Set(long+"two", "Story 4", story(4, "")...)
	added, err := w.syncer.Add(context.Background(), w.site.URL(feedsfake.RSS))
	if err != nil {
		t.Fatal(err)
	}
	if added.Report.Added != 4 || added.Report.Failed != 0 {
		t.Errorf("Add = %+v, want 4 added", added.Report)
	}
	if st := w.reload(); st.Articles != 4 {
		t.Errorf("%d articles after the sync, want 4", st.Articles)
	}
	// A later sync that updates one leaves the other in place.
	w.site.Set("/news/a/b", "Story 2", story(2, " again")...)
	if rep := w.sync(); rep.Updated != 1 || rep.Failed != 0 {
		t.Errorf("second sync = %+v, want 1 updated", rep)
	}
	c, err := corpus.LoadDir(context.Background(), w.articles, corpus.Options{})
	if err != nil || len(c.Articles) != 4 {
		t.Fatalf("LoadDir = %d articles, %v; want 4", len(c.Articles), err)
	}
	titles := map[string]bool{}
	for _, a := range c.Articles {
		titles[a.Title] = true
	}
	for i := 1; i <= 4; i++ {
		if !titles[fmt.Sprintf("Story %d", i)] {
			t.Errorf("titles = %v, want Story 1 to 4", titles)
		}
	}
}

func TestSourcesAndAddDuringASync(t *testing.T) {
	t.Parallel()
	entered, release := make(chan struct{}), make(chan struct{})
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/feed.xml":
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Slow</title><item><link>%s/story</link></item></channel></rss>`, srv.URL)
		case "/story":
			close(entered)
			<-release
			http.NotFound(w, r)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	s := feeds.New(feeds.Config{ArticlesDir: dir, StateDir: t.TempDir(),
		Client: fetch.NewClient(fetch.Policy{AllowPrivate: true}), HostRate: 1000})
	done := make(chan error, 1)
	go func() {
		_, err := s.Add(context.Background(), srv.URL+"/feed.xml")
		done <- err
	}()
	<-entered // the first sync is waiting for its entry
	// /sources must answer now, not when the sync ends: Discord gives an
	// interaction three seconds.
	srcs, err := s.Sources()
	if err != nil || len(srcs) != 1 {
		t.Errorf("Sources during a sync = %+v, %v; want the one subscription", srcs, err)
	}
	// An Add waiting behind the sync gives up when its context ends.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Add(ctx, srv.URL+"/feed.xml"); !errors.Is(err, context.Canceled) {
		t.Errorf("Add behind a sync with its context ended = %v, want context.Canceled", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestAddInCollection(t *testing.T) {
	t.Parallel()
	w := newWorld(t, false)
	w.site.Set("/news/story-1", "Story 1", story(1, "")...)
	added, err := w.syncer.AddIn(context.Background(), w.site.URL(feedsfake.RSS), "news")
	if err != nil || added.Report.Added != 1 {
		t.Fatalf("AddIn = %+v, %v", added, err)
	}
	c, err := corpus.LoadDir(context.Background(), w.articles, corpus.Options{})
	if err != nil || len(c.Articles) != 1 {
		t.Fatalf("LoadDir = %+v, %v", c, err)
	}
	if col := c.Articles[0].Collection(); col != "news" {
		t.Errorf("the entry's collection = %q, want news", col)
	}
	// A later sync keeps saving there.
	w.site.Set("/news/story-2", "Story 2", story(2, "")...)
	if rep := w.sync(); rep.Added != 1 {
		t.Errorf("sync = %+v", rep)
	}
	if c, _ := corpus.LoadDir(context.Background(), w.articles, corpus.Options{}); len(c.Articles) != 2 || c.Articles[1].Collection() != "news" {
		t.Errorf("after the sync: %+v", c.Articles)
	}
	for _, bad := range []string{"../outside", "/abs", ".hidden", "news/.x"} {
		if _, err := w.syncer.AddIn(context.Background(), w.site.URL(feedsfake.Atom), bad); err == nil {
			t.Errorf("AddIn in %q succeeded", bad)
		}
	}
}

// TestUnreadableRobotsAskedOncePerSync lists three entries on a host whose
// robots.txt answers 503: the sync stops fetching from that host, asking
// for its robots.txt once, not once per entry.
func TestUnreadableRobotsAskedOncePerSync(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var robots, pages int
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path == "/robots.txt" {
			robots++
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		pages++
		http.NotFound(w, r)
	}))
	defer other.Close()
	feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/feed.xml" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Elsewhere</title>`)
		for i := 1; i <= 3; i++ {
			fmt.Fprintf(w, `<item><link>%s/story-%d</link></item>`, other.URL, i)
		}
		fmt.Fprint(w, `</channel></rss>`)
	}))
	defer feed.Close()
	s := feeds.New(feeds.Config{ArticlesDir: t.TempDir(), StateDir: t.TempDir(),
		Client: fetch.NewClient(fetch.Policy{AllowPrivate: true}), HostRate: 1000})
	added, err := s.Add(context.Background(), feed.URL+"/feed.xml")
	if err != nil {
		t.Fatal(err)
	}
	if added.Report.Failed != 3 {
		t.Errorf("Add = %+v, want the 3 entries failed", added.Report)
	}
	mu.Lock()
	defer mu.Unlock()
	if robots != 1 || pages != 0 {
		t.Errorf("the other host got %d robots.txt and %d page requests, want 1 and 0", robots, pages)
	}
}

// TestRedirectObeysRobots lists an entry that redirects to a path
// robots.txt disallows: the redirect is not followed.
func TestRedirectObeysRobots(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var paths []string
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		switch r.URL.Path {
		case "/robots.txt":
			fmt.Fprint(w, "User-agent: *\nDisallow: /private/\n")
		case "/feed.xml":
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Moved</title><item><link>%s/go/1</link></item></channel></rss>`, srv.URL)
		case "/go/1":
			http.Redirect(w, r, "/private/1", http.StatusFound)
		default:
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, `<html><head><title>Secret</title></head><body><p>The private page says something nobody was meant to index here.</p></body></html>`)
		}
	}))
	defer srv.Close()
	s := feeds.New(feeds.Config{ArticlesDir: t.TempDir(), StateDir: t.TempDir(),
		Client: fetch.NewClient(fetch.Policy{AllowPrivate: true}), HostRate: 1000})
	added, err := s.Add(context.Background(), srv.URL+"/feed.xml")
	if err != nil {
		t.Fatal(err)
	}
	if added.Report.Failed != 1 || added.Report.Added != 0 {
		t.Errorf("Add = %+v, want the entry failed", added.Report)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, p := range paths {
		if strings.HasPrefix(p, "/private/") {
			t.Errorf("fetched %s, which robots.txt disallows (requests %v)", p, paths)
		}
	}
}

// TestEntriesRedirectedToOnePageShareIt lists two links that redirect to
// the same page: it is saved once, not as two copies of one article.
func TestEntriesRedirectedToOnePageShareIt(t *testing.T) {
	t.Parallel()
	var srv *httptest.Server
	var mu sync.Mutex
	links := []string{"/go/1", "/go/2"}
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/feed.xml":
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprint(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Tracked</title>`)
			mu.Lock()
			for _, l := range links {
				fmt.Fprintf(w, `<item><link>%s%s</link></item>`, srv.URL, l)
			}
			mu.Unlock()
			fmt.Fprint(w, `</channel></rss>`)
		case "/go/1", "/go/2":
			http.Redirect(w, r, "/story", http.StatusFound)
		case "/story":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, `<html><head><title>One Story</title></head><body><p>The harbour master counted forty fishing boats in the bay on Monday morning.</p></body></html>`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	s := feeds.New(feeds.Config{ArticlesDir: dir, StateDir: t.TempDir(),
		Client: fetch.NewClient(fetch.Policy{AllowPrivate: true}), HostRate: 1000, Prune: true})
	if _, err := s.Add(context.Background(), srv.URL+"/feed.xml"); err != nil {
		t.Fatal(err)
	}
	c, err := corpus.LoadDir(context.Background(), dir, corpus.Options{})
	if err != nil || len(c.Articles) != 1 {
		t.Errorf("LoadDir = %d articles, %v; want the one story once", len(c.Articles), err)
	}
	// One link leaves the feed: pruning it keeps the page the other
	// still links to.
	mu.Lock()
	links = links[:1]
	mu.Unlock()
	rep, err := s.Sync(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Removed != 0 || rep.Added != 0 {
		t.Errorf("sync after one link left = %+v, want nothing removed or added", rep)
	}
	c, err = corpus.LoadDir(context.Background(), dir, corpus.Options{})
	if err != nil || len(c.Articles) != 1 {
		t.Errorf("after pruning one link: LoadDir = %v, %v; want the story still there", c, err)
	}
}

// TestSyncsOfTwoProcessesTakeTurns checks that a sync waits while another
// process (here another Syncer on the same folders) holds the sync state,
// gives up at its deadline, and runs once the other is done.
func TestSyncsOfTwoProcessesTakeTurns(t *testing.T) {
	t.Parallel()
	state := t.TempDir()
	lock := flock.New(filepath.Join(state, "sync.lock"))
	if ok, err := lock.TryLock(); !ok || err != nil {
		t.Fatalf("lock: %v %v", ok, err)
	}
	s := feeds.New(feeds.Config{ArticlesDir: t.TempDir(), StateDir: state,
		Client: fetch.NewClient(fetch.Policy{AllowPrivate: true}), HostRate: 1000})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := s.Sync(ctx); err == nil || !strings.Contains(err.Error(), "another process") {
		t.Errorf("sync while another process holds the state: err %v", err)
	}
	if err := lock.Unlock(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sync(context.Background()); err != nil {
		t.Errorf("sync after the other process: %v", err)
	}
}
