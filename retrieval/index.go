package retrieval

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/verbatim-bot/verbatim/corpus"
	"github.com/verbatim-bot/verbatim/retrieval/openaihttp"
)

// Config configures an Index.
type Config struct {
	// Embedder embeds passages and queries; required.
	Embedder Embedder
	// Dir is where the caches are kept across restarts (passage
	// embeddings in Dir/embeddings/, sentence vectors in Dir/sentences/);
	// "" keeps nothing on disk.
	Dir string
	// Logger receives warnings (e.g. an unreadable cache file); nil
	// discards them.
	Logger *slog.Logger
	// EmbedConcurrency is how many batches are embedded at once during a
	// load; 0 means GOMAXPROCS.
	EmbedConcurrency int
	// QueryTimeout bounds embedding one query, retries included, and
	// encoding it with SentenceEncoder; past it Search answers without
	// that ranking. 0 means DefaultQueryTimeout.
	QueryTimeout time.Duration
	// VectorWeight is the weight of the vector ranking in Search's
	// reciprocal-rank fusion, relative to the keyword ranking's 1; 0 picks
	// a default for the embedder (0.1 for the LocalEmbedder, 1 otherwise).
	VectorWeight float64
	// SentenceEncoder, if set, encodes every sentence of a corpus of at
	// most MaxSentences sentences (0 means DefaultMaxSentences) at Load,
	// and Search ranks passages also by their sentence nearest the query,
	// fused with weight SentenceWeight (0 or less means
	// DefaultSentenceWeight).
	// A sentence transformer (the minilm encoder) finds the passage that
	// answers a paraphrase, which a paragraph's one vector often misses.
	SentenceEncoder Embedder
	MaxSentences    int
	SentenceWeight  float64
	// EncodeInBackground makes Load return once the passages are indexed
	// and serving, and encode the sentences the cache lacks in the
	// background; Search ranks without them until they are done (see Wait
	// and Close). The next Load stops that encoding, keeping what it did,
	// and encodes what its corpus still lacks. For a server, whose first
	// load of a large corpus would otherwise wait minutes.
	EncodeInBackground bool
}

// DefaultQueryTimeout is Config.QueryTimeout's default: a question waits
// no longer than this for an embedding server that is down.
const DefaultQueryTimeout = 2 * time.Second

// embedBatch is how many texts one Embed call receives during a load.
const embedBatch = 256

// Index serves hybrid search and quote lookup over the paragraphs of the
// last corpus loaded. Queries are safe for concurrent use with each other
// and with Load: each query reads one immutable snapshot, and Load swaps in
// a complete new snapshot atomically.
type Index struct {
	emb      Embedder
	dir      string
	log      *slog.Logger
	workers  int
	fusion   fusion
	queryTO  time.Duration // Config.QueryTimeout
	enc      Embedder      // Config.SentenceEncoder
	maxSents int
	bgEncode bool // Config.EncodeInBackground
	bg       atomic.Pointer[backgroundJob]

	// sentCache holds the sentence encoder's vectors; nil until the first
	// Load that needs it, then guarded by loading like cache.
	sentCache *vectorCache
	sentDirty bool

	snap atomic.Pointer[snapshot]

	loading sync.Mutex // held by Load; TryLock refuses a second one
	// cacheRead is closed once Open's background read of the cache is
	// done; from then on cache and dirty are guarded by loading.
	cacheRead chan struct{}
	cache     *vectorCache
	dirty     bool     // cache differs from its file
	journal   *journal // checkpoints of cache; nil without a Dir
	// last is the layout of the corpus last loaded (in this process, or
	// read from Dir at Open), for Stats' added/changed/removed counts;
	// guarded like cache.
	last manifest
}

