package discord

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/verbatim-bot/verbatim/bot"
	"github.com/verbatim-bot/verbatim/corpus"
	"github.com/verbatim-bot/verbatim/retrieval"
)

// checkChunks asserts what splitText promises: every chunk fits, nothing
// is lost or reordered, and every unit (a quotation, a citation with its
// word) lies whole inside one chunk.
func checkChunks(t *testing.T, in string, chunks []string, size int, units []string) {
	t.Helper()
	for i, c := range chunks {
		if n := runes(c); n > size || n == 0 {
			t.Errorf("chunk %d has %d runes (limit %d): %q", i, n, size, c)
		}
		if strings.TrimSpace(c) != c {
			t.Errorf("chunk %d has untrimmed space: %q", i, c)
		}
	}
	if got, want := strings.Join(strings.Fields(strings.Join(chunks, "")), ""), strings.Join(strings.Fields(in), ""); got != want {
		t.Errorf("chunks do not rebuild the text:\n got %q\nwant %q", got, want)
	}
	for _, u := range units {
		whole := false
		for _, c := range chunks {
			if strings.Contains(c, u) {
				whole = true
			}
		}
		if !whole {
			t.Errorf("unit %q was cut: %q", u, chunks)
		}
	}
}

func TestSplitText(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		size  int
		want  []string // exact chunks, when given
		units []string // must stay whole
	}{
		{name: "fits", in: "  Short answer [1].  ", size: 50, want: []string{"Short answer [1]."}},
		{name: "empty", in: " \n ", size: 10, want: nil},
		{
			name: "paragraph break wins",
			in:   "First paragraph is here.\n\nSecond paragraph is here too.",
			size: 40,
			want: []string{"First paragraph is here.", "Second paragraph is here too."},
		},
		{
			name: "sentence end",
			in:   "One two three four five. Six seven eight nine ten eleven twelve.",
			size: 40,
			want: []string{"One two three four five.", "Six seven eight nine ten eleven twelve."},
		},
		{
			name:  "citation stays with its sentence",
			in:    "The pipeline runs through Georgia [1]. Azerbaijan supplies oil [2]. Israel buys it [3].",
			size:  40,
			units: []string{"Georgia [1].", "oil [2].", "it [3]."},
		},
		{
			name:  "citation list",
			in:    "Alpha beta gamma delta epsilon zeta [1, 2]. Eta theta iota kappa.",
			size:  44,
			units: []string{"zeta [1, 2]."},
		},
		{
			name:  "quotation not cut",
			in:    "He said “we are glad it is over and trains run again” [1]. Then he left the station quietly.",
			size:  70,
			units: []string{"“we are glad it is over and trains run again” [1]."},
		},
		{
			name:  "straight quotation not cut",
			in:    `The minister wrote "our relations are strategic for both sides" on X. Nothing else was said.`,
			size:  66,
			units: []string{`"our relations are strategic for both sides"`},
		},
		{
			name:  "code fence not cut",
			in:    "Run this:\n```\ngo run ./cmd/verbatim ask \"what\"\n```\nand read the reply carefully afterwards.",
			size:  60,
			units: []string{"```\ngo run ./cmd/verbatim ask \"what\"\n```"},
		},
		{
			name:  "block quote not cut",
			in:    "Sources say:\n> line one of the quote\n> line two of the quote\nAfter the quote comes more text.",
			size:  60,
			units: []string{"> line one of the quote\n> line two of the quote"},
		},
		{
			name: "unbroken run is hard cut",
			in:   strings.Repeat("x", 25),
			size: 10,
			want: []string{"xxxxxxxxxx", "xxxxxxxxxx", "xxxxx"},
		},
		{
			name:  "multibyte runes counted as characters",
			in:    strings.Repeat("é", 30) + " " + strings.Repeat("ü", 30),
			size:  40,
			units: []string{strings.Repeat("é", 30), strings.Repeat("ü", 30)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := splitText(tt.in, tt.size)
			if tt.want != nil || strings.TrimSpace(tt.in) == "" {
				if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tt.want) {
					t.Fatalf("splitText = %q, want %q", got, tt.want)
				}
			}
			checkChunks(t, tt.in, got, tt.size, tt.units)
		})
	}
}

