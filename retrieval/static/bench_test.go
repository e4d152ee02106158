package static

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/verbatim-bot/verbatim/corpus/evaldata"
)

// benchParagraphs returns news-like paragraphs of about 80 words.
func benchParagraphs() []string {
	return []string{
		"Azerbaijan supplies about 60% of the oil that Israel needs, shipped through the " +
			"Baku–Tbilisi–Ceyhan pipeline to the Turkish coast and then by tanker. In return, " +
			"Israeli companies have sold drones, missile-defence systems and satellite technology " +
			"to Baku, and trade between the two countries has grown every year since the early " +
			"2000s. Officials on both sides describe the relationship as strategic, although it " +
			"is rarely discussed in public, and neither government likes to draw attention to it.",
		"The central bank raised interest rates by a quarter of a percentage point on Thursday, " +
			"its third increase this year, saying that inflation remained well above its target " +
			"despite signs that the economy was cooling. Economists had expected the move, but " +
			"the governor's warning that further rises could follow surprised markets: the " +
			"currency jumped against the dollar, while shares in banks and house builders fell " +
			"sharply in afternoon trading as investors reconsidered their forecasts.",
		"Photosynthesis is the process by which green plants, algae and some bacteria turn " +
			"light into chemical energy. Inside the chloroplasts, chlorophyll absorbs mostly " +
			"blue and red light; the energy splits water molecules, releasing oxygen, and drives " +
			"the reactions that fix carbon dioxide from the air into sugars. Nearly all life on " +
			"Earth depends on it, directly or indirectly, since it supplies both the oxygen we " +
			"breathe and the organic compounds at the base of every food chain.",
		"After three hours of talks the two leaders agreed to calm down the dispute over " +
			"fishing rights, promising a joint commission that would report within six months. " +
			"Neither side gave ground on the central question of who controls the waters around " +
			"the islands, but both said the meeting had been frank and useful. Protesters outside " +
			"the hotel, some of whom had travelled overnight, said they would keep up pressure " +
			"until the fleet was allowed back into the disputed area.",
	}
}

// BenchmarkEmbed embeds paragraphs of about 80 words, one Embed call of
// 64 texts per iteration, and reports paragraphs per second.
func BenchmarkEmbed(b *testing.B) {
	e := newTestEmbedder(b)
	paras := benchParagraphs()
	texts := make([]string, 64)
	var words int
	for i := range texts {
		texts[i] = paras[i%len(paras)]
		words += len(strings.Fields(texts[i]))
	}
	ctx := context.Background()
	for b.Loop() {
		if _, err := e.Embed(ctx, texts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(texts))*float64(b.N)/b.Elapsed().Seconds(), "paragraphs/s")
	b.ReportMetric(float64(words)/float64(len(texts)), "words/paragraph")
}

// BenchmarkNew measures parsing the embedded table, the cost of New at
// start-up.
func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		if _, err := New(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRecall measures the embedder alone as a retriever on SQuAD dev:
// exhaustive cosine over all paragraphs, reporting gold-paragraph recall@5
// and MRR over the questions, as BenchmarkLocalRecall does for the hashed
// embedder. It is skipped without the evaluation data; run with -benchtime 1x.
func BenchmarkRecall(b *testing.B) {
	paras, qs, gold := loadSQuAD(b)
	e := newTestEmbedder(b)
	ctx := context.Background()
	for b.Loop() {
		pv, err := e.Embed(ctx, paras)
		if err != nil {
			b.Fatal(err)
		}
		qv, err := e.Embed(ctx, qs)
		if err != nil {
			b.Fatal(err)
		}
		var r5, mrr float64
		for i, q := range qv {
			g := dot(q, pv[gold[i]])
			rank := 1
			for _, p := range pv {
				if dot(q, p) > g {
					rank++
				}
			}
			if rank <= 5 {
				r5++
			}
			mrr += 1 / float64(rank)
		}
		b.ReportMetric(r5/float64(len(qs)), "recall@5")
		b.ReportMetric(mrr/float64(len(qs)), "MRR")
	}
}

// loadSQuAD returns the SQuAD dev paragraphs in file order, the questions,
// and each question's gold paragraph index, or skips tb.
func loadSQuAD(tb testing.TB) (paras, qs []string, gold []int) {
	tb.Helper()
	first := map[string]int{}
	readJSONL(tb, evaldata.Path(tb, "squad-dev/articles.jsonl"), func(line []byte) error {
		var a struct {
			ID         string   `json:"id"`
			Paragraphs []string `json:"paragraphs"`
		}
		err := json.Unmarshal(line, &a)
		first[a.ID] = len(paras)
		paras = append(paras, a.Paragraphs...)
		return err
	})
	readJSONL(tb, evaldata.Path(tb, "squad-dev/questions.jsonl"), func(line []byte) error {
		var q struct {
			Question  string `json:"question"`
			ArticleID string `json:"article_id"`
			Paragraph int    `json:"paragraph_index"`
		}
		err := json.Unmarshal(line, &q)
		qs = append(qs, q.Question)
		gold = append(gold, first[q.ArticleID]+q.Paragraph)
		return err
	})
	return paras, qs, gold
}

func readJSONL(tb testing.TB, path string, each func(line []byte) error) {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		if err := each(sc.Bytes()); err != nil {
			tb.Fatal(err)
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
}
