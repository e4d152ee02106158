package retrieval

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verbatim-bot/verbatim/corpus"
	"github.com/verbatim-bot/verbatim/corpus/evaldata"
)

// Benchmarks over ../shared/eval (skipped when it is absent):
//
//	go test -run '^$' -bench . -benchtime 1x ./retrieval/    # builds, cold start, recall
//	go test -run '^$' -bench 'Query' ./retrieval/             # query latency
//
// Sizes: 2k = SQuAD dev (2,067 paragraphs), 12k = + BBC, 124k = + Reuters.

var benchSets = map[string][]string{
	"2k":   {"squad-dev/articles.jsonl"},
	"12k":  {"squad-dev/articles.jsonl", "bbc/articles.jsonl"},
	"124k": {"squad-dev/articles.jsonl", "bbc/articles.jsonl", "reuters/articles.jsonl"},
}

// fixture is an index of one benchmark set, built once per process with the
// local embedder and its cache persisted in dir.
type fixture struct {
	corpus *corpus.Corpus
	ix     *Index
	dir    string
}

var fixtures struct {
	sync.Mutex
	root string
	m    map[string]*fixture
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixtures.root != "" {
		os.RemoveAll(fixtures.root)
	}
	os.Exit(code)
}

// benchEmbedder is the embedder the benchmarks index with: the offline
// default (NewOffline), or the hashed LocalEmbedder alone when
// VERBATIM_BENCH_EMBEDDER=hashed (the figures before the static model).
func benchEmbedder(tb testing.TB) Embedder {
	tb.Helper()
	if os.Getenv("VERBATIM_BENCH_EMBEDDER") == "hashed" {
		return NewLocal(0)
	}
	e, err := NewOffline()
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// getFixture returns the fixture of set, building it on first use.
func getFixture(b *testing.B, set string) *fixture {
	b.Helper()
	evaldata.Dir(b)
	fixtures.Lock()
	defer fixtures.Unlock()
	if f := fixtures.m[set]; f != nil {
		return f
	}
	if fixtures.root == "" {
		root, err := os.MkdirTemp("", "verbatim-bench-")
		if err != nil {
			b.Fatal(err)
		}
		fixtures.root, fixtures.m = root, map[string]*fixture{}
	}
	f := &fixture{corpus: loadEvalArticles(b, benchSets[set]...), dir: filepath.Join(fixtures.root, set)}
	ix, err := Open(context.Background(), Config{Embedder: benchEmbedder(b), Dir: f.dir})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	st, err := ix.Load(context.Background(), f.corpus, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("fixture %s: %d articles, %d paragraphs, built in %v (embedded %d)", set, st.Articles, st.Paragraphs, time.Since(start).Round(time.Millisecond), st.Embedded)
	f.ix = ix
	fixtures.m[set] = f
	return f
}

// BenchmarkBuild is a full index build of SQuAD dev with the local
// embedder (no cache, nothing on disk).
func BenchmarkBuild(b *testing.B) {
	c := loadEvalArticles(b, benchSets["2k"]...)
	ctx := context.Background()
	for b.Loop() {
		ix, err := Open(ctx, Config{Embedder: benchEmbedder(b)})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ix.Load(ctx, c, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(c.Paragraphs())*float64(b.N)/b.Elapsed().Seconds(), "paragraphs/s")
}

// BenchmarkReindexNoop reloads an unchanged corpus: every vector comes from
// the cache.
func BenchmarkReindexNoop(b *testing.B) {
	for _, set := range []string{"2k", "124k"} {
		b.Run(set, func(b *testing.B) {
			f := getFixture(b, set)
			embedded := 0
			for b.Loop() {
				st, err := f.ix.Load(context.Background(), f.corpus, nil)
				if err != nil {
					b.Fatal(err)
				}
				embedded += st.Embedded
			}
			b.ReportMetric(float64(embedded)/float64(b.N), "embedded/op")
			b.ReportMetric(float64(f.corpus.Paragraphs()), "paragraphs")
		})
	}
}

// BenchmarkReindexEdit alternately reloads the 124k corpus and a copy with
// one paragraph edited: each load embeds exactly that paragraph (the cache
// keeps only the vectors of the corpus last loaded), rebuilds the keyword
// and vector indexes, and saves the cache.
func BenchmarkReindexEdit(b *testing.B) {
	f := getFixture(b, "124k")
	edited := &corpus.Corpus{Articles: slices.Clone(f.corpus.Articles)}
	a := &edited.Articles[0]
	a.Paragraphs = slices.Clone(a.Paragraphs)
	p := &a.Paragraphs[0]
	p.Text += " (edited)"
	sum := sha256.Sum256([]byte(p.Text))
	p.Hash = hex.EncodeToString(sum[:])
	ctx := context.Background()
	if _, err := f.ix.Load(ctx, edited, nil); err != nil {
		b.Fatal(err)
	}
	embedded, i := 0, 0
	for b.Loop() {
		c := f.corpus
		if i%2 == 1 {
			c = edited
		}
		st, err := f.ix.Load(ctx, c, nil)
		if err != nil {
			b.Fatal(err)
		}
		embedded += st.Embedded
		i++
	}
	if _, err := f.ix.Load(ctx, f.corpus, nil); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(embedded)/float64(b.N), "embedded/op")
}

// BenchmarkQuery measures Search beside a bare chromem-go QueryEmbedding
// (same collection, same number of vector candidates, query vector
// precomputed) on SQuAD questions.
func BenchmarkQuery(b *testing.B) {
	for _, set := range []string{"2k", "12k", "124k"} {
		b.Run(set, func(b *testing.B) {
			f := getFixture(b, set)
			qs := loadSquadQuestions(b)
			ctx := context.Background()
			b.Run("search", func(b *testing.B) {
				lat := make([]time.Duration, 0, 1024)
				i := 0
				for b.Loop() {
					start := time.Now()
					if _, err := f.ix.Search(ctx, qs[i%len(qs)].text, SearchOptions{K: 5}); err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(start))
					i++
				}
				reportLatency(b, lat)
			})
			b.Run("chromem", func(b *testing.B) {
				s := f.ix.snap.Load()
				n := min(max(f.ix.fusion.MinDepth, f.ix.fusion.DepthPerK*5), s.vec.count())
				vecs := make([][]float32, 0, 256)
				for _, q := range qs[:256] {
					v, err := f.ix.embedQuery(ctx, q.text)
					if err != nil {
						b.Fatal(err)
					}
					vecs = append(vecs, v)
				}
				lat := make([]time.Duration, 0, 1024)
				i := 0
				for b.Loop() {
					start := time.Now()
					if _, err := s.vec.(*chromemIndex).coll.QueryEmbedding(ctx, vecs[i%len(vecs)], n, nil, nil); err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(start))
					i++
				}
				reportLatency(b, lat)
			})
		})
	}
}

