package discord

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/verbatim-bot/verbatim/bot"
	"github.com/verbatim-bot/verbatim/bot/discord/discordfake"
	"github.com/verbatim-bot/verbatim/corpus"
	"github.com/verbatim-bot/verbatim/retrieval"
	"github.com/verbatim-bot/verbatim/retrieval/retrievaltest"
)

// TestChannelCollections runs per-channel corpora end to end: the
// articles folder has sub-folders geo/ and news/; #general searches geo,
// #other news, and #quiet (unmapped) every article. Mentions, /articles,
// /quote, autocomplete and /reload each see only their channel's
// collection.
func TestChannelCollections(t *testing.T) {
	t.Parallel()
	f := newFake(t, discordfake.Options{})
	all := testArticles()
	fs := fstest.MapFS{}
	for name, file := range all {
		switch {
		case name == "azerbaijan.md":
			fs["geo/"+name] = file
		case name == "rail.md":
			fs["news/"+name] = file
		default:
			fs[name] = file
		}
	}
	c, err := corpus.Load(context.Background(), fs, corpus.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ix := retrievaltest.IndexWith(t, c, nil) // delivery, not meaning: no sentence encoder
	a := bot.New(ix, bot.Config{Meaning: retrievaltest.Meaning(t)})
	reload := func(ctx context.Context) (retrieval.Stats, error) {
		c, err := corpus.Load(ctx, fs, corpus.Options{})
		if err != nil {
			return retrieval.Stats{}, err
		}
		return ix.Load(ctx, c, nil)
	}
	const empty = "3010"
	admin := user(9)
	h := start(t, f, Config{
		ChannelCollections: map[string]string{general: "geo", other: "news", empty: "nothing-here"},
		AdminUserIDs:       []string{admin.ID},
	}, a, ix, reload)

	if _, p := h.replyTo(h.mention(general, user(1), capitalQ)); !isBaku(p.Content) {
		t.Errorf("#general (geo): %q", p.Content)
	}
	if _, p := h.replyTo(h.mention(other, user(2), capitalQ)); isBaku(p.Content) || strings.Contains(p.Content, "Azerbaijan and Israel") {
		t.Errorf("#other (news) answered from geo: %q", p.Content)
	}
	if _, p := h.replyTo(h.mention(other, user(3), "When do trains run a normal timetable?")); !strings.Contains(p.Content, "Trains will run a normal timetable from Wednesday") {
		t.Errorf("#other (news): %q", p.Content)
	}
	if _, p := h.replyTo(h.mention(quiet, user(4), capitalQ)); !isBaku(p.Content) {
		t.Errorf("#quiet (every article): %q", p.Content)
	}
	if _, p := h.replyTo(h.mention(empty, user(5), capitalQ)); p.Content != noticeEmptyCollection("nothing-here") {
		t.Errorf("channel of an empty collection: %q", p.Content)
	}

	inOther := discordfake.Invoker{User: user(6), ChannelID: other, GuildID: f.GuildID()}
	in := h.command(inOther, "articles")
	if cb := h.callback(in); len(cb.Data.Embeds) != 1 || !strings.Contains(cb.Data.Embeds[0].Description, "Rail Strike Ends") ||
		strings.Contains(cb.Data.Embeds[0].Description, "Azerbaijan") || strings.Contains(cb.Data.Embeds[0].Description, "Filler") {
		t.Errorf("/articles in #other = %+v", cb.Data.Embeds)
	}
	in = h.command(inOther, "quote", discordfake.StringOption("text", "Caspian sea"))
	if _, p := h.original(in); strings.Contains(p.Content, "word for word in") {
		t.Errorf("/quote in #other found a geo passage: %q", p.Content)
	}
	ac, err := f.Autocomplete(inOther, "quote", discordfake.FocusedOption("article", ""))
	if err != nil {
		t.Fatal(err)
	}
	if cb := h.callback(ac); len(cb.Data.Choices) != 1 || cb.Data.Choices[0].Value != "news-rail" {
		t.Errorf("autocomplete in #other = %+v", cb.Data.Choices)
	}
	in = h.command(discordfake.Invoker{User: admin, ChannelID: general, GuildID: f.GuildID()}, "reload")
	if _, p := h.original(in); !strings.HasSuffix(p.Content, "This channel searches the “geo” collection: 1 article.") {
		t.Errorf("/reload in #general = %q", p.Content)
	}
}
