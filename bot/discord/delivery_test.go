package discord

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/verbatim-bot/verbatim/bot"
	"github.com/verbatim-bot/verbatim/bot/discord/discordfake"
	"github.com/verbatim-bot/verbatim/corpus"
)

// TestUndecodable2xxIsDelivered checks that a message Discord accepted
// (2xx) counts as delivered even when discordgo cannot decode the reply:
// no "Sorry" follows or overwrites it.
func TestUndecodable2xxIsDelivered(t *testing.T) {
	t.Parallel()
	f := newFake(t, discordfake.Options{})
	ix, real := library(t)
	h := start(t, f, Config{}, real, ix, nil)
	f.Script(http.MethodPost, "/channels/"+general+"/messages", discordfake.Response{Status: http.StatusOK, Body: "not a message"})
	q := h.mention(general, user(1), capitalQ)
	h.waitLog("question answered", "event_id", q)
	for _, c := range f.Calls() {
		if p, err := c.Message(); err == nil && strings.Contains(p.Content, noticeFailed) {
			t.Errorf("%s %s sent the failure notice after a delivered answer", c.Method, c.Path)
		}
	}
}

// TestFailedDraftEditPostsTheAnswer checks that when editing the streamed
// draft fails, the final answer is posted as a new message and the draft
// is deleted: nobody is left with a draft.
func TestFailedDraftEditPostsTheAnswer(t *testing.T) {
	t.Parallel()
	f := newFake(t, discordfake.Options{})
	ix, real := library(t)
	final := &bot.Answer{ID: "d1", Body: []bot.Segment{{Kind: bot.Prose, Text: "The verified answer."}}, Mode: bot.Generated}
	a := answerFunc(func(ctx context.Context, q string, o bot.Options) (*bot.Answer, error) {
		if q != "stream it" {
			return real.Answer(ctx, q, o)
		}
		o.OnDelta("A draft")
		draft, err := f.WaitFor(ctx, func(c discordfake.Call) bool {
			p, _ := c.Message()
			return c.Method == http.MethodPost && p.Content == renderPartial("A draft")
		})
		if err != nil {
			return nil, err
		}
		f.Script(http.MethodPatch, "/channels/"+general+"/messages/"+draft.ResponseID(), discordfake.Response{
			Status: http.StatusInternalServerError, Body: map[string]any{"message": "500: Internal Server Error", "code": 0}})
		return final, nil
	})
	h := start(t, f, Config{}, a, ix, nil)
	h.allowed[http.StatusInternalServerError] = true
	h.mention(general, user(1), "stream it")
	posted := h.wait(func(c discordfake.Call) bool {
		p, _ := c.Message()
		return c.Method == http.MethodPost && p.Content == renderBody(final.Body)
	})
	h.wait(func(c discordfake.Call) bool {
		return c.Method == http.MethodDelete && strings.HasPrefix(c.Path, "/channels/"+general+"/messages/")
	})
	if posted.ResponseID() == "" {
		t.Error("the final answer was not posted")
	}
}

// TestNoticeHasItsOwnBudget checks that when Discord rate-limits the
// answer past its delivery budget, the user still gets the notice: it is
// sent within a budget of its own, not the answer's spent one.
func TestNoticeHasItsOwnBudget(t *testing.T) {
	t.Parallel()
	f := newFake(t, discordfake.Options{})
	ix, real := library(t)
	h := start(t, f, Config{}, real, ix, nil)
	h.allowed[http.StatusTooManyRequests] = true
	// A 429 for longer than the answer may wait, from a limit other than
	// the route's bucket (no X-RateLimit headers), as for a shared
	// resource.
	beyond := discordfake.RateLimited(deliverTimeout + time.Second)
	beyond.Header = http.Header{"Retry-After": beyond.Header["Retry-After"]}
	f.Script(http.MethodPost, "/channels/"+general+"/messages", beyond)
	q := h.mention(general, user(1), capitalQ)
	h.waitLog("sending an answer", "event_id", q)
	notice := h.wait(func(c discordfake.Call) bool {
		p, _ := c.Message()
		return c.OK() && c.Method == http.MethodPost && p.Content == noticeFailed
	})
	if notice.ResponseID() == "" {
		t.Error("no notice after the answer could not be sent")
	}
}

