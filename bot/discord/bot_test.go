package discord

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/verbatim-bot/verbatim/bot"
	"github.com/verbatim-bot/verbatim/bot/discord/discordfake"
	"github.com/verbatim-bot/verbatim/corpus"
	"github.com/verbatim-bot/verbatim/retrieval"
)

const capitalQ = "What is the capital of Azerbaijan?"

// isBaku reports whether content is the real answerer's reply to capitalQ:
// it quotes the sentence and cites it.
func isBaku(content string) bool {
	return strings.Contains(content, "Baku is the capital of Azerbaijan.") && strings.Contains(content, "[1]")
}

func TestCommandRegistration(t *testing.T) {
	t.Parallel()
	f := newFake(t, discordfake.Options{})
	ix, a := library(t)
	start(t, f, Config{GuildID: "2000"}, a, ix, func(context.Context) (retrieval.Stats, error) { return retrieval.Stats{}, nil })

	puts := 0
	var put discordfake.Call
	for _, c := range f.Calls() {
		if c.Method == http.MethodPut {
			puts++
			put = c
		}
	}
	if puts != 1 || put.Path != "/applications/1000/guilds/2000/commands" {
		t.Fatalf("%d PUTs, last %s; want one bulk overwrite of the guild's commands", puts, put.Path)
	}
	type option struct {
		Name         string `json:"name"`
		Type         int    `json:"type"`
		Required     bool   `json:"required"`
		Autocomplete bool   `json:"autocomplete"`
		MaxLength    int    `json:"max_length"`
	}
	var cmds []struct {
		Name        string   `json:"name"`
		Type        int      `json:"type"`
		Description string   `json:"description"`
		Perms       *string  `json:"default_member_permissions"`
		Contexts    []int    `json:"contexts"`
		Options     []option `json:"options"`
	}
	jsonBody(t, put, &cmds)
	byName := map[string]int{}
	for i, c := range cmds {
		byName[c.Name] = i
	}
	if len(cmds) != 6 {
		t.Fatalf("registered %d commands: %+v", len(cmds), cmds)
	}
	reload := cmds[byName["reload"]]
	if reload.Perms == nil || *reload.Perms != "32" {
		t.Errorf("/reload default_member_permissions = %v, want \"32\" (Manage Server)", reload.Perms)
	}
	if len(reload.Contexts) != 1 || reload.Contexts[0] != 0 {
		t.Errorf("/reload contexts = %v, want [0] (guilds only)", reload.Contexts)
	}
	for _, name := range []string{"ask", "quote", "articles"} {
		if p := cmds[byName[name]].Perms; p != nil {
			t.Errorf("/%s is restricted to %q", name, *p)
		}
	}
	ask := cmds[byName["ask"]]
	if len(ask.Options) != 3 || ask.Options[0] != (option{Name: "question", Type: 3, Required: true, MaxLength: bot.DefaultMaxQuestionRunes}) || ask.Options[1].Name != "private" || ask.Options[1].Type != 5 ||
		ask.Options[2] != (option{Name: "article", Type: 3, Autocomplete: true}) {
		t.Errorf("/ask options = %+v", ask.Options)
	}
	for _, name := range []string{"Ask Verbatim", "Find quote"} {
		if c, ok := byName[name]; !ok || cmds[c].Type != 3 || cmds[c].Description != "" || len(cmds[c].Options) != 0 {
			t.Errorf("message command %q not registered as one: %+v", name, cmds[min(c, len(cmds)-1)])
		}
	}
	quote := cmds[byName["quote"]]
	if len(quote.Options) != 2 || !quote.Options[1].Autocomplete || quote.Options[1].Name != "article" {
		t.Errorf("/quote options = %+v", quote.Options)
	}
}

