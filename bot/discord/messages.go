package discord

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/verbatim-bot/verbatim/bot"
)

// onMessage answers a message that mentions the bot, replies to one of its
// answers, or is sent in a DM. Messages from bots, itself included, are
// ignored.
func (b *Bot) onMessage(s *discordgo.Session, mc *discordgo.MessageCreate) {
	m := mc.Message
	if m.ID != "" && !b.handled.add("m"+m.ID, true) {
		b.log.Debug("message ignored: delivered twice", "message_id", m.ID)
		return
	}
	defer b.recoverHandler("message", m.ID, func(ctx context.Context) { b.replyNotice(ctx, m, noticeFailed) })
	if m.Author == nil || m.Author.Bot || m.WebhookID != "" {
		b.log.Debug("message ignored: from a bot", "message_id", m.ID)
		return
	}
	arrived := time.Now()
	ctx, end, ok := b.begin(b.cfg.AnswerTimeout)
	if !ok {
		if source, _, _ := b.classify(m); source != "" && (m.GuildID == "" || b.channelAllowed(s, m.ChannelID)) {
			ctx, cancel := context.WithTimeout(context.Background(), noticeTimeout)
			defer cancel()
			b.replyNotice(ctx, m, noticeClosing)
		}
		return
	}
	defer end()
	source, text, parent := b.classify(m)
	post, isPost := b.forumPostOf(ctx, s, m)
	if isPost {
		source, text, parent = SourceForum, forumQuestion(post, m), ""
	}
	if source == "" {
		return
	}
	if m.GuildID != "" && !isPost && !b.channelAllowed(s, m.ChannelID) {
		b.log.Debug("message ignored: channel not allowed", "message_id", m.ID, "channel_id", m.ChannelID)
		return
	}
	b.metrics.question(source)
	if b.turnedAway(ctx, m, source, text) {
		return
	}
	var dest *channelDest
	if isPost { // answered in the post's thread
		dest = b.channelDest(s, m.ChannelID, m)
	} else {
		dest = b.messageDest(ctx, s, m, text)
	}
	stopTyping := b.typing(ctx, s, dest.channelID)
	q := question{
		source: source, text: text, userID: m.Author.ID, guildID: m.GuildID, channelID: m.ChannelID,
		eventID: m.ID, parent: parent, dest: dest, arrived: arrived, answered: stopTyping,
		articles: b.scope(m.ChannelID, post.forumID),
	}
	if isPost {
		q.delivered = func(ctx context.Context, ids []string) { b.forumAnswered(ctx, post, ids) }
	}
	if parent != "" {
		q.history = b.history(ctx, s, m.ChannelID, parent)
	}
	b.answerQuestion(ctx, q)
}

// turnedAway answers a message question that will not be answered — empty,
// too long, over the user's rate or the queue — with a notice, and reports
// whether it did; otherwise the question is admitted.
func (b *Bot) turnedAway(ctx context.Context, m *discordgo.Message, source, text string) bool {
	if text == "" {
		notice := noticeEmpty
		if source == SourceReply && len(m.Attachments) == 0 {
			notice = noticeNeedPing // Discord hides the text of a reply that does not mention us
		}
		b.replyNotice(ctx, m, notice)
		return true
	}
	notice := b.admit(text, m.Author.ID)
	if notice == "" {
		return false
	}
	// One such notice a minute per user: a burst is not answered by a
	// burst of notices. (Interactions always get theirs, unseen by
	// others.)
	sent := b.noticed.allow(m.Author.ID, time.Now())
	b.log.Info("question turned away", "message_id", m.ID, "user_id", m.Author.ID, "notice_sent", sent)
	if sent {
		b.replyNotice(ctx, m, notice)
	}
	return true
}

// classify says whether m is a question for the bot, and how it came:
// SourceReply (a reply to one of the bot's answers, with the ID of that
// answer as parent), SourceMention or SourceDM; "" when it is not. text is
// the question without the bot's mention.
func (b *Bot) classify(m *discordgo.Message) (source, text, parent string) {
	text = stripMentions(m.Content)
	if ref := m.ReferencedMessage; ref != nil && ref.Author != nil && ref.Author.ID == b.botID {
		return SourceReply, text, ref.ID
	}
	if ref := m.MessageReference; ref != nil {
		if _, ok := b.turns.get(ref.MessageID); ok {
			return SourceReply, text, ref.MessageID
		}
	}
	for _, u := range m.Mentions {
		if u.ID == b.botID {
			return SourceMention, text, ""
		}
	}
	if m.GuildID == "" {
		return SourceDM, text, ""
	}
	return "", "", ""
}

// mentionToken matches user, role and channel mentions.
var mentionToken = regexp.MustCompile(`<(?:@[!&]?|#)\d+>`)

// stripMentions removes every user, role and channel mention from content
// (the bot's own and others': they are who is asked, not what) and tidies
// the spaces left behind.
func stripMentions(content string) string {
	return strings.Join(strings.Fields(mentionToken.ReplaceAllString(content, " ")), " ")
}

// admit applies the question-length bound, the user's rate limit and the
// queue bound; it returns the notice for a question turned away, or "" for
// one admitted (the caller must then answer it with answerQuestion, which
// leaves the queue).
func (b *Bot) admit(text, userID string) string {
	if runes(text) > b.cfg.MaxQuestionRunes {
		return b.tooLong(text)
	}
	if wait := b.limits.wait(userID, time.Now()); wait > 0 {
		b.metrics.limit("rate")
		return fmt.Sprintf("You're asking faster than I can keep up — try again in %d s.", int(math.Ceil(wait.Seconds())))
	}
	if !b.queue.admit() {
		b.metrics.limit("busy")
		return noticeBusy
	}
	return ""
}

