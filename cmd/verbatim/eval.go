package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/verbatim-bot/verbatim/bot"
	"github.com/verbatim-bot/verbatim/bot/eval"
	"github.com/verbatim-bot/verbatim/corpus"
	"github.com/verbatim-bot/verbatim/retrieval"
)

// files is a repeatable string flag.
type files []string

func (f *files) String() string     { return strings.Join(*f, ",") }
func (f *files) Set(s string) error { *f = append(*f, s); return nil }

// runEval runs 'verbatim eval retrieval|answers': it indexes the articles,
// asks the questions and prints the report.
func runEval(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 || (args[0] != "retrieval" && args[0] != "answers") {
		return evalUsage(a, args)
	}
	mode := args[0]
	a.name = "eval " + mode
	f, err := parseEvalFlags(a, mode, args[1:])
	if err != nil {
		return err
	}
	qs, ix, err := loadEval(ctx, a, f)
	if err != nil {
		return err
	}
	progress := a.progress(!f.json, "questions")
	if mode == "retrieval" {
		return evalRetrieval(ctx, a, ix, qs, f.json, progress)
	}
	return evalAnswers(ctx, a, ix, qs, f, progress)
}

// evalUsage answers 'verbatim eval' without a known subcommand: the
// overview for -h or --help, a usage error otherwise.
func evalUsage(a *app, args []string) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Fprintln(a.stderr, "Usage: verbatim eval retrieval|answers --articles FILE --questions FILE [flags]\n\n"+
			"  retrieval  recall@1/5/10, MRR and query latency of the gold paragraphs\n"+
			"  answers    quote exactness, answer-in-quote rate, citation precision, refusals, latency\n\n"+
			"Run 'verbatim eval retrieval --help' or 'verbatim eval answers --help' for the flags.")
		return nil
	}
	return fmt.Errorf("%w: say what to evaluate: verbatim eval retrieval|answers --articles FILE --questions FILE", errUsage)
}

// evalFlags are the flags of 'verbatim eval retrieval|answers'.
type evalFlags struct {
	articles, distractors files
	questions             string
	corpora               files
	split, details        string
	limit                 int
	json                  bool
}

// parseEvalFlags parses the flags of 'verbatim eval mode' and checks that
// the required ones are given.
func parseEvalFlags(a *app, mode string, args []string) (evalFlags, error) {
	fs := a.newFlags("--articles FILE --questions FILE [--distractors FILE]... [--limit N] [--json]",
		"Indexes the articles (JSONL or a folder; --distractors adds more) with the configured embedder and\n"+
			"measures "+map[string]string{
			"retrieval": "where each question's gold paragraph ranks: recall@1/5/10, MRR, query latency.",
			"answers":   "the answers: quote exactness, answer-in-quote rate, citation precision,\nrefusal accuracy and latency (extractive unless an LLM is configured).",
		}[mode])
	var f evalFlags
	fs.Var(&f.articles, "articles", "articles file (.jsonl, .txt, .md, .html) or folder; repeatable")
	fs.Var(&f.distractors, "distractors", "more article files or folders to index alongside; repeatable")
	fs.StringVar(&f.questions, "questions", "", "questions file (SQuAD or seed-questions JSONL)")
	fs.Var(&f.corpora, "corpus", `keep the questions of this "corpus" (and the off-corpus ones); repeatable`)
	fs.StringVar(&f.split, "split", "", `keep the questions of this "split" (tune or test)`)
	fs.IntVar(&f.limit, "limit", 0, "evaluate only the first N questions (0: all)")
	if mode == "answers" {
		fs.StringVar(&f.details, "details", "", "write one JSON line per question (its answer, judgement and gold hit) to this file")
	}
	fs.BoolVar(&f.json, "json", false, "print the report as JSON")
	if _, err := parse(fs, args); err != nil {
		return f, err
	}
	if len(f.articles) == 0 || f.questions == "" {
		return f, fmt.Errorf("%w: --articles and --questions are required", errUsage)
	}
	return f, nil
}