func TestAskDefersBeforeAnswering(t *testing.T) {
	t.Parallel()
	f := newFake(t, discordfake.Options{})
	ix, real := library(t)
	release := make(chan struct{})
	ackedFirst := make(chan bool, 2)
	a := answerFunc(func(ctx context.Context, q string, o bot.Options) (*bot.Answer, error) {
		deferred := false
		for _, c := range f.Calls() {
			if cb, err := c.Callback(); err == nil && strings.HasPrefix(c.Path, "/interactions/") && cb.Type == discordfake.CallbackDeferredMessage {
				deferred = true
			}
		}
		ackedFirst <- deferred
		select {
		case <-release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return real.Answer(ctx, q, o)
	})
	h := start(t, f, Config{FeedbackPath: filepath.Join(t.TempDir(), "fb.jsonl")}, a, ix, nil)

	in := h.command(member(1, 0), "ask", discordfake.StringOption("question", capitalQ))
	cb := h.callback(in)
	if cb.Type != discordfake.CallbackDeferredMessage || (cb.Data != nil && cb.Data.Flags != 0) {
		t.Fatalf("first response = %+v, want a public deferred response (type 5)", cb)
	}
	if !recv(t, h.ctx, ackedFirst) {
		t.Fatal("the answerer ran before the interaction was acknowledged")
	}
	close(release)
	_, p := h.original(in)
	if !isBaku(p.Content) {
		t.Errorf("answer = %q", p.Content)
	}
	if len(p.Embeds) == 0 || p.Embeds[0].Title != "[1] Azerbaijan and Israel" ||
		p.Embeds[0].URL != "https://example.com/azerbaijan#:~:text=Baku%20is%20the%20capital%20of%20Azerbaijan." ||
		!strings.Contains(p.Embeds[0].Description, "¶ 2\n\n> Baku is the capital of Azerbaijan.") {
		t.Errorf("sources = %+v", p.Embeds)
	}
	if b := p.Buttons(); len(b) != 2 || !strings.HasPrefix(b[0].CustomID, "fb:up:") || !strings.HasPrefix(b[1].CustomID, "fb:down:") {
		t.Errorf("buttons = %+v", b)
	}
	if d, ok := f.AckLatency(in.ID); !ok || d <= 0 {
		t.Errorf("ack latency %v %v", d, ok)
	}

	// private: the deferred response is ephemeral.
	in = h.command(member(2, 0), "ask", discordfake.StringOption("question", capitalQ), discordfake.BoolOption("private", true))
	if cb := h.callback(in); cb.Type != discordfake.CallbackDeferredMessage || cb.Data == nil || cb.Data.Flags != 64 {
		t.Errorf("private /ask acknowledged with %+v, want type 5 flags 64", cb)
	}
	recv(t, h.ctx, ackedFirst)
	h.original(in)
}

func TestQuoteCommand(t *testing.T) {
	t.Parallel()
	f := newFake(t, discordfake.Options{})
	ix, a := library(t)
	h := start(t, f, Config{}, a, ix, nil)

	t.Run("exact", func(t *testing.T) {
		in := h.command(member(1, 0), "quote", discordfake.StringOption("text", "Caspian sea"))
		if cb := h.callback(in); cb.Type != discordfake.CallbackDeferredMessage {
			t.Fatalf("acknowledged with %+v", cb)
		}
		_, p := h.original(in)
		if p.Content != "“Caspian sea” appears word for word in 1 passage:" || len(p.Embeds) != 1 {
			t.Fatalf("reply = %q with %d embeds", p.Content, len(p.Embeds))
		}
		e := p.Embeds[0]
		if e.Title != "Azerbaijan and Israel" || !strings.Contains(e.Description, "Located on the **Caspian sea**, the country is one of the world’s major oil producers") ||
			e.URL != "https://example.com/azerbaijan#:~:text=Caspian%20sea" {
			t.Errorf("embed = %+v", e)
		}
	})
	t.Run("fuzzy", func(t *testing.T) {
		in := h.command(member(1, 0), "quote", discordfake.StringOption("text", "Baku is the main city of Azerbaijan"))
		_, p := h.original(in)
		if !strings.HasPrefix(p.Content, "No passage contains “Baku is the main city of Azerbaijan” word for word. The closest:") {
			t.Fatalf("reply = %q", p.Content)
		}
		if len(p.Embeds) == 0 || !strings.Contains(p.Embeds[0].Description, "% similar\n> Baku is the capital of Azerbaijan.") {
			t.Errorf("closest = %+v", p.Embeds)
		}
	})
	t.Run("autocomplete and article", func(t *testing.T) {
		in, err := f.Autocomplete(member(1, 0), "quote", discordfake.StringOption("text", "train"), discordfake.FocusedOption("article", "rail"))
		if err != nil {
			t.Fatal(err)
		}
		cb := h.callback(in)
		if cb.Type != discordfake.CallbackAutocomplete || cb.Data == nil || len(cb.Data.Choices) != 1 ||
			cb.Data.Choices[0].Name != "Rail Strike Ends" || cb.Data.Choices[0].Value != "rail" {
			t.Fatalf("autocomplete = %+v", cb.Data)
		}
		in = h.command(member(1, 0), "quote", discordfake.StringOption("text", "normal timetable"), discordfake.StringOption("article", "rail"))
		if _, p := h.original(in); len(p.Embeds) != 1 || p.Embeds[0].Title != "Rail Strike Ends" {
			t.Errorf("restricted quote = %q %+v", p.Content, p.Embeds)
		}
		in = h.command(member(1, 0), "quote", discordfake.StringOption("text", "normal timetable"), discordfake.StringOption("article", "Azerbaijan"))
		if _, p := h.original(in); !strings.Contains(p.Content, "No passage contains") {
			t.Errorf("phrase outside the article: %q", p.Content)
		}
		in = h.command(member(1, 0), "quote", discordfake.StringOption("text", "x"), discordfake.StringOption("article", "no such thing"))
		if _, p := h.original(in); !strings.HasPrefix(p.Content, "I don't know an article called “no such thing”") {
			t.Errorf("unknown article: %q", p.Content)
		}
	})
}

func TestArticlesCommand(t *testing.T) {
	t.Parallel()
	f := newFake(t, discordfake.Options{})
	ix, a := library(t)
	h := start(t, f, Config{}, a, ix, nil)

	in := h.command(member(1, 0), "articles")
	cb := h.callback(in)
	if cb.Type != discordfake.CallbackMessage || cb.Data.Flags != 64 || len(cb.Data.Embeds) != 1 {
		t.Fatalf("/articles = %+v", cb)
	}
	if e := cb.Data.Embeds[0]; e.Footer == nil || e.Footer.Text != "Page 1 of 2 · 12 articles" || strings.Count(e.Description, "\n") != 10 {
		t.Fatalf("page 1 = %+v", e)
	}
	next := cb.Data.Buttons()[1]
	msg, ok := f.Original(in.ID)
	if !ok {
		t.Fatal("no message for /articles")
	}
	click, err := f.Click(member(1, 0), msg, next.CustomID)
	if err != nil {
		t.Fatal(err)
	}
	cb = h.callback(click)
	if cb.Type != discordfake.CallbackUpdateMessage || cb.Data.Embeds[0].Footer.Text != "Page 2 of 2 · 12 articles" {
		t.Fatalf("next page = %+v", cb.Data)
	}
	in = h.command(member(1, 0), "articles", discordfake.StringOption("search", "rail"))
	if cb := h.callback(in); !strings.Contains(cb.Data.Embeds[0].Description, "[Rail Strike Ends](https://example.com/rail-strike) — 3 paragraphs") {
		t.Errorf("search = %+v", cb.Data.Embeds[0])
	}
}

func TestReload(t *testing.T) {
	t.Parallel()
	f := newFake(t, discordfake.Options{})
	ix, a := library(t)
	var (
		mu    sync.Mutex
		calls int
		next  fstest.MapFS = testArticles(`# Ferries Return

Ferries to the islands resume on Friday after the harbour wall was repaired over the winter months.
`)
		entered = make(chan struct{}, 1)
		gate    chan struct{}
	)
	reload := func(ctx context.Context) (retrieval.Stats, error) {
		mu.Lock()
		calls++
		fs, g := next, gate
		mu.Unlock()
		entered <- struct{}{}
		if g != nil {
			<-g
		}
		c, err := corpus.Load(ctx, fs, corpus.Options{})
		if err != nil {
			return retrieval.Stats{}, err
		}
		return ix.Load(ctx, c, nil)
	}
	h := start(t, f, Config{AdminRoleIDs: []string{"77"}}, a, ix, reload)

	t.Run("non-admin refused", func(t *testing.T) {
		in := h.command(member(1, 0), "reload")
		cb := h.callback(in)
		if cb.Type != discordfake.CallbackMessage || cb.Data.Flags != 64 || cb.Data.Content != noticeNotAdmin {
			t.Errorf("non-admin /reload = %+v", cb)
		}
		mu.Lock()
		defer mu.Unlock()
		if calls != 0 {
			t.Errorf("reload ran %d times for a non-admin", calls)
		}
	})
	t.Run("admin reloads, a second admin waits", func(t *testing.T) {
		g := make(chan struct{})
		mu.Lock()
		gate = g
		mu.Unlock()
		first := h.command(member(2, 32), "reload") // Manage Server
		if cb := h.callback(first); cb.Type != discordfake.CallbackDeferredMessage || cb.Data.Flags != 64 {
			t.Fatalf("admin /reload acknowledged with %+v", cb)
		}
		recv(t, h.ctx, entered)
		inv := member(3, 0)
		inv.Roles = []string{"77"} // an admin role
		second := h.command(inv, "reload")
		if cb := h.callback(second); cb.Data == nil || cb.Data.Content != noticeReloading {
			t.Errorf("concurrent /reload = %+v", cb)
		}
		close(g)
		_, p := h.original(first)
		if !strings.HasPrefix(p.Content, "Reloaded in ") || !strings.Contains(p.Content, ": 13 articles, 18 paragraphs (1 added, 0 changed, 0 removed); 17 of 18 embeddings from the cache.") {
			t.Errorf("report = %q", p.Content)
		}
	})
	t.Run("failed reload keeps serving", func(t *testing.T) {
		mu.Lock()
		next, gate = fstest.MapFS{}, nil
		mu.Unlock()
		in := h.command(member(2, 8), "reload") // Administrator
		recv(t, h.ctx, entered)
		_, p := h.original(in)
		if !strings.HasPrefix(p.Content, "Reload failed: corpus: no articles loaded") || !strings.HasSuffix(p.Content, "The previous articles are still in service.") {
			t.Errorf("failure report = %q", p.Content)
		}
		q := h.mention(general, user(4), capitalQ)
		if _, r := h.replyTo(q); !isBaku(r.Content) {
			t.Errorf("after a failed reload: %q", r.Content)
		}
		q = h.mention(general, user(4), "When do the ferries to the islands resume?")
		if _, r := h.replyTo(q); !strings.Contains(r.Content, "Ferries to the islands resume on Friday") {
			t.Errorf("the reloaded article is not served: %q", r.Content)
		}
	})
}

func TestMentionAnsweredAsReply(t *testing.T) {
	t.Parallel()
	f := newFake(t, discordfake.Options{})
	ix, a := library(t)
	h := start(t, f, Config{}, a, ix, nil)

	q := h.mention(general, user(1), capitalQ)
	h.wait(func(c discordfake.Call) bool { return c.Is(http.MethodPost, "/channels/"+general+"/typing") })
	c, p := h.replyTo(q)
	ref := p.MessageReference
	if ref.FailIfNotExists == nil || *ref.FailIfNotExists {
		t.Errorf("reply fails if the question is deleted: %+v", ref)
	}
	if !strings.Contains(string(c.Body), `"allowed_mentions":{"parse":[],"replied_user":false}`) {
		t.Errorf("allowed_mentions in %s", c.Body)
	}
	if !isBaku(p.Content) || len(p.Embeds) == 0 {
		t.Errorf("answer = %q, %d embeds", p.Content, len(p.Embeds))
	}
	// The echo of the bot's own answer is ignored.
	h.waitLog("message ignored: from a bot", "message_id", c.ResponseID())

	// Another bot's message, even one mentioning us, is ignored.
	robot := discordfake.User{ID: "7777", Username: "robot", Bot: true}
	botMsg, err := f.SendMessage(discordfake.Message{ChannelID: general, GuildID: f.GuildID(), Author: robot,
		Content: "<@1000> " + capitalQ, Mentions: []discordfake.User{f.BotUser()}})
	if err != nil {
		t.Fatal(err)
	}
	h.waitLog("message ignored: from a bot", "message_id", botMsg)
	for _, c := range f.Calls() {
		if isReplyTo(botMsg)(c) {
			t.Errorf("answered a bot: %s", c.Body)
		}
	}

	// A bare mention gets a hint, not silence.
	q = h.mention(general, user(1), "")
	if _, p := h.replyTo(q); p.Content != noticeEmpty {
		t.Errorf("bare mention: %q", p.Content)
	}
	// A refusal names the closest articles.
	q = h.mention(general, user(1), "What is the population of Mars?")
	if _, p := h.replyTo(q); !strings.Contains(p.Content, "Azerbaijan and Israel") || strings.Contains(p.Content, "[1]") || len(p.Embeds) != 0 {
		t.Errorf("refusal = %q %+v", p.Content, p.Embeds)
	}
}

func TestFollowUpReplyChain(t *testing.T) {
	t.Parallel()
	f := newFake(t, discordfake.Options{})
	ix, real := library(t)
	var mu sync.Mutex
	histories := map[string][]bot.Turn{}
	a := answerFunc(func(ctx context.Context, q string, o bot.Options) (*bot.Answer, error) {
		mu.Lock()
		histories[q] = o.History
		mu.Unlock()
		return real.Answer(ctx, q, o)
	})
	h := start(t, f, Config{}, a, ix, nil)
	history := func(q string) []bot.Turn {
		mu.Lock()
		defer mu.Unlock()
		return histories[q]
	}

	q1 := h.mention(general, user(1), capitalQ)
	c1, p1 := h.replyTo(q1)
	q2, err := f.Reply(c1.ResponseID(), user(1), "Which sea is Baku on?", true)
	if err != nil {
		t.Fatal(err)
	}
	c2, _ := h.replyTo(q2)
	want := []bot.Turn{{Question: capitalQ, Answer: p1.Content}}
	if got := history("Which sea is Baku on?"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("history of the first follow-up = %q, want %q", got, want)
	}
	q3, _ := f.Reply(c2.ResponseID(), user(2), "Who buys its oil?", true)
	h.replyTo(q3)
	if got := history("Who buys its oil?"); len(got) != 2 || got[0].Question != capitalQ || got[1].Question != "Which sea is Baku on?" {
		t.Errorf("history of the second follow-up = %q", got)
	}

	// A chain the bot does not remember (say, from before a restart) is
	// read back from Discord.
	q0, _ := f.SendMessage(discordfake.Message{ChannelID: general, GuildID: f.GuildID(), Author: user(3), Content: "Who signed a gas deal?"})
	a0, _ := f.SendMessage(discordfake.Message{ChannelID: general, GuildID: f.GuildID(), Author: f.BotUser(),
		Content: "The two countries did [1].", ReplyTo: q0})
	q4, _ := f.Reply(a0, user(3), "Off which coast?", true)
	h.replyTo(q4)
	h.wait(func(c discordfake.Call) bool { return c.Is(http.MethodGet, "/channels/"+general+"/messages/"+a0) })
	want = []bot.Turn{{Question: "Who signed a gas deal?", Answer: "The two countries did [1]."}}
	if got := history("Off which coast?"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("fetched history = %q, want %q", got, want)
	}

	// A reply that does not mention the bot reaches it without text.
	q5, _ := f.Reply(c1.ResponseID(), user(1), "", false)
	if _, p := h.replyTo(q5); p.Content != noticeNeedPing {
		t.Errorf("reply without text: %q", p.Content)
	}
}

func TestLongAnswerSplit(t *testing.T) {
	t.Parallel()
	f := newFake(t, discordfake.Options{})
	ix, _ := library(t)
	text, body, units := longAnswer()
	long := &bot.Answer{ID: "long1", Body: body, Mode: bot.Generated, Sources: []bot.Source{
		{N: 1, Title: "Azerbaijan and Israel", URL: "https://example.com/azerbaijan", Paragraph: para(2, "Baku is the capital of Azerbaijan."),
			Quotes: []bot.Quote{{Text: "Baku is the capital of Azerbaijan."}}},
	}}
	a := answerFunc(func(context.Context, string, bot.Options) (*bot.Answer, error) { return long, nil })
	h := start(t, f, Config{}, a, ix, nil)
	n := len(renderAnswer(long))
	if n < 3 {
		t.Fatalf("a %d-character answer renders as %d messages", runes(text), n)
	}
	check := func(ps []discordfake.MessagePayload) {
		t.Helper()
		var chunks []string
		for _, p := range ps {
			if p.Content != "" {
				chunks = append(chunks, p.Content)
			}
		}
		checkChunks(t, text, chunks, maxContent, units)
		if last := ps[len(ps)-1]; len(last.Embeds) != 1 {
			t.Errorf("sources not on the last message: %+v", last)
		}
	}

	q := h.mention(quiet, user(1), "Tell me everything.")
	first, p := h.replyTo(q)
	rest := h.waitN(n-1, func(c discordfake.Call) bool {
		return c.Method == http.MethodPost && c.Path == "/channels/"+quiet+"/messages" && c.Time.After(first.Time) && !isReplyTo(q)(c)
	})
	ps := []discordfake.MessagePayload{p}
	for _, c := range rest {
		ps = append(ps, h.payload(c))
	}
	check(ps)

	in := h.command(discordfake.Invoker{User: user(2), ChannelID: quiet, GuildID: "2000"}, "ask", discordfake.StringOption("question", "Tell me everything."))
	_, p = h.original(in)
	ps = []discordfake.MessagePayload{p}
	for _, c := range h.waitN(n-1, func(c discordfake.Call) bool { return c.Is(http.MethodPost, in.FollowupPath()) }) {
		ps = append(ps, h.payload(c))
	}
	check(ps)
}

func TestRESTRateLimitHonoured(t *testing.T) {
	t.Parallel()
	f := newFake(t, discordfake.Options{})
	ix, a := library(t)
	m := NewMetrics(nil)
	h := start(t, f, Config{Metrics: m}, a, ix, nil)
	h.allowed[http.StatusTooManyRequests] = true

	const retryAfter = 300 * time.Millisecond
	f.Script(http.MethodPost, "/channels/"+general+"/messages", discordfake.RateLimited(retryAfter))
	q := h.mention(general, user(1), capitalQ)
	posts := h.waitN(2, func(c discordfake.Call) bool { return c.Is(http.MethodPost, "/channels/"+general+"/messages") })
	if posts[0].Status != http.StatusTooManyRequests || posts[1].Status != http.StatusOK {
		t.Fatalf("statuses %d, %d; want 429 then 200", posts[0].Status, posts[1].Status)
	}
	if _, p := h.replyTo(q); !isBaku(p.Content) {
		t.Errorf("answer after the retry = %q", p.Content)
	}
	if body := scrape(t, m, "/metrics"); !strings.Contains(body, `verbatim_discord_rest_errors_total{status="429"} 1`) {
		t.Errorf("429 not counted:\n%s", body)
	}
}

func TestGatewayDropResumes(t *testing.T) {
	t.Parallel()
	f := newFake(t, discordfake.Options{})
	ix, a := library(t)
	h := start(t, f, Config{}, a, ix, nil)

	q := h.mention(general, user(1), capitalQ)
	h.replyTo(q)
	if !f.Drop(0) {
		t.Fatal("no gateway connection to drop")
	}
	q = h.mention(general, user(1), "When do trains run a normal timetable?") // sent while disconnected
	resume, err := f.WaitForFrame(h.ctx, func(fr discordfake.Frame) bool { return fr.Op == discordfake.OpResume })
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(resume.Data), `"session_id":"session-`) {
		t.Errorf("RESUME = %s", resume.Data)
	}
	if _, p := h.replyTo(q); !strings.Contains(p.Content, "Trains will run a normal timetable from Wednesday") {
		t.Errorf("answer after the resume = %q", p.Content)
	}
	identifies := 0
	for _, fr := range f.Frames() {
		if fr.Op == discordfake.OpIdentify {
			identifies++
		}
	}
	if identifies != 1 {
		t.Errorf("%d IDENTIFYs; the session should have resumed", identifies)
	}
}