func (b *Bot) tooLong(text string) string {
	return fmt.Sprintf("That question is too long (%d characters; the limit is %d).", runes(text), b.cfg.MaxQuestionRunes)
}

// replyNotice answers m with a short notice, within noticeTimeout even
// when ctx has ended.
func (b *Bot) replyNotice(ctx context.Context, m *discordgo.Message, notice string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), noticeTimeout)
	defer cancel()
	d := b.channelDest(b.s, m.ChannelID, m)
	if _, err := post(ctx, d.first, reply{Content: notice}); err != nil {
		b.log.Warn("sending a notice", "message_id", m.ID, "err", err)
	}
}

// channelAllowed applies Config.AllowedChannels to a guild channel: a
// listed channel, a thread the bot started, a post in one of the forums,
// or a thread of a listed channel.
func (b *Bot) channelAllowed(s *discordgo.Session, channelID string) bool {
	if len(b.allowed) == 0 || b.allowed[channelID] {
		return true
	}
	if _, ok := b.threads.get(channelID); ok {
		return true
	}
	if _, ok := b.posts.get(channelID); ok { // a post in one of the forums
		return true
	}
	ch, err := s.State.Channel(channelID)
	return err == nil && ch.IsThread() && b.allowed[ch.ParentID]
}

// messageDest is where the answer to m goes: a new thread when configured
// (and possible), else a reply that does not fail if m is deleted.
func (b *Bot) messageDest(ctx context.Context, s *discordgo.Session, m *discordgo.Message, text string) *channelDest {
	if b.cfg.UseThreads && m.GuildID != "" && !b.inThread(s, m.ChannelID) {
		th, err := retryRateLimited(ctx, func() (*discordgo.Channel, error) {
			return s.MessageThreadStartComplex(m.ChannelID, m.ID, &discordgo.ThreadStart{
				Name: truncate(text, 100), AutoArchiveDuration: 1440,
			}, discordgo.WithContext(ctx))
		})
		if err == nil {
			b.threads.put(th.ID, m.ChannelID)
			d := b.channelDest(s, th.ID, nil)
			d.asked = m.SoftReference()
			return d
		}
		b.log.Warn("starting a thread; replying instead", "message_id", m.ID, "err", err)
	}
	return b.channelDest(s, m.ChannelID, m)
}

func (b *Bot) inThread(s *discordgo.Session, channelID string) bool {
	if _, ok := b.threads.get(channelID); ok {
		return true
	}
	ch, err := s.State.Channel(channelID)
	return err == nil && ch.IsThread()
}

// typingEvery refreshes the typing indicator, which Discord shows for 10 s.
const typingEvery = 8 * time.Second

// typing shows the bot typing in channelID until the returned func is
// called (or ctx ends).
func (b *Bot) typing(ctx context.Context, s *discordgo.Session, channelID string) func() {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(typingEvery)
		defer t.Stop()
		for {
			if err := s.ChannelTyping(channelID, discordgo.WithContext(ctx)); err != nil && ctx.Err() == nil {
				b.log.Debug("typing indicator", "channel_id", channelID, "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// history rebuilds the conversation a follow-up continues, oldest turn
// first: from the bot answer replied to (parent), back through the
// question it answered and the answer that question replied to, up to
// Config.HistoryDepth turns. Answers the bot remembers cost nothing;
// others are fetched from Discord.
func (b *Bot) history(ctx context.Context, s *discordgo.Session, channelID, parent string) []bot.Turn {
	var turns []bot.Turn
	for id := parent; id != "" && len(turns) < b.cfg.HistoryDepth; {
		if rec, ok := b.turns.get(id); ok {
			turns = append(turns, rec.turn)
			id = rec.parent
			continue
		}
		t, prev, err := b.fetchTurn(ctx, s, channelID, id)
		if err != nil {
			b.log.Debug("reply chain cut short", "message_id", id, "err", err)
			break
		}
		turns = append(turns, t)
		id = prev
	}
	for i, j := 0, len(turns)-1; i < j; i, j = i+1, j-1 {
		turns[i], turns[j] = turns[j], turns[i]
	}
	return turns
}

// fetchTurn reads a bot answer the bot no longer remembers, and the
// question it replied to; prev is the bot answer that question replied to.
func (b *Bot) fetchTurn(ctx context.Context, s *discordgo.Session, channelID, id string) (t bot.Turn, prev string, err error) {
	am, err := s.ChannelMessage(channelID, id, discordgo.WithContext(ctx))
	if err != nil {
		return t, "", err
	}
	if am.Author == nil || am.Author.ID != b.botID {
		return t, "", fmt.Errorf("message %s is not the bot's", id)
	}
	t.Answer = am.Content
	qm := am.ReferencedMessage
	if qm == nil && am.MessageReference != nil {
		if qm, err = s.ChannelMessage(channelID, am.MessageReference.MessageID, discordgo.WithContext(ctx)); err != nil {
			return t, "", nil // keep the answer; the question is gone
		}
	}
	if qm == nil {
		return t, "", nil
	}
	t.Question = stripMentions(qm.Content)
	switch {
	case qm.ReferencedMessage != nil && qm.ReferencedMessage.Author != nil && qm.ReferencedMessage.Author.ID == b.botID:
		prev = qm.ReferencedMessage.ID
	case qm.ReferencedMessage == nil && qm.MessageReference != nil:
		prev = qm.MessageReference.MessageID // checked to be the bot's when fetched
	}
	return t, prev, nil
}