// loadEval loads the questions (the first --limit of them) and indexes the
// articles and distractors, in a cache of their own (see app.evalDir).
// Unless the report is to be JSON, it prints the index statistics.
func loadEval(ctx context.Context, a *app, f evalFlags) ([]eval.Question, *retrieval.Index, error) {
	log := a.logger(slog.LevelWarn)
	qs, err := eval.LoadQuestions(f.questions)
	if err != nil {
		return nil, nil, err
	}
	qs = eval.Filter(qs, f.corpora, f.split)
	if f.limit > 0 && f.limit < len(qs) {
		qs = qs[:f.limit]
	}
	paths := append(f.articles, f.distractors...)
	c, err := a.loadPaths(ctx, paths)
	if err != nil {
		return nil, nil, err
	}
	emb, err := a.embedder()
	if err != nil {
		return nil, nil, err
	}
	ix, err := retrieval.Open(ctx, a.indexConfig(emb, a.evalDir(paths), log))
	if err != nil {
		return nil, nil, err
	}
	stats, err := ix.Load(ctx, c, a.progress(!f.json, "embedding"))
	if err != nil {
		return nil, nil, err
	}
	if !f.json {
		fmt.Fprintf(a.stdout, "index: %s\n", formatStats(stats))
	}
	return qs, ix, nil
}

// evalRetrieval measures where the gold paragraphs of qs rank in ix and
// prints the report, as JSON if asJSON.
func evalRetrieval(ctx context.Context, a *app, ix *retrieval.Index, qs []eval.Question, asJSON bool, progress func(done, total int)) error {
	rep, err := eval.Retrieval(ctx, ix, qs, eval.RetrievalOptions{Progress: progress})
	if err != nil {
		return err
	}
	if asJSON {
		return a.writeJSON(retrievalReportJSON{rep, ms(rep.P50), ms(rep.P95)})
	}
	fmt.Fprintf(a.stdout, "%d questions over %d paragraphs (%d skipped, %d gold passages missing)\n",
		rep.Questions, rep.Paragraphs, rep.Skipped, rep.Missing)
	fmt.Fprintf(a.stdout, "recall@1 %.3f  recall@5 %.3f  recall@10 %.3f  MRR %.3f\n", rep.RecallAt1, rep.RecallAt5, rep.RecallAt10, rep.MRR)
	fmt.Fprintf(a.stdout, "query latency p50 %s  p95 %s\n", round(rep.P50), round(rep.P95))
	return nil
}

// evalAnswers answers qs over ix, measures the answers and prints the
// report, as JSON if asJSON.
func evalAnswers(ctx context.Context, a *app, ix *retrieval.Index, qs []eval.Question, f evalFlags, progress func(done, total int)) error {
	opts := eval.AnswersOptions{Paragraph: eval.IndexParagraphs(ix), Progress: progress}
	if f.details != "" {
		out, err := os.Create(f.details)
		if err != nil {
			return err
		}
		defer out.Close()
		enc := json.NewEncoder(out)
		enc.SetEscapeHTML(false)
		opts.Each = func(q eval.Question, ans *bot.Answer, hit bool) {
			enc.Encode(detailJSON{ID: q.ID, Question: q.Text, Answerable: q.Answerable, OffCorpus: q.OffCorpus,
				Corpus: q.Corpus, Split: q.Split, Hit: hit, Answer: toAnswerJSON(ans)})
		}
	}
	ar, err := a.answerer(ctx, ix)
	if err != nil {
		return err
	}
	rep, err := eval.Answers(ctx, ar, qs, opts)
	if err != nil {
		return err
	}
	if f.json {
		return a.writeJSON(answersReportJSON{rep, ms(rep.P50), ms(rep.P95), ms(rep.OverheadP50), ms(rep.OverheadP95)})
	}
	printAnswersReport(a, rep)
	return nil
}

// retrievalReportJSON and answersReportJSON are the reports with their
// latencies in milliseconds (the outer fields hide the Durations).
type retrievalReportJSON struct {
	eval.RetrievalReport
	P50 float64 `json:"p50_ms"`
	P95 float64 `json:"p95_ms"`
}

type answersReportJSON struct {
	eval.AnswersReport
	P50         float64 `json:"p50_ms"`
	P95         float64 `json:"p95_ms"`
	OverheadP50 float64 `json:"overhead_p50_ms"`
	OverheadP95 float64 `json:"overhead_p95_ms"`
}

// detailJSON is one line of 'eval answers --details'.
type detailJSON struct {
	ID         string     `json:"id"`
	Question   string     `json:"question"`
	Answerable bool       `json:"answerable"`
	OffCorpus  bool       `json:"off_corpus"`
	Corpus     string     `json:"corpus,omitempty"`
	Split      string     `json:"split,omitempty"`
	Hit        bool       `json:"gold_in_quote"`
	Answer     answerJSON `json:"answer"`
}