// Open returns an Index that serves nothing until its first Load. With a
// Dir, it starts reading the embedding cache of cfg.Embedder's model in the
// background (so that the read overlaps the caller's loading of the
// corpus; the first Load waits for it). A missing cache is normal, and an
// unreadable or corrupt one is logged and rebuilt, never an error.
func Open(ctx context.Context, cfg Config) (*Index, error) {
	if cfg.Embedder == nil {
		return nil, errors.New("retrieval: Config.Embedder is required")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ix := &Index{
		emb:      cfg.Embedder,
		dir:      cfg.Dir,
		log:      cfg.Logger,
		workers:  cfg.EmbedConcurrency,
		fusion:   fusionFor(cfg.Embedder, cfg.VectorWeight, cfg.SentenceWeight),
		queryTO:  cfg.QueryTimeout,
		enc:      cfg.SentenceEncoder,
		maxSents: cfg.MaxSentences,
		bgEncode: cfg.EncodeInBackground,
	}
	if ix.maxSents <= 0 {
		ix.maxSents = DefaultMaxSentences
	}
	if ix.queryTO <= 0 {
		ix.queryTO = DefaultQueryTimeout
	}
	if ix.log == nil {
		ix.log = slog.New(slog.DiscardHandler)
	}
	if ix.workers <= 0 {
		ix.workers = runtime.GOMAXPROCS(0)
	}
	ix.cacheRead = make(chan struct{})
	model := cfg.Embedder.Model()
	go func() {
		defer close(ix.cacheRead)
		if ix.dir != "" {
			if n := removeStaleTemps(ix.dir); n > 0 {
				ix.log.Info("removed temporary files left by an interrupted write", "dir", ix.dir, "files", n)
			}
		}
		ix.openCache(model)
		ix.openManifest()
	}()
	return ix, nil
}

// openCache makes ix.cache the cache of model, read from disk when there is
// one, with the vectors of an interrupted build's checkpoint added.
func (ix *Index) openCache(model string) {
	ix.cache, ix.dirty = newVectorCache(model), false
	if ix.journal != nil {
		ix.journal.close()
		ix.journal = nil
	}
	if ix.dir == "" {
		return
	}
	path := cachePath(ix.dir, passageCacheDir, model)
	c, err := readCache(path, model)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		ix.log.Warn("ignoring unreadable embedding cache; it will be rebuilt", "path", path, "err", err)
		ix.dirty = true
	default:
		ix.cache = c
	}
	ix.journal = newJournal(journalPath(path), model)
	keys, err := replayJournal(ix.journal.path, ix.cache)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		ix.log.Warn("ignoring an unusable checkpoint", "path", ix.journal.path, "err", err)
	case len(keys) > 0:
		ix.log.Info("resuming from the checkpoint of an interrupted build", "path", ix.journal.path, "vectors", len(keys))
		ix.dirty = true
		// Written again at the first checkpoint, which starts a new file.
		ix.journal.pending = keys
	}
}

// openManifest reads the layout of the corpus a previous process loaded,
// if it left one.
func (ix *Index) openManifest() {
	if ix.dir == "" {
		return
	}
	m, err := readManifest(manifestPath(ix.dir))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		ix.log.Warn("ignoring unreadable paragraph manifest; change counts start afresh", "err", err)
	default:
		ix.last = m
	}
}

