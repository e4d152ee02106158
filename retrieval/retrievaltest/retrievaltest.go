// Package retrievaltest builds, for tests, what the CLI builds by default:
// the offline embedder, the static meaning model, the sentence encoder, and
// an in-memory index reading with both.
package retrievaltest

import (
	"context"
	"testing"

	"github.com/verbatim-bot/verbatim/corpus"
	"github.com/verbatim-bot/verbatim/retrieval"
	"github.com/verbatim-bot/verbatim/retrieval/minilm"
	"github.com/verbatim-bot/verbatim/retrieval/static"
)

// Offline returns the default offline embedder (retrieval.NewOffline).
func Offline(tb testing.TB) retrieval.Embedder {
	tb.Helper()
	e, err := retrieval.NewOffline()
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// Meaning returns the static meaning model the CLI gives the answerer.
func Meaning(tb testing.TB) retrieval.Embedder {
	tb.Helper()
	m, err := static.New()
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// Encoder returns a sentence encoder like the one the CLI gives the
// answerer.
func Encoder(tb testing.TB) retrieval.Embedder {
	tb.Helper()
	e, err := minilm.New()
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// Index returns an in-memory index of c with the offline embedder and, as
// the CLI has by default, the sentence encoder.
func Index(tb testing.TB, c *corpus.Corpus) *retrieval.Index {
	tb.Helper()
	return IndexWith(tb, c, Encoder(tb))
}

// IndexWith returns an in-memory index of c with the offline embedder and
// the sentence encoder enc; nil for none, as with SENTENCE_ENCODER=off.
func IndexWith(tb testing.TB, c *corpus.Corpus, enc retrieval.Embedder) *retrieval.Index {
	tb.Helper()
	ctx := context.Background()
	ix, err := retrieval.Open(ctx, retrieval.Config{Embedder: Offline(tb), SentenceEncoder: enc})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := ix.Load(ctx, c, nil); err != nil {
		tb.Fatal(err)
	}
	return ix
}

// Shipped returns Index of the articles shipped in the binary.
func Shipped(tb testing.TB) *retrieval.Index {
	tb.Helper()
	return ShippedWith(tb, Encoder(tb))
}

// ShippedWith returns IndexWith of the articles shipped in the binary.
func ShippedWith(tb testing.TB, enc retrieval.Embedder) *retrieval.Index {
	tb.Helper()
	c, err := corpus.Load(context.Background(), corpus.Default(), corpus.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return IndexWith(tb, c, enc)
}