func printAnswersReport(a *app, r eval.AnswersReport) {
	w := a.stdout
	fmt.Fprintf(w, "%d questions (%d answerable, %d unanswerable); %d generated, %d fell back to extractive\n",
		r.Questions, r.Answerable, r.Unanswerable, r.Generated, r.Fallbacks)
	fmt.Fprintf(w, "quote exactness     %.3f  (%d quotes shown)\n", r.QuoteExactness, r.Quotes)
	fmt.Fprintf(w, "answer in quote     %.3f  (%d questions with gold answers)\n", r.AnswerInQuote, r.WithAnswers)
	fmt.Fprintf(w, "answer in passages  %.3f  (of the same: one of the passages answered from holds it; with a model, those it read)\n", r.AnswerInPassages)
	if r.WithEvidence > 0 {
		fmt.Fprintf(w, "evidence in quote   %.3f  (%d questions with evidence)\n", r.EvidenceInQuote, r.WithEvidence)
	}
	fmt.Fprintf(w, "citation precision  %.3f  (%d citations; gold passage cited for %.3f of questions)\n", r.CitationPrecision, r.Citations, r.GoldCited)
	fmt.Fprintf(w, "false refusals      %.3f  (of %d answerable)\n", r.FalseRefusals, r.Answerable)
	if r.Unanswerable > 0 {
		fmt.Fprintf(w, "refusal accuracy    %.3f  (of %d unanswerable", r.RefusalAccuracy, r.Unanswerable)
		if r.OffCorpus > 0 {
			fmt.Fprintf(w, "; off-corpus refused %.3f of %d", r.OffCorpusRefused, r.OffCorpus)
		}
		fmt.Fprintln(w, ")")
	} else {
		fmt.Fprintln(w, "refusal accuracy    n/a  (no unanswerable questions)")
	}
	if r.Generated > 0 || r.Fallbacks > 0 || r.AskedAnswerable > 0 {
		fmt.Fprintf(w, "model asked         %.3f of answerable, %.3f of off-corpus\n", r.AskedAnswerable, r.AskedOffCorpus)
	}
	c := r.Check
	fmt.Fprintf(w, "verification        %d kept, %d repaired, %d re-attributed, %d dropped, %d bad markers removed, %d unsupported citations removed\n",
		c.Kept, c.Repaired, c.Reattributed, c.Dropped, c.MarkersRemoved, c.Uncited)
	fmt.Fprintf(w, "latency p50 %s  p95 %s; overhead beyond retrieval and LLM p50 %s  p95 %s\n",
		round(r.P50), round(r.P95), round(r.OverheadP50), round(r.OverheadP95))
}

// loadPaths loads each file or folder and merges them into one corpus. It
// fails if the corpus limits leave anything out: an evaluation of part of
// its articles would not measure what it says.
func (a *app) loadPaths(ctx context.Context, paths []string) (*corpus.Corpus, error) {
	start := time.Now()
	all := &corpus.Corpus{}
	for _, p := range paths {
		load := corpus.LoadFile
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			load = corpus.LoadDir
		}
		c, err := load(ctx, p, a.corpusOptions())
		if err != nil {
			return nil, err
		}
		if len(c.LeftOut) > 0 {
			first := c.LeftOut[0]
			return nil, fmt.Errorf("%s is over the corpus limits (%s): %s: %s", p, a.cfg.limitsText(), first.Source, first.Reason)
		}
		all.Articles = append(all.Articles, c.Articles...)
		all.Skipped = append(all.Skipped, c.Skipped...)
	}
	// Each path was within the limits; one index holds them all.
	maxParas, maxBytes := a.cfg.corpusLimits()
	var size int64
	for _, art := range all.Articles {
		for _, p := range art.Paragraphs {
			size += int64(len(p.Text))
		}
	}
	if n := all.Paragraphs(); n > maxParas || size > maxBytes {
		return nil, fmt.Errorf("the articles given are together over the corpus limits (%s): %d paragraphs, %d bytes of text", a.cfg.limitsText(), n, size)
	}
	a.log.Info("articles loaded", "articles", len(all.Articles), "paragraphs", all.Paragraphs(), "seconds", time.Since(start).Seconds())
	return all, nil
}