func TestConcurrentQuestionsAndBurst(t *testing.T) {
	t.Parallel()
	f := newFake(t, discordfake.Options{})
	ix, a := library(t)
	m := NewMetrics(nil)
	h := start(t, f, Config{Metrics: m, MaxConcurrent: 4}, a, ix, nil)
	if body := scrape(t, m, "/healthz"); body != "ok\n" {
		t.Errorf("/healthz = %q", body)
	}

	var qs []string
	for i := range 20 {
		qs = append(qs, h.mention(general, user(100+i), capitalQ))
	}
	for _, q := range qs {
		if _, p := h.replyTo(q); !isBaku(p.Content) {
			t.Errorf("question %s: %q", q, p.Content)
		}
		h.waitLog("question answered", "event_id", q)
	}

	// One user asking six at once: the burst of 3 is answered, the rest
	// turned away, with one notice to slow down (not one each).
	qs = qs[:0]
	for range 6 {
		qs = append(qs, h.mention(general, user(1), capitalQ))
	}
	answered, limited, notices := 0, 0, 0
	for _, q := range qs {
		r, err := h.logs.waitFunc(h.ctx, func(r logRecord) bool {
			return r.Msg == "question answered" && r.Attrs["event_id"] == q || r.Msg == "question turned away" && r.Attrs["message_id"] == q
		})
		if err != nil {
			t.Fatalf("question %s: %v", q, err)
		}
		if r.Msg == "question answered" {
			answered++
			if _, p := h.replyTo(q); !isBaku(p.Content) {
				t.Errorf("answer %q", p.Content)
			}
			continue
		}
		limited++
		if r.Attrs["notice_sent"] == "true" {
			notices++
			if _, p := h.replyTo(q); !strings.HasPrefix(p.Content, "You're asking faster than I can keep up — try again in ") {
				t.Errorf("unexpected notice %q", p.Content)
			}
		}
	}
	if answered != 3 || limited != 3 || notices != 1 {
		t.Errorf("burst of 6: %d answered, %d limited, %d notices; want 3, 3 and 1", answered, limited, notices)
	}
	body := scrape(t, m, "/metrics")
	for _, want := range []string{
		`verbatim_questions_total{source="mention"} 26`,
		`verbatim_limited_total{reason="rate"} 3`,
		`verbatim_answer_seconds_count 23`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s:\n%s", want, body)
		}
	}
}

