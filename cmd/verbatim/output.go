package main

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/verbatim-bot/verbatim/bot"
	"github.com/verbatim-bot/verbatim/corpus"
	"github.com/verbatim-bot/verbatim/retrieval"
)

// printAnswer writes an answer for a person: the reply, then the numbered
// sources with the verified quotes the reply does not already show.
func printAnswer(w io.Writer, ans *bot.Answer, verbose bool) {
	fmt.Fprintln(w, answerText(ans))
	if ans.Note != "" {
		fmt.Fprintf(w, "(%s)\n", ans.Note)
	}
	if ans.KeywordOnly {
		fmt.Fprintln(w, "(The embedding server did not answer: the passages were found by keywords alone.)")
	}
	for _, c := range ans.Closest { // the text names them; add their links
		if c.URL != "" {
			fmt.Fprintf(w, "  %s%s\n", c.Title, link(c.URL))
		}
	}
	if len(ans.Sources) > 0 {
		fmt.Fprintln(w, "\nSources:")
	}
	for _, s := range ans.Sources {
		fmt.Fprintf(w, "[%d] %s — %s%s%s\n", s.N, s.Title, s.Paragraph.Cite(), prefixed(" · ", byline(s.Published, s.Author)), link(quoteLink(s)))
		for _, q := range s.Quotes {
			if !shownInBody(ans.Body, s.N, q.Span) {
				fmt.Fprintf(w, "    > %s\n", q.Text)
			}
		}
	}
	if verbose {
		printDetails(w, ans)
	}
}

// answerText renders an answer's body for a terminal: inline quotes
// between “ and ”, each excerpt as a "> sentence [n]" line; a refusal
// names the closest articles.
func answerText(ans *bot.Answer) string {
	var b strings.Builder
	for _, s := range ans.Body {
		switch s.Kind {
		case bot.Prose:
			b.WriteString(s.Text)
		case bot.InlineQuote:
			b.WriteString("“" + s.Text + "”")
		case bot.Excerpt:
			if b.Len() > 0 {
				b.WriteString("\n")
			}
			b.WriteString("> " + strings.Join(strings.Fields(s.Text), " ") + " ")
		case bot.Citation:
			fmt.Fprintf(&b, "[%d]", s.Source)
		}
	}
	if ans.Refused && len(ans.Closest) > 0 {
		titles := make([]string, len(ans.Closest))
		for i, c := range ans.Closest {
			titles[i] = "“" + c.Title + "”"
		}
		b.WriteString(" The closest: " + strings.Join(titles, "; ") + ".")
	}
	return b.String()
}

// shownInBody reports whether body already shows source n's quote at span.
func shownInBody(body []bot.Segment, n int, span corpus.Span) bool {
	for _, s := range body {
		if (s.Kind == bot.InlineQuote || s.Kind == bot.Excerpt) && s.Source == n && s.Span == span {
			return true
		}
	}
	return false
}

// nearest describes the cosine of r's sentence nearest the query by the
// sentence encoder, when retrieval measured it.
func nearest(r retrieval.Result) string {
	if len(r.Sentences) == 0 {
		return ""
	}
	return fmt.Sprintf(" · nearest sentence %.3f", slices.Max(r.Sentences))
}