// TestDegradedStart checks that a failed slash-command registration does
// not stop the bot: mentions are answered, /healthz says degraded, and the
// registration is retried until it succeeds.
func TestDegradedStart(t *testing.T) {
	t.Parallel()
	f := newFake(t, discordfake.Options{})
	ix, real := library(t)
	bad := discordfake.Response{Status: http.StatusBadRequest, Body: map[string]any{"message": "Invalid Form Body", "code": 50035}}
	f.Script(http.MethodPut, "/applications/1000/commands", bad, bad)
	m := NewMetrics(nil)
	h := start(t, f, Config{Metrics: m, CommandRetry: 300 * time.Millisecond}, real, ix, nil)
	h.allowed[http.StatusBadRequest] = true
	h.waitLog("registering the slash commands failed; answering mentions, retrying")

	health := httptest.NewServer(m.Handler())
	defer health.Close()
	resp, err := http.Get(health.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), "degraded") {
		t.Errorf("/healthz while registration fails: %d %q", resp.StatusCode, body)
	}
	q := h.mention(general, user(1), capitalQ)
	if _, p := h.replyTo(q); !isBaku(p.Content) {
		t.Errorf("mention not answered while commands are unregistered: %q", p.Content)
	}
	h.waitLog("slash commands registered")
	resp, err = http.Get(health.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "ok\n" {
		t.Errorf("/healthz after registration: %q", body)
	}
}

// TestHostileOutputIsInert checks that what articles and users put into the
// bot's messages cannot add links or reverse its text, and that a /quote
// with nothing to look for gets a clear answer.
func TestHostileOutputIsInert(t *testing.T) {
	evil := "https://evil.example/a>)[Official statement](https://phish.example/login"
	if u := httpURL(evil); strings.ContainsAny(u, "()<>[] ") || !strings.HasPrefix(u, "https://evil.example/") {
		t.Errorf("httpURL(%q) = %q", evil, u)
	}
	for _, bad := range []string{"javascript:alert(1)", "https://user:pw@example.com/", "/relative"} {
		if u := httpURL(bad); u != "" {
			t.Errorf("httpURL(%q) = %q, want none", bad, u)
		}
	}
	arts := []*corpus.Article{{ID: "a", Title: "A title", URL: evil, Paragraphs: []corpus.Paragraph{{N: 1, Text: "x"}}}}
	desc := renderArticles(arts, "", 0).Embeds[0].Description
	if strings.Count(desc, "](") != 1 || strings.Contains(desc, "[Official statement]") {
		t.Errorf("/articles with a hostile canonical URL renders %q", desc)
	}
	if got := inert("abc\u202Edcba\u0007 ok\n"); got != "abcdcba ok\n" {
		t.Errorf("inert = %q", got)
	}
	if r := renderQuoteHits("\u202Egnirts\u202C", nil); strings.ContainsAny(r[0].Content, "\u202E\u202C") {
		t.Errorf("/quote echoes bidi overrides: %q", r[0].Content)
	}

	t.Parallel()
	f := newFake(t, discordfake.Options{})
	ix, a := library(t)
	h := start(t, f, Config{}, a, ix, nil)
	for _, text := range []string{"!!!", "—", "👍👍"} {
		in := h.command(member(1, 0), "quote", discordfake.StringOption("text", text))
		if _, p := h.original(in); p.Content != noticeNoWords {
			t.Errorf("/quote %q answered %q", text, p.Content)
		}
	}
}

