package retrieval

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/verbatim-bot/verbatim/corpus"
)

// DefaultMaxSentences is Config.MaxSentences's default: a corpus of up to
// this many sentences is read sentence by sentence by the encoder, which
// takes minutes the first time (BENCHMARKS.md), and only for new
// sentences after.
const DefaultMaxSentences = 20000

// sentenceBatch is how many sentences one Embed call of a load receives;
// progressEvery is how often a long encoding logs how far it is and saves
// its cache.
const (
	sentenceBatch = 64
	progressEvery = 30 * time.Second
)

// sentenceVectors holds the sentence encoder's vector of every sentence of
// a snapshot's passages, in corpus.Sentences order, so that Search can
// rank passages by their sentence nearest the query.
type sentenceVectors struct {
	model string
	dims  int
	first []int32 // sentences of passage i: first[i] to first[i+1]-1
	vecs  [][]float32
}

// sentenceKey is a sentence's SHA-256 content hash.
func sentenceKey(s string) contentKey { return sha256.Sum256([]byte(s)) }

// passageSentences returns the sentences of p, as Search and the answerer
// split them.
func passageSentences(p *corpus.Paragraph) []string {
	spans := corpus.Sentences(p.Text)
	out := make([]string, len(spans))
	for i, sp := range spans {
		out[i] = p.Text[sp.Start:sp.End]
	}
	return out
}

// sentenceJob gives a snapshot its sentence vectors: the sentences of its
// passages in order, and those the cache lacks.
type sentenceJob struct {
	s       *snapshot
	sv      *sentenceVectors
	texts   []string
	keys    []contentKey // of texts
	missing []string
	cache   *vectorCache
}

// planSentences returns the job that gives s the encoder's vectors of its
// sentences, or nil when there is none: no encoder, more than
// ix.maxSents sentences, or prev's vectors shared (prev having the same
// layout).
func (ix *Index) planSentences(s, prev *snapshot, stats *Stats) *sentenceJob {
	if ix.enc == nil || len(s.paras) > ix.maxSents {
		return nil
	}
	model := ix.enc.Model()
	if prev != nil {
		if sv := prev.sents.Load(); sv != nil && sv.model == model && s.sameLayout(prev) {
			s.sents.Store(sv)
			stats.Sentences = len(sv.vecs)
			return nil
		}
	}
	j := &sentenceJob{s: s, sv: &sentenceVectors{model: model, first: make([]int32, len(s.paras)+1)}}
	for i, p := range s.paras {
		j.texts = append(j.texts, passageSentences(p)...)
		j.sv.first[i+1] = int32(len(j.texts))
	}
	if len(j.texts) > ix.maxSents {
		ix.log.Info("the corpus has more sentences than the sentence encoder reads; ranking passages without it",
			"sentences", len(j.texts), "max_sentences", ix.maxSents)
		return nil
	}
	j.cache = ix.sentenceCache(model)
	j.keys = make([]contentKey, len(j.texts))
	seen := make(map[contentKey]bool)
	for i, t := range j.texts {
		k := sentenceKey(t)
		j.keys[i] = k
		if j.cache.vecs[k] == nil && !seen[k] {
			seen[k] = true
			j.missing = append(j.missing, t)
		}
	}
	return j
}

// sentences gives s its sentence vectors (see planSentences), or, when
// they are to be encoded in the background, returns the job that will.
// Only a done ctx fails it.
func (ix *Index) sentences(ctx context.Context, s, prev *snapshot, stats *Stats, progress func(done, total int)) (*sentenceJob, error) {
	j := ix.planSentences(s, prev, stats)
	if j == nil {
		return nil, nil
	}
	if ix.bgEncode && len(j.missing) > 0 {
		return j, nil
	}
	err := ix.runSentences(ctx, j, stats, progress)
	ix.saveSentences() // what was encoded is kept even if the load fails
	return nil, err
}

// resume encodes, in the background, the sentences of served (the index
// still served after a Load failed) if it has none yet: that Load stopped
// their encoding. It reports whether it handed ix.loading to it.
func (ix *Index) resume(ctx context.Context, served *snapshot) bool {
	if !ix.bgEncode || served == nil || served.sents.Load() != nil {
		return false
	}
	j := ix.planSentences(served, nil, &Stats{})
	switch {
	case j == nil:
		return false
	case len(j.missing) == 0:
		_ = ix.runSentences(ctx, j, &Stats{}, nil) // all cached: nothing can fail
		return false
	}
	ix.runInBackground(ctx, j)
	return true
}

