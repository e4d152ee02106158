// Package retrieval indexes corpus paragraphs for hybrid search (chromem-go
// vectors fused with a BM25 keyword index) and exact quote lookup. An Index
// serves queries from an immutable snapshot and swaps in a new one atomically
// on reload, so a failed reload never disturbs the one serving.
package retrieval

import (
	"context"
	"errors"
	"time"

	"github.com/verbatim-bot/verbatim/corpus"
)

// Embedder turns texts into vectors. Implementations must return one
// L2-normalised vector per text, in order, all of the same dimension, and
// be safe for concurrent use (queries embed in parallel, and Index.Load
// embeds several batches at once).
type Embedder interface {
	// Model names the embedding space (e.g. "local-v2-384" or
	// "openai:text-embedding-3-small"). Cached vectors are keyed by it, so
	// switching model rebuilds the index cleanly.
	Model() string
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}

// ErrReloading is returned by Index.Load while another load is running.
var ErrReloading = errors.New("retrieval: a reload is already running")

// ErrNotLoaded is returned by queries before the first successful Load.
var ErrNotLoaded = errors.New("retrieval: index not loaded")

// ErrEmptyQuery is returned by Search and Quote for a query or phrase with
// nothing to look for.
var ErrEmptyQuery = errors.New("retrieval: empty query")

// ErrUnknownArticle is returned by Search and Quote when the ArticleID
// option names no article being served.
var ErrUnknownArticle = errors.New("retrieval: unknown article")

// ErrUnknownCollection is returned by Search and Quote when the
// Collection option names no sub-folder with articles being served.
var ErrUnknownCollection = errors.New("retrieval: unknown collection")

// SearchOptions tune Index.Search.
type SearchOptions struct {
	K         int    // number of results; 0 means 5
	ArticleID string // restrict to one article; "" for all
	// Collection restricts to the articles of one collection (see
	// corpus.Article.Collection); "" for all.
	Collection string
}

// Result is one retrieved passage.
type Result struct {
	Paragraph corpus.Paragraph
	Article   *corpus.Article // the paragraph's article (read-only)
	Rank      int             // 1-based position after fusion
	Fused     float64         // reciprocal-rank-fusion score (plus the sentence-evidence bonus): orders results, is not comparable across queries
	Keyword   float64         // raw BM25 score (0 when the keyword index did not match)
	Vector    float64         // cosine similarity of query and paragraph embeddings
	// Relevance is an absolute 0..1 measure that a refusal threshold can
	// rely on: the IDF-weighted share of the query's content terms that
	// occur in the paragraph or its article title.
	Relevance float64
	// KeywordOnly is set when the query could not be embedded (the
	// embedding server failed) and the passage was ranked without the
	// vectors: by the keyword index (and the sentence encoder, if any).
	KeywordOnly bool
	// Sentences holds the cosine, by the sentence encoder, of the query
	// with each sentence of the paragraph, in corpus.Sentences order; nil
	// when the index has no sentence vectors (see Config.SentenceEncoder).
	Sentences []float32
	// Topicality is the mean cosine, by the sentence encoder, of the
	// query with the sentences of the paragraph's whole article: how much
	// the article is about what the query asks, where one close sentence
	// may be chance. It is set when Sentences is, else 0.
	Topicality float64
}

// QuoteOptions tune Index.Quote.
type QuoteOptions struct {
	K         int    // number of hits; 0 means 5
	ArticleID string // restrict to one article; "" for all
	// Collection restricts to the articles of one collection (see
	// corpus.Article.Collection); "" for all.
	Collection string
}

// QuoteHit is a passage sentence that contains (Exact) or resembles a phrase.
type QuoteHit struct {
	Paragraph corpus.Paragraph
	Article   *corpus.Article
	// Span locates the match (exact) or the closest sentence (fuzzy) in
	// Paragraph.Text; Text is Paragraph.Text[Span.Start:Span.End], the
	// source's own characters.
	Span       corpus.Span
	Text       string
	Exact      bool
	Similarity float64 // 1 for exact hits; corpus.Similarity to the phrase otherwise
}

// Stats reports what a Load did. Added, Changed and Removed compare with
// the corpus loaded before, in this process or (with a Dir) the last one.
type Stats struct {
	Articles         int              // articles now served
	Paragraphs       int              // paragraphs now served
	Added            int              // paragraphs new since the previous load
	Changed          int              // paragraphs whose text changed
	Removed          int              // paragraphs gone since the previous load
	Cached           int              // vectors taken from the embedding cache
	Embedded         int              // texts embedded
	Unembedded       int              // texts the embedder refused as bad input: found by keywords only
	Sentences        int              // sentences with a vector of the sentence encoder
	SentencesEncoded int              // sentences encoded (not cached)
	SentencesPending int              // sentences left to encode in the background (Config.EncodeInBackground)
	Skipped          []corpus.Skipped // sources the corpus load passed over, with reasons
	LeftOut          []corpus.Skipped // what the corpus limits kept out, with reasons
	Fragments        int              // source paragraphs too short to index
	Duration         time.Duration    // the whole Load
}
