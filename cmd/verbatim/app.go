package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/verbatim-bot/verbatim/bot"
	"github.com/verbatim-bot/verbatim/corpus"
	"github.com/verbatim-bot/verbatim/retrieval"
	"github.com/verbatim-bot/verbatim/retrieval/minilm"
	"github.com/verbatim-bot/verbatim/retrieval/static"
)

// app carries what every command shares: the configuration parsed once in
// main, the output streams and the logger.
type app struct {
	cfg    Config
	name   string
	stdout io.Writer
	stderr io.Writer
	log    *slog.Logger
	// enc is the sentence encoder, loaded on first use (see encoder).
	enc     retrieval.Embedder
	encDone bool
}

// logger returns the command's logger, built on first use; fallback is the
// level used when LOG_LEVEL is unset.
func (a *app) logger(fallback slog.Level) *slog.Logger {
	if a.log == nil {
		a.log = a.cfg.logger(a.stderr, fallback)
	}
	return a.log
}

// embedder builds the configured embedder.
func (a *app) embedder() (retrieval.Embedder, error) {
	switch {
	case a.cfg.Embedder == "hashed":
		return retrieval.NewLocal(0), nil
	case !a.cfg.useOpenAIEmbeddings():
		return retrieval.NewOffline()
	}
	base := a.cfg.EmbeddingBaseURL
	if base == "" {
		base = a.cfg.LLMBaseURL
	}
	model := a.cfg.EmbeddingModel
	if model == "" {
		model = defaultEmbeddingModel
	}
	return retrieval.NewOpenAI(retrieval.OpenAIConfig{
		APIKey:  a.cfg.OpenAIKey,
		BaseURL: base,
		Model:   model,
		Logger:  a.log,
	})
}

// meaning returns the static embedder the answerer compares meanings with,
// whatever embedder the index uses; nil if its table cannot be read (the
// answerer then compares words only).
func (a *app) meaning() retrieval.Embedder {
	emb, err := static.New()
	if err != nil {
		a.log.Error("the meaning model is unusable; comparing shared words only", "err", err)
		return nil
	}
	return emb
}

// encoder returns the sentence encoder, shared by the index and the
// answerer, or nil if it is off or cannot be loaded.
func (a *app) encoder() retrieval.Embedder {
	if a.encDone || a.cfg.SentenceEncoder == "off" {
		return a.enc
	}
	a.encDone = true
	enc, err := minilm.New()
	if err != nil {
		a.log.Error("the sentence encoder is unusable; gating by words and the meaning model", "err", err)
		return nil
	}
	a.enc = enc
	return enc
}

// indexConfig is the configuration of an index over dir embedding with emb.
func (a *app) indexConfig(emb retrieval.Embedder, dir string, log *slog.Logger) retrieval.Config {
	return retrieval.Config{
		Embedder:        emb,
		Dir:             dir,
		Logger:          log,
		VectorWeight:    a.cfg.VectorWeight,
		SentenceEncoder: a.encoder(),
		MaxSentences:    a.cfg.MaxSentences,
		SentenceWeight:  a.cfg.SentenceWeight,
	}
}

// corpusOptions are the corpus settings of the configuration.
func (a *app) corpusOptions() corpus.Options {
	return corpus.Options{
		MaxParagraphs:        a.cfg.MaxParagraphs,
		MaxCorpusBytes:       a.cfg.MaxCorpusBytes,
		MaxArticleParagraphs: a.cfg.MaxArticleParagraphs,
		FollowExternalLinks:  a.cfg.FollowExternalLinks,
		Logger:               a.log,
	}
}

// loadCorpus reads ARTICLES_DIR, or the embedded default articles.
func (a *app) loadCorpus(ctx context.Context) (*corpus.Corpus, error) {
	opts := a.corpusOptions()
	if a.cfg.ArticlesDir == "" {
		return corpus.Load(ctx, corpus.Default(), opts)
	}
	return corpus.LoadDir(ctx, a.cfg.ArticlesDir, opts)
}

// openIndex opens the persisted index under DATA_DIR and brings it up to
// date with the corpus, embedding only what changed. With progress set and
// stderr a terminal, it draws a progress bar while embedding.
func (a *app) openIndex(ctx context.Context, progress bool) (*retrieval.Index, retrieval.Stats, error) {
	return a.openIndexWith(ctx, progress, false)
}

// openIndexWith is openIndex, encoding the sentences the cache lacks in
// the background when background is set (for serve, so that the bot comes
// online at once; close the index to stop it).
func (a *app) openIndexWith(ctx context.Context, progress, background bool) (*retrieval.Index, retrieval.Stats, error) {
	emb, err := a.embedder()
	if err != nil {
		return nil, retrieval.Stats{}, err
	}
	cfg := a.indexConfig(emb, a.cfg.DataDir, a.log)
	cfg.EncodeInBackground = background
	ix, err := retrieval.Open(ctx, cfg)
	if err != nil {
		return nil, retrieval.Stats{}, err
	}
	stats, err := a.reload(ctx, ix, progress)
	if err != nil {
		return nil, stats, err
	}
	return ix, stats, nil
}