// printDetails writes what --verbose adds: the passages the answer drew
// on with their retrieval rank and scores, the mode, verification counts
// and timings.
func printDetails(w io.Writer, ans *bot.Answer) {
	fmt.Fprintf(w, "\n--\nread, of those retrieved for %q:\n", ans.Query)
	for _, r := range ans.Retrieved {
		fmt.Fprintf(w, "  %d. %s  relevance %.2f · bm25 %.2f · cosine %.3f%s\n", r.Rank, r.Paragraph.ID, r.Relevance, r.Keyword, r.Vector, nearest(r))
	}
	j := ans.Judgement
	fmt.Fprintf(w, "judgement: relevance %.2f (bar %.2f) · similarity %.2f (bar %.2f) · support %.2f (bar %.2f) · asks for %s",
		j.Relevance, j.MinRelevance, j.Similarity, j.MinSimilarity, j.Support, j.MinSupport, cmp.Or(string(j.Kind), "anything"))
	if j.Kind != bot.AnyKind {
		fmt.Fprintf(w, " (found: %t)", j.KindFound)
	}
	if j.Closeness >= 0 {
		fmt.Fprintf(w, " · closeness %.2f (gate %.2f, offline %.2f)", j.Closeness, j.MinCloseness, j.MinAnswerCloseness)
	}
	if j.Topicality >= 0 {
		fmt.Fprintf(w, " · topicality %.3f (gate %.3f)", j.Topicality, j.MinTopicality)
	}
	switch {
	case j.OffCorpus:
		fmt.Fprint(w, " → off-corpus, no model asked")
	case j.Unsupported:
		fmt.Fprint(w, " → the best sentence does not answer")
	}
	fmt.Fprintf(w, "\nmode: %s", ans.Mode)
	if ans.Note != "" {
		fmt.Fprintf(w, " (%s)", ans.Note)
	}
	c := ans.Check
	fmt.Fprintf(w, "\nverification: %d kept, %d repaired, %d re-attributed, %d dropped, %d bad markers removed, %d unsupported citations removed\n",
		c.Kept, c.Repaired, c.Reattributed, c.Dropped, c.MarkersRemoved, c.Uncited)
	t := ans.Timings
	fmt.Fprintf(w, "time: retrieval %s, llm %s, verify %s, total %s\n",
		round(t.Retrieval), round(t.LLM), round(t.Verify), round(t.Total))
}

// quoteLink is the source's URL with a text fragment that highlights its
// first quote in a browser.
func quoteLink(s bot.Source) string {
	if len(s.Quotes) == 0 {
		return s.URL
	}
	return corpus.TextFragmentURL(s.URL, s.Quotes[0].Text)
}

func link(url string) string {
	if url == "" {
		return ""
	}
	return " <" + url + ">"
}

func round(d time.Duration) time.Duration { return d.Round(10 * time.Microsecond) }

// The JSON shapes below are the CLI's stable output for scripts; they do
// not change when internal types do.

type answerJSON struct {
	ID       string         `json:"id"`
	Question string         `json:"question"`
	Text     string         `json:"text"`
	Body     []segmentJSON  `json:"body"`
	Refused  bool           `json:"refused"`
	Keyword  bool           `json:"keyword_only,omitempty"`
	Mode     bot.Mode       `json:"mode"`
	Note     string         `json:"note,omitempty"`
	Sources  []sourceJSON   `json:"sources"`
	Closest  []articleJSON  `json:"closest,omitempty"`
	Check    bot.Check      `json:"verification"`
	Judge    judgementJSON  `json:"judgement"`
	Timings  map[string]any `json:"timings_ms"`
}

// segmentJSON is one piece of an answer's body: "text" (prose), "quote"
// (a verified inline quotation), "excerpt" (a verified quote on its own
// line) or "citation"; quotes and citations name their source's n, quotes
// their byte span in its paragraph.
type segmentJSON struct {
	Type   bot.SegmentKind `json:"type"`
	Text   string          `json:"text,omitempty"`
	Source int             `json:"source,omitempty"`
	Start  *int            `json:"start,omitempty"`
	End    *int            `json:"end,omitempty"`
}

// judgementJSON is bot.Judgement: the scores the refusal was decided on,
// and the bars applied.
type judgementJSON struct {
	Relevance          float64  `json:"relevance"`
	Similarity         float64  `json:"similarity"`
	Support            float64  `json:"support"`
	Closeness          *float64 `json:"closeness,omitempty"`  // nil when no encoder measured it
	Topicality         *float64 `json:"topicality,omitempty"` // nil when retrieval did not measure it
	Kind               string   `json:"asks_for,omitempty"`
	KindFound          bool     `json:"found"`
	OffCorpus          bool     `json:"off_corpus"`
	Unsupported        bool     `json:"unsupported"`
	ModelAsked         bool     `json:"model_asked"`
	MinRelevance       float64  `json:"min_relevance"`
	MinSimilarity      float64  `json:"min_similarity"`
	MinSupport         float64  `json:"min_support"`
	MinCloseness       float64  `json:"min_closeness,omitempty"`
	MinAnswerCloseness float64  `json:"min_answer_closeness,omitempty"`
	MinTopicality      float64  `json:"min_topicality,omitempty"`
}