// longAnswer is a ~5,000-character reply full of quotations and
// citations, as a verbose generating answer might be: as rendered text,
// as the answer body it renders from, and the units that must stay whole.
func longAnswer() (string, []bot.Segment, []string) {
	var b strings.Builder
	var body []bot.Segment
	var units []string
	for i := 1; b.Len() < 5000; i++ {
		q := fmt.Sprintf("quotation number %d, which must never be cut in half by the splitter", i)
		n := i%5 + 1
		prose := fmt.Sprintf("Sentence %d explains something about the articles, and then it quotes ", i)
		fmt.Fprintf(&b, "%s“%s” [%d]. ", prose, q, n)
		body = append(body, bot.Segment{Kind: bot.Prose, Text: prose}, bot.Segment{Kind: bot.InlineQuote, Text: q, Source: n},
			bot.Segment{Kind: bot.Prose, Text: " "}, bot.Segment{Kind: bot.Citation, Source: n}, bot.Segment{Kind: bot.Prose, Text: ". "})
		units = append(units, fmt.Sprintf("“%s” [%d].", q, n))
		if i%7 == 0 {
			b.WriteString("\n\n")
			body[len(body)-1].Text += "\n\n"
		}
	}
	return b.String(), body, units
}

// prose is a body of one prose segment.
func prose(s string) []bot.Segment { return []bot.Segment{{Kind: bot.Prose, Text: s}} }

func TestSplitLongAnswer(t *testing.T) {
	text, _, units := longAnswer()
	chunks := splitText(text, maxContent)
	if len(chunks) < 3 {
		t.Fatalf("%d chunks for %d runes", len(chunks), runes(text))
	}
	checkChunks(t, text, chunks, maxContent, units)
}

