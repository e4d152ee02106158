package retrieval

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestQuoteShippedArticle(t *testing.T) {
	ix := mustOpen(t, Config{Embedder: NewLocal(0)}, shippedCorpus(t))
	ctx := context.Background()
	tests := []struct {
		phrase string
		want   string // the source's own characters
	}{
		// straight apostrophe finds the typographic one
		{"said Professor Ze'ev Khanin", "said Professor Ze’ev Khanin"},
		// straight double quotes, a hyphen for an em dash, other case
		{`"AZERBAIJAN is a friendly country to Israel.`, "“Azerbaijan is a friendly country to Israel."},
		{"military cooperation - positioning itself", "military cooperation—positioning itself"},
		{"Georgia and then...through Turkey", "Georgia and then…through Turkey"},
		{"Israel's  Mediterranean\ncoast", "Israel’s Mediterranean coast"},
	}
	for _, tt := range tests {
		hits, err := ix.Quote(ctx, tt.phrase, QuoteOptions{})
		if err != nil {
			t.Fatalf("Quote(%q): %v", tt.phrase, err)
		}
		if len(hits) == 0 {
			t.Errorf("Quote(%q): no hits", tt.phrase)
			continue
		}
		h := hits[0]
		if !h.Exact || h.Similarity != 1 || h.Text != tt.want || h.Paragraph.Text[h.Span.Start:h.Span.End] != h.Text {
			t.Errorf("Quote(%q) = %+v, want exact %q", tt.phrase, h, tt.want)
		}
	}
}

func TestQuoteFuzzy(t *testing.T) {
	ix := mustOpen(t, Config{Embedder: NewLocal(0)}, shippedCorpus(t))
	// One word changed ("roughly" for "about"): not in the article.
	hits, err := ix.Quote(context.Background(), "Azerbaijan supplies roughly 60% of oil resources", QuoteOptions{K: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) == 0 {
		t.Fatal("no fuzzy hits")
	}
	h := hits[0]
	if h.Exact || !strings.Contains(h.Text, "Azerbaijan supplies about 60% of oil resources") {
		t.Errorf("top fuzzy hit = %q (exact %v), want the sentence with the original words", h.Text, h.Exact)
	}
	if h.Similarity <= 0.5 || h.Similarity >= 1 {
		t.Errorf("similarity = %v, want in (0.5, 1)", h.Similarity)
	}
	if h.Paragraph.Text[h.Span.Start:h.Span.End] != h.Text {
		t.Errorf("span %v does not give the text", h.Span)
	}
	for i := 1; i < len(hits); i++ {
		if hits[i].Similarity > hits[i-1].Similarity {
			t.Errorf("fuzzy hits not ordered by similarity")
		}
	}
}

func TestQuoteOptions(t *testing.T) {
	c := testCorpus(
		testArticle{"one", "One", []string{"The quick brown fox jumps over the lazy dog.", "Nothing to see here, move along."}},
		testArticle{"two", "Two", []string{"Again the quick brown fox jumps, twice as high.", "Iran is a country; the word ran is not in it."}},
	)
	ix := mustOpen(t, Config{Embedder: newCounting("fake")}, c)
	ctx := context.Background()

	hits, err := ix.Quote(ctx, "the QUICK brown fox jumps", QuoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 2 {
		t.Fatalf("got %d hits, want 2: %+v", len(hits), hits)
	}
	hits, err = ix.Quote(ctx, "the quick brown fox jumps", QuoteOptions{ArticleID: "two"})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 1 || hits[0].Article.ID != "two" || hits[0].Text != "the quick brown fox jumps" {
		t.Errorf("filtered hits = %+v", hits)
	}
	hits, err = ix.Quote(ctx, "quick brown", QuoteOptions{K: 1})
	if err != nil || len(hits) != 1 {
		t.Errorf("K=1: %d hits, %v", len(hits), err)
	}
	// "ran" inside "Iran" is not a match; the whole word is.
	hits, err = ix.Quote(ctx, "ran", QuoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 1 || !hits[0].Exact || hits[0].Paragraph.ID != "two#2" || hits[0].Span.Start != strings.Index(c.Articles[1].Paragraphs[1].Text, " ran ")+1 {
		t.Errorf("Quote(ran) = %+v", hits)
	}
	for _, p := range []string{"", "  ", "—…"} {
		if _, err := ix.Quote(ctx, p, QuoteOptions{}); !errors.Is(err, ErrEmptyQuery) {
			t.Errorf("Quote(%q): err = %v, want ErrEmptyQuery", p, err)
		}
	}
	if _, err := ix.Quote(ctx, "fox", QuoteOptions{ArticleID: "three"}); !errors.Is(err, ErrUnknownArticle) {
		t.Errorf("unknown article: err = %v", err)
	}
}