// Load indexes the paragraphs of c and, when that succeeds, swaps the new
// index in for the one being served. Paragraphs whose content hash is in
// the embedding cache are not embedded again. A Load that fails (c nil or
// without paragraphs, the embedder failing, ctx done) leaves the previous
// index serving. Only one Load runs at a time: another one meanwhile
// returns ErrReloading at once. A background encoding of sentences (see
// Config.EncodeInBackground) is not a Load: it is stopped, keeping what it
// did, and this Load encodes what its corpus lacks (or, if it fails,
// resumes the encoding for the index still served).
//
// progress, if not nil, is called from Load's goroutine with the number of
// paragraphs whose vectors are ready (cached ones first) out of the total,
// and then, when the sentence encoder has sentences to encode in the
// foreground, with the number of those encoded out of theirs.
// c must not be modified after Load.
func (ix *Index) Load(ctx context.Context, c *corpus.Corpus, progress func(done, total int)) (Stats, error) {
	ix.Close() // this load takes over a background encoding, which keeps what it did
	if !ix.loading.TryLock() {
		return Stats{}, ErrReloading
	}
	handed := false // ix.loading, to a background encoding
	defer func() {
		if !handed {
			ix.loading.Unlock()
		}
	}()
	start := time.Now()
	select {
	case <-ix.cacheRead:
	case <-ctx.Done():
		return Stats{}, fmt.Errorf("retrieval: load: %w", ctx.Err())
	}
	prev := ix.snap.Load()
	snap, stats, err := ix.build(ctx, c, progress)
	var job *sentenceJob // left to the background
	if err == nil {
		job, err = ix.sentences(ctx, snap, prev, &stats, progress)
	}
	if err != nil {
		handed = ix.resume(ctx, prev)
		return stats, fmt.Errorf("retrieval: load: %w", err)
	}
	ix.snap.Store(snap)
	ix.keepOnly(snap)
	if ix.last == nil || stats.Added+stats.Changed+stats.Removed > 0 {
		ix.last = manifestOf(snap)
		if ix.dir != "" {
			if err := ix.last.write(manifestPath(ix.dir)); err != nil {
				ix.log.Warn("could not save the paragraph manifest", "err", err)
			}
		}
	}
	if ix.dirty && ix.dir != "" {
		path := cachePath(ix.dir, passageCacheDir, ix.cache.model)
		if err := ix.cache.write(path); err != nil {
			ix.log.Warn("could not save the embedding cache", "path", path, "err", err)
			ix.checkpoint()
		} else {
			ix.dirty = false
			if err := ix.journal.remove(); err != nil {
				ix.log.Warn("could not remove the checkpoint", "err", err)
			}
		}
	}
	stats.Duration = time.Since(start)
	if job != nil {
		stats.SentencesPending = len(job.missing)
		handed = true
		ix.runInBackground(ctx, job)
	}
	return stats, nil
}

// keepOnly drops cached vectors of paragraphs that are not in snap, so the
// cache does not grow without bound as the corpus changes.
func (ix *Index) keepOnly(snap *snapshot) {
	if len(ix.cache.vecs) == len(snap.keys) {
		return // every key in snap is cached, so nothing else is
	}
	keep := make(map[contentKey]bool, len(snap.keys))
	for _, k := range snap.keys {
		keep[k] = true
	}
	for k := range ix.cache.vecs {
		if !keep[k] {
			delete(ix.cache.vecs, k)
			ix.dirty = true
		}
	}
}

// snapshot is one generation of the index, immutable but for its
// sentence vectors, which are set once.
type snapshot struct {
	model    string // of the vectors
	articles []corpus.Article
	sorted   []*corpus.Article // by title
	byID     map[string]int32  // article ID → index in articles
	first    []int32           // passages of article a: first[a] to first[a+1]-1
	// collections holds the passages [lo, hi) of each collection, laid
	// out together.
	collections map[string][2]int32

	// Passage i is paras[i], in article art[i]; passages are laid out
	// article by article, in corpus order.
	paras []*corpus.Paragraph
	art   []int32
	keys  []contentKey
	vecs  [][]float32      // normalised; nil for a passage with no vector
	byPID map[string]int32 // paragraph ID → passage
	// sents is nil without a sentence encoder, for a corpus too large,
	// and until a background encoding is done; set once.
	sents atomic.Pointer[sentenceVectors]

	vec    vectorIndex
	kw     *bm25
	quotes quoteText
	pool   sync.Pool // of *bm25Scratch
}

// build makes a new snapshot of c, embedding what the cache lacks.
func (ix *Index) build(ctx context.Context, c *corpus.Corpus, progress func(done, total int)) (*snapshot, Stats, error) {
	var stats Stats
	if c == nil {
		return nil, stats, errors.New("no corpus")
	}
	s := layout(c, ix.log)
	stats.Articles, stats.Paragraphs, stats.Skipped, stats.LeftOut = len(s.articles), len(s.paras), c.Skipped, c.LeftOut
	stats.Fragments = c.Fragments()
	if len(s.paras) == 0 {
		return nil, stats, errors.New("the corpus has no paragraphs")
	}
	ix.last.diff(s, &stats) // a nil manifest counts everything as added
	prev := ix.snap.Load()

	model := ix.emb.Model()
	if prev != nil && prev.model == model && s.sameLayout(prev) {
		// Nothing that the indexes depend on changed: share them.
		stats.Cached = len(s.paras)
		if progress != nil {
			progress(len(s.paras), len(s.paras))
		}
		s.model, s.vecs, s.vec, s.kw, s.quotes = prev.model, prev.vecs, prev.vec, prev.kw, prev.quotes
		s.initPool()
		return s, stats, ctx.Err()
	}

	err := ix.embedMissing(ctx, s, &stats, progress)
	if errors.Is(err, errDimsChanged) {
		ix.log.Warn("the embedder's vectors changed dimension under the same model name; re-embedding everything",
			"model", ix.cache.model, "err", err)
		ix.cache, ix.dirty = newVectorCache(ix.cache.model), true
		if ix.journal != nil {
			if err := ix.journal.remove(); err != nil {
				ix.log.Warn("could not remove the checkpoint", "err", err)
			}
		}
		stats.Cached, stats.Embedded = 0, 0
		err = ix.embedMissing(ctx, s, &stats, progress)
	}
	if err != nil {
		return nil, stats, err
	}
	s.model = ix.cache.model
	s.vecs = make([][]float32, len(s.paras))
	for i, k := range s.keys {
		if v := ix.cache.vecs[k]; !isZero(v) {
			s.vecs[i] = v
		}
	}
	if err := s.index(ctx); err != nil {
		return nil, stats, err
	}
	return s, stats, ctx.Err()
}

