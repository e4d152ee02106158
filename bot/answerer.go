package bot

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/verbatim-bot/verbatim/retrieval"
	"github.com/verbatim-bot/verbatim/retrieval/wordnet"
)

// Searcher finds the passages that may answer a query; *retrieval.Index
// is one.
type Searcher interface {
	Search(ctx context.Context, query string, opts retrieval.SearchOptions) ([]retrieval.Result, error)
}

// Errors for questions that cannot be answered at all. Answer wraps them
// with details; check with errors.Is.
var (
	ErrEmptyQuestion   = errors.New("answer: the question is empty")
	ErrQuestionTooLong = errors.New("answer: the question is too long")
)

// Defaults for Config fields left zero. The bars were calibrated with the
// static meaning model and the minilm encoder on the tuning split of the
// natural questions (BENCHMARKS.md, "Calibration" and "The sentence
// encoder in the answerer").
const (
	DefaultTopK               = 5
	DefaultMaxQuestionRunes   = 1000
	DefaultMinRelevance       = 0.25
	DefaultMinSimilarity      = 0.30
	DefaultMinCloseness       = 0.10
	DefaultMinSupport         = 0.25
	DefaultMinAnswerCloseness = 0.30
	DefaultMinTopicality      = 0.01
)

// Config configures an Answerer.
type Config struct {
	// LLM enables generating mode; nil answers extractively (offline).
	LLM *LLMConfig
	// Meaning, if set, compares the question with the passages by meaning:
	// an embedder whose vectors place related words and sentences near
	// each other (the static embedder), so that "purchase" meets "buy".
	// Nil compares shared words only.
	Meaning retrieval.Embedder
	// Encoder, if set, reads the question and its best sentences with a
	// sentence transformer (the minilm encoder), which tells a paraphrase
	// from a question about something else far better than Meaning can:
	// the closeness of the nearest sentence (Judgement.Closeness) decides
	// the gate (with MinTopicality, when retrieval measured it) and,
	// offline, also whether the best sentence answers (see MinCloseness).
	// When retrieval already measured the sentences' cosines
	// (retrieval.Result.Sentences), those are used instead. With neither
	// (nil, or an encoder that fails) the gate is MinRelevance and
	// MinSimilarity.
	Encoder retrieval.Embedder
	// TopK is how many passages are given to the model and searched for
	// extractive quotes (with a model, chosen from twice as many
	// retrieved); 0 means DefaultTopK.
	TopK int
	// MinRelevance and MinSimilarity are the gate before any model when no
	// closeness was measured (see Encoder and MinCloseness): it is refused as
	// off-corpus when the best passage's Relevance (the IDF-weighted share
	// of the query's terms in the passage or its title) is under
	// MinRelevance and no sentence of the passages is as close to it by
	// meaning as MinSimilarity (see Judgement). Otherwise the passages go
	// to the model, whose answerable: false refuses.
	MinRelevance, MinSimilarity float64
	// MinCloseness is the gate when a closeness was measured: it
	// is refused as off-corpus, with no model asked, when no sentence is
	// that close to it. MinAnswerCloseness is the higher bar that,
	// answering offline, the nearest sentence must also reach for the
	// question to be answered (with a model, the model decides).
	MinCloseness, MinAnswerCloseness float64
	// MinTopicality is the gate's second bar when retrieval measured
	// how much the passages' articles are about the question
	// (Judgement.Topicality): under it, the question is refused as
	// off-corpus, with no model asked, however close one sentence is.
	MinTopicality float64
	// MinSupport decides, answering offline, whether the best sentence
	// answers: its Judgement.Support must reach MinSupport and, when the
	// question asks for a kind of thing (a quantity, a measure with its
	// unit, a time, a person, a place, a reason), one of the best
	// sentences must hold one and be nearly as well supported (see
	// Judgement.KindFound).
	//
	// For each bar 0 means the default and a negative value disables it.
	MinSupport float64
	// MaxQuestionRunes rejects longer questions with ErrQuestionTooLong;
	// 0 means DefaultMaxQuestionRunes.
	MaxQuestionRunes int
	// Logger receives one line per answer and LLM failures; nil discards.
	Logger *slog.Logger
}

// Answerer answers questions from retrieved passages. It is safe for
// concurrent use.
type Answerer struct {
	search       Searcher
	llm          *chat
	meaningModel retrieval.Embedder
	encoder      retrieval.Embedder
	synonyms     *wordnet.Table
	topK         int
	searchK      int
	minRelevance float64
	minSim       float64
	minClose     float64
	minAnsClose  float64
	minTopic     float64
	minSupport   float64
	maxRunes     int
	log          *slog.Logger
}