type sourceJSON struct {
	N           int         `json:"n"`
	ArticleID   string      `json:"article_id"`
	Title       string      `json:"title"`
	URL         string      `json:"url,omitempty"`
	Author      string      `json:"author,omitempty"`
	Published   *time.Time  `json:"published,omitempty"`
	ParagraphID string      `json:"paragraph_id"`
	Paragraph   int         `json:"paragraph"`
	Page        int         `json:"page,omitempty"`    // PDF page, with the paragraph's place on it
	OnPage      int         `json:"on_page,omitempty"` // ¶ on that page
	Quotes      []quoteJSON `json:"quotes"`
}

type quoteJSON struct {
	Text  string `json:"text"`
	Start int    `json:"start"` // byte offset in the paragraph
	End   int    `json:"end"`
}

type articleJSON struct {
	ID         string     `json:"id"`
	Title      string     `json:"title"`
	URL        string     `json:"url,omitempty"`
	Source     string     `json:"source,omitempty"`
	Paragraphs int        `json:"paragraphs,omitempty"`
	Author     string     `json:"author,omitempty"`
	Published  *time.Time `json:"published,omitempty"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func toAnswerJSON(a *bot.Answer) answerJSON {
	out := answerJSON{
		ID: a.ID, Question: a.Question, Text: answerText(a), Body: []segmentJSON{}, Refused: a.Refused, Keyword: a.KeywordOnly, Mode: a.Mode, Note: a.Note,
		Sources: []sourceJSON{}, Check: a.Check,
		Timings: map[string]any{"retrieval": ms(a.Timings.Retrieval), "llm": ms(a.Timings.LLM), "verify": ms(a.Timings.Verify), "total": ms(a.Timings.Total)},
	}
	j := a.Judgement
	out.Judge = judgementJSON{
		Relevance: j.Relevance, Similarity: j.Similarity, Support: j.Support, Kind: string(j.Kind), KindFound: j.KindFound,
		OffCorpus: j.OffCorpus, Unsupported: j.Unsupported, ModelAsked: a.Asked,
		MinRelevance: j.MinRelevance, MinSimilarity: j.MinSimilarity, MinSupport: j.MinSupport,
	}
	if j.Closeness >= 0 { // the closeness bars applied only then
		out.Judge.Closeness = &j.Closeness
		out.Judge.MinCloseness, out.Judge.MinAnswerCloseness = j.MinCloseness, j.MinAnswerCloseness
	}
	if j.Topicality >= 0 {
		out.Judge.Topicality, out.Judge.MinTopicality = &j.Topicality, j.MinTopicality
	}
	for _, s := range a.Body {
		sj := segmentJSON{Type: s.Kind, Text: s.Text, Source: s.Source}
		if s.Kind == bot.InlineQuote || s.Kind == bot.Excerpt {
			sj.Start, sj.End = &s.Span.Start, &s.Span.End
		}
		out.Body = append(out.Body, sj)
	}
	for _, s := range a.Sources {
		sj := sourceJSON{N: s.N, ArticleID: s.ArticleID, Title: s.Title, URL: s.URL, ParagraphID: s.Paragraph.ID, Paragraph: s.Paragraph.N,
			Page: s.Paragraph.Page, OnPage: s.Paragraph.OnPage, Author: s.Author, Quotes: []quoteJSON{}}
		if !s.Published.IsZero() {
			sj.Published = &s.Published
		}
		for _, q := range s.Quotes {
			sj.Quotes = append(sj.Quotes, quoteJSON{Text: q.Text, Start: q.Span.Start, End: q.Span.End})
		}
		out.Sources = append(out.Sources, sj)
	}
	for _, c := range a.Closest {
		out.Closest = append(out.Closest, articleJSON{ID: c.ID, Title: c.Title, URL: c.URL})
	}
	return out
}

type resultJSON struct {
	Rank        int     `json:"rank"`
	ParagraphID string  `json:"paragraph_id"`
	Title       string  `json:"title"`
	Paragraph   int     `json:"paragraph"`
	Relevance   float64 `json:"relevance"`
	Keyword     float64 `json:"bm25"`
	Vector      float64 `json:"cosine"`
	Fused       float64 `json:"fused"`
	// Sentences holds the sentence encoder's cosine of the query with each
	// sentence, when retrieval measured them.
	Sentences []float32 `json:"sentences,omitempty"`
	Text      string    `json:"text"`
}

func searchJSON(res []retrieval.Result) []resultJSON {
	out := []resultJSON{}
	for _, r := range res {
		out = append(out, resultJSON{r.Rank, r.Paragraph.ID, r.Article.Title, r.Paragraph.N, r.Relevance, r.Keyword, r.Vector, r.Fused, r.Sentences, r.Paragraph.Text})
	}
	return out
}

type hitJSON struct {
	ParagraphID string  `json:"paragraph_id"`
	Title       string  `json:"title"`
	URL         string  `json:"url,omitempty"`
	Paragraph   int     `json:"paragraph"`
	Exact       bool    `json:"exact"`
	Similarity  float64 `json:"similarity"`
	Text        string  `json:"text"`
	Start       int     `json:"start"`
	End         int     `json:"end"`
}

func hitsJSON(hits []retrieval.QuoteHit) []hitJSON {
	out := []hitJSON{}
	for _, h := range hits {
		out = append(out, hitJSON{h.Paragraph.ID, h.Article.Title, h.Article.URL, h.Paragraph.N, h.Exact, h.Similarity, h.Text, h.Span.Start, h.Span.End})
	}
	return out
}

// articleList returns the articles whose title contains search (ignoring
// case), sorted by title.
func articleList(articles []corpus.Article, search string) []articleJSON {
	out := []articleJSON{}
	search = strings.ToLower(search)
	for _, a := range articles {
		if search != "" && !strings.Contains(strings.ToLower(a.Title), search) {
			continue
		}
		x := articleJSON{ID: a.ID, Title: a.Title, URL: a.URL, Source: a.Source, Paragraphs: len(a.Paragraphs), Author: a.Author}
		if !a.Published.IsZero() {
			x.Published = &a.Published
		}
		out = append(out, x)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Title < out[j].Title })
	return out
}

// byDate sorts list newest first, undated articles last by title.
func byDate(list []articleJSON) {
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i].Published, list[j].Published
		switch {
		case a == nil || b == nil:
			return a != nil && b == nil
		default:
			return a.After(*b)
		}
	})
}

type statsJSON struct {
	Articles   int              `json:"articles"`
	Paragraphs int              `json:"paragraphs"`
	Added      int              `json:"added"`
	Changed    int              `json:"changed"`
	Removed    int              `json:"removed"`
	Cached     int              `json:"cached"`
	Embedded   int              `json:"embedded"`
	Unembedded int              `json:"unembedded"`
	Skipped    []corpus.Skipped `json:"skipped"`
	LeftOut    []corpus.Skipped `json:"left_out"`
	Seconds    float64          `json:"seconds"`
}

func toStatsJSON(s retrieval.Stats) statsJSON {
	sk, lo := s.Skipped, s.LeftOut
	if sk == nil {
		sk = []corpus.Skipped{}
	}
	if lo == nil {
		lo = []corpus.Skipped{}
	}
	return statsJSON{s.Articles, s.Paragraphs, s.Added, s.Changed, s.Removed, s.Cached, s.Embedded, s.Unembedded, sk, lo, s.Duration.Seconds()}
}