// groupCollections returns a copy of arts in which the articles of each
// collection follow one another, so that a collection is one range of
// passages. corpus.Load's lexical walk already groups them; the order is
// then unchanged.
func groupCollections(arts []corpus.Article) []corpus.Article {
	out := slices.Clone(arts)
	last, seen, grouped := "", map[string]bool{}, true
	for i := range out {
		col := out[i].Collection()
		if col != last && seen[col] && col != "" {
			grouped = false
			break
		}
		seen[col], last = true, col
	}
	if !grouped {
		slices.SortStableFunc(out, func(a, b corpus.Article) int { return cmp.Compare(a.Collection(), b.Collection()) })
	}
	return out
}

// layout lays out the passages of c article by article, skipping (with a
// warning) paragraphs whose ID was already seen: corpus.Load gives unique
// IDs, but a corpus merged from several loads may repeat one.
func layout(c *corpus.Corpus, log *slog.Logger) *snapshot {
	s := &snapshot{
		articles: groupCollections(c.Articles),
		byID:     make(map[string]int32, len(c.Articles)),
		byPID:    make(map[string]int32, c.Paragraphs()),
	}
	s.first = make([]int32, 0, len(s.articles)+1)
	for a := range s.articles {
		art := &s.articles[a]
		if _, dup := s.byID[art.ID]; dup {
			log.Warn("article ID used twice: serving the first", "id", art.ID, "source", art.Source)
		} else {
			s.byID[art.ID] = int32(a)
		}
		s.first = append(s.first, int32(len(s.paras)))
		for j := range art.Paragraphs {
			p := &art.Paragraphs[j]
			if _, dup := s.byPID[p.ID]; dup {
				log.Warn("skipping paragraph with a duplicate ID", "id", p.ID, "source", art.Source)
				continue
			}
			s.byPID[p.ID] = int32(len(s.paras))
			s.paras = append(s.paras, p)
			s.art = append(s.art, int32(a))
			s.keys = append(s.keys, keyOf(p))
		}
	}
	s.first = append(s.first, int32(len(s.paras)))
	s.collections = make(map[string][2]int32)
	for a := range s.articles {
		if col := s.articles[a].Collection(); col != "" {
			r, seen := s.collections[col]
			if !seen {
				r[0] = s.first[a]
			}
			r[1] = s.first[a+1]
			s.collections[col] = r
		}
	}
	s.sorted = make([]*corpus.Article, len(s.articles))
	for i := range s.articles {
		s.sorted[i] = &s.articles[i]
	}
	slices.SortStableFunc(s.sorted, func(a, b *corpus.Article) int {
		return cmp.Or(cmp.Compare(a.Title, b.Title), cmp.Compare(a.ID, b.ID))
	})
	return s
}

// embedJob is one distinct text to embed.
type embedJob struct {
	key  contentKey
	text string
	uses int // passages with this text
}

// embedResult is the outcome of the batch of jobs starting at from.
type embedResult struct {
	from int
	vecs [][]float32
	err  error
}

