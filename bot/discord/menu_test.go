package discord

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/verbatim-bot/verbatim/bot"
	"github.com/verbatim-bot/verbatim/bot/discord/discordfake"
	"github.com/verbatim-bot/verbatim/corpus"
	"github.com/verbatim-bot/verbatim/retrieval/retrievaltest"
)

// TestMessageMenus runs the message context menus end to end: "Ask
// Verbatim" on a member's message (which does not mention the bot)
// answers it as a question; "Find quote" on a claim shows the passage
// that says it word for word, or the closest when none does.
func TestMessageMenus(t *testing.T) {
	t.Parallel()
	f := newFake(t, discordfake.Options{})
	ix, real := library(t)
	h := start(t, f, Config{}, real, ix, nil)
	post := func(text string) string {
		id, err := f.SendMessage(discordfake.Message{ChannelID: general, GuildID: f.GuildID(), Author: user(1), Content: text})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	menu := func(name, target string) discordfake.MessagePayload {
		t.Helper()
		in, err := f.MessageCommand(member(2, 0), name, target)
		if err != nil {
			t.Fatal(err)
		}
		if cb := h.callback(in); cb.Type != discordfake.CallbackDeferredMessage {
			t.Fatalf("%s acknowledged with %+v", name, cb)
		}
		_, p := h.original(in)
		return p
	}

	if p := menu("Ask Verbatim", post("hey "+capitalQ)); !isBaku(p.Content) {
		t.Errorf("Ask Verbatim = %q", p.Content)
	}
	p := menu("Find quote", post("Fun fact: Baku is the capital of Azerbaijan"))
	if !strings.HasPrefix(p.Content, "No passage contains") || len(p.Embeds) == 0 ||
		!strings.Contains(p.Embeds[0].Description, "Baku is the capital of Azerbaijan.") {
		t.Errorf("Find quote on a near claim = %q %+v", p.Content, p.Embeds)
	}
	if p := menu("Find quote", post("Baku is the capital of Azerbaijan")); !strings.Contains(p.Content, "appears word for word") || len(p.Embeds) == 0 ||
		!strings.Contains(p.Embeds[0].Description, "**Baku is the capital of Azerbaijan**") {
		t.Errorf("Find quote on an exact claim = %q %+v", p.Content, p.Embeds)
	}
	in, err := f.MessageCommand(member(2, 0), "Ask Verbatim", post("<@5003>")) // nothing but a mention
	if err != nil {
		t.Fatal(err)
	}
	if cb := h.callback(in); cb.Data == nil || cb.Data.Content != noticeEmpty || cb.Data.Flags != 64 {
		t.Errorf("Ask Verbatim on a message with nothing to ask: %+v", cb)
	}
}

// TestArticleAutocomplete runs the article option of /ask and /quote end
// to end: suggestions are titles matching what is typed (at most 25, each
// within Discord's 100 characters, which the fake enforces), and /ask
// with the chosen article searches only it.
func TestArticleAutocomplete(t *testing.T) {
	t.Parallel()
	f := newFake(t, discordfake.Options{})
	var extra []string
	for i := range 30 {
		extra = append(extra, fmt.Sprintf("# Rail timetable change number %d %s\n\nTrains ran late on line %d.\n", i, strings.Repeat("and more words ", 10), i))
	}
	c, err := corpus.Load(context.Background(), testArticles(extra...), corpus.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ix := retrievaltest.IndexWith(t, c, nil) // delivery, not meaning: no sentence encoder
	a := bot.New(ix, bot.Config{Meaning: retrievaltest.Meaning(t)})
	h := start(t, f, Config{}, a, ix, nil)

	for _, cmd := range []string{"ask", "quote"} {
		in, err := f.Autocomplete(member(1, 0), cmd, discordfake.FocusedOption("article", "rail"))
		if err != nil {
			t.Fatal(err)
		}
		cb := h.callback(in)
		if cb.Type != discordfake.CallbackAutocomplete || cb.Data == nil || len(cb.Data.Choices) != maxChoices {
			t.Fatalf("/%s autocomplete = %+v", cmd, cb.Data)
		}
		if ch := cb.Data.Choices[0]; ch.Name != "Rail Strike Ends" || ch.Value != "rail" {
			t.Errorf("/%s: first choice %+v, want the title starting with what was typed", cmd, ch)
		}
		for _, ch := range cb.Data.Choices {
			if n := utf8.RuneCountInString(ch.Name); n > maxChoice || !strings.Contains(strings.ToLower(ch.Name), "rail") {
				t.Errorf("/%s: choice %q (%d characters)", cmd, ch.Name, n)
			}
		}
	}
	in, err := f.Autocomplete(member(1, 0), "ask", discordfake.StringOption("question", "x"), discordfake.FocusedOption("question", "rail"))
	if err != nil {
		t.Fatal(err)
	}
	if cb := h.callback(in); cb.Type != discordfake.CallbackAutocomplete || len(cb.Data.Choices) != 0 {
		t.Errorf("autocomplete of another option = %+v", cb.Data)
	}

	in = h.command(member(1, 0), "ask", discordfake.StringOption("question", "When do trains run a normal timetable?"), discordfake.StringOption("article", "rail"))
	if _, p := h.original(in); !strings.Contains(p.Content, "Trains will run a normal timetable from Wednesday") {
		t.Errorf("/ask in the rail article = %q", p.Content)
	}
	in = h.command(member(1, 0), "ask", discordfake.StringOption("question", capitalQ), discordfake.StringOption("article", "bees"))
	if _, p := h.original(in); isBaku(p.Content) {
		t.Errorf("/ask restricted to the bees article answered from another: %q", p.Content)
	}
	in = h.command(member(1, 0), "ask", discordfake.StringOption("question", capitalQ), discordfake.StringOption("article", "no such article"))
	if cb := h.callback(in); cb.Data == nil || !strings.HasPrefix(cb.Data.Content, "I don't know an article called") {
		t.Errorf("/ask with an unknown article = %+v", cb)
	}
}