// TestHugeAnswerIsCut checks that a runaway reply (100 KB) is shown in a
// bounded number of messages, cut at a sentence, with a note saying so.
func TestHugeAnswerIsCut(t *testing.T) {
	huge := strings.Repeat("This sentence says the same thing again and again. ", 2000)
	rs := renderAnswer(&bot.Answer{Body: []bot.Segment{{Kind: bot.Prose, Text: huge}}})
	if len(rs) != maxAnswerMessages {
		t.Fatalf("%d messages for a 100 KB answer, want %d", len(rs), maxAnswerMessages)
	}
	last := rs[len(rs)-1].Content
	if !strings.Contains(last, noticeCut) || !strings.Contains(last, "again.\n\n*") {
		t.Errorf("last message does not end at a sentence with the note: …%q", last[max(0, len(last)-200):])
	}
	for _, r := range rs {
		if runes(r.Content) > maxContent {
			t.Errorf("a message of %d characters", runes(r.Content))
		}
	}
}

// TestHandledOnce checks that a message Discord delivers twice (as it may
// after a resume) is answered once.
func TestHandledOnce(t *testing.T) {
	t.Parallel()
	f := newFake(t, discordfake.Options{})
	ix, real := library(t)
	h := start(t, f, Config{}, real, ix, nil)
	for range 2 {
		if _, err := f.SendMessage(discordfake.Message{ID: "7770001", ChannelID: general, GuildID: f.GuildID(), Author: user(1),
			Content: "<@" + f.BotUser().ID + "> " + capitalQ, Mentions: []discordfake.User{f.BotUser()}}); err != nil {
			t.Fatal(err)
		}
	}
	h.waitLog("message ignored: delivered twice", "message_id", "7770001")
	h.replyTo("7770001")
	h.waitLog("question answered", "event_id", "7770001")
	replies := 0
	for _, c := range f.Calls() {
		if p, err := c.Message(); err == nil && c.Method == http.MethodPost && p.MessageReference != nil && p.MessageReference.MessageID == "7770001" {
			replies++
		}
	}
	if replies != 1 {
		t.Errorf("%d replies to a message delivered twice, want 1", replies)
	}
}

// TestRateLimitStorm: 20 questions at once in a channel where Discord
// answers sends beyond a bucket's allowance 429 with a retry_after of up
// to 9 s. Every asker gets the answer or exactly one notice — never
// nothing, never both:
//   - 5 messages through every 9 s: the waits fit the answer's delivery
//     budget, so every asker gets the answer, late;
//   - no message through at all: nothing can be delivered, so every asker
//     gets the notice by the route that still works, the ⚠️ reaction
//     (this case waits out the delivery budget: skipped with -short).
func TestRateLimitStorm(t *testing.T) {
	for _, tt := range []struct {
		name      string
		perWindow int
		answered  bool // every asker gets the answer; else one ⚠️ and no message
	}{
		{"5 per 9 s", 5, true},
		{"every send refused", 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.answered && testing.Short() {
				t.Skip("waits out the delivery budget")
			}
			t.Parallel()
			f := newFake(t, discordfake.Options{})
			ix, real := library(t)
			h := start(t, f, Config{}, real, ix, nil)
			h.allowed[http.StatusTooManyRequests] = true
			f.Limit(http.MethodPost, "/channels/"+general+"/messages", tt.perWindow, 9*time.Second)
			var qs []string
			for i := range 20 {
				qs = append(qs, h.mention(general, user(200+i), capitalQ))
			}
			for _, q := range qs {
				if _, err := h.logs.waitFunc(h.ctx, func(r logRecord) bool {
					if !tt.answered {
						return r.Attrs["event_id"] == q && r.Msg == "unanswered question signalled with a reaction"
					}
					return r.Attrs["event_id"] == q && (r.Msg == "question answered" || r.Msg == "sending an answer")
				}); err != nil {
					t.Fatalf("question %s: %v", q, err)
				}
			}
			for _, q := range qs {
				var shown []string
				for _, c := range f.Calls() {
					if isReplyTo(q)(c) {
						shown = append(shown, h.payload(c).Content)
					}
				}
				warned := len(f.Reactions(q, failEmoji))
				switch {
				case tt.answered && (len(shown) != 1 || !isBaku(shown[0]) || warned != 0):
					t.Errorf("question %s: the asker sees %q and %d ⚠️, want the answer", q, shown, warned)
				case !tt.answered && (len(shown) != 0 || warned != 1):
					t.Errorf("question %s: the asker sees %q and %d ⚠️, want no message and one ⚠️", q, shown, warned)
				}
			}
		})
	}
}

