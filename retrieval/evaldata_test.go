package retrieval

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"testing/fstest"

	"github.com/verbatim-bot/verbatim/corpus"
	"github.com/verbatim-bot/verbatim/corpus/evaldata"
)

// loadEvalArticles loads the articles of the given JSONL files (relative to the
// eval directory) as one corpus.
func loadEvalArticles(tb testing.TB, names ...string) *corpus.Corpus {
	tb.Helper()
	dir := evaldata.Dir(tb)
	fsys := fstest.MapFS{}
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			tb.Fatal(err)
		}
		fsys[filepath.Base(filepath.Dir(n))+".jsonl"] = &fstest.MapFile{Data: data}
	}
	c, err := corpus.Load(context.Background(), fsys, corpus.Options{MaxFileBytes: 1 << 30})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// squadQuestion is a SQuAD question with its gold paragraph ID.
type squadQuestion struct {
	text string
	gold string
}

func loadSquadQuestions(tb testing.TB) []squadQuestion {
	tb.Helper()
	f, err := os.Open(filepath.Join(evaldata.Dir(tb), "squad-dev", "questions.jsonl"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var qs []squadQuestion
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var q struct {
			Question       string `json:"question"`
			ArticleID      string `json:"article_id"`
			ParagraphIndex int    `json:"paragraph_index"`
		}
		if err := json.Unmarshal(sc.Bytes(), &q); err != nil {
			tb.Fatal(err)
		}
		qs = append(qs, squadQuestion{q.Question, corpus.Slug(q.ArticleID) + "#" + strconv.Itoa(q.ParagraphIndex+1)})
	}
	return qs
}
