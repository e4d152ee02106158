package discord

import (
	"cmp"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/verbatim-bot/verbatim/bot"
	"github.com/verbatim-bot/verbatim/corpus"
	"github.com/verbatim-bot/verbatim/retrieval"
)

// Discord's message limits, in characters.
const (
	maxContent     = 2000
	maxEmbedTitle  = 256
	maxEmbedDesc   = 4096
	maxEmbedsTotal = 6000
	maxEmbeds      = 10
	maxCustomID    = 100
	maxChoice      = 100
	maxChoices     = 25
)

// reply is one Discord message as the bot renders it.
type reply struct {
	Content    string
	Embeds     []*discordgo.MessageEmbed
	Components []discordgo.MessageComponent
}

// renderAnswer lays an answer out as Discord messages: the reply text as
// content (split at paragraph or sentence boundaries when it is long), then
// one embed per source: "[n] Title" linking to the quote in the article,
// the paragraph number, and the verified quotes as block quotes. Embeds
// ride on the last text message while they fit Discord's per-message
// limits; the rest follow in further messages. A refusal is one short
// message naming the closest articles.
func renderAnswer(a *bot.Answer) []reply {
	if a.Refused {
		return renderRefusal(a)
	}
	var out []reply
	for _, c := range answerChunks(renderBody(a.Body), answerNote(a)) {
		out = append(out, reply{Content: c})
	}
	var embeds []*discordgo.MessageEmbed
	for _, s := range a.Sources { // at most TOP_K: sources are retrieved passages
		embeds = append(embeds, sourceEmbeds(s)...)
	}
	if len(out) == 0 && len(embeds) == 0 {
		return renderRefusal(a) // nothing to show: never send an empty message
	}
	return attachEmbeds(out, embeds)
}

// answerChunks splits an answer's text and note into messages. A runaway
// reply longer than maxAnswerMessages messages is cut at a paragraph or
// sentence end of the last one, whose note then says so.
func answerChunks(body, note string) []string {
	chunks := splitText(body+noteLine(note), maxContent)
	if len(chunks) <= maxAnswerMessages {
		return chunks
	}
	note = strings.TrimSpace(note + " " + noticeCut)
	chunks = splitText(body, maxContent)[:maxAnswerMessages]
	last := len(chunks) - 1
	chunks[last] = splitText(chunks[last], maxContent-runes(noteLine(note)))[0] + noteLine(note)
	return chunks
}

// An answer's text takes at most maxAnswerMessages messages; noticeCut
// says the rest was cut.
const (
	maxAnswerMessages = 5
	noticeCut         = "The rest of this answer was cut: it was too long to show here."
)

// refusalText is said when the articles do not answer and the answerer
// gave no wording of its own.
const refusalText = "The articles I know don't answer that."

func renderRefusal(a *bot.Answer) []reply {
	text := strings.TrimSpace(renderBody(a.Body))
	if text == "" {
		text = refusalText
	}
	var names []string
	for _, c := range a.Closest {
		title := escapeQuote(truncate(c.Title, 150))
		if u := httpURL(c.URL); u != "" {
			names = append(names, "["+title+"](<"+u+">)")
		} else {
			names = append(names, "**"+title+"**")
		}
	}
	if len(names) > 0 {
		text += "\nClosest articles: " + strings.Join(names, ", ") + "."
	}
	text += noteLine(answerNote(a))
	var out []reply
	for _, c := range splitText(text, maxContent) {
		out = append(out, reply{Content: c})
	}
	return out
}

// sourceEmbeds renders one cited source: usually one embed, more when its
// quotes exceed an embed description (quotes are never cut unless a
// single one is longer than a whole description).
func sourceEmbeds(s bot.Source) []*discordgo.MessageEmbed {
	title := fmt.Sprintf("[%d] %s", s.N, neutralizeMentions(s.Title))
	link := httpURL(s.URL)
	if link != "" && len(s.Quotes) > 0 {
		link = corpus.TextFragmentURL(link, s.Quotes[0].Text)
	}
	header := strings.Replace(s.Paragraph.Cite(), "¶", "¶ ", 1)
	var blocks []string
	for _, q := range s.Quotes {
		text := escapeQuote(q.Text)
		budget := maxEmbedDesc - runes(header) - 2 - 2*(strings.Count(text, "\n")+1)
		for _, part := range splitText(text, budget) {
			blocks = append(blocks, blockQuote(part))
		}
	}
	e := &discordgo.MessageEmbed{Title: truncate(title, maxEmbedTitle), URL: link, Description: header}
	out := []*discordgo.MessageEmbed{e}
	for _, b := range blocks {
		if runes(e.Description)+2+runes(b) > maxEmbedDesc {
			e = &discordgo.MessageEmbed{Title: truncate(title+" (continued)", maxEmbedTitle), URL: link, Description: header}
			out = append(out, e)
		}
		e.Description += "\n\n" + b
	}
	if by := byline(s); by != "" {
		out[0].Footer = &discordgo.MessageEmbedFooter{Text: by}
	}
	return out
}

