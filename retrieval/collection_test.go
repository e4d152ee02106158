package retrieval

import (
	"context"
	"errors"
	"testing"
)

// TestCollections checks that Search and Quote limited to a collection
// (a sub-folder) return only its articles, even when the corpus lists the
// collection's articles apart, and refuse an unknown collection or an
// article outside the collection.
func TestCollections(t *testing.T) {
	c := testCorpus(
		testArticle{"cats", "Cats", []string{"Cats purr when they are content.", "A cat sleeps most of the day."}},
		testArticle{"dogs", "Dogs", []string{"Dogs bark at strangers passing by.", "A dog purrs never, it wags."}},
		testArticle{"lions", "Lions", []string{"Lions purr rarely but roar often."}},
	)
	c.Articles[0].Source = "pets/cats.txt"
	c.Articles[1].Source = "wild/dogs.txt"
	c.Articles[2].Source = "pets/lions.txt" // apart from cats
	ix := mustOpen(t, Config{Embedder: newCounting("fake")}, c)
	ctx := context.Background()

	for _, tc := range []struct {
		collection string
		want       map[string]bool
	}{
		{"pets", map[string]bool{"cats": true, "lions": true}},
		{"wild", map[string]bool{"dogs": true}},
	} {
		res, err := ix.Search(ctx, "which animals purr", SearchOptions{K: 10, Collection: tc.collection})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, r := range res {
			got[r.Article.ID] = true
		}
		for id := range got {
			if !tc.want[id] {
				t.Errorf("collection %s: search returned %s", tc.collection, id)
			}
		}
		for id := range tc.want {
			if !got[id] {
				t.Errorf("collection %s: search missed %s", tc.collection, id)
			}
		}
		hits, err := ix.Quote(ctx, "purr", QuoteOptions{K: 10, Collection: tc.collection})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hits {
			if !tc.want[h.Article.ID] {
				t.Errorf("collection %s: quote found %s", tc.collection, h.Article.ID)
			}
		}
	}
	if _, err := ix.Search(ctx, "purr", SearchOptions{Collection: "birds"}); !errors.Is(err, ErrUnknownCollection) {
		t.Errorf("unknown collection: err = %v", err)
	}
	if _, err := ix.Search(ctx, "purr", SearchOptions{Collection: "wild", ArticleID: "cats"}); !errors.Is(err, ErrUnknownArticle) {
		t.Errorf("article outside the collection: err = %v", err)
	}
}