// TestFailedInteractionEditFallsBack checks what an /ask user sees when
// Discord refuses the edit of the deferred response: the answer as a
// follow-up; when that fails too, as a message in the channel — but never
// a private answer in public: that user gets the failure notice instead.
func TestFailedInteractionEditFallsBack(t *testing.T) {
	t.Parallel()
	f := newFake(t, discordfake.Options{})
	ix, real := library(t)
	scripted := make(chan struct{})
	a := answerFunc(func(ctx context.Context, q string, o bot.Options) (*bot.Answer, error) {
		<-scripted // the test has scripted Discord's failures for this interaction
		return real.Answer(ctx, q, o)
	})
	h := start(t, f, Config{}, a, ix, nil)
	h.allowed[http.StatusInternalServerError] = true
	fail := discordfake.Response{Status: http.StatusInternalServerError, Body: map[string]any{"message": "500: Internal Server Error", "code": 0}}
	isAnswer := func(path string) func(discordfake.Call) bool {
		return func(c discordfake.Call) bool {
			p, err := c.Message()
			return c.OK() && c.Is(http.MethodPost, path) && err == nil && isBaku(p.Content)
		}
	}
	ask := func(n int, private bool, failFollowup bool) discordfake.Interaction {
		in := h.command(member(n, 0), "ask", discordfake.StringOption("question", capitalQ), discordfake.BoolOption("private", private))
		f.Script(http.MethodPatch, in.OriginalPath(), fail)
		if failFollowup {
			f.Script(http.MethodPost, in.FollowupPath(), fail)
		}
		scripted <- struct{}{}
		return in
	}

	in := ask(1, false, false) // the edit fails: a follow-up carries the answer
	h.wait(isAnswer(in.FollowupPath()))
	ask(2, false, true) // the edit and the follow-up fail: a message in the channel
	h.wait(isAnswer("/channels/" + general + "/messages"))

	in = ask(3, true, true) // private: never in the channel
	h.waitLog("sending an answer", "event_id", in.ID)
	notice := h.wait(func(c discordfake.Call) bool { return c.Is(http.MethodPatch, in.OriginalPath()) && c.OK() })
	if p := h.payload(notice); p.Content != noticeFailed {
		t.Errorf("private answer undeliverable: the user sees %q", p.Content)
	}
	public := 0
	for _, c := range f.Calls() {
		if isAnswer("/channels/" + general + "/messages")(c) {
			public++
		}
	}
	if public != 1 {
		t.Errorf("%d public answers, want only the second question's", public)
	}
}

// TestUnsendableNoticeBecomesReaction: Discord rate-limits the channel's
// messages for longer than the answer and the notice may wait. The asker
// still learns that no answer is coming — a ⚠️ on their question, as
// reactions are limited apart from messages — and no message is sent
// late.
func TestUnsendableNoticeBecomesReaction(t *testing.T) {
	t.Parallel()
	f := newFake(t, discordfake.Options{})
	ix, real := library(t)
	h := start(t, f, Config{}, real, ix, nil)
	h.allowed[http.StatusTooManyRequests] = true
	f.Script(http.MethodPost, "/channels/"+general+"/messages", discordfake.RateLimited(deliverTimeout+time.Second))
	q := h.mention(general, user(1), capitalQ)
	h.waitLog("unanswered question signalled with a reaction", "event_id", q)
	if got := f.Reactions(q, failEmoji); len(got) != 1 || got[0] != f.BotUser().ID {
		t.Errorf("reactions on the question: %v", got)
	}
	for _, c := range f.Calls() {
		if isReplyTo(q)(c) {
			t.Errorf("a message was sent despite the rate limit: %q", h.payload(c).Content)
		}
	}
}