// BenchmarkQuote measures Quote with phrases of eight words taken from
// paragraphs of the index (exact) and the same phrases with one word
// changed (fuzzy: no exact hit, closest sentences).
func BenchmarkQuote(b *testing.B) {
	for _, set := range []string{"2k", "124k"} {
		b.Run(set, func(b *testing.B) {
			f := getFixture(b, set)
			var exact, fuzzy []string
			s := f.ix.snap.Load()
			for i := 0; i < len(s.paras) && len(exact) < 200; i += len(s.paras) / 200 {
				words := strings.Fields(s.paras[i].Text)
				if len(words) < 12 {
					continue
				}
				exact = append(exact, strings.Join(words[2:10], " "))
				words[5] = "zqxj"
				fuzzy = append(fuzzy, strings.Join(words[2:10], " "))
			}
			for _, tt := range []struct {
				name    string
				phrases []string
			}{{"exact", exact}, {"fuzzy", fuzzy}} {
				b.Run(tt.name, func(b *testing.B) {
					lat := make([]time.Duration, 0, 1024)
					i := 0
					for b.Loop() {
						start := time.Now()
						hits, err := f.ix.Quote(context.Background(), tt.phrases[i%len(tt.phrases)], QuoteOptions{})
						if err != nil {
							b.Fatal(err)
						}
						if len(hits) == 0 || hits[0].Exact != (tt.name == "exact") {
							b.Fatalf("%q: %d hits, exact %v", tt.phrases[i%len(tt.phrases)], len(hits), len(hits) > 0 && hits[0].Exact)
						}
						lat = append(lat, time.Since(start))
						i++
					}
					reportLatency(b, lat)
				})
			}
		})
	}
}

func reportLatency(b *testing.B, lat []time.Duration) {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
}