func TestEscapeMarkdown(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain words", "plain words"},
		{"a *bold* _it_ `code` ~~s~~ ||spoiler||", `a \*bold\* \_it\_ \` + "`code\\`" + ` \~\~s\~\~ \|\|spoiler\|\|`},
		{"<@123> and [link](http://x)", `\<@123\> and \[link\](http://x)`},
		{"# not a heading\n- not a list\n1. not a list", "\\# not a heading\n\\- not a list\n1\\. not a list"},
		{`back\slash`, `back\\slash`},
		{"well-known, mid-line dash", "well-known, mid-line dash"},
	}
	for _, tt := range tests {
		if got := escapeMarkdown(tt.in); got != tt.want {
			t.Errorf("escapeMarkdown(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly ten", 11, "exactly ten"},
		{"one two three four five six", 16, "one two three…"},
		{"abcdefghijklmnop", 6, "abcde…"},
		{"ééééé", 3, "éé…"},
	}
	for _, tt := range tests {
		if got := truncate(tt.in, tt.n); got != tt.want || runes(got) > tt.n {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

func para(n int, text string) corpus.Paragraph {
	return corpus.Paragraph{ID: fmt.Sprintf("a#%d", n), ArticleID: "a", N: n, Text: text}
}

// checkReplies asserts Discord's limits on rendered messages.
func checkReplies(t *testing.T, rs []reply) {
	t.Helper()
	for i, r := range rs {
		if runes(r.Content) > maxContent {
			t.Errorf("message %d: content %d runes", i, runes(r.Content))
		}
		if len(r.Embeds) > maxEmbeds {
			t.Errorf("message %d: %d embeds", i, len(r.Embeds))
		}
		total := 0
		for j, e := range r.Embeds {
			if runes(e.Title) > maxEmbedTitle || runes(e.Description) > maxEmbedDesc {
				t.Errorf("message %d embed %d: title %d, description %d runes", i, j, runes(e.Title), runes(e.Description))
			}
			total += embedSize(e)
		}
		if total > maxEmbedsTotal {
			t.Errorf("message %d: embeds total %d", i, total)
		}
		if r.Content == "" && len(r.Embeds) == 0 {
			t.Errorf("message %d is empty", i)
		}
	}
}

func TestRenderAnswer(t *testing.T) {
	quote := "Baku is the capital of Azerbaijan."
	src := bot.Source{
		N: 1, ArticleID: "a", Title: "Azerbaijan and Israel", URL: "https://example.com/az",
		Paragraph: para(6, quote+" It is on the Caspian sea."),
		Quotes:    []bot.Quote{{Text: quote, Span: corpus.Span{Start: 0, End: len(quote)}}},
	}
	t.Run("answer with a source", func(t *testing.T) {
		body := []bot.Segment{{Kind: bot.InlineQuote, Text: quote, Source: 1, Span: src.Quotes[0].Span},
			{Kind: bot.Prose, Text: " "}, {Kind: bot.Citation, Source: 1}, {Kind: bot.Prose, Text: " @everyone"}}
		rs := renderAnswer(&bot.Answer{Body: body, Sources: []bot.Source{src}})
		checkReplies(t, rs)
		if len(rs) != 1 || len(rs[0].Embeds) != 1 {
			t.Fatalf("got %d messages", len(rs))
		}
		if strings.Contains(rs[0].Content, "@everyone") {
			t.Errorf("content can ping: %q", rs[0].Content)
		}
		e := rs[0].Embeds[0]
		if e.Title != "[1] Azerbaijan and Israel" || e.URL != "https://example.com/az#:~:text=Baku%20is%20the%20capital%20of%20Azerbaijan." {
			t.Errorf("embed title %q url %q", e.Title, e.URL)
		}
		if want := "¶ 6\n\n> " + quote; e.Description != want {
			t.Errorf("description = %q, want %q", e.Description, want)
		}
	})
	t.Run("no URL, markdown in quote", func(t *testing.T) {
		s := src
		s.URL = ""
		s.Quotes = []bot.Quote{{Text: "*not bold* <@1>"}}
		rs := renderAnswer(&bot.Answer{Body: []bot.Segment{{Kind: bot.Prose, Text: "x "}, {Kind: bot.Citation, Source: 1}}, Sources: []bot.Source{s}})
		e := rs[0].Embeds[0]
		if e.URL != "" || !strings.Contains(e.Description, `> \*not bold\* \<@`) {
			t.Errorf("embed = %+v", e)
		}
	})
	t.Run("many long sources overflow into more messages", func(t *testing.T) {
		long := strings.Repeat("A sentence of a long quoted paragraph. ", 60) // ~2,300 runes
		var srcs []bot.Source
		for i := 1; i <= 12; i++ {
			srcs = append(srcs, bot.Source{N: i, Title: fmt.Sprintf("Article %d", i), Paragraph: para(i, long),
				Quotes: []bot.Quote{{Text: strings.TrimSpace(long)}, {Text: strings.TrimSpace(long)}}})
		}
		_, body, _ := longAnswer()
		rs := renderAnswer(&bot.Answer{Body: body, Sources: srcs})
		checkReplies(t, rs)
		embeds := 0
		for _, r := range rs {
			embeds += len(r.Embeds)
		}
		if embeds < 24 { // two quotes of ~2,300 runes each do not fit one description
			t.Errorf("%d embeds for 12 sources of 2 long quotes", embeds)
		}
		if rs[0].Content == "" || len(rs) < 5 {
			t.Errorf("%d messages", len(rs))
		}
	})
	t.Run("empty answer", func(t *testing.T) {
		rs := renderAnswer(&bot.Answer{Body: prose("  ")})
		if len(rs) != 1 || rs[0].Content != refusalText {
			t.Errorf("empty answer renders as %+v", rs)
		}
	})
	t.Run("refusal", func(t *testing.T) {
		rs := renderAnswer(&bot.Answer{Refused: true, Closest: []bot.ArticleRef{
			{ID: "a", Title: "Azerbaijan and Israel", URL: "https://example.com/az"}, {ID: "b", Title: "Rail *Strike*"},
		}})
		checkReplies(t, rs)
		want := refusalText + "\nClosest articles: [Azerbaijan and Israel](<https://example.com/az>), **Rail \\*Strike\\***."
		if len(rs) != 1 || rs[0].Content != want || len(rs[0].Embeds) != 0 {
			t.Errorf("refusal = %q, want %q", rs[0].Content, want)
		}
	})
}

func TestRenderPartial(t *testing.T) {
	if got := renderPartial(""); got != draftHeader {
		t.Errorf("empty partial = %q", got)
	}
	tests := []struct{ in, want string }{
		{"The fi", draftHeader + "\nThe fi …"},
		{`He said “we won” and "more" [1], ‘yes’ «oui»`, draftHeader + "\nHe said “…” and “…” \\[1\\], “…” “…” …"},
		{"Still typing “an unverified quo", draftHeader + "\nStill typing “…” …"},
		{"See [the site](https://phish.example/login) or https://x.example/a_b", draftHeader + "\nSee the site or (link) …"},
		{"> *bold* claim", draftHeader + "\n\\> \\*bold\\* claim …"},
	}
	for _, tt := range tests {
		if got := renderPartial(tt.in); got != tt.want {
			t.Errorf("renderPartial(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := renderPartial(strings.Repeat("word ", 1000)); runes(got) > maxContent || !strings.HasSuffix(got, " …") {
		t.Errorf("long partial: %d runes, ends %q", runes(got), got[len(got)-10:])
	}
}

func TestRenderQuoteHits(t *testing.T) {
	a := &corpus.Article{ID: "a", Title: "Azerbaijan and Israel", URL: "https://example.com/az"}
	text := "Baku is the capital of Azerbaijan. Located on the Caspian sea, the country is a major oil producer."
	start := strings.Index(text, "Caspian sea")
	exact := retrieval.QuoteHit{Paragraph: para(6, text), Article: a, Span: corpus.Span{Start: start, End: start + len("Caspian sea")},
		Text: "Caspian sea", Exact: true, Similarity: 1}
	fuzzyStart := strings.Index(text, "Located")
	fuzzy := retrieval.QuoteHit{Paragraph: para(6, text), Article: a, Span: corpus.Span{Start: fuzzyStart, End: len(text)},
		Text: text[fuzzyStart:], Similarity: 0.72}

	rs := renderQuoteHits("Caspian sea", []retrieval.QuoteHit{exact})
	checkReplies(t, rs)
	if !strings.Contains(rs[0].Content, "word for word in 1 passage") {
		t.Errorf("exact content = %q", rs[0].Content)
	}
	if d := rs[0].Embeds[0].Description; !strings.Contains(d, "on the **Caspian sea**, the country") || !strings.HasPrefix(d, "¶ 6\n> ") {
		t.Errorf("exact description = %q", d)
	}

	rs = renderQuoteHits("Caspian ocean", []retrieval.QuoteHit{fuzzy})
	if !strings.Contains(rs[0].Content, "No passage contains “Caspian ocean” word for word") {
		t.Errorf("fuzzy content = %q", rs[0].Content)
	}
	if d := rs[0].Embeds[0].Description; !strings.Contains(d, "72% similar") || !strings.Contains(d, "> Located on the Caspian sea") {
		t.Errorf("fuzzy description = %q", d)
	}

	rs = renderQuoteHits("nothing", nil)
	if len(rs) != 1 || len(rs[0].Embeds) != 0 || !strings.Contains(rs[0].Content, "or anything close") {
		t.Errorf("no hits = %+v", rs)
	}
}

func TestRenderArticles(t *testing.T) {
	var arts []*corpus.Article
	for i := 1; i <= 23; i++ {
		arts = append(arts, &corpus.Article{ID: fmt.Sprintf("art-%02d", i), Title: fmt.Sprintf("Title %02d", i),
			URL: "https://example.com/" + fmt.Sprint(i), Paragraphs: make([]corpus.Paragraph, i)})
	}
	r := renderArticles(arts, "", 0)
	e := r.Embeds[0]
	if e.Footer.Text != "Page 1 of 3 · 23 articles" || !strings.HasPrefix(e.Description, "1. [Title 01](https://example.com/1) — 1 paragraph\n") {
		t.Errorf("page 1: footer %q description %q", e.Footer.Text, e.Description)
	}
	buttons := r.Components[0].(discordgo.ActionsRow).Components
	prev, next := buttons[0].(discordgo.Button), buttons[1].(discordgo.Button)
	if !prev.Disabled || next.Disabled {
		t.Errorf("page 1 buttons: prev disabled %v, next disabled %v", prev.Disabled, next.Disabled)
	}
	page, search, ok := parseArticlesID(next.CustomID)
	if !ok || page != 1 || search != "" {
		t.Errorf("next = %q → %d %q %v", next.CustomID, page, search, ok)
	}
	last := renderArticles(arts, "", 99) // clamped
	if !strings.Contains(last.Embeds[0].Footer.Text, "Page 3 of 3") || strings.Count(last.Embeds[0].Description, "\n") != 3 {
		t.Errorf("last page = %+v", last.Embeds[0])
	}
	one := renderArticles(arts, "title 2", 0)
	if one.Components != nil || !strings.Contains(one.Embeds[0].Footer.Text, "4 articles") {
		t.Errorf("search: %+v", one.Embeds[0])
	}
	if none := renderArticles(arts, "zzz", 0); !strings.Contains(none.Content, "No article title contains") {
		t.Errorf("no match = %q", none.Content)
	}
	long := strings.Repeat("ü", 150)
	id := articlesID(2, long)
	if runes(id) > maxCustomID {
		t.Errorf("custom ID has %d runes", runes(id))
	}
	if p, s, ok := parseArticlesID(id); !ok || p != 2 || !strings.HasPrefix(long, s) {
		t.Errorf("long search round trip: %d %q %v", p, s, ok)
	}
}

func TestArticleChoices(t *testing.T) {
	var arts []*corpus.Article
	for i := 0; i < 40; i++ {
		arts = append(arts, &corpus.Article{ID: fmt.Sprintf("id-%d", i), Title: fmt.Sprintf("Report %d", i)})
	}
	arts = append(arts, &corpus.Article{ID: "rail", Title: "The Rail Report"}, &corpus.Article{ID: strings.Repeat("x", 101), Title: "Too long an ID"})
	if got := articleChoices(arts, ""); len(got) != maxChoices {
		t.Errorf("empty prefix: %d choices", len(got))
	}
	got := articleChoices(arts, "rail")
	if len(got) != 1 || got[0].Value != "rail" || got[0].Name != "The Rail Report" {
		t.Errorf("rail: %+v", got)
	}
	got = articleChoices(arts, "report 3")
	if len(got) != 1+10 || got[0].Name != "Report 3" {
		t.Errorf("prefix first: %d choices, first %+v", len(got), got[0])
	}
	if got := articleChoices(arts, "too long"); len(got) != 0 {
		t.Errorf("an ID over 100 characters was offered: %+v", got)
	}
}

func TestRenderReload(t *testing.T) {
	tests := []struct {
		name string
		st   retrieval.Stats
		want string
	}{
		{"skipped and left out", retrieval.Stats{Articles: 2, Paragraphs: 40, Added: 3, Changed: 1, Removed: 2, Cached: 36, Embedded: 4,
			Skipped: []corpus.Skipped{{Source: "x", Reason: "binary"}}, LeftOut: []corpus.Skipped{{Source: "y", Reason: "over"}, {Source: "z", Reason: "over"}},
			Duration: 2340 * time.Millisecond},
			"Reloaded in 2.3 s: 2 articles, 40 paragraphs (3 added, 1 changed, 2 removed); 36 of 40 embeddings from the cache. 1 file skipped (see the log). 2 sources left out over the corpus limits (see the log)."},
		{"sentences left to read", retrieval.Stats{Articles: 1, Paragraphs: 5, Added: 5, Embedded: 5, SentencesPending: 12, Duration: time.Second},
			"Reloaded in 1.0 s: 1 article, 5 paragraphs (5 added, 0 changed, 0 removed); 0 of 5 embeddings from the cache. 12 sentences are being read for search by meaning; until then search ranks without them."},
	}
	for _, tt := range tests {
		if got := renderReload(tt.st); got != tt.want {
			t.Errorf("%s: renderReload = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestInviteURL(t *testing.T) {
	got := inviteURL("https://discord.com", "123", Permissions(Config{}))
	u, err := url.Parse(got)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if q.Get("client_id") != "123" || q.Get("scope") != "bot applications.commands" || q.Get("permissions") != "274877992000" {
		t.Errorf("InviteURL = %s", got)
	}
	b, err := New(Config{Token: "t", APIURL: "http://127.0.0.1:8081/api"}, answerFunc(nil), struct{ Library }{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b.appID = "123"
	if got := b.InviteURL(); !strings.HasPrefix(got, "http://127.0.0.1:8081/oauth2/authorize?client_id=123&") {
		t.Errorf("invite URL with DISCORD_API_URL = %s, want it on that server", got)
	}
	if p := Permissions(Config{ForumChannels: []string{"1"}}); p&discordgo.PermissionAddReactions == 0 || p&discordgo.PermissionManageThreads == 0 {
		t.Error("forums do not ask for the reaction and manage-threads permissions")
	}
	if Permissions(Config{UseThreads: true})&discordgo.PermissionCreatePublicThreads == 0 || Permissions(Config{})&discordgo.PermissionCreatePublicThreads != 0 {
		t.Error("create-threads permission not tied to UseThreads")
	}
}

// displayed is what Discord shows for escaped Markdown text: a backslash
// before punctuation shows the punctuation alone.
func displayed(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\\*_`~|<>[]()#-+.", s[i+1]) >= 0 {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func TestRenderBody(t *testing.T) {
	cite := func(n int) bot.Segment { return bot.Segment{Kind: bot.Citation, Source: n} }
	excerpt := func(text string, n int) bot.Segment { return bot.Segment{Kind: bot.Excerpt, Text: text, Source: n} }
	tests := []struct {
		name  string
		body  []bot.Segment
		want  string
		shows string // what Discord displays
	}{{
		name:  "excerpt with Markdown",
		body:  []bot.Segment{excerpt("The *so-called* snake_case_value was __raised__", 1), cite(1)},
		want:  `> The \*so-called\* snake\_case\_value was \_\_raised\_\_ [1]`,
		shows: "> The *so-called* snake_case_value was __raised__ [1]",
	}, {
		name:  "masked link in prose",
		body:  prose("[Read](https://phish.example/login)"),
		want:  `\[Read\](https://phish.example/login)`,
		shows: "[Read](https://phish.example/login)",
	}, {
		name:  "link after a citation, forged quote line",
		body:  []bot.Segment{{Kind: bot.Prose, Text: "Cited "}, cite(1), cite(2), {Kind: bot.Prose, Text: "(https://x.example) and\n> not a quote"}},
		want:  "Cited [1][2]\\(https://x.example) and\n\\> not a quote",
		shows: "Cited [1][2](https://x.example) and\n> not a quote",
	}, {
		name:  "excerpts each on a line",
		body:  []bot.Segment{excerpt("first", 1), cite(1), excerpt("second ||spoiler||\nline", 2), cite(2)},
		want:  "> first [1]\n> second \\|\\|spoiler\\|\\| line [2]",
		shows: "> first [1]\n> second ||spoiler|| line [2]",
	}, {
		name:  "forged block quote in prose",
		body:  prose("> Baku is the largest port.\n>>> Baku"),
		want:  "\\> Baku is the largest port.\n\\>\\>\\> Baku",
		shows: "> Baku is the largest port.\n>>> Baku",
	}, {
		name:  "mentions in prose and quotes",
		body:  []bot.Segment{{Kind: bot.Prose, Text: "@everyone said "}, {Kind: bot.InlineQuote, Text: "hi <@&123>", Source: 1}, cite(1)},
		want:  "@\u200beveryone said “hi \\<@\u200b&123\\>”[1]",
		shows: "@\u200beveryone said “hi <@\u200b&123>”[1]",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := renderBody(tt.body)
			if got != tt.want {
				t.Errorf("renderBody = %q, want %q", got, tt.want)
			}
			if displayed(got) != tt.shows {
				t.Errorf("displays as %q, want %q", displayed(got), tt.shows)
			}
		})
	}
}

func TestRenderAnswerNote(t *testing.T) {
	rs := renderAnswer(&bot.Answer{Body: []bot.Segment{{Kind: bot.Excerpt, Text: "Baku is the capital.", Source: 1}, {Kind: bot.Citation, Source: 1}}, Note: "The language model is rate-limited; these are the most relevant sentences.",
		Sources: []bot.Source{{N: 1, Title: "A", Paragraph: para(1, "Baku is the capital."), Quotes: []bot.Quote{{Text: "Baku is the capital."}}}}})
	want := "> Baku is the capital. [1]\n\n*The language model is rate-limited; these are the most relevant sentences.*"
	if rs[0].Content != want {
		t.Errorf("content = %q, want %q", rs[0].Content, want)
	}
}

func TestRenderArticlesLongURLs(t *testing.T) {
	var arts []*corpus.Article
	for i := range 10 {
		arts = append(arts, &corpus.Article{ID: fmt.Sprint(i), Title: strings.Repeat("T", 150),
			URL: "https://example.com/" + strings.Repeat("u", 400)})
	}
	r := renderArticles(arts, "", 0)
	checkReplies(t, []reply{r})
	if d := r.Embeds[0].Description; strings.Count(d, "\n") != 10 || strings.Contains(d, "https://") {
		t.Errorf("description (%d runes) = %q", runes(d), d)
	}
	arts[0].URL = "https://example.com/short"
	if d := renderArticles(arts, "", 0).Embeds[0].Description; !strings.Contains(d, "](https://example.com/short)") {
		t.Errorf("short URL dropped: %q", d)
	}
}

func TestSplitQuoteLines(t *testing.T) {
	var lines, units []string
	for i := 1; i <= 3; i++ {
		s := fmt.Sprintf("%s [%d]", strings.TrimSpace(strings.Repeat(fmt.Sprintf("Sentence %d of the quote goes on. ", i), 26)), i)
		lines = append(lines, "> "+s)
		units = append(units, "> "+s)
	}
	text := strings.Join(lines, "\n")
	chunks := splitText(text, maxContent)
	checkChunks(t, text, chunks, maxContent, units)
	for _, c := range chunks {
		if !strings.HasPrefix(c, "> ") {
			t.Errorf("chunk does not start a quote line: %q", c[:20])
		}
	}

	// One quote line longer than a chunk continues after a fresh "> ".
	long := "> " + strings.TrimSpace(strings.Repeat("word ", 30)) + " [1]"
	chunks = splitText(long, 60)
	for i, c := range chunks {
		if runes(c) > 60 || !strings.HasPrefix(c, "> ") {
			t.Errorf("chunk %d = %q", i, c)
		}
	}
	if last := chunks[len(chunks)-1]; !strings.HasSuffix(last, "word [1]") {
		t.Errorf("citation cut from its word: %q", chunks)
	}
}

// TestRenderArticlesByDate checks that /articles lists the newest first,
// with dates, undated articles after, and says how fresh the corpus is.
func TestRenderArticlesByDate(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 11, d, 0, 0, 0, 0, time.UTC) }
	arts := []*corpus.Article{
		{ID: "undated", Title: "Undated"},
		{ID: "old", Title: "Old", Published: day(2)},
		{ID: "new", Title: "New", Published: day(28)},
	}
	e := renderArticles(arts, "", 0).Embeds[0]
	want := "1. New — 0 paragraphs · 2026-11-28\n2. Old — 0 paragraphs · 2026-11-02\n3. Undated — 0 paragraphs\n"
	if e.Description != want || e.Footer.Text != "Page 1 of 1 · 3 articles · newest 2026-11-28" {
		t.Errorf("description %q footer %q", e.Description, e.Footer.Text)
	}
	if arts[0].ID != "undated" {
		t.Error("renderArticles reordered the index's articles")
	}
}

// TestSourceEmbedByline checks that a source's embed names its article's
// date and author, inert, when they are known, and has no footer when not.
func TestSourceEmbedByline(t *testing.T) {
	s := bot.Source{N: 1, Title: "Storm", URL: "https://example.com/a", Author: "Ann \u202eLee",
		Published: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC),
		Paragraph: corpus.Paragraph{N: 2, Text: "The tide came in."}, Quotes: []bot.Quote{{Text: "The tide came in."}}}
	e := sourceEmbeds(s)[0]
	if e.Footer == nil || e.Footer.Text != "2026-11-28 · Ann Lee" {
		t.Errorf("footer %+v", e.Footer)
	}
	s.Author, s.Published = "", time.Time{}
	if e := sourceEmbeds(s)[0]; e.Footer != nil {
		t.Errorf("footer %+v for an article with no date or author", e.Footer)
	}
}
