package retrieval

import (
	"context"
	"testing"
	"testing/fstest"

	"github.com/verbatim-bot/verbatim/corpus"
)

// TestChineseQuestionFindsChineseArticle checks that a question in
// Chinese, which has no spaces between words, finds the Chinese article
// that answers it, by keywords and with each embedder kind.
func TestChineseQuestionFindsChineseArticle(t *testing.T) {
	fsys := fstest.MapFS{
		"beijing.txt": {Data: []byte("北京\n\n北京是中华人民共和国的首都，也是全国的政治和文化中心。\n\n北京有三千多年的建城历史，故宫位于城市中心。\n")},
		"tokyo.txt":   {Data: []byte("東京\n\n東京は日本の首都であり、世界最大級の都市圏を持つ。\n")},
		"cats.txt":    {Data: []byte("Cats\n\nCats purr when they are content and sleep most of the day.\n")},
	}
	c, err := corpus.Load(context.Background(), fsys, corpus.Options{})
	if err != nil {
		t.Fatal(err)
	}
	offline, err := NewOffline()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ question, want string }{
		{"中国的首都是哪里？", "beijing#1"},
		{"故宫在哪里？", "beijing#2"},
		{"日本の首都はどこですか", "tokyo#1"},
		{"Why do cats purr?", "cats#1"},
	}
	for _, emb := range []Embedder{NewLocal(0), offline} {
		ix := mustOpen(t, Config{Embedder: emb}, c)
		for _, tt := range tests {
			res, err := ix.Search(context.Background(), tt.question, SearchOptions{K: 1})
			if err != nil {
				t.Fatal(err)
			}
			if len(res) == 0 || res[0].Paragraph.ID != tt.want {
				t.Errorf("%s: %q: top %+v, want %s", emb.Model(), tt.question, res, tt.want)
			}
		}
	}
}
