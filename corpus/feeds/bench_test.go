package feeds_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/verbatim-bot/verbatim/corpus"
	"github.com/verbatim-bot/verbatim/corpus/feeds"
	"github.com/verbatim-bot/verbatim/corpus/feeds/feedsfake"
	"github.com/verbatim-bot/verbatim/corpus/fetch"
	"github.com/verbatim-bot/verbatim/retrieval"
)

// benchEntries is the size of the benchmark's sitemap.
const benchEntries = 500

// benchSite is a feedsfake site of benchEntries pages of three paragraphs.
func benchSite(b *testing.B, undated bool) *feedsfake.Site {
	site := feedsfake.New(b)
	site.OmitDates(undated)
	for i := range benchEntries {
		site.Set(fmt.Sprintf("/news/%d", i), fmt.Sprintf("Story %d", i), story(i, "")...)
	}
	return site
}

// benchSync is one subscription to site's sitemap with its index, each
// in a fresh folder.
type benchSync struct {
	syncer   *feeds.Syncer
	articles string
	ix       *retrieval.Index
}

func newBenchSync(b *testing.B) *benchSync {
	s := &benchSync{articles: b.TempDir()}
	s.syncer = feeds.New(feeds.Config{ArticlesDir: s.articles, StateDir: b.TempDir(),
		Client: fetch.NewClient(fetch.Policy{AllowPrivate: true}), HostRate: 1e6})
	ix, err := retrieval.Open(context.Background(), retrieval.Config{Embedder: retrieval.NewLocal(0), Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	s.ix = ix
	return s
}

func (s *benchSync) reload(b *testing.B) retrieval.Stats {
	c, err := corpus.LoadDir(context.Background(), s.articles, corpus.Options{})
	if err != nil {
		b.Fatal(err)
	}
	st, err := s.ix.Load(context.Background(), c, nil)
	if err != nil {
		b.Fatal(err)
	}
	return st
}

// BenchmarkSyncSitemap500 measures a sync of a 500-entry sitemap served
// on loopback and the index reload after it: the first sync (subscribe,
// fetch every page, embed every paragraph) and a sync with nothing
// changed, with lastmod in the sitemap and without. It reports the HTTP
// requests and the paragraphs embedded per sync.
func BenchmarkSyncSitemap500(b *testing.B) {
	for _, undated := range []bool{false, true} {
		name := "lastmod"
		if undated {
			name = "no-lastmod"
		}
		b.Run(name+"/first", func(b *testing.B) {
			site := benchSite(b, undated)
			var reqs, embedded, added int
			for b.Loop() {
				s := newBenchSync(b)
				site.Requests()
				a, err := s.syncer.Add(context.Background(), site.URL(feedsfake.Sitemap))
				if err != nil {
					b.Fatal(err)
				}
				st := s.reload(b)
				reqs += len(site.Requests())
				embedded += st.Embedded
				added += a.Report.Added
			}
			b.ReportMetric(float64(reqs)/float64(b.N), "requests/op")
			b.ReportMetric(float64(embedded)/float64(b.N), "embedded/op")
			b.ReportMetric(float64(added)/float64(b.N), "articles/op")
		})
		b.Run(name+"/unchanged", func(b *testing.B) {
			site := benchSite(b, undated)
			s := newBenchSync(b)
			if _, err := s.syncer.Add(context.Background(), site.URL(feedsfake.Sitemap)); err != nil {
				b.Fatal(err)
			}
			s.reload(b)
			site.Requests()
			var reqs, conditional, embedded, changed int
			for b.Loop() {
				rep, err := s.syncer.Sync(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				if rep.Changed() {
					changed++
				}
				st := s.reload(b)
				embedded += st.Embedded
				for _, r := range site.Requests() {
					reqs++
					if r.Conditional {
						conditional++
					}
				}
			}
			if changed > 0 {
				b.Errorf("%d unchanged syncs changed an article", changed)
			}
			b.ReportMetric(float64(reqs)/float64(b.N), "requests/op")
			b.ReportMetric(float64(conditional)/float64(b.N), "conditional/op")
			b.ReportMetric(float64(embedded)/float64(b.N), "embedded/op")
		})
	}
}
