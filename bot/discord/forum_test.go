package discord

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/verbatim-bot/verbatim/bot/discord/discordfake"
)

// TestForumPostsAnswered runs forum channels end to end: a new post is
// answered in its thread without a mention (even though the forum is not
// among the allowed channels), the answer carries a 👍, another member's
// 👍 changes nothing, and the asker's marks the post resolved — with the
// forum's "Resolved" tag, or a ✅ in the title where the forum has none.
func TestForumPostsAnswered(t *testing.T) {
	t.Parallel()
	f := newFake(t, discordfake.Options{})
	f.AddForum("3100", "help", discordfake.ForumTag{ID: "7001", Name: "bug"}, discordfake.ForumTag{ID: "7002", Name: "Resolved"})
	f.AddForum("3200", "questions")
	ix, real := library(t)
	h := start(t, f, Config{ForumChannels: []string{"3100", "3200"}, AllowedChannels: []string{general}}, real, ix, nil)

	identify, err := f.WaitForFrame(h.ctx, func(fr discordfake.Frame) bool { return fr.Op == discordfake.OpIdentify })
	if err != nil {
		t.Fatal(err)
	}
	var id struct {
		Intents discordgo.Intent `json:"intents"`
	}
	if err := json.Unmarshal(identify.Data, &id); err != nil || id.Intents&discordgo.IntentsMessageContent == 0 || id.Intents&discordgo.IntentsGuildMessageReactions == 0 {
		t.Errorf("IDENTIFY intents %d lack message content or reactions", id.Intents)
	}

	for i, tc := range []struct {
		forum   string
		resolve func(t *testing.T, post discordfake.Channel)
	}{
		{"3100", func(t *testing.T, post discordfake.Channel) {
			if !slices.Equal(post.AppliedTags, []string{"7002", "7001"}) {
				t.Errorf("tags after resolving = %v, want the resolved tag added", post.AppliedTags)
			}
		}},
		{"3200", func(t *testing.T, post discordfake.Channel) {
			if post.Name != "✅ Azerbaijan's capital" {
				t.Errorf("title after resolving = %q", post.Name)
			}
		}},
	} {
		asker := user(1 + i) // one post and one follow-up each, within the rate limit
		thread, err := f.Post(tc.forum, asker, "Azerbaijan's capital", capitalQ, "7001")
		if err != nil {
			t.Fatal(err)
		}
		answer, p := h.replyTo(thread)
		if answer.Path != "/channels/"+thread+"/messages" || !isBaku(p.Content) {
			t.Fatalf("post answered at %s: %q", answer.Path, p.Content)
		}
		h.wait(func(c discordfake.Call) bool {
			return c.Method == http.MethodPut && c.Path == "/channels/"+thread+"/messages/"+answer.ResponseID()+"/reactions/👍/@me" && c.OK()
		})
		if err := f.React(answer.ResponseID(), user(8), "👍"); err != nil { // not the asker
			t.Fatal(err)
		}
		if err := f.React(answer.ResponseID(), asker, "👍"); err != nil {
			t.Fatal(err)
		}
		h.waitLog("forum post resolved", "thread_id", thread, "user_id", asker.ID)
		// A follow-up in the post, mentioning the bot, is answered there
		// too, though the forum is not an allowed channel.
		follow := h.mention(thread, asker, "When do trains run a normal timetable?")
		if c, p := h.replyTo(follow); c.Path != "/channels/"+thread+"/messages" || !strings.Contains(p.Content, "normal timetable") {
			t.Errorf("follow-up in the post answered at %s: %q", c.Path, p.Content)
		}
		post, _ := f.Channel(thread)
		tc.resolve(t, post)
		patches := 0
		for _, c := range f.Calls() {
			if c.Is(http.MethodPatch, "/channels/"+thread) {
				patches++
			}
		}
		if patches != 1 {
			t.Errorf("post edited %d times, want once (by the asker's 👍 only)", patches)
		}
	}

	// A message in a plain channel without a mention is still ignored.
	if _, err := f.SendMessage(discordfake.Message{ChannelID: general, GuildID: f.GuildID(), Author: user(7), Content: "What is the capital of Azerbaijan?"}); err != nil {
		t.Fatal(err)
	}
	q := h.mention(general, user(7), capitalQ)
	h.replyTo(q)
	for _, c := range f.Calls() {
		if p, err := c.Message(); err == nil && c.Is(http.MethodPost, "/channels/"+general+"/messages") && (p.MessageReference == nil || p.MessageReference.MessageID != q) {
			t.Errorf("a message without a mention was answered: %s", strings.TrimSpace(p.Content))
		}
	}
}
