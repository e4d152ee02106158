package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/verbatim-bot/verbatim/bot"
	"github.com/verbatim-bot/verbatim/retrieval"
)

// examples are what the missing-argument message suggests, by command.
var examples = map[string]string{
	"ask":    `verbatim ask "Who is Ze'ev Khanin?"`,
	"search": `verbatim search "Who is Ze'ev Khanin?"`,
	"quote":  `verbatim quote "a strategic partner"`,
}

// oneArg joins the positional arguments into the command's single text
// argument, so that quoting the question is optional.
func (a *app) oneArg(rest []string, what string) (string, error) {
	s := strings.TrimSpace(strings.Join(rest, " "))
	if s == "" {
		return "", fmt.Errorf("%w: give a %s, e.g. %s", errUsage, what, examples[a.name])
	}
	return s, nil
}

// inputError marks errors caused by what the user typed (a question with
// no words to search, or too long) as usage errors, exit status 2.
func inputError(err error) error {
	if errors.Is(err, retrieval.ErrEmptyQuery) || errors.Is(err, bot.ErrEmptyQuestion) || errors.Is(err, bot.ErrQuestionTooLong) {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	return err
}

func runAsk(ctx context.Context, a *app, args []string) error {
	fs := a.newFlags(`[--json] [--verbose] [--article ID] "question"`,
		"Answers the question from the articles. Every quote shown is verified to appear\nword for word in its cited paragraph; when the articles do not answer, it says so.")
	asJSON := fs.Bool("json", false, "print the answer as JSON")
	verbose := fs.Bool("verbose", false, "also print retrieval and verification details")
	article := fs.String("article", "", "only use this article (ID from 'verbatim articles')")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	q, err := a.oneArg(rest, "question")
	if err != nil {
		return err
	}
	log := a.logger(slog.LevelWarn)
	ix, _, err := a.openIndex(ctx, !*asJSON)
	if err != nil {
		return err
	}
	ar, err := a.answerer(ctx, ix)
	if err != nil {
		return err
	}
	opts := bot.Options{ArticleID: *article}
	d := a.draft(!*asJSON && ar.Generating())
	if d != nil {
		opts.OnDelta = d.update
	}
	ans, err := ar.Answer(ctx, q, opts)
	if d != nil {
		d.clear()
	}
	if err != nil {
		return inputError(err)
	}
	log.Debug("answered", "id", ans.ID, "mode", ans.Mode, "refused", ans.Refused)
	if *asJSON {
		return a.writeJSON(toAnswerJSON(ans))
	}
	printAnswer(a.stdout, ans, *verbose)
	return nil
}

// lookup is what search and quote share: their flags, their one text
// argument, and the index brought up to date.
type lookup struct {
	json    bool
	k       int
	article string
	text    string
	ix      *retrieval.Index
}

func (a *app) lookup(ctx context.Context, args []string, what, about string) (*lookup, error) {
	fs := a.newFlags(`[--json] [-k N] [--article ID] "`+what+`"`, about)
	var l lookup
	fs.BoolVar(&l.json, "json", false, "print the results as JSON")
	fs.IntVar(&l.k, "k", 5, "number of results")
	fs.StringVar(&l.article, "article", "", "only look in this article (ID from 'verbatim articles')")
	rest, err := parse(fs, args)
	if err != nil {
		return nil, err
	}
	if l.text, err = a.oneArg(rest, what); err != nil {
		return nil, err
	}
	a.logger(slog.LevelWarn)
	if l.ix, _, err = a.openIndex(ctx, !l.json); err != nil {
		return nil, err
	}
	return &l, nil
}

func runSearch(ctx context.Context, a *app, args []string) error {
	l, err := a.lookup(ctx, args, "question", "Shows the passages retrieval ranks highest for the question, with their scores.")
	if err != nil {
		return err
	}
	start := time.Now()
	res, err := l.ix.Search(ctx, l.text, retrieval.SearchOptions{K: l.k, ArticleID: l.article})
	if err != nil {
		return inputError(err)
	}
	took := time.Since(start)
	if l.json {
		return a.writeJSON(searchJSON(res))
	}
	for _, r := range res {
		fmt.Fprintf(a.stdout, "%d. %s — %s  [%s]\n   relevance %.2f · bm25 %.2f · cosine %.3f%s · fused %.4f\n   %s\n\n",
			r.Rank, r.Article.Title, r.Paragraph.Cite(), r.Paragraph.ID, r.Relevance, r.Keyword, r.Vector, nearest(r), r.Fused, clip(r.Paragraph.Text, 300))
	}
	fmt.Fprintf(a.stdout, "%d passages in %s\n", len(res), took.Round(10*time.Microsecond))
	return nil
}

func runQuote(ctx context.Context, a *app, args []string) error {
	l, err := a.lookup(ctx, args, "phrase",
		"Finds the passages that contain the phrase word for word (ignoring case, spacing,\nand straight versus curly quotes and dashes), or failing that the closest sentences.")
	if err != nil {
		return err
	}
	hits, err := l.ix.Quote(ctx, l.text, retrieval.QuoteOptions{K: l.k, ArticleID: l.article})
	if err != nil {
		return inputError(err)
	}
	if l.json {
		return a.writeJSON(hitsJSON(hits))
	}
	if len(hits) == 0 {
		fmt.Fprintln(a.stdout, "No passage contains or resembles that phrase.")
		return nil
	}
	if !hits[0].Exact {
		fmt.Fprintln(a.stdout, "No exact match; the closest sentences:")
	}
	for i, h := range hits {
		kind := "exact"
		if !h.Exact {
			kind = fmt.Sprintf("similarity %.2f", h.Similarity)
		}
		fmt.Fprintf(a.stdout, "%d. %s — %s (%s)\n   “%s”\n", i+1, h.Article.Title, h.Paragraph.Cite(), kind, h.Text)
		if h.Article.URL != "" {
			fmt.Fprintf(a.stdout, "   %s\n", h.Article.URL)
		}
	}
	return nil
}

func runArticles(ctx context.Context, a *app, args []string) error {
	fs := a.newFlags(`[--json] [--search TEXT] [--by-date]`, "Lists the articles Verbatim knows, with their date and author when known.")
	asJSON := fs.Bool("json", false, "print the list as JSON")
	search := fs.String("search", "", "only articles whose title contains TEXT")
	dated := fs.Bool("by-date", false, "newest first (undated articles last), and say how fresh the newest is")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	a.logger(slog.LevelWarn)
	c, err := a.loadCorpus(ctx)
	if err != nil {
		return err
	}
	list := articleList(c.Articles, *search)
	if *dated {
		byDate(list)
	}
	if *asJSON {
		return a.writeJSON(list)
	}
	for _, x := range list {
		var published time.Time
		if x.Published != nil {
			published = *x.Published
		}
		fmt.Fprintf(a.stdout, "%-40s %4d ¶  %s%s\n", x.ID, x.Paragraphs, x.Title, prefixed(" — ", byline(published, x.Author)))
	}
	fmt.Fprintf(a.stdout, "%d articles\n", len(list))
	if *dated && len(list) > 0 && list[0].Published != nil {
		fmt.Fprintf(a.stdout, "newest: %s, %s\n", list[0].Published.Format("2006-01-02"), ago(time.Since(*list[0].Published)))
	}
	if n := len(c.LeftOut); n > 0 {
		fmt.Fprintf(a.stdout, "%d sources left out over the corpus limits (%s); 'verbatim index' lists them\n", n, a.cfg.limitsText())
	}
	return nil
}

// ago says how long ago an age is, roughly: "3 hours ago", "5 days ago".
func ago(d time.Duration) string {
	switch {
	case d < 0:
		return "in the future"
	case d < 2*time.Hour:
		return "within the last two hours"
	case d < 48*time.Hour:
		return fmt.Sprintf("%d hours ago", int(d.Hours()))
	default:
		return fmt.Sprintf("%d days ago", int(d.Hours()/24))
	}
}

// byline is "date · author" for what is known of an article, or "".
func byline(published time.Time, author string) string {
	var parts []string
	if !published.IsZero() {
		parts = append(parts, published.Format("2006-01-02"))
	}
	if author != "" {
		parts = append(parts, author)
	}
	return strings.Join(parts, " · ")
}

// prefixed is prefix+s, or "" when s is.
func prefixed(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}

func runIndex(ctx context.Context, a *app, args []string) error {
	fs := a.newFlags(`[--json]`, "Builds or refreshes the index under DATA_DIR, embedding only new or changed\nparagraphs, and prints what changed.")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	a.logger(slog.LevelWarn)
	_, stats, err := a.openIndex(ctx, !*asJSON)
	if err != nil {
		return err
	}
	if *asJSON {
		return a.writeJSON(toStatsJSON(stats))
	}
	fmt.Fprintln(a.stdout, formatStats(stats))
	for _, s := range stats.Skipped {
		fmt.Fprintf(a.stdout, "skipped %s: %s\n", s.Source, s.Reason)
	}
	if len(stats.LeftOut) > 0 {
		fmt.Fprintf(a.stdout, "the corpus is over its limits (%s); left out:\n", a.cfg.limitsText())
		for _, s := range stats.LeftOut {
			fmt.Fprintf(a.stdout, "left out %s: %s\n", s.Source, s.Reason)
		}
	}
	return nil
}

// formatStats is the one-line summary of an index load.
func formatStats(s retrieval.Stats) string {
	out := fmt.Sprintf("%d articles, %d paragraphs: %d added, %d changed, %d removed, %d cached, %d embedded, %d sources skipped, in %.2fs",
		s.Articles, s.Paragraphs, s.Added, s.Changed, s.Removed, s.Cached, s.Embedded, len(s.Skipped), s.Duration.Seconds())
	if s.Fragments > 0 {
		out += fmt.Sprintf("; %d fragments too short to index (under 3 words or 12 letters)", s.Fragments)
	}
	if n := len(s.LeftOut); n > 0 {
		out += fmt.Sprintf("; %d sources left out over the corpus limits", n)
	}
	if s.Sentences > 0 {
		out += fmt.Sprintf("; %d sentences for the encoder, %d encoded", s.Sentences, s.SentencesEncoded)
	}
	if s.SentencesPending > 0 {
		out += fmt.Sprintf("; %d sentences being encoded in the background", s.SentencesPending)
	}
	if s.Unembedded > 0 {
		out += fmt.Sprintf("; %d texts refused by the embedder are found by keywords only (see the log)", s.Unembedded)
	}
	return out
}

// clip shortens s to at most n runes, marking the cut.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