// embedMissing embeds the distinct texts of s whose vectors are not cached
// and adds them to the cache, batch by batch, so that the work done by a
// load that fails later is not lost.
func (ix *Index) embedMissing(ctx context.Context, s *snapshot, stats *Stats, progress func(done, total int)) error {
	if model := ix.emb.Model(); model != ix.cache.model {
		ix.openCache(model)
	}
	jobs := ix.missing(s, stats)
	if progress != nil {
		progress(stats.Cached, len(s.keys))
	}
	if len(jobs) == 0 {
		return ctx.Err()
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	defer ix.checkpoint() // what was embedded survives a failed load too
	results := ix.embedBatches(ctx, jobs)
	tick := time.NewTicker(checkpointEvery)
	defer tick.Stop()
	done := stats.Cached
	var firstErr error
	for {
		var r embedResult
		select {
		case <-tick.C:
			ix.checkpointIfDue()
			continue
		case res, ok := <-results:
			if !ok {
				if firstErr != nil {
					return firstErr
				}
				return context.Cause(ctx)
			}
			r = res
		}
		if firstErr != nil {
			continue // drain
		}
		n, refused, err := ix.cacheBatch(jobs, r)
		stats.Embedded += n - refused
		stats.Unembedded += refused
		for _, j := range jobs[r.from : r.from+n] {
			done += j.uses
		}
		ix.checkpointIfDue()
		if err != nil {
			firstErr = err
			cancel(err)
		} else if progress != nil {
			progress(done, len(s.keys))
		}
	}
}

// checkpointIfDue writes a checkpoint when enough texts or time have
// passed since the last one.
func (ix *Index) checkpointIfDue() {
	if ix.journal != nil && ix.journal.due() {
		ix.checkpoint()
	}
}

// checkpoint appends the vectors embedded since the last checkpoint to the
// journal. Failing to is logged, not fatal: the vectors are still cached in
// memory and saved with the cache file.
func (ix *Index) checkpoint() {
	if ix.journal == nil {
		return
	}
	if err := ix.journal.checkpoint(ix.cache); err != nil {
		ix.log.Warn("could not checkpoint the embeddings", "path", ix.journal.path, "err", err)
	}
}

// missing lists the distinct texts of s with no cached vector, counting
// the cached passages in stats.
func (ix *Index) missing(s *snapshot, stats *Stats) []embedJob {
	var jobs []embedJob
	pending := make(map[contentKey]int) // key → index in jobs
	for i, k := range s.keys {
		if _, ok := ix.cache.vecs[k]; ok {
			stats.Cached++
			continue
		}
		if j, ok := pending[k]; ok {
			jobs[j].uses++
			continue
		}
		pending[k] = len(jobs)
		jobs = append(jobs, embedJob{key: k, text: s.paras[i].Text, uses: 1})
	}
	return jobs
}

// embedBatches embeds jobs in batches of embedBatch texts on ix.workers
// goroutines until ctx is done; the channel closes when all have stopped.
func (ix *Index) embedBatches(ctx context.Context, jobs []embedJob) <-chan embedResult {
	batches := make(chan int)
	results := make(chan embedResult)
	var wg sync.WaitGroup
	for range min(ix.workers, (len(jobs)+embedBatch-1)/embedBatch) {
		wg.Go(func() {
			for from := range batches {
				results <- ix.embedOne(ctx, jobs, from)
			}
		})
	}
	go func() {
		defer close(batches)
		for from := 0; from < len(jobs); from += embedBatch {
			select {
			case batches <- from:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(results)
	}()
	return results
}

// embedOne embeds the batch of jobs starting at from.
func (ix *Index) embedOne(ctx context.Context, jobs []embedJob, from int) embedResult {
	vecs, err := ix.embedTexts(ctx, jobs[from:min(from+embedBatch, len(jobs))])
	return embedResult{from, vecs, err}
}

// embedTexts embeds the jobs' texts. When the embedder refuses them as bad
// input (HTTP 400, 413 or 422: a text longer than the server takes, say),
// it halves the batch and tries again, down to single texts; a single text
// still refused is cut down until it is taken (see embedStart). Any other
// failure fails the batch.
func (ix *Index) embedTexts(ctx context.Context, jobs []embedJob) ([][]float32, error) {
	texts := make([]string, len(jobs))
	for i, j := range jobs {
		texts[i] = j.text
	}
	vecs, err := ix.emb.Embed(ctx, texts)
	if err == nil && len(vecs) != len(texts) {
		err = fmt.Errorf("embedder returned %d vectors for %d texts", len(vecs), len(texts))
	}
	if err == nil || ctx.Err() != nil || !badInput(err) {
		return vecs, err
	}
	if len(jobs) == 1 {
		return ix.embedStart(ctx, jobs[0].text, err)
	}
	mid := len(jobs) / 2
	first, err := ix.embedTexts(ctx, jobs[:mid])
	if err != nil {
		return nil, err
	}
	rest, err := ix.embedTexts(ctx, jobs[mid:])
	if err != nil {
		return nil, err
	}
	return append(first, rest...), nil
}

// minEmbedStart is the shortest beginning of a refused text embedStart
// tries.
const minEmbedStart = 256

// embedStart embeds a text the embedder refused (with refusal) by its
// beginning, halved at a word boundary until the embedder takes it: the
// vector of a long paragraph's first part stands for the paragraph, whose
// every word is still indexed for keywords. Under minEmbedStart bytes it
// gives up: the text gets no vector (nil) and a warning says which.
func (ix *Index) embedStart(ctx context.Context, text string, refusal error) ([][]float32, error) {
	for t := halfText(text); len(t) >= minEmbedStart; t = halfText(t) {
		vecs, err := ix.emb.Embed(ctx, []string{t})
		if err == nil && len(vecs) == 1 {
			ix.log.Info("the embedder refused a long paragraph; its beginning was embedded for it", "text", head(text, 80), "bytes", len(text), "embedded", len(t))
			return vecs, nil
		}
		if err == nil {
			err = fmt.Errorf("embedder returned %d vectors for 1 text", len(vecs))
		}
		if ctx.Err() != nil || !badInput(err) {
			return nil, err
		}
		refusal = err
	}
	ix.log.Warn("the embedder refused a paragraph; it is found by keywords only", "text", head(text, 80), "err", refusal)
	return [][]float32{nil}, nil
}

// halfText is the first half of s, cut at the last space before its middle
// (or at the middle when there is none), on a character boundary.
func halfText(s string) string {
	mid := len(s) / 2
	if i := strings.LastIndexByte(s[:mid], ' '); i > 0 {
		return s[:i]
	}
	for mid > 0 && !utf8.RuneStart(s[mid]) {
		mid--
	}
	return s[:mid]
}

// badInput reports whether err is a server refusing what was sent, as
// opposed to failing.
func badInput(err error) bool {
	switch openaihttp.StatusCode(err) {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
		return true
	}
	return false
}

// head is the start of s, for logs.
func head(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// cacheBatch caches a batch's vectors and returns how many texts it went
// through before any error, and how many of those got no vector.
func (ix *Index) cacheBatch(jobs []embedJob, r embedResult) (n, refused int, err error) {
	if r.err != nil {
		return 0, 0, fmt.Errorf("embedding: %w", r.err)
	}
	for i, v := range r.vecs {
		if v == nil {
			refused++
			continue
		}
		if err := ix.cacheVector(jobs[r.from+i].key, v); err != nil {
			return i, refused, err
		}
	}
	return len(r.vecs), refused, nil
}

// errDimsChanged reports vectors whose dimension differs from the cached ones.
var errDimsChanged = errors.New("vector dimension changed")

// cacheVector adds the normalised v to the cache under k. The first vector
// of a cache sets its dimension; one of another dimension is errDimsChanged.
func (ix *Index) cacheVector(k contentKey, v []float32) error {
	if len(v) == 0 {
		return errors.New("embedder returned an empty vector")
	}
	switch ix.cache.dims {
	case len(v):
	case 0:
		ix.cache.dims = len(v)
	default:
		if len(ix.cache.vecs) > 0 {
			return fmt.Errorf("%w: got %d, cached %d", errDimsChanged, len(v), ix.cache.dims)
		}
		ix.cache.dims = len(v)
	}
	ix.cache.vecs[k] = normalized(v)
	ix.dirty = true
	if ix.journal != nil {
		ix.journal.add(k)
	}
	return nil
}

// index builds the vector collection, the keyword index and the quote text
// of s in parallel.
func (s *snapshot) index(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() {
		docs := make([]bm25Doc, len(s.paras))
		titles := make([]string, len(s.articles))
		for a := range s.articles {
			titles[a] = s.articles[a].Title
		}
		for i, p := range s.paras {
			docs[i] = bm25Doc{text: p.Text, title: s.art[i]}
		}
		s.kw = buildBM25(docs, titles, defaultBM25, runtime.GOMAXPROCS(0))
		s.quotes = newQuoteText(s.paras)
	})
	err := s.addVectors(ctx)
	wg.Wait()
	s.initPool()
	return err
}

func (s *snapshot) initPool() {
	n := len(s.paras)
	s.pool.New = func() any { return &bm25Scratch{score: make([]float32, n)} }
}

// sameLayout reports whether s has the same articles (IDs and titles),
// passages (IDs and content) and order as prev, so that prev's vector,
// keyword and quote indexes serve s unchanged.
func (s *snapshot) sameLayout(prev *snapshot) bool {
	if len(s.articles) != len(prev.articles) || !slices.Equal(s.first, prev.first) || !slices.Equal(s.keys, prev.keys) {
		return false
	}
	for a := range s.articles {
		if s.articles[a].ID != prev.articles[a].ID || s.articles[a].Title != prev.articles[a].Title {
			return false
		}
	}
	for i, p := range s.paras {
		if p.ID != prev.paras[i].ID {
			return false
		}
	}
	return true
}

// addVectors puts the passage vectors into a new vector index, from as
// many goroutines as there are CPUs (chromem's AddDocuments would start
// one goroutine per document).
func (s *snapshot) addVectors(ctx context.Context) error {
	vec, err := newChromemIndex()
	if err != nil {
		return err
	}
	workers := runtime.GOMAXPROCS(0)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for n, i := 0, w; i < len(s.paras); n, i = n+1, i+workers {
				if n%1024 == 0 && ctx.Err() != nil {
					errs[w] = ctx.Err()
					return
				}
				if s.vecs[i] == nil {
					continue
				}
				if err := vec.add(ctx, s.paras[i].ID, s.vecs[i]); err != nil {
					errs[w] = fmt.Errorf("adding vectors: %w", err)
					return
				}
			}
		})
	}
	wg.Wait()
	s.vec = vec
	return errors.Join(errs...)
}