// New returns an Answerer that retrieves with s and, if cfg.LLM is set,
// writes answers with that model.
func New(s Searcher, cfg Config) *Answerer {
	a := &Answerer{
		search:       s,
		meaningModel: cfg.Meaning,
		encoder:      cfg.Encoder,
		synonyms:     wordnet.Default(),
		topK:         orDefault(cfg.TopK, DefaultTopK),
		minRelevance: orDefault(cfg.MinRelevance, DefaultMinRelevance),
		minSim:       orDefault(cfg.MinSimilarity, DefaultMinSimilarity),
		minClose:     orDefault(cfg.MinCloseness, DefaultMinCloseness),
		minAnsClose:  orDefault(cfg.MinAnswerCloseness, DefaultMinAnswerCloseness),
		minTopic:     orDefault(cfg.MinTopicality, DefaultMinTopicality),
		minSupport:   orDefault(cfg.MinSupport, DefaultMinSupport),
		maxRunes:     orDefault(cfg.MaxQuestionRunes, DefaultMaxQuestionRunes),
		log:          cfg.Logger,
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	a.searchK = a.topK
	if cfg.LLM != nil {
		a.llm = newChat(*cfg.LLM, a.log)
		a.searchK = modelDepth * a.topK
	}
	return a
}

// orDefault returns v, or d when v is zero.
func orDefault[T int | float64](v, d T) T {
	if v == 0 {
		return d
	}
	return v
}

// Generating reports whether a has a language model configured.
func (a *Answerer) Generating() bool { return a.llm != nil }

// Answer answers question from the articles. It fails only for a question
// that is empty or too long (ErrEmptyQuestion, ErrQuestionTooLong), or when
// retrieval fails, including because ctx is done before retrieval ends.
// Everything after retrieval degrades instead of failing: a model that
// times out, is rate-limited past its retries, errs, returns nothing or
// something unusable, or whose quotes cannot be verified, or a ctx
// cancelled while the model is writing, yields the extractive answer with
// Answer.Note saying why.
//
// opts.History makes follow-ups work: retrieval also searches the previous
// question joined to this one (Answer.Query says which search was used),
// and the model sees the last turns, delimited as data, as earlier
// conversation.
func (a *Answerer) Answer(ctx context.Context, question string, opts Options) (*Answer, error) {
	start := time.Now()
	q := strings.TrimSpace(strings.ToValidUTF8(question, "\uFFFD"))
	if q == "" {
		return nil, ErrEmptyQuestion
	}
	if n := utf8.RuneCountInString(q); n > a.maxRunes {
		return nil, fmt.Errorf("%w: %d characters, the limit is %d", ErrQuestionTooLong, n, a.maxRunes)
	}
	ans := &Answer{ID: newID(), Question: q}
	q = focus(q)

	query, results, err := a.retrieve(ctx, q, opts)
	ans.Timings.Retrieval = time.Since(start)
	if err != nil {
		return nil, fmt.Errorf("answer: %w", err)
	}
	ans.Query = query
	ans.KeywordOnly = len(results) > 0 && results[0].KeywordOnly

	read := a.read(ctx, query, results)
	j := read.j
	j.Unsupported = !j.OffCorpus && a.llm == nil && !a.supported(j)
	ans.Retrieved, ans.Judgement = read.passages, j
	switch {
	case j.OffCorpus, j.Unsupported:
		ans.Mode = Extractive // no model is asked
		refuse(ans, read.passages)
	case a.llm != nil:
		a.generate(ctx, ans, q, query, opts, read, results)
	default:
		a.extractive(ans, query, read, "")
	}
	ans.Timings.Total = time.Since(start)
	a.log.Info("answered", "id", ans.ID, "mode", ans.Mode, "refused", ans.Refused,
		"sources", len(ans.Sources), "kept", ans.Check.Kept, "repaired", ans.Check.Repaired,
		"reattributed", ans.Check.Reattributed, "dropped", ans.Check.Dropped,
		"markers_removed", ans.Check.MarkersRemoved, "uncited", ans.Check.Uncited, "note", ans.Note,
		"retrieval", ans.Timings.Retrieval, "llm", ans.Timings.LLM, "total", ans.Timings.Total)
	return ans, nil
}

// retrieve searches for the question. With history, the previous question
// joined to this one is searched too, so that a follow-up ("and who is
// he?") finds its topic; the joined results are used unless the question
// alone finds a more relevant best passage (a change of subject). It
// returns the query whose results it chose.
func (a *Answerer) retrieve(ctx context.Context, q string, opts Options) (string, []retrieval.Result, error) {
	so := retrieval.SearchOptions{K: a.searchK, ArticleID: opts.ArticleID, Collection: opts.Collection}
	results, err := a.search.Search(ctx, q, so)
	if err != nil || len(opts.History) == 0 {
		return q, results, err
	}
	joined := opts.History[len(opts.History)-1].Question + " " + q
	more, err := a.search.Search(ctx, joined, so)
	if err != nil {
		return q, nil, err
	}
	if best(more) >= best(results) {
		return joined, more, nil
	}
	return q, results, nil
}

func best(rs []retrieval.Result) float64 {
	m := 0.0
	for _, r := range rs {
		m = max(m, r.Relevance)
	}
	return m
}

// modelDepth is how many times TopK passages are searched for when a
// model answers: their sentences are judged and the TopK passages that hold
// the best go to the model (see narrow), so that it reads the passage that
// answers even when retrieval ranks it lower. Offline, where the answerer
// itself decides whether the sentences answer, more passages would answer
// more unanswerable questions (BENCHMARKS.md).
const modelDepth = 2

// pool is a set of passages with their sentences judged against a query
// (best first) and the Judgement, its gate applied.
type pool struct {
	passages []retrieval.Result
	cands    []candidate
	j        Judgement
}

// assess judges the sentences of passages against query and applies the
// gate (Judgement.OffCorpus).
func (a *Answerer) assess(ctx context.Context, query string, passages []retrieval.Result) pool {
	cands, j := a.judge(ctx, query, passages)
	j.MinRelevance, j.MinSimilarity, j.MinSupport = a.minRelevance, a.minSim, a.minSupport
	j.MinCloseness, j.MinAnswerCloseness, j.MinTopicality = a.minClose, a.minAnsClose, a.minTopic
	j.OffCorpus = a.offCorpus(j, cands)
	return pool{passages: passages, cands: cands, j: j}
}

// read assesses the passages the answer is drawn from: all of results
// offline (TopK); with a model, the TopK of the deeper search that hold
// its best sentences (see narrow), assessed on their own so that the
// Judgement describes what the model reads.
func (a *Answerer) read(ctx context.Context, query string, results []retrieval.Result) pool {
	if len(results) <= a.topK {
		return a.assess(ctx, query, results)
	}
	cands, _ := a.judge(ctx, query, results)
	return a.assess(ctx, query, narrow(results, cands, a.topK))
}

// narrow returns the k passages that hold the best of the judged
// sentences cands (best first), in that order, filled up in retrieval's
// order.
func narrow(passages []retrieval.Result, cands []candidate, k int) []retrieval.Result {
	kept := make([]retrieval.Result, 0, k)
	taken := make([]bool, len(passages))
	keep := func(p int) {
		if !taken[p] && len(kept) < k {
			taken[p] = true
			kept = append(kept, passages[p])
		}
	}
	for _, c := range cands {
		keep(c.p)
	}
	for p := range passages {
		keep(p)
	}
	return kept
}

// offCorpus applies the gate described at Config.MinTopicality and
// MinCloseness, or without a closeness at Config.MinRelevance.
func (a *Answerer) offCorpus(j Judgement, cands []candidate) bool {
	if len(cands) == 0 {
		return true
	}
	if j.Topicality >= 0 && a.minTopic > 0 && j.Topicality < a.minTopic {
		return true
	}
	if j.Closeness >= 0 {
		return a.minClose > 0 && j.Closeness < a.minClose
	}
	lexical := a.minRelevance > 0 && j.Relevance < a.minRelevance
	if a.meaningModel == nil {
		return lexical
	}
	return lexical && a.minSim > 0 && j.Similarity < a.minSim
}

// supported applies the offline bars described at Config.MinSupport and
// MinAnswerCloseness.
func (a *Answerer) supported(j Judgement) bool {
	if a.minSupport > 0 && j.Support < a.minSupport {
		return false
	}
	if j.Closeness >= 0 && a.minAnsClose > 0 && j.Closeness < a.minAnsClose {
		return false
	}
	return j.Kind == AnyKind || j.KindFound
}

// refuse makes ans say that the articles do not cover the question and
// name the closest articles.
func refuse(ans *Answer, results []retrieval.Result) {
	ans.Refused = true
	ans.Sources = nil
	seen := make(map[string]bool)
	for _, r := range results {
		if r.Article == nil || seen[r.Article.ID] || len(ans.Closest) == 3 {
			continue
		}
		seen[r.Article.ID] = true
		ans.Closest = append(ans.Closest, ArticleRef{ID: r.Article.ID, Title: r.Article.Title, URL: r.Article.URL})
	}
	ans.Body = []Segment{{Kind: Prose, Text: RefusalText}}
}

// RefusalText is the body of a refusal. Faces add the closest articles in
// their own syntax.
const RefusalText = "The articles do not cover this."

// fallback answers extractively when the model could not, with note
// saying why, as offline mode would from the same retrieval: from the
// first TopK of retrieved, refusing what its bars refuse (keeping the
// note), so that a failing model never shows quotes offline mode would
// not. It finishes even if ctx is done, as Answer promises.
func (a *Answerer) fallback(ctx context.Context, ans *Answer, query string, retrieved []retrieval.Result, note string) {
	p := a.assess(context.WithoutCancel(ctx), query, retrieved[:min(a.topK, len(retrieved))])
	p.j.Unsupported = !p.j.OffCorpus && !a.supported(p.j)
	ans.Retrieved, ans.Judgement = p.passages, p.j
	if p.j.OffCorpus || p.j.Unsupported {
		ans.Mode, ans.Note = Extractive, note
		refuse(ans, p.passages)
		return
	}
	a.extractive(ans, query, p, note)
}

// extractive fills ans with the extractive answer to query from the
// judged sentences of p; note says why, when it replaces a generated one.
func (a *Answerer) extractive(ans *Answer, query string, p pool, note string) {
	t := time.Now()
	ans.Mode = Extractive
	ans.Note = note
	ans.Body, ans.Sources = extract(query, p.cands, p.passages)
	ans.Timings.Verify += time.Since(t)
}

// generate asks the model about the passages read, verifies its reply and
// fills ans, falling back to the extractive answer for query (the
// retrieval query) from retrieved when the model fails or nothing it says
// can be verified.
func (a *Answerer) generate(ctx context.Context, ans *Answer, question, query string, opts Options, read pool, retrieved []retrieval.Result) {
	results := read.passages
	var onText func(string)
	if opts.OnDelta != nil {
		last := ""
		onText = func(raw string) {
			if p := partialAnswer(raw); p != last {
				last = p
				opts.OnDelta(p)
			}
		}
	}
	t := time.Now()
	ans.Asked = true
	msgs := fitMessages(question, opts.History, results, a.llm.cfg.ContextTokens-a.llm.cfg.MaxTokens)
	content, err := a.llm.complete(ctx, msgs, onText)
	ans.Timings.LLM = time.Since(t)
	if err != nil {
		a.log.Warn("language model failed; answering extractively", "id", ans.ID, "err", err)
		a.fallback(ctx, ans, query, retrieved, fallbackNote(err))
		return
	}
	r, err := parseReply(content)
	if err != nil {
		a.log.Warn("unusable language model reply; answering extractively", "id", ans.ID, "err", err)
		a.fallback(ctx, ans, query, retrieved, fallbackNote(err))
		return
	}
	if !r.Answerable && contradicts(r, results) {
		a.log.Info("the language model refused but gave an answer found in the passages; answering extractively", "id", ans.ID)
		a.fallback(ctx, ans, query, retrieved, fallbackNote(errContradiction))
		return
	}
	ans.Mode = Generated
	if !r.Answerable {
		refuse(ans, results)
		return
	}
	t = time.Now()
	v := verify(r, results)
	ans.Timings.Verify = time.Since(t)
	ans.Check = v.check
	if !v.supported {
		a.fallback(ctx, ans, query, retrieved, fallbackNote(errUnverified))
		return
	}
	ans.Body, ans.Sources = v.body, v.sources
}

var (
	errUnverified    = errors.New("none of the language model's quotes could be verified in the articles")
	errContradiction = errors.New("the language model said the passages do not answer, yet answered from them")
)

// fallbackNote is the Answer.Note for an extractive answer given instead
// of a generated one.
func fallbackNote(err error) string {
	reason := err.Error()
	var le *llmError
	switch {
	case errors.As(err, &le):
		reason = le.reason
	case errors.Is(err, errMalformedReply):
		reason = errMalformedReply.Error()
	}
	return "Showing quotes from the best-matching passages: " + reason + "."
}

// newID returns a short random identifier for an answer.
func newID() string {
	var b [5]byte
	rand.Read(b[:])
	return strings.ToLower(base32.StdEncoding.EncodeToString(b[:]))
}