func TestFeedbackRecorded(t *testing.T) {
	t.Parallel()
	f := newFake(t, discordfake.Options{})
	ix, a := library(t)
	path := filepath.Join(t.TempDir(), "data", "feedback.jsonl")
	h := start(t, f, Config{FeedbackPath: path}, a, ix, nil)

	in := h.command(member(1, 0), "ask", discordfake.StringOption("question", capitalQ))
	c, p := h.original(in)
	up := p.Buttons()[0]
	click, err := f.Click(member(2, 0), c.ResponseID(), up.CustomID)
	if err != nil {
		t.Fatal(err)
	}
	if cb := h.callback(click); cb.Type != discordfake.CallbackMessage || cb.Data.Flags != 64 || !strings.HasPrefix(cb.Data.Content, "Thanks") {
		t.Errorf("click acknowledged with %+v", cb)
	}
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	var lines []string
	for sc := bufio.NewScanner(file); sc.Scan(); {
		lines = append(lines, sc.Text())
	}
	answerID := strings.TrimPrefix(up.CustomID, "fb:up:")
	if len(lines) != 1 || !strings.Contains(lines[0], `"answer_id":"`+answerID+`","question":"What is the capital of Azerbaijan?","user_id":"5002","vote":"up"}`) {
		t.Errorf("feedback file = %q", lines)
	}
}

