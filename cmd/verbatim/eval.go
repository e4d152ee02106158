package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/verbatim-bot/verbatim/bot/eval"
	"github.com/verbatim-bot/verbatim/corpus"
	"github.com/verbatim-bot/verbatim/retrieval"
)

// files is a repeatable string flag.
type files []string

func (f *files) String() string     { return strings.Join(*f, ",") }
func (f *files) Set(s string) error { *f = append(*f, s); return nil }

func runEval(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 || (args[0] != "retrieval" && args[0] != "answers") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(a.stderr, "Usage: verbatim eval retrieval|answers --articles FILE --questions FILE [flags]\n\n"+
				"  retrieval  recall@1/5/10, MRR and query latency of the gold paragraphs\n"+
				"  answers    quote exactness, answer-in-quote rate, citation precision, refusals, latency\n\n"+
				"Run 'verbatim eval retrieval --help' or 'verbatim eval answers --help' for the flags.")
			return nil
		}
		return fmt.Errorf("%w: say what to evaluate: verbatim eval retrieval|answers --articles FILE --questions FILE", errUsage)
	}
	mode := args[0]
	a.name = "eval " + mode
	fs := a.newFlags("--articles FILE --questions FILE [--distractors FILE]... [--limit N] [--json]",
		"Indexes the articles (JSONL or a folder; --distractors adds more) with the configured embedder and\n"+
			"measures "+map[string]string{
			"retrieval": "where each question's gold paragraph ranks: recall@1/5/10, MRR, query latency.",
			"answers":   "the answers: quote exactness, answer-in-quote rate, citation precision,\nrefusal accuracy and latency (extractive unless an LLM is configured).",
		}[mode])
	var articles, distractors files
	fs.Var(&articles, "articles", "articles file (.jsonl, .txt, .md, .html) or folder; repeatable")
	fs.Var(&distractors, "distractors", "more article files or folders to index alongside; repeatable")
	questions := fs.String("questions", "", "questions file (SQuAD or seed-questions JSONL)")
	limit := fs.Int("limit", 0, "evaluate only the first N questions (0: all)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if _, err := parse(fs, args[1:]); err != nil {
		return err
	}
	if len(articles) == 0 || *questions == "" {
		return fmt.Errorf("%w: --articles and --questions are required", errUsage)
	}
	log := a.logger(slog.LevelWarn)
	qs, err := eval.LoadQuestions(*questions)
	if err != nil {
		return err
	}
	if *limit > 0 && *limit < len(qs) {
		qs = qs[:*limit]
	}
	c, err := loadPaths(ctx, append(articles, distractors...), log)
	if err != nil {
		return err
	}
	emb, err := a.embedder()
	if err != nil {
		return err
	}
	ix, err := retrieval.Open(ctx, retrieval.Config{Embedder: emb, Dir: a.evalDir(append(articles, distractors...)), Logger: log})
	if err != nil {
		return err
	}
	stats, err := ix.Load(ctx, c, a.progress(!*asJSON, "embedding"))
	if err != nil {
		return err
	}
	if !*asJSON {
		fmt.Fprintf(a.stdout, "index: %s\n", formatStats(stats))
	}
	progress := a.progress(!*asJSON, "questions")
	if mode == "retrieval" {
		rep, err := eval.Retrieval(ctx, ix, qs, eval.RetrievalOptions{Progress: progress})
		if err != nil {
			return err
		}
		if *asJSON {
			return a.writeJSON(rep)
		}
		fmt.Fprintf(a.stdout, "%d questions over %d paragraphs (%d skipped, %d gold passages missing)\n",
			rep.Questions, rep.Paragraphs, rep.Skipped, rep.Missing)
		fmt.Fprintf(a.stdout, "recall@1 %.3f  recall@5 %.3f  recall@10 %.3f  MRR %.3f\n", rep.RecallAt1, rep.RecallAt5, rep.RecallAt10, rep.MRR)
		fmt.Fprintf(a.stdout, "query latency p50 %s  p95 %s\n", round(rep.P50), round(rep.P95))
		return nil
	}
	rep, err := eval.Answers(ctx, a.answerer(ix), qs, eval.AnswersOptions{Paragraph: eval.IndexParagraphs(ix), Progress: progress})
	if err != nil {
		return err
	}
	if *asJSON {
		return a.writeJSON(rep)
	}
	printAnswersReport(a, rep)
	return nil
}

func printAnswersReport(a *app, r eval.AnswersReport) {
	w := a.stdout
	fmt.Fprintf(w, "%d questions (%d answerable, %d unanswerable); %d generated, %d fell back to extractive\n",
		r.Questions, r.Answerable, r.Unanswerable, r.Generated, r.Fallbacks)
	fmt.Fprintf(w, "quote exactness     %.3f  (%d quotes shown)\n", r.QuoteExactness, r.Quotes)
	fmt.Fprintf(w, "answer in quote     %.3f  (%d questions with gold answers)\n", r.AnswerInQuote, r.WithAnswers)
	if r.WithEvidence > 0 {
		fmt.Fprintf(w, "evidence in quote   %.3f  (%d questions with evidence)\n", r.EvidenceInQuote, r.WithEvidence)
	}
	fmt.Fprintf(w, "citation precision  %.3f  (%d citations; gold passage cited for %.3f of questions)\n", r.CitationPrecision, r.Citations, r.GoldCited)
	fmt.Fprintf(w, "refusal accuracy    %.3f  (false refusals %.3f)\n", r.RefusalAccuracy, r.FalseRefusals)
	c := r.Check
	fmt.Fprintf(w, "verification        %d kept, %d repaired, %d re-attributed, %d dropped, %d bad markers removed\n",
		c.Kept, c.Repaired, c.Reattributed, c.Dropped, c.MarkersRemoved)
	fmt.Fprintf(w, "latency p50 %s  p95 %s; overhead beyond retrieval and LLM p50 %s  p95 %s\n",
		round(r.P50), round(r.P95), round(r.OverheadP50), round(r.OverheadP95))
}

// loadPaths loads each file or folder and merges them into one corpus.
func loadPaths(ctx context.Context, paths []string, log *slog.Logger) (*corpus.Corpus, error) {
	start := time.Now()
	all := &corpus.Corpus{}
	for _, p := range paths {
		load := corpus.LoadFile
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			load = corpus.LoadDir
		}
		c, err := load(ctx, p, corpus.Options{Logger: log})
		if err != nil {
			return nil, err
		}
		all.Articles = append(all.Articles, c.Articles...)
		all.Skipped = append(all.Skipped, c.Skipped...)
	}
	log.Info("articles loaded", "articles", len(all.Articles), "paragraphs", all.Paragraphs(), "seconds", time.Since(start).Seconds())
	return all, nil
}