// BenchmarkRecall reports retrieval quality on the SQuAD dev questions:
// all of them at 2k, and every 10th with the BBC and Reuters distractors
// (every Nth with VERBATIM_RECALL_EVERY=N; 1 takes about 7 minutes).
func BenchmarkRecall(b *testing.B) {
	every := 10
	if n, err := strconv.Atoi(os.Getenv("VERBATIM_RECALL_EVERY")); err == nil && n > 0 {
		every = n
	}
	for _, tt := range []struct {
		set   string
		every int
	}{{"2k", 1}, {"124k", every}} {
		b.Run(tt.set, func(b *testing.B) {
			f := getFixture(b, tt.set)
			var qs []squadQuestion
			for i, q := range loadSquadQuestions(b) {
				if i%tt.every == 0 {
					qs = append(qs, q)
				}
			}
			var r1, r5, r10, mrr float64
			for b.Loop() {
				r1, r5, r10, mrr = evalRecall(b, f.ix, qs, f.ix.fusion)
			}
			b.ReportMetric(r1, "recall@1")
			b.ReportMetric(r5, "recall@5")
			b.ReportMetric(r10, "recall@10")
			b.ReportMetric(mrr, "MRR")
			b.ReportMetric(float64(len(qs)), "questions")
		})
	}
}

// evalRecall runs qs through Search with fusion f.
func evalRecall(tb testing.TB, ix *Index, qs []squadQuestion, f fusion) (r1, r5, r10, mrr float64) {
	ctx := context.Background()
	for _, q := range qs {
		res, err := ix.search(ctx, ix.snap.Load(), q.text, SearchOptions{K: 10}, f)
		if err != nil {
			tb.Fatal(err)
		}
		for i, r := range res {
			if r.Paragraph.ID == q.gold {
				if i < 1 {
					r1++
				}
				if i < 5 {
					r5++
				}
				r10++
				mrr += 1 / float64(i+1)
				break
			}
		}
	}
	n := float64(len(qs))
	return r1 / n, r5 / n, r10 / n, mrr / n
}

// BenchmarkColdStart measures a start from the persisted index at 124k
// paragraphs in a fresh process (so that its peak RSS is its own): Open,
// corpus load, and Load from the embedding cache.
func BenchmarkColdStart(b *testing.B) {
	f := getFixture(b, "124k")
	var total, open, load, index time.Duration
	var rss int64
	for b.Loop() {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestColdStartChild$", "-test.v")
		cmd.Env = append(os.Environ(), "VERBATIM_COLDSTART_DIR="+f.dir, "VERBATIM_COLDSTART_SET=124k")
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("child: %v\n%s", err, out)
		}
		var r coldStart
		for line := range strings.Lines(string(out)) {
			if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "coldstart "); ok {
				if err := json.Unmarshal([]byte(rest), &r); err != nil {
					b.Fatal(err)
				}
			}
		}
		if r.Paragraphs == 0 || r.Embedded != 0 {
			b.Fatalf("child did not report a cached start: %+v\n%s", r, out)
		}
		total += r.Total
		open += r.Open
		load += r.Corpus
		index += r.Load
		rss = max(rss, r.PeakRSS)
	}
	n := float64(b.N)
	b.ReportMetric(total.Seconds()/n, "s/start")
	b.ReportMetric(open.Seconds()/n, "s-open")
	b.ReportMetric(load.Seconds()/n, "s-corpus")
	b.ReportMetric(index.Seconds()/n, "s-load")
	b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MiB")
}

// coldStart is what TestColdStartChild reports.
type coldStart struct {
	Total, Open, Corpus, Load time.Duration
	Paragraphs, Embedded      int
	PeakRSS                   int64 // bytes
}

// TestColdStartChild is BenchmarkColdStart's child process; it does
// nothing unless run by it.
func TestColdStartChild(t *testing.T) {
	dir := os.Getenv("VERBATIM_COLDSTART_DIR")
	if dir == "" {
		t.Skip("run by BenchmarkColdStart")
	}
	ctx := context.Background()
	start := time.Now()
	ix, err := Open(ctx, Config{Embedder: benchEmbedder(t), Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	opened := time.Now()
	c := loadEvalArticles(t, benchSets[os.Getenv("VERBATIM_COLDSTART_SET")]...)
	loaded := time.Now()
	st, err := ix.Load(ctx, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	end := time.Now()
	r := coldStart{
		Total: end.Sub(start), Open: opened.Sub(start), Corpus: loaded.Sub(opened), Load: end.Sub(loaded),
		Paragraphs: st.Paragraphs, Embedded: st.Embedded, PeakRSS: peakRSS(),
	}
	out, _ := json.Marshal(r)
	fmt.Printf("coldstart %s\n", out)
	runtime.KeepAlive(ix)
}

// peakRSS returns the process's peak resident set size (VmHWM), or 0 when
// /proc is not available.
func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