// byline is "date · author" for what is known of a source's article.
func byline(s bot.Source) string {
	var parts []string
	if !s.Published.IsZero() {
		parts = append(parts, s.Published.Format("2006-01-02"))
	}
	if s.Author != "" {
		parts = append(parts, truncate(inert(s.Author), 100))
	}
	return strings.Join(parts, " · ")
}

// attachEmbeds adds embeds to the last of msgs while the message stays
// within Discord's embed count and total size, continuing in new messages.
func attachEmbeds(msgs []reply, embeds []*discordgo.MessageEmbed) []reply {
	if len(msgs) == 0 {
		msgs = []reply{{}}
	}
	for _, e := range embeds {
		last := &msgs[len(msgs)-1]
		size := 0
		for _, x := range last.Embeds {
			size += embedSize(x)
		}
		if len(last.Embeds) >= maxEmbeds || size+embedSize(e) > maxEmbedsTotal {
			msgs = append(msgs, reply{})
			last = &msgs[len(msgs)-1]
		}
		last.Embeds = append(last.Embeds, e)
	}
	return msgs
}

// embedSize counts the characters Discord adds up against its 6,000 limit.
func embedSize(e *discordgo.MessageEmbed) int {
	n := runes(e.Title) + runes(e.Description)
	for _, f := range e.Fields {
		n += runes(f.Name) + runes(f.Value)
	}
	if e.Footer != nil {
		n += runes(e.Footer.Text)
	}
	if e.Author != nil {
		n += runes(e.Author.Name)
	}
	return n
}

// draftHeader heads an answer still being generated, so that nobody takes
// it for the verified answer that replaces it.
const draftHeader = "✍️ *Drafting — quotes are checked before the final answer…*"

// renderPartial shows the text of an answer still being generated, as a
// draft: its quotations (unverified) and links are left out and its
// Markdown is escaped, so nothing in it looks like a checked quote.
func renderPartial(text string) string {
	text = draftUnverified.ReplaceAllStringFunc(neutralizeMentions(text), func(m string) string {
		if sub := draftUnverified.FindStringSubmatch(m); sub[1] != "" {
			return sub[1] // a masked link's text
		}
		if strings.HasPrefix(m, "http") {
			return "(link)"
		}
		return "“…”"
	})
	text = strings.TrimSpace(text)
	if text == "" {
		return draftHeader
	}
	budget := maxContent - runes(draftHeader) - 3
	return draftHeader + "\n" + truncate(escapeMarkdown(truncate(text, budget/2)), budget) + " …"
}

// draftUnverified matches what a draft must not show: quotations (also
// one still open at the end), masked links (group 1 is the text) and
// URLs.
var draftUnverified = regexp.MustCompile(`\[([^\]\n]*)\]\([^)\s]*\)?|https?://\S+|“[^”]*(?:”|$)|"[^"]*(?:"|$)|‘[^’]*(?:’|$)|«[^»]*(?:»|$)`)

// keywordOnlyNote is said when the passages were found by keywords alone.
const keywordOnlyNote = "The embedding server did not answer: the passages were found by keywords alone."

// answerNote is what the italic line under an answer says: why it fell
// back to quotes, and whether the search was by keywords alone.
func answerNote(a *bot.Answer) string {
	if a.KeywordOnly {
		return strings.TrimSpace(a.Note + " " + keywordOnlyNote)
	}
	return a.Note
}

// noteLine is an answer's note (why it fell back to extractive) as a short
// italic line under the answer; "" when there is none.
func noteLine(note string) string {
	note = strings.TrimSpace(note)
	if note == "" {
		return ""
	}
	return "\n\n*" + escapeQuote(truncate(note, 300)) + "*"
}