// runSentences encodes what j's cache lacks and gives j's snapshot its
// sentence vectors. Only a done ctx fails it: an encoder that fails leaves
// the snapshot without them (Search then ranks as without an encoder).
func (ix *Index) runSentences(ctx context.Context, j *sentenceJob, stats *Stats, progress func(done, total int)) error {
	ok, err := ix.encodeMissing(ctx, j.cache, j.missing, stats, progress)
	if !ok || err != nil {
		return err
	}
	sv := j.sv
	sv.vecs = make([][]float32, len(j.keys))
	keep := make(map[contentKey]bool, len(j.keys))
	for i, k := range j.keys {
		sv.vecs[i], keep[k] = j.cache.vecs[k], true
	}
	for k := range j.cache.vecs { // the cache holds only what is served
		if !keep[k] {
			delete(j.cache.vecs, k)
			ix.sentDirty = true
		}
	}
	sv.dims = j.cache.dims
	j.s.sents.Store(sv)
	stats.Sentences = len(j.texts)
	return nil
}

// backgroundJob is the sentence encoding a Load left running (see
// Config.EncodeInBackground).
type backgroundJob struct {
	cancel context.CancelFunc
	done   chan struct{} // closed once it has ended and released ix.loading
}

// runInBackground runs j beside the caller, holding ix.loading (which the
// caller holds and hands over) until it has ended and saved its vectors.
// It stops with ctx's values but not its cancellation: Close stops it.
func (ix *Index) runInBackground(ctx context.Context, j *sentenceJob) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	bg := &backgroundJob{cancel: cancel, done: make(chan struct{})}
	ix.bg.Store(bg)
	go func() {
		defer close(bg.done)
		defer ix.loading.Unlock()
		defer cancel()
		var stats Stats
		if err := ix.runSentences(ctx, j, &stats, nil); err != nil {
			ix.log.Info("sentence encoding stopped; ranking passages without the sentence encoder", "err", err)
		}
		ix.saveSentences()
	}()
}