// reload loads the corpus afresh into ix. A corpus over its limits is
// served in part (what fits, the rest reported in Stats.LeftOut) unless
// that serves fewer paragraphs than ix does now: then the reload fails
// and ix keeps serving, rather than lose what it served to a limit.
// Growing past a limit thus keeps reloads working, the new articles left
// out.
func (a *app) reload(ctx context.Context, ix *retrieval.Index, progress bool) (retrieval.Stats, error) {
	c, err := a.loadCorpus(ctx)
	if err != nil {
		return retrieval.Stats{}, err
	}
	if n := len(c.LeftOut); n > 0 && c.Len() < ix.Len() {
		first := c.LeftOut[0]
		return retrieval.Stats{Skipped: c.Skipped, LeftOut: c.LeftOut}, fmt.Errorf("the articles are over the corpus limits (%s): %d left out, first %s: %s; keeping the %d paragraphs served, not %d",
			a.cfg.limitsText(), n, first.Source, first.Reason, ix.Len(), c.Len())
	}
	for i, s := range c.LeftOut {
		if i == maxLeftOutLogged {
			a.logger(slog.LevelWarn).Warn("more sources left out over the corpus limits", "count", len(c.LeftOut)-i)
			break
		}
		a.logger(slog.LevelWarn).Warn("left out over the corpus limits", "source", s.Source, "reason", s.Reason)
	}
	return ix.Load(ctx, c, a.progress(progress, "embedding"))
}

// maxLeftOutLogged bounds the log lines of one reload's left-out sources.
const maxLeftOutLogged = 20

// progress returns a callback that draws a progress bar on stderr when it
// is a terminal, or nil; a new total (the sentences, after the
// paragraphs) starts a new bar.
func (a *app) progress(enabled bool, what string) func(done, total int) {
	f, ok := a.stderr.(*os.File)
	if !enabled || !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	var bar *progressbar.ProgressBar
	return func(done, total int) {
		if bar == nil || bar.GetMax() != total {
			bar = progressbar.NewOptions(total,
				progressbar.OptionSetWriter(f),
				progressbar.OptionSetDescription(what),
				progressbar.OptionShowCount(),
				progressbar.OptionClearOnFinish(),
			)
		}
		_ = bar.Set(done)
	}
}

// draft returns the display of a streamed answer when enabled and stdout
// is a terminal, or nil.
func (a *app) draft(enabled bool) *draft {
	f, ok := a.stdout.(*os.File)
	if !enabled || !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	width, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		width = 0
	}
	return &draft{w: f, width: width}
}

// writeJSON prints v as indented JSON on stdout.
func (a *app) writeJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// evalDir is where an evaluation over the given article files keeps its
// embedding cache: apart from the main index, whose cache it would
// otherwise prune, and one per set of files.
func (a *app) evalDir(paths []string) string {
	h := sha256.New()
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			abs = p
		}
		fmt.Fprintln(h, abs)
	}
	return filepath.Join(a.cfg.DataDir, "eval", hex.EncodeToString(h.Sum(nil))[:16])
}

// answerer builds the answerer over ix: generating when an LLM is
// configured, extractive otherwise. It fails when the LLM server serves
// models but not the one configured.
func (a *app) answerer(ctx context.Context, ix *retrieval.Index) (*bot.Answerer, error) {
	cfg := bot.Config{
		Meaning:            a.meaning(),
		Encoder:            a.encoder(),
		TopK:               a.cfg.TopK,
		MinRelevance:       a.cfg.MinRelevance,
		MinSimilarity:      a.cfg.MinSimilarity,
		MinSupport:         a.cfg.MinSupport,
		MinCloseness:       a.cfg.MinCloseness,
		MinAnswerCloseness: a.cfg.MinAnswerCloseness,
		MinTopicality:      a.cfg.MinTopicality,
		MaxQuestionRunes:   a.cfg.MaxQuestionChars,
		Logger:             a.log,
	}
	if a.cfg.generating() {
		cfg.LLM = &bot.LLMConfig{
			APIKey:         a.cfg.OpenAIKey,
			BaseURL:        a.cfg.LLMBaseURL,
			Model:          a.cfg.LLMModel,
			Timeout:        a.cfg.LLMTimeout,
			ResponseFormat: a.cfg.LLMFormat,
			ContextTokens:  a.cfg.LLMContext,
		}
		model, err := a.llmModel(ctx, *cfg.LLM)
		if err != nil {
			return nil, err
		}
		cfg.LLM.Model = model
	}
	return bot.New(ix, cfg), nil
}