func TestThreadsAllowlistDMAndStreaming(t *testing.T) {
	t.Parallel()
	f := newFake(t, discordfake.Options{})
	ix, real := library(t)
	final := &bot.Answer{ID: "s1", Body: []bot.Segment{{Kind: bot.Prose, Text: "The final, verified answer "}, {Kind: bot.Citation, Source: 1}, {Kind: bot.Prose, Text: "."}}, Mode: bot.Generated, Sources: []bot.Source{
		{N: 1, Title: "Rail Strike Ends", Paragraph: para(1, "Union leaders accepted the offer."), Quotes: []bot.Quote{{Text: "Union leaders accepted the offer."}}},
	}}
	a := answerFunc(func(ctx context.Context, q string, o bot.Options) (*bot.Answer, error) {
		if q != "stream it" {
			return real.Answer(ctx, q, o)
		}
		o.OnDelta("The fi")
		// Wait until the partial text is shown, then stream much more.
		if _, err := f.WaitFor(ctx, func(c discordfake.Call) bool {
			p, _ := c.Message()
			return c.Method == http.MethodPost && p.Content == renderPartial("The fi")
		}); err != nil {
			return nil, err
		}
		for i := range 100 {
			o.OnDelta("The final " + strings.Repeat("word ", i))
		}
		return final, nil
	})
	h := start(t, f, Config{UseThreads: true, AllowedChannels: []string{general}, StreamInterval: time.Hour}, a, ix, nil)
	h.wait(func(c discordfake.Call) bool { return c.Is(http.MethodPut, "/applications/1000/commands") })

	q := h.mention(general, user(1), "stream it")
	thread := h.wait(func(c discordfake.Call) bool {
		return c.Is(http.MethodPost, "/channels/"+general+"/messages/"+q+"/threads")
	})
	th := thread.ResponseID()
	edit := h.wait(func(c discordfake.Call) bool {
		return c.Method == http.MethodPatch && strings.HasPrefix(c.Path, "/channels/"+th+"/messages/")
	})
	if p := h.payload(edit); p.Content != renderBody(final.Body) || len(p.Embeds) != 1 {
		t.Errorf("final edit = %+v", p)
	}
	posts, patches := 0, 0
	for _, c := range f.Calls() {
		if strings.HasPrefix(c.Path, "/channels/"+th+"/messages") {
			switch c.Method {
			case http.MethodPost:
				posts++
			case http.MethodPatch:
				patches++
			}
		}
	}
	if posts != 1 || patches != 1 {
		t.Errorf("streaming 101 deltas with a 1 h interval: %d posts and %d edits, want 1 and 1", posts, patches)
	}

	// A follow-up in the thread is answered there, without a new thread.
	fq, _ := f.Reply(edit.ResponseID(), user(1), capitalQ, true)
	if c, _ := h.replyTo(fq); c.Path != "/channels/"+th+"/messages" {
		t.Errorf("follow-up answered in %s", c.Path)
	}

	// Not in the allowlist: ignored.
	q = h.mention(other, user(1), capitalQ)
	h.waitLog("message ignored: channel not allowed", "message_id", q)

	// A DM is answered as a reply, without a thread.
	dm, err := f.DM("4001", user(2), capitalQ)
	if err != nil {
		t.Fatal(err)
	}
	if c, p := h.replyTo(dm); c.Path != "/channels/4001/messages" || !isBaku(p.Content) {
		t.Errorf("DM answered at %s: %q", c.Path, p.Content)
	}
	threads := 0
	for _, c := range f.Calls() {
		if strings.HasSuffix(c.Path, "/threads") {
			threads++
		}
	}
	if threads != 1 {
		t.Errorf("%d threads started, want 1", threads)
	}
}