// feedbackRow is the 👍/👎 pair under an answer; the custom IDs carry the
// answer ID.
func feedbackRow(answerID string) discordgo.ActionsRow {
	return discordgo.ActionsRow{Components: []discordgo.MessageComponent{
		discordgo.Button{Label: "Helpful", Emoji: &discordgo.ComponentEmoji{Name: "👍"}, Style: discordgo.SecondaryButton, CustomID: feedbackPrefix + "up:" + answerID},
		discordgo.Button{Label: "Not helpful", Emoji: &discordgo.ComponentEmoji{Name: "👎"}, Style: discordgo.SecondaryButton, CustomID: feedbackPrefix + "down:" + answerID},
	}}
}

// Custom ID prefixes of the bot's buttons.
const (
	feedbackPrefix = "fb:"
	articlesPrefix = "articles:"
)

// renderQuoteHits shows /quote results: the exact passages containing the
// phrase, with the match in bold, or else the closest sentences, labelled
// as such.
func renderQuoteHits(phrase string, hits []retrieval.QuoteHit) []reply {
	shown := escapeQuote(truncate(inert(phrase), 200))
	var exact, near []retrieval.QuoteHit
	for _, h := range hits {
		if h.Exact {
			exact = append(exact, h)
		} else {
			near = append(near, h)
		}
	}
	var r reply
	switch {
	case len(exact) > 0:
		r.Content = fmt.Sprintf("“%s” appears word for word in %s:", shown, plural(len(exact), "passage"))
		for _, h := range exact {
			r.Embeds = append(r.Embeds, hitEmbed(h, true))
		}
	case len(near) > 0:
		r.Content = fmt.Sprintf("No passage contains “%s” word for word. The closest:", shown)
		for _, h := range near {
			r.Embeds = append(r.Embeds, hitEmbed(h, false))
		}
	default:
		r.Content = fmt.Sprintf("No passage contains “%s” or anything close to it.", shown)
	}
	return attachEmbeds([]reply{{Content: r.Content}}, r.Embeds)
}

// quoteContext is how much of the paragraph /quote shows around a match;
// maxHitRunes how much of the match, so that even escaped (at most twice
// as long) all fits an embed description.
const (
	quoteContext = 300
	maxHitRunes  = 1400
)

func hitEmbed(h retrieval.QuoteHit, exact bool) *discordgo.MessageEmbed {
	title, link := h.Paragraph.ArticleID, ""
	if h.Article != nil {
		title, link = h.Article.Title, httpURL(h.Article.URL)
	}
	if link != "" {
		link = corpus.TextFragmentURL(link, h.Text)
	}
	text := h.Paragraph.Text
	before, match, after := text[:h.Span.Start], text[h.Span.Start:h.Span.End], text[h.Span.End:]
	desc := strings.Replace(h.Paragraph.Cite(), "¶", "¶ ", 1)
	if exact {
		// Bounded before the bold is added, so the description's own
		// bound never cuts inside **…** or after an escaping backslash.
		quoted := escapeQuote(tail(before, quoteContext)) + "**" + escapeQuote(head(match, maxHitRunes)) + "**" + escapeQuote(head(after, quoteContext))
		desc += "\n" + blockQuote(quoted)
	} else {
		desc += fmt.Sprintf(" · %d%% similar\n", int(h.Similarity*100+0.5)) + blockQuote(escapeQuote(head(match, maxHitRunes)))
	}
	return &discordgo.MessageEmbed{
		Title:       truncate(neutralizeMentions(title), maxEmbedTitle),
		URL:         link,
		Description: truncate(desc, maxEmbedDesc),
	}
}

// head returns the start of s, at most n runes, cut after a word, with "…"
// when cut.
func head(s string, n int) string {
	if runes(s) <= n {
		return s
	}
	cut := s[:byteOffset(s, n)]
	if i := strings.LastIndexFunc(cut, unicode.IsSpace); i > 0 {
		cut = cut[:i]
	}
	return cut + "…"
}

// tail returns the end of s, at most n runes, cut before a word, with "…"
// when cut.
func tail(s string, n int) string {
	if runes(s) <= n {
		return s
	}
	cut := s[byteOffset(s, runes(s)-n):]
	if i := strings.IndexFunc(cut, unicode.IsSpace); i >= 0 && i < len(cut)-1 {
		cut = cut[i+1:]
	}
	return "…" + cut
}