// embedQuery embeds one text and normalises its vector.
func (ix *Index) embedQuery(ctx context.Context, text string) ([]float32, error) {
	ctx, cancel := context.WithTimeout(ctx, ix.queryTO)
	defer cancel()
	vecs, err := ix.emb.Embed(ctx, []string{text})
	if err != nil {
		return nil, err
	}
	if len(vecs) != 1 || len(vecs[0]) == 0 {
		return nil, fmt.Errorf("embedder returned %d vectors for 1 text", len(vecs))
	}
	return normalized(vecs[0]), nil
}

// normalized returns v scaled to unit length (a copy when it was not
// already), or v itself when it is all zeros.
func normalized(v []float32) []float32 {
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	if ss == 0 || math.Abs(ss-1) < 1e-6 {
		return v
	}
	inv := float32(1 / math.Sqrt(ss))
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = x * inv
	}
	return out
}

func isZero(v []float32) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}

func dot(a, b []float32) float32 {
	var s float32
	for i := range min(len(a), len(b)) {
		s += a[i] * b[i]
	}
	return s
}

// Articles returns the articles being served, sorted by title. The
// articles are shared: do not modify them.
func (ix *Index) Articles() []*corpus.Article {
	s := ix.snap.Load()
	if s == nil {
		return nil
	}
	return slices.Clone(s.sorted)
}

// Article returns the article with the given ID, if it is being served.
func (ix *Index) Article(id string) (*corpus.Article, bool) {
	s := ix.snap.Load()
	if s == nil {
		return nil, false
	}
	a, ok := s.byID[id]
	if !ok {
		return nil, false
	}
	return &s.articles[a], true
}

// Len returns the number of paragraphs being served.
func (ix *Index) Len() int {
	s := ix.snap.Load()
	if s == nil {
		return 0
	}
	return len(s.paras)
}