func TestShutdownFinishesAnswersInFlight(t *testing.T) {
	t.Parallel()
	f := newFake(t, discordfake.Options{})
	ix, real := library(t)
	entered, release := make(chan struct{}), make(chan struct{})
	a := answerFunc(func(ctx context.Context, q string, o bot.Options) (*bot.Answer, error) {
		close(entered)
		<-release
		return real.Answer(ctx, q, o)
	})
	h := start(t, f, Config{}, a, ix, nil)
	q := h.mention(general, user(1), capitalQ)
	recv(t, h.ctx, entered)
	h.stop()
	close(release)
	if err := recv(t, h.ctx, h.runErr); err != nil {
		t.Fatalf("Run = %v", err)
	}
	h.runErr <- nil // for the cleanup
	found := false
	for _, c := range f.Calls() {
		found = found || isReplyTo(q)(c)
	}
	if !found {
		t.Error("the answer in flight was not sent before Run returned")
	}
}

func TestInvalidToken(t *testing.T) {
	t.Parallel()
	ix, a := library(t)
	run := func(t *testing.T, f *discordfake.Server, token string) (*Bot, chan error) {
		b, err := New(Config{Token: token, HTTPClient: f.Client(), Dialer: f.Dialer(), ReconnectWait: 50 * time.Millisecond}, a, ix, nil)
		if err != nil {
			t.Fatal(err)
		}
		errc := make(chan error, 1)
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		go func() { errc <- b.Run(ctx) }()
		return b, errc
	}
	wait := func(t *testing.T, errc chan error) error {
		select {
		case err := <-errc:
			return err
		case <-time.After(testTimeout):
			t.Fatal("Run did not return")
			return nil
		}
	}
	t.Run("REST 401", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, discordfake.Options{Token: "good"})
		_, errc := run(t, f, "bad")
		if err := wait(t, errc); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("Run = %v, want ErrInvalidToken", err)
		}
	})
	t.Run("gateway 4004", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, discordfake.Options{})
		f.FailIdentify(4004)
		_, errc := run(t, f, "any")
		if err := wait(t, errc); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("Run = %v, want ErrInvalidToken", err)
		}
	})
	t.Run("disallowed intents 4014", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, discordfake.Options{})
		f.FailIdentify(4014)
		_, errc := run(t, f, "any")
		if err := wait(t, errc); !errors.Is(err, ErrDisallowedIntents) {
			t.Errorf("Run = %v, want ErrDisallowedIntents", err)
		}
	})
	t.Run("token reset mid-session", func(t *testing.T) {
		// discordgo keeps trying to reconnect in the background after Run
		// returns (it cannot be stopped); the fake refuses it.
		t.Parallel()
		f := newFake(t, discordfake.Options{Token: "good"})
		_, errc := run(t, f, "good")
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		if _, err := f.WaitFor(ctx, func(c discordfake.Call) bool { return c.Method == http.MethodPut }); err != nil {
			t.Fatal(err)
		}
		f.RevokeToken()
		f.Drop(4004)
		if err := wait(t, errc); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("Run = %v, want ErrInvalidToken", err)
		}
	})
	t.Run("revoked mid-session: 400 with 40001, close 4000", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, discordfake.Options{Token: "good"})
		_, errc := run(t, f, "good")
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		if _, err := f.WaitFor(ctx, func(c discordfake.Call) bool { return c.Method == http.MethodPut }); err != nil {
			t.Fatal(err)
		}
		f.RevokeTokenWith(discordfake.Revocation{Status: http.StatusBadRequest, Code: 40001, Close: 4000})
		f.Drop(4000)
		if err := wait(t, errc); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("Run = %v, want ErrInvalidToken", err)
		}
	})
	t.Run("revoked before start: 400 with 40001", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, discordfake.Options{})
		f.RevokeTokenWith(discordfake.Revocation{Status: http.StatusBadRequest, Code: 40001, Close: 4000})
		_, errc := run(t, f, "any")
		if err := wait(t, errc); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("Run = %v, want ErrInvalidToken", err)
		}
	})
	t.Run("4000 on every IDENTIFY, REST fine", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, discordfake.Options{})
		f.FailIdentify(4000)
		_, errc := run(t, f, "any")
		if err := wait(t, errc); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("Run = %v, want ErrInvalidToken", err)
		}
		identifies := 0
		for _, fr := range f.Frames() {
			if fr.Op == discordfake.OpIdentify {
				identifies++
			}
		}
		if identifies != identifyTries {
			t.Errorf("%d IDENTIFY tries, want %d", identifies, identifyTries)
		}
	})
}

