package discord

import (
	"context"
	"strings"

	"github.com/bwmarrin/discordgo"
)

// Forum channels (Config.ForumChannels): every new post is a question,
// answered in the post's thread without a mention. The answer carries a
// 👍 reaction; when the asker adds theirs, the post is marked resolved:
// the forum's tag named "resolved" (or "solved", any case) is applied, or,
// when the forum has none, the post's title gets a "✅ " prefix. The post
// is left open, so a follow-up can still be asked in it.

// SourceForum is a question asked by starting a post in a forum channel.
const SourceForum = "forum"

// resolveEmoji is the reaction the bot puts on a forum answer, and the one
// the asker adds to mark the post resolved.
const resolveEmoji = "👍"

// resolvedPrefix marks a resolved post's title when its forum has no
// resolved tag.
const resolvedPrefix = "✅ "

// Discord's bounds on a thread's name and applied tags.
const (
	maxThreadName  = 100
	maxAppliedTags = 5
)

// forumPost is a post started in one of Config.ForumChannels.
type forumPost struct {
	threadID, forumID, ownerID, name string
	tags                             []string
}

// addForumHandlers follows new posts and reactions when forums are
// configured.
func (b *Bot) addForumHandlers(s *discordgo.Session) {
	if len(b.forums) == 0 {
		return
	}
	s.AddHandler(b.onThreadCreate)
	s.AddHandler(b.onReaction)
}

// onThreadCreate remembers a post just started in a forum, to answer its
// first message.
func (b *Bot) onThreadCreate(_ *discordgo.Session, tc *discordgo.ThreadCreate) {
	if tc.Channel == nil || !tc.NewlyCreated || !b.forums[tc.ParentID] {
		return
	}
	b.posts.put(tc.ID, forumPost{threadID: tc.ID, forumID: tc.ParentID, ownerID: tc.OwnerID, name: tc.Name, tags: tc.AppliedTags})
}

// forumPostOf reports whether m starts a post in one of the forums: its
// ID is its channel's, as Discord gives a post's first message. The post
// is the one THREAD_CREATE announced or, when the message is handled
// first (discordgo runs handlers concurrently), the thread as Discord
// returns it.
func (b *Bot) forumPostOf(ctx context.Context, s *discordgo.Session, m *discordgo.Message) (forumPost, bool) {
	if len(b.forums) == 0 || m.GuildID == "" || m.ID != m.ChannelID {
		return forumPost{}, false
	}
	if p, ok := b.posts.get(m.ChannelID); ok {
		return p, true
	}
	th, err := retryRateLimited(ctx, func() (*discordgo.Channel, error) {
		return s.Channel(m.ChannelID, discordgo.WithContext(ctx))
	})
	if err != nil {
		b.log.Warn("looking up a thread", "channel_id", m.ChannelID, "err", err)
		return forumPost{}, false
	}
	if !b.forums[th.ParentID] {
		return forumPost{}, false
	}
	p := forumPost{threadID: th.ID, forumID: th.ParentID, ownerID: th.OwnerID, name: th.Name, tags: th.AppliedTags}
	b.posts.put(th.ID, p)
	return p, true
}

// forumQuestion is the question a post asks: its title and its text.
func forumQuestion(p forumPost, m *discordgo.Message) string {
	return strings.TrimSpace(p.name + "\n" + stripMentions(m.Content))
}

// forumAnswered puts the 👍 on a forum answer and remembers whose post it
// answers.
func (b *Bot) forumAnswered(ctx context.Context, post forumPost, ids []string) {
	if len(ids) == 0 || ids[len(ids)-1] == "" {
		return
	}
	last := ids[len(ids)-1]
	b.answers.put(last, post)
	_, err := retryRateLimited(ctx, func() (struct{}, error) {
		return struct{}{}, b.s.MessageReactionAdd(post.threadID, last, resolveEmoji, discordgo.WithContext(ctx))
	})
	if err != nil {
		b.log.Warn("adding the resolve reaction", "thread_id", post.threadID, "err", err)
	}
}

// onReaction marks a forum post resolved when its asker adds 👍 to the
// bot's answer.
func (b *Bot) onReaction(s *discordgo.Session, r *discordgo.MessageReactionAdd) {
	if r.MessageReaction == nil || r.Emoji.Name != resolveEmoji || r.UserID == b.botID {
		return
	}
	post, ok := b.answers.get(r.MessageID)
	if !ok || r.UserID != post.ownerID {
		return
	}
	ctx, end, ok := b.begin(noticeTimeout)
	if !ok {
		return
	}
	defer end()
	defer b.recoverHandler("reaction", r.MessageID, func(context.Context) {})
	if err := b.resolve(ctx, s, post); err != nil {
		b.log.Warn("marking a forum post resolved", "thread_id", post.threadID, "err", err)
		return
	}
	b.answers.put(r.MessageID, forumPost{}) // once
	b.log.Info("forum post resolved", "thread_id", post.threadID, "user_id", r.UserID)
}

// resolve applies the forum's resolved tag to the post, or prefixes its
// title when the forum has no such tag.
func (b *Bot) resolve(ctx context.Context, s *discordgo.Session, post forumPost) error {
	forum, err := s.Channel(post.forumID, discordgo.WithContext(ctx))
	if err != nil {
		return err
	}
	edit := &discordgo.ChannelEdit{}
	if tag := resolvedTag(forum.AvailableTags); tag != "" {
		tags := append([]string{tag}, without(post.tags, tag)...)
		tags = tags[:min(len(tags), maxAppliedTags)]
		edit.AppliedTags = &tags
	} else if !strings.HasPrefix(post.name, resolvedPrefix) {
		edit.Name = truncate(resolvedPrefix+post.name, maxThreadName)
	} else {
		return nil
	}
	_, err = retryRateLimited(ctx, func() (*discordgo.Channel, error) {
		return s.ChannelEditComplex(post.threadID, edit, discordgo.WithContext(ctx))
	})
	return err
}

// resolvedTag is the ID of the tag named "resolved" or "solved" (any
// case, emoji aside), or "".
func resolvedTag(tags []discordgo.ForumTag) string {
	for _, t := range tags {
		switch strings.ToLower(strings.TrimSpace(strings.TrimPrefix(t.Name, "✅"))) {
		case "resolved", "solved":
			return t.ID
		}
	}
	return ""
}

func without(ids []string, id string) []string {
	out := make([]string, 0, len(ids))
	for _, x := range ids {
		if x != id {
			out = append(out, x)
		}
	}
	return out
}