// articlesPerPage is the /articles page size; maxArticleURL the longest
// URL a title links to (ten such lines fit an embed description).
const (
	articlesPerPage = 10
	maxArticleURL   = 200
)

// renderArticles shows one page of the articles whose title or ID
// contains search, newest first (undated ones after, in load order), with
// Prev/Next buttons whose custom IDs carry the page and the search.
func renderArticles(all []*corpus.Article, search string, page int) reply {
	search = strings.TrimSpace(search)
	arts := byDate(filterArticles(all, search))
	if len(arts) == 0 {
		if search == "" {
			return reply{Content: "No articles are loaded yet."}
		}
		return reply{Content: fmt.Sprintf("No article title contains “%s”.", escapeQuote(truncate(inert(search), 100)))}
	}
	pages := (len(arts) + articlesPerPage - 1) / articlesPerPage
	page = min(max(page, 0), pages-1)
	var b strings.Builder
	for i, a := range arts[page*articlesPerPage : min(len(arts), (page+1)*articlesPerPage)] {
		title := escapeQuote(truncate(a.Title, 150))
		if u := httpURL(a.URL); u != "" && runes(u) <= maxArticleURL {
			title = "[" + title + "](" + u + ")"
		}
		line := fmt.Sprintf("%d. %s — %s%s\n", page*articlesPerPage+i+1, title, plural(len(a.Paragraphs), "paragraph"), dated(a))
		if runes(b.String())+runes(line) > maxEmbedDesc {
			break
		}
		b.WriteString(line)
	}
	heading := "Articles"
	if search != "" {
		heading = fmt.Sprintf("Articles matching “%s”", escapeQuote(truncate(inert(search), 100)))
	}
	r := reply{Embeds: []*discordgo.MessageEmbed{{
		Title:       heading,
		Description: truncate(b.String(), maxEmbedDesc),
		Footer:      &discordgo.MessageEmbedFooter{Text: fmt.Sprintf("Page %d of %d · %s%s", page+1, pages, plural(len(arts), "article"), newest(arts))},
	}}}
	if pages > 1 {
		r.Components = []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			discordgo.Button{Label: "Prev", Style: discordgo.SecondaryButton, Disabled: page == 0, CustomID: articlesID(page-1, search)},
			discordgo.Button{Label: "Next", Style: discordgo.SecondaryButton, Disabled: page == pages-1, CustomID: articlesID(page+1, search)},
		}}}
	}
	return r
}