// scrape GETs path from the metrics handler.
func scrape(t *testing.T, m *Metrics, path string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	body, _ := io.ReadAll(rec.Body)
	return string(body)
}

// recv receives from ch, or fails the test at ctx's deadline.
func recv[T any](t testing.TB, ctx context.Context, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-ctx.Done():
		t.Fatal("timed out")
		panic("unreachable")
	}
}

func TestAnswerErrorsAreShortNotices(t *testing.T) {
	t.Parallel()
	f := newFake(t, discordfake.Options{})
	ix, _ := library(t)
	a := answerFunc(func(ctx context.Context, q string, o bot.Options) (*bot.Answer, error) {
		if q == "slow" { // what the answerer returns when the time runs out
			return nil, fmt.Errorf("llm: %w", context.DeadlineExceeded)
		}
		return nil, errors.New("llm: POST https://llm.internal/v1 with key sk-secret: exploded")
	})
	h := start(t, f, Config{}, a, ix, nil)

	q := h.mention(general, user(1), "fail")
	if _, p := h.replyTo(q); p.Content != noticeFailed {
		t.Errorf("failed answer: %q", p.Content)
	}
	q = h.mention(general, user(2), "slow")
	if _, p := h.replyTo(q); p.Content != noticeTooSlow {
		t.Errorf("timed-out answer: %q", p.Content)
	}
	q = h.mention(general, user(3), strings.Repeat("why ", 300))
	if _, p := h.replyTo(q); p.Content != "That question is too long (1199 characters; the limit is 1000)." {
		t.Errorf("long question: %q", p.Content)
	}
	in := h.command(member(4, 0), "ask", discordfake.StringOption("question", "fail"))
	if _, p := h.original(in); p.Content != noticeFailed {
		t.Errorf("failed /ask: %q", p.Content)
	}
	for _, c := range f.Calls() {
		if strings.Contains(string(c.Body), "sk-secret") || strings.Contains(string(c.Body), "llm.internal") {
			t.Errorf("internals shown to a user: %s", c.Body)
		}
	}
}