// Wait waits until the sentence encoding a Load left running in the
// background (see Config.EncodeInBackground) has ended, or ctx is done.
func (ix *Index) Wait(ctx context.Context) error {
	bg := ix.bg.Load()
	if bg == nil {
		return nil
	}
	select {
	case <-bg.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops the sentence encoding a Load left running in the background,
// saving what it encoded, and waits for it. The index goes on serving, and
// later Loads work as before.
func (ix *Index) Close() error {
	if bg := ix.bg.Load(); bg != nil {
		bg.cancel()
		<-bg.done
	}
	return nil
}

// encodeMissing encodes missing into cache, reporting progress. It
// reports false when the encoder failed (logged), and an error only when
// ctx is done.
func (ix *Index) encodeMissing(ctx context.Context, cache *vectorCache, missing []string, stats *Stats, progress func(done, total int)) (bool, error) {
	if len(missing) == 0 {
		return true, nil
	}
	start, said := time.Now(), time.Now()
	ix.log.Info("encoding sentences for the sentence encoder", "sentences", len(missing))
	for from := 0; from < len(missing); from += sentenceBatch {
		batch := missing[from:min(from+sentenceBatch, len(missing))]
		vecs, err := ix.enc.Embed(ctx, batch)
		if err == nil && len(vecs) != len(batch) {
			err = fmt.Errorf("%d vectors for %d sentences", len(vecs), len(batch))
		}
		if err == nil {
			err = cacheSentences(cache, batch, vecs)
		}
		if err != nil {
			if ctx.Err() != nil {
				return false, fmt.Errorf("encoding sentences: %w", ctx.Err())
			}
			ix.log.Warn("the sentence encoder failed; ranking passages without it", "err", err)
			if errors.Is(err, errDimsChanged) {
				ix.sentCache = newVectorCache(cache.model) // the next load encodes afresh
			}
			return false, nil
		}
		ix.sentDirty = true
		stats.SentencesEncoded += len(batch)
		if progress != nil {
			progress(from+len(batch), len(missing))
		}
		if time.Since(said) >= progressEvery {
			said = time.Now()
			ix.log.Info("encoding sentences", "done", from+len(batch), "of", len(missing))
			ix.saveSentences() // a long encoding keeps its work if the process dies
		}
	}
	ix.log.Info("encoded sentences", "sentences", len(missing), "took", time.Since(start).Round(time.Millisecond))
	return true, nil
}

// cacheSentences adds the normalised vecs of texts to cache; the first
// vector sets its dimension, and one of another dimension fails.
func cacheSentences(cache *vectorCache, texts []string, vecs [][]float32) error {
	for i, v := range vecs {
		if cache.dims == 0 {
			cache.dims = len(v)
		}
		if len(v) != cache.dims {
			return fmt.Errorf("%w: got %d, cached %d", errDimsChanged, len(v), cache.dims)
		}
		cache.vecs[sentenceKey(texts[i])] = normalized(v)
	}
	return nil
}

// sentenceCache returns the cache of the sentence encoder's model, read
// from Dir the first time.
func (ix *Index) sentenceCache(model string) *vectorCache {
	if ix.sentCache != nil && ix.sentCache.model == model {
		return ix.sentCache
	}
	ix.sentCache, ix.sentDirty = newVectorCache(model), false
	if ix.dir == "" {
		return ix.sentCache
	}
	path := cachePath(ix.dir, sentenceCacheDir, model)
	c, err := readCache(path, model)
	if errors.Is(err, fs.ErrNotExist) {
		c, err = ix.adoptSentenceCache(path, model)
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		ix.log.Warn("the sentence cache is unreadable; encoding again", "path", path, "err", err)
	default:
		ix.sentCache = c
	}
	return ix.sentCache
}

// adoptSentenceCache moves to path the sentence cache of model from where
// earlier versions kept it, beside the passages' (a file named for
// "sentences-"+model), so that an upgrade does not encode the corpus
// again. A file there that is not that model's cache stays where it is.
func (ix *Index) adoptSentenceCache(path, model string) (*vectorCache, error) {
	old := cachePath(ix.dir, passageCacheDir, "sentences-"+model)
	c, err := readCache(old, model)
	if err != nil {
		return nil, fs.ErrNotExist
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	if err := os.Rename(old, path); err != nil {
		return nil, err
	}
	ix.log.Info("moved the sentence cache to its own folder", "from", old, "to", path)
	return c, nil
}

// saveSentences writes the sentence cache when it changed.
func (ix *Index) saveSentences() {
	if !ix.sentDirty || ix.dir == "" || ix.sentCache == nil {
		return
	}
	path := cachePath(ix.dir, sentenceCacheDir, ix.sentCache.model)
	if err := ix.sentCache.write(path); err != nil {
		ix.log.Warn("could not save the sentence cache", "path", path, "err", err)
		return
	}
	ix.sentDirty = false
}

// nearRanking is the outcome of sentenceRanking.
type nearRanking struct {
	rank []int32
	cos  [][]float32
	err  error
}

// sentenceRankingAsync runs sentenceRanking beside the caller, so that
// encoding the query overlaps embedding it.
func (ix *Index) sentenceRankingAsync(ctx context.Context, s *snapshot, query string, lo, hi int32, depth int) <-chan nearRanking {
	out := make(chan nearRanking, 1)
	sv := s.sents.Load()
	if sv == nil {
		out <- nearRanking{}
		return out
	}
	go func() {
		rank, cos, err := ix.sentenceRanking(ctx, sv, query, lo, hi, depth)
		out <- nearRanking{rank, cos, err}
	}()
	return out
}

// sentenceRanking returns the passages in [lo, hi) by their sentence of sv
// nearest query (up to depth), and every passage's sentence cosines with
// query. When the query cannot be encoded
// and ctx is not done, it returns neither.
func (ix *Index) sentenceRanking(ctx context.Context, sv *sentenceVectors, query string, lo, hi int32, depth int) ([]int32, [][]float32, error) {
	ctx2, cancel := context.WithTimeout(ctx, ix.queryTO)
	defer cancel()
	qv, err := ix.enc.Embed(ctx2, []string{query})
	switch {
	case err != nil:
	case len(qv) != 1:
		err = errors.New("no vector for the query")
	case len(qv[0]) != sv.dims:
		err = fmt.Errorf("the query's vector has %d dimensions, the sentences' %d", len(qv[0]), sv.dims)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, fmt.Errorf("retrieval: encoding the query: %w", err)
		}
		ix.log.Warn("encoding the query failed; ranking passages without the sentence encoder", "err", err)
		return nil, nil, nil
	}
	q := normalized(qv[0])
	base := sv.first[lo]
	all := make([]float32, sv.first[hi]-base) // the cosines of every sentence in [lo, hi)
	for i, v := range sv.vecs[base:sv.first[hi]] {
		all[i] = dot(q, v)
	}
	cos := make([][]float32, hi-lo)
	best := make([]float32, hi-lo)
	order := make([]int32, 0, hi-lo)
	for d := lo; d < hi; d++ {
		if c := all[sv.first[d]-base : sv.first[d+1]-base]; len(c) > 0 {
			cos[d-lo], best[d-lo] = c, slices.Max(c)
			order = append(order, d)
		}
	}
	slices.SortStableFunc(order, func(a, b int32) int { return cmp.Compare(best[b-lo], best[a-lo]) })
	return order[:min(depth, len(order))], cos, nil
}