// byDate returns arts newest first; undated articles follow in their
// order.
func byDate(arts []*corpus.Article) []*corpus.Article {
	out := slices.Clone(arts)
	slices.SortStableFunc(out, func(a, b *corpus.Article) int {
		switch {
		case a.Published.IsZero() || b.Published.IsZero():
			return cmp.Compare(boolInt(a.Published.IsZero()), boolInt(b.Published.IsZero()))
		default:
			return b.Published.Compare(a.Published)
		}
	})
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// dated is " · date" for an article with a publication date, or "".
func dated(a *corpus.Article) string {
	if a.Published.IsZero() {
		return ""
	}
	return " · " + a.Published.Format("2006-01-02")
}

// newest says how fresh arts (sorted by byDate) are: " · newest
// 2006-01-02", or "" when none is dated.
func newest(arts []*corpus.Article) string {
	if len(arts) == 0 || arts[0].Published.IsZero() {
		return ""
	}
	return " · newest " + arts[0].Published.Format("2006-01-02")
}

func filterArticles(all []*corpus.Article, search string) []*corpus.Article {
	if search == "" {
		return all
	}
	s := strings.ToLower(search)
	var out []*corpus.Article
	for _, a := range all {
		if strings.Contains(strings.ToLower(a.Title), s) || strings.Contains(strings.ToLower(a.ID), s) {
			out = append(out, a)
		}
	}
	return out
}

// maxSearchRunes bounds an /articles search so that articlesID always
// carries it whole: the next page filters as the first did.
const maxSearchRunes = maxCustomID - len(articlesPrefix) - len("9999:")

// articlesID encodes a page and search into a button custom ID (the cut
// to Discord's 100-character limit is only a guard: see maxSearchRunes).
func articlesID(page int, search string) string {
	id := articlesPrefix + strconv.Itoa(page) + ":"
	return id + truncateRunes(search, maxCustomID-runes(id))
}

// parseArticlesID decodes articlesID.
func parseArticlesID(id string) (page int, search string, ok bool) {
	rest, found := strings.CutPrefix(id, articlesPrefix)
	if !found {
		return 0, "", false
	}
	p, search, found := strings.Cut(rest, ":")
	page, err := strconv.Atoi(p)
	return page, search, found && err == nil
}

// renderReload reports what a reload changed.
func renderReload(st retrieval.Stats) string {
	s := fmt.Sprintf("Reloaded in %.1f s: %s, %s (%d added, %d changed, %d removed); %d of %d embeddings from the cache.",
		st.Duration.Round(100*time.Millisecond).Seconds(), plural(st.Articles, "article"), plural(st.Paragraphs, "paragraph"),
		st.Added, st.Changed, st.Removed, st.Cached, st.Cached+st.Embedded)
	if n := len(st.Skipped); n > 0 {
		s += fmt.Sprintf(" %s skipped (see the log).", plural(n, "file"))
	}
	if n := len(st.LeftOut); n > 0 {
		s += fmt.Sprintf(" %s left out over the corpus limits (see the log).", plural(n, "source"))
	}
	if n := st.SentencesPending; n > 0 {
		s += fmt.Sprintf(" %s are being read for search by meaning; until then search ranks without them.", plural(n, "sentence"))
	}
	return s
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// httpURL returns u if it is an absolute http(s) URL, else "", with the
// characters that could end a Markdown link or its <…> form — ( ) < > [ ]
// and white space — percent-encoded, so that an article's URL can never
// close its link and open another.
func httpURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || p.User != nil {
		return ""
	}
	return linkEscaper.Replace(p.String())
}

var linkEscaper = strings.NewReplacer("(", "%28", ")", "%29", "<", "%3C", ">", "%3E", "[", "%5B", "]", "%5D",
	" ", "%20", "\t", "%09", "\n", "%0A", "\r", "%0D", "\"", "%22", "'", "%27")

// inert strips what user text must not carry back into a message: control
// characters (but new lines and tabs) and the bidirectional overrides and
// isolates that could make the bot's message read backwards.
func inert(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case unicode.IsControl(r), r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069,
			r == 0x200E, r == 0x200F, r == 0x061C:
			return -1
		}
		return r
	}, s)
}

// escapeQuote prepares source text for display: mentions made inert and
// Markdown escaped, so it shows exactly the source's characters.
func escapeQuote(s string) string { return escapeMarkdown(neutralizeMentions(s)) }