func TestQuestionLimitClamped(t *testing.T) {
	b, err := New(Config{Token: "t", MaxQuestionRunes: 10000}, answerFunc(nil), struct{ Library }{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.registrations()[0].Options[0].MaxLength; got != maxOptionRunes {
		t.Errorf("/ask question max_length = %d, want %d", got, maxOptionRunes)
	}
}

// TestLateAnswerReplacesDraft: an answer that comes after the question's
// deadline (say the answerer fell back to extractive) is still delivered,
// replacing the draft streamed before.
func TestLateAnswerReplacesDraft(t *testing.T) {
	t.Parallel()
	f := newFake(t, discordfake.Options{})
	ix, _ := library(t)
	final := &bot.Answer{ID: "late", Body: []bot.Segment{{Kind: bot.Excerpt, Text: "Union leaders accepted the offer.", Source: 1}, {Kind: bot.Citation, Source: 1}}, Mode: bot.Extractive, Note: "The language model took too long.",
		Sources: []bot.Source{{N: 1, Title: "Rail Strike Ends", Paragraph: para(1, "Union leaders accepted the offer."),
			Quotes: []bot.Quote{{Text: "Union leaders accepted the offer."}}}}}
	testCtx := make(chan context.Context, 1)
	a := answerFunc(func(ctx context.Context, q string, o bot.Options) (*bot.Answer, error) {
		o.OnDelta("Draft with “an unchecked quote” so far")
		tctx := <-testCtx
		if _, err := f.WaitFor(tctx, func(c discordfake.Call) bool {
			p, _ := c.Message()
			return c.Method == http.MethodPost && strings.HasPrefix(p.Content, draftHeader)
		}); err != nil {
			return nil, err
		}
		<-ctx.Done() // the question's deadline passes while the model runs
		return final, nil
	})
	h := start(t, f, Config{AnswerTimeout: 2 * time.Second}, a, ix, nil)
	testCtx <- h.ctx
	q := h.mention(general, user(1), "why did the strike end?")
	draft, p := h.replyTo(q)
	if strings.Contains(p.Content, "unchecked quote") {
		t.Errorf("draft shows an unverified quote: %q", p.Content)
	}
	edit := h.wait(func(c discordfake.Call) bool {
		return c.Is(http.MethodPatch, "/channels/"+general+"/messages/"+draft.ResponseID())
	})
	want := renderBody(final.Body) + "\n\n*" + final.Note + "*"
	if p := h.payload(edit); p.Content != want || len(p.Embeds) != 1 {
		t.Errorf("final message = %q with %d embeds, want %q", p.Content, len(p.Embeds), want)
	}
}

func TestInteractionEdgeCases(t *testing.T) {
	t.Parallel()
	f := newFake(t, discordfake.Options{})
	ix, a := library(t)
	admin := user(9)
	h := start(t, f, Config{AdminUserIDs: []string{admin.ID}}, a, ix, nil)
	dm := discordfake.Invoker{User: admin, ChannelID: "4009"}

	for _, tt := range []struct {
		name string
		inv  discordfake.Invoker
		cmd  string
		want string
	}{
		{"reload without a reload func", member(1, 32), "reload", noticeNoReload},
		{"unknown command", member(1, 0), "nope", noticeUnknown},
	} {
		in := h.command(tt.inv, tt.cmd)
		if cb := h.callback(in); cb.Type != discordfake.CallbackMessage || cb.Data.Flags != 64 || cb.Data.Content != tt.want {
			t.Errorf("%s: %+v", tt.name, cb)
		}
	}

	// /ask in a DM (no member) is answered.
	in := h.command(dm, "ask", discordfake.StringOption("question", capitalQ))
	if cb := h.callback(in); cb.Type != discordfake.CallbackDeferredMessage {
		t.Errorf("DM /ask acknowledged with %+v", cb)
	}
	answered, p := h.original(in)
	if !isBaku(p.Content) {
		t.Errorf("DM /ask = %q", p.Content)
	}

	// A stale button gets a notice.
	in, err := f.Click(dm, answered.ResponseID(), "zzz:1")
	if err != nil {
		t.Fatal(err)
	}
	if cb := h.callback(in); cb.Data == nil || cb.Data.Content != noticeStaleButton {
		t.Errorf("stale button: %+v", cb)
	}
}

func TestReloadRefusedInDMs(t *testing.T) {
	t.Parallel()
	f := newFake(t, discordfake.Options{})
	ix, a := library(t)
	admin := user(9)
	ran := make(chan struct{}, 1)
	reload := func(context.Context) (retrieval.Stats, error) {
		ran <- struct{}{}
		return retrieval.Stats{}, nil
	}
	h := start(t, f, Config{AdminUserIDs: []string{admin.ID}}, a, ix, reload)
	in := h.command(discordfake.Invoker{User: admin, ChannelID: "4009"}, "reload")
	if cb := h.callback(in); cb.Type != discordfake.CallbackMessage || cb.Data.Flags != 64 || cb.Data.Content != noticeReloadDM {
		t.Errorf("DM /reload = %+v", cb)
	}
	select {
	case <-ran:
		t.Error("reload ran from a DM")
	default:
	}
}