var markdownEscaper = strings.NewReplacer(
	`\`, `\\`, `*`, `\*`, `_`, `\_`, "`", "\\`", `~`, `\~`, `|`, `\|`,
	`<`, `\<`, `>`, `\>`, `[`, `\[`, `]`, `\]`,
)

// listStart matches what Discord would read as a heading, list item or
// subtext at the start of a line.
var listStart = regexp.MustCompile(`(?m)^(\s*)(#|-|\+|\d+[.)])`)

// escapeMarkdown backslash-escapes the characters Discord's Markdown would
// interpret, so s displays exactly as written.
func escapeMarkdown(s string) string {
	return listStart.ReplaceAllStringFunc(markdownEscaper.Replace(s), func(m string) string {
		i := len(m) - 1
		if m[i] == '.' || m[i] == ')' {
			return m[:i] + `\` + m[i:]
		}
		trimmed := strings.TrimLeftFunc(m, unicode.IsSpace)
		return m[:len(m)-len(trimmed)] + `\` + trimmed
	})
}

// renderBody writes an answer's body in Discord Markdown: prose and
// quotes escaped with mentions made inert (so every character displays as
// the answer's own), inline quotes between “ and ”, each excerpt as a
// one-line block quote, citations as [n]. A "(" right after a citation is
// escaped, so that "[1](url)" cannot become a masked link.
func renderBody(body []bot.Segment) string {
	var b strings.Builder
	for i, s := range body {
		switch s.Kind {
		case bot.Prose:
			text := escapeQuote(s.Text)
			if i > 0 && body[i-1].Kind == bot.Citation && strings.HasPrefix(text, "(") {
				text = `\` + text
			}
			b.WriteString(text)
		case bot.InlineQuote:
			b.WriteString("“" + escapeQuote(s.Text) + "”")
		case bot.Excerpt:
			if b.Len() > 0 {
				b.WriteString("\n")
			}
			b.WriteString("> " + escapeQuote(strings.Join(strings.Fields(s.Text), " ")) + " ")
		case bot.Citation:
			b.WriteString("[" + strconv.Itoa(s.Source) + "]")
		}
	}
	return b.String()
}

// blockQuote prefixes every line of s with "> ".
func blockQuote(s string) string { return "> " + strings.ReplaceAll(s, "\n", "\n> ") }

func runes(s string) int { return utf8.RuneCountInString(s) }

// byteOffset returns the byte index of the n-th rune of s (len(s) if
// fewer).
func byteOffset(s string, n int) int {
	for i := range s {
		if n == 0 {
			return i
		}
		n--
	}
	return len(s)
}

// truncateRunes cuts s to at most n runes.
func truncateRunes(s string, n int) string { return s[:byteOffset(s, max(n, 0))] }

// truncate cuts s to at most n runes, after a word when one ends in the
// last fifth, ending with "…" when cut.
func truncate(s string, n int) string {
	if runes(s) <= n {
		return s
	}
	cut := truncateRunes(s, n-1)
	if i := strings.LastIndexFunc(cut, unicode.IsSpace); i > len(cut)*4/5 {
		cut = cut[:i]
	}
	return strings.TrimRightFunc(cut, unicode.IsSpace) + "…"
}

// citation matches [n] markers (and [n, m] lists); citationEnd one that
// ends the text.
var (
	citation    = regexp.MustCompile(`\[\d{1,3}(?:,\s*\d{1,3})*\]`)
	citationEnd = regexp.MustCompile(`\[\d{1,3}(?:,\s*\d{1,3})*\]$`)
)

// splitText cuts s into chunks of at most size runes. It cuts at the
// whitespace that best keeps structure — a paragraph break, else a line
// break (between the lines of a block quote too), else a sentence end,
// else any space, preferring a cut in the second half of the chunk — and
// never inside a code fence, a block-quote line, a quotation or a [n]
// citation (nor between a citation and the word it follows), unless one
// of those alone is longer than size. A block-quote line that must be cut
// continues in the next chunk after a fresh "> ".
func splitText(s string, size int) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	if runes(s) <= size {
		return []string{s}
	}
	cuts := cutPoints(s)
	var out []string
	start := 0
	prefix := "" // "> " when the chunk continues a cut block-quote line
	for {
		start += len(s[start:]) - len(strings.TrimLeftFunc(s[start:], unicode.IsSpace))
		budget := size - runes(prefix)
		if runes(s[start:]) <= budget {
			return append(out, prefix+s[start:])
		}
		best := bestCut(s, cuts, start, budget)
		out = append(out, prefix+s[start:best])
		prefix = continuation(s, best)
		start = best
	}
}

// cut is a place splitText may cut s: the start of a run of white space,
// ranked by the structure it keeps (0 inside a protected span).
type cut struct{ at, rank int }

// cutPoints ranks every run of white space in s: a paragraph break 4, a
// line break 3, a sentence end 2, any other space 1, and 0 inside a span
// that must not be cut.
func cutPoints(s string) []cut {
	protected := protectedSpans(s)
	inside := func(p int) bool {
		for _, sp := range protected {
			if sp.Start < p && p < sp.End {
				return true
			}
		}
		return false
	}
	var cuts []cut
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsSpace(r) {
			i += size
			continue
		}
		j := i + len(s[i:]) - len(strings.TrimLeftFunc(s[i:], unicode.IsSpace))
		ws := s[i:j]
		rank := 1
		switch {
		case inside(i):
			rank = 0 // only if nothing else fits
		case strings.Count(ws, "\n") >= 2:
			rank = 4
		case strings.Contains(ws, "\n"):
			rank = 3
		case endsSentence(s[max(0, i-64):i]):
			rank = 2
		}
		cuts = append(cuts, cut{i, rank})
		i = j
	}
	return cuts
}

// bestCut chooses where the chunk starting at start ends, within budget
// runes: the best-ranked cut, a cut in the second half beating an earlier
// one of any rank, or a hard cut at the budget when there is none.
func bestCut(s string, cuts []cut, start, budget int) int {
	limit := start + byteOffset(s[start:], budget)
	half := start + byteOffset(s[start:], budget/2)
	best, bestScore := -1, -1
	for _, c := range cuts {
		if c.at <= start || c.at > limit {
			continue
		}
		score := c.rank * 2
		if c.at >= half && c.rank > 0 {
			score += 10 // a cut late enough beats an early one of any kind
		}
		if score >= bestScore {
			best, bestScore = c.at, score
		}
	}
	if best < 0 {
		return limit // one unbroken run longer than size
	}
	return best
}

// continuation returns "> " when a cut at s[at] falls inside a block-quote
// line, whose rest must start with a fresh "> " in the next chunk.
func continuation(s string, at int) string {
	next := strings.TrimLeftFunc(s[at:], unicode.IsSpace)
	if strings.Contains(s[at:len(s)-len(next)], "\n") {
		return ""
	}
	line := s[strings.LastIndex(s[:at], "\n")+1:]
	if strings.HasPrefix(strings.TrimLeft(line, " "), ">") {
		return "> "
	}
	return ""
}

// protectedSpans finds the byte ranges splitText must not cut inside.
func protectedSpans(s string) []corpus.Span {
	var spans []corpus.Span
	// Code fences.
	for i := 0; ; {
		open := strings.Index(s[i:], "```")
		if open < 0 {
			break
		}
		open += i
		end := len(s)
		if c := strings.Index(s[open+3:], "```"); c >= 0 {
			end = open + 3 + c + 3
		}
		spans = append(spans, corpus.Span{Start: open, End: end})
		i = end
	}
	// Block-quote lines: the breaks between them are safe cuts.
	lineStart := 0
	for _, line := range strings.SplitAfter(s, "\n") {
		if strings.HasPrefix(strings.TrimLeft(line, " "), ">") {
			spans = append(spans, corpus.Span{Start: lineStart, End: lineStart + len(strings.TrimRight(line, "\n"))})
		}
		lineStart += len(line)
	}
	// Quotations, within a paragraph.
	for _, para := range paragraphs(s) {
		text := s[para.Start:para.End]
		for _, pair := range [][2]string{{"“", "”"}, {"«", "»"}} {
			for i := 0; ; {
				open := strings.Index(text[i:], pair[0])
				if open < 0 {
					break
				}
				open += i
				cl := strings.Index(text[open+len(pair[0]):], pair[1])
				if cl < 0 {
					break
				}
				end := open + len(pair[0]) + cl + len(pair[1])
				spans = append(spans, corpus.Span{Start: para.Start + open, End: para.Start + end})
				i = end
			}
		}
		var open = -1
		for i := 0; i < len(text); i++ {
			if text[i] != '"' {
				continue
			}
			if open < 0 {
				open = i
			} else {
				spans = append(spans, corpus.Span{Start: para.Start + open, End: para.Start + i + 1})
				open = -1
			}
		}
	}
	// Citations, glued to the word before them.
	for _, m := range citation.FindAllStringIndex(s, -1) {
		start := m[0]
		if trimmed := strings.TrimRightFunc(s[:start], unicode.IsSpace); len(trimmed) < start {
			start = max(len(trimmed)-1, 0)
		}
		spans = append(spans, corpus.Span{Start: start, End: m[1]})
	}
	slices.SortFunc(spans, func(a, b corpus.Span) int { return a.Start - b.Start })
	return spans
}

// paragraphs returns the spans of s between blank lines.
func paragraphs(s string) []corpus.Span {
	var out []corpus.Span
	start := 0
	for {
		i := strings.Index(s[start:], "\n\n")
		if i < 0 {
			return append(out, corpus.Span{Start: start, End: len(s)})
		}
		out = append(out, corpus.Span{Start: start, End: start + i})
		start += i + 2
	}
}

// endsSentence reports whether text ends a sentence: terminal punctuation,
// possibly followed by closing quotes or brackets and citation markers.
func endsSentence(text string) bool {
	for {
		t := strings.TrimRightFunc(text, unicode.IsSpace)
		if loc := citationEnd.FindStringIndex(t); loc != nil {
			text = t[:loc[0]]
			continue
		}
		t = strings.TrimRight(t, `"'”’)]»`)
		r, _ := utf8.DecodeLastRuneInString(t)
		return strings.ContainsRune(".!?…", r)
	}
}
