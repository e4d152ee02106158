package discord

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/verbatim-bot/verbatim/bot"
	"github.com/verbatim-bot/verbatim/retrieval"
)

// noMentions is put on every message the bot sends: nothing in it pings,
// not even the author of the message it replies to.
func noMentions() *discordgo.MessageAllowedMentions {
	return &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}
}

// destination is where one answer goes: a reply in a channel or thread,
// or an interaction's response.
type destination interface {
	// first posts the answer's first message, or replaces it once posted.
	first(ctx context.Context, r reply) (id string, err error)
	// more posts a further message.
	more(ctx context.Context, r reply) (id string, err error)
	// signal tells the asker, by a route other than a message, that no
	// answer is coming: the last resort when even the notice cannot be
	// sent.
	signal(ctx context.Context) error
}

// channelDest answers in a channel, as a reply to ref when set.
type channelDest struct {
	s         *discordgo.Session
	gates     *sendGates
	channelID string
	ref       *discordgo.MessageReference
	asked     *discordgo.MessageReference // the question, for signal
	firstID   string
}

// channelDest answers in channelID, as a reply to m when m is not nil.
func (b *Bot) channelDest(s *discordgo.Session, channelID string, m *discordgo.Message) *channelDest {
	d := &channelDest{s: s, gates: b.gates, channelID: channelID}
	if m != nil {
		d.ref, d.asked = m.SoftReference(), m.SoftReference()
	}
	return d
}

// failEmoji is the reaction put on a question whose answer and notice
// could not be sent.
const failEmoji = "⚠️"

// signal reacts to the question with failEmoji: reactions are limited
// apart from messages, so it gets through when a channel's message
// limit does not.
func (d *channelDest) signal(ctx context.Context) error {
	if d.asked == nil {
		return errors.New("discord: no question to react to")
	}
	return d.s.MessageReactionAdd(d.asked.ChannelID, d.asked.MessageID, failEmoji, discordgo.WithContext(ctx))
}

// first sends the answer's first message, or edits the draft already
// posted. When the edit fails (not for a rate limit, which the caller
// waits out), r is posted as a new message and the draft deleted, so that
// nobody is left with a draft for an answer.
func (d *channelDest) first(ctx context.Context, r reply) (string, error) {
	if d.firstID == "" {
		id, err := d.send(ctx, r, d.ref)
		d.firstID = id
		return id, err
	}
	embeds, comps := nonNilEmbeds(r.Embeds), nonNilComponents(r.Components)
	_, err := d.s.ChannelMessageEditComplex(&discordgo.MessageEdit{
		ID: d.firstID, Channel: d.channelID, Content: &r.Content, Embeds: &embeds, Components: &comps,
		AllowedMentions: noMentions(),
	}, discordgo.WithContext(ctx))
	var rl *discordgo.RateLimitError
	if err = delivered(err); err == nil || errors.As(err, &rl) || ctx.Err() != nil {
		return d.firstID, err
	}
	draft := d.firstID
	id, err := d.send(ctx, r, d.ref)
	if err != nil {
		return "", err
	}
	d.firstID = id
	_ = d.s.ChannelMessageDelete(d.channelID, draft, discordgo.WithContext(ctx)) // best effort
	return id, nil
}

func (d *channelDest) more(ctx context.Context, r reply) (string, error) { return d.send(ctx, r, nil) }

func (d *channelDest) send(ctx context.Context, r reply, ref *discordgo.MessageReference) (string, error) {
	release, err := d.gates.enter(ctx, d.s, d.channelID)
	if err != nil {
		return "", err
	}
	defer release()
	m, err := d.s.ChannelMessageSendComplex(d.channelID, &discordgo.MessageSend{
		Content: r.Content, Embeds: r.Embeds, Components: r.Components, Reference: ref,
		AllowedMentions: noMentions(),
	}, discordgo.WithContext(ctx))
	return messageID(m, err)
}

// delivered is err, except that a 2xx whose body discordgo could not
// decode is a delivered message, not a failure.
func delivered(err error) error {
	if errors.Is(err, discordgo.ErrJSONUnmarshal) {
		return nil
	}
	return err
}

// messageID is the ID of a message sent, "" when Discord delivered it but
// its reply could not be read.
func messageID(m *discordgo.Message, err error) (string, error) {
	if err = delivered(err); err != nil || m == nil {
		return "", err
	}
	return m.ID, nil
}

// interactionDest answers an interaction that was acknowledged with a
// deferred response: first edits that response, more posts follow-ups.
type interactionDest struct {
	s     *discordgo.Session
	in    *discordgo.Interaction
	flags discordgo.MessageFlags // ephemeral for private answers
}

// first edits the deferred response. When that fails (not for a rate
// limit), r goes as a follow-up, and a public answer, failing that, as a
// message in the channel.
func (d *interactionDest) first(ctx context.Context, r reply) (string, error) {
	embeds, comps := nonNilEmbeds(r.Embeds), nonNilComponents(r.Components)
	id, err := messageID(d.s.InteractionResponseEdit(d.in, &discordgo.WebhookEdit{
		Content: &r.Content, Embeds: &embeds, Components: &comps, AllowedMentions: noMentions(),
	}, discordgo.WithContext(ctx)))
	var rl *discordgo.RateLimitError
	if err == nil || errors.As(err, &rl) || ctx.Err() != nil {
		return id, err
	}
	if id, ferr := d.more(ctx, r); ferr == nil || d.flags&discordgo.MessageFlagsEphemeral != 0 || d.in.ChannelID == "" {
		return id, ferr
	}
	return messageID(d.s.ChannelMessageSendComplex(d.in.ChannelID, &discordgo.MessageSend{
		Content: r.Content, Embeds: r.Embeds, Components: r.Components, AllowedMentions: noMentions(),
	}, discordgo.WithContext(ctx)))
}

// signal is not possible: an interaction's routes are its messages.
func (d *interactionDest) signal(context.Context) error {
	return errors.New("discord: an interaction has no other route")
}

func (d *interactionDest) more(ctx context.Context, r reply) (string, error) {
	return messageID(d.s.FollowupMessageCreate(d.in, true, &discordgo.WebhookParams{
		Content: r.Content, Embeds: r.Embeds, Components: r.Components, Flags: d.flags,
		AllowedMentions: noMentions(),
	}, discordgo.WithContext(ctx)))
}

func nonNilEmbeds(e []*discordgo.MessageEmbed) []*discordgo.MessageEmbed {
	if e == nil {
		return []*discordgo.MessageEmbed{}
	}
	return e
}

func nonNilComponents(c []discordgo.MessageComponent) []discordgo.MessageComponent {
	if c == nil {
		return []discordgo.MessageComponent{}
	}
	return c
}

// sendGates queue the bot's messages to each channel. discordgo waits out
// a channel's rate limit holding the route's lock, deaf to contexts, so
// messages queued behind it would be sent however late — and one sent as
// its context ends may be delivered yet reported failed. Behind a gate, a
// message that cannot start in time gives up unsent.
type sendGates struct {
	gates *recent[string, chan struct{}]
}

func newSendGates() *sendGates { return &sendGates{gates: newRecent[string, chan struct{}](memory)} }

// sendMargin is the least time a message Discord makes wait needs left
// before its deadline, once the wait is over, to be sent.
const sendMargin = 2 * time.Second

// errNoTime is a message given up unsent: it could not be sent before its
// deadline.
var errNoTime = errors.New("discord: no time left to send the message")

// enter waits for channelID's turn, then checks that the wait discordgo
// knows Discord asks for, if any, still leaves sendMargin before ctx's
// deadline. The caller sends, then calls release.
func (g *sendGates) enter(ctx context.Context, s *discordgo.Session, channelID string) (release func(), err error) {
	gate := make(chan struct{}, 1)
	if !g.gates.add(channelID, gate) {
		if known, ok := g.gates.get(channelID); ok && known != nil {
			gate = known
		}
	}
	select {
	case gate <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", errNoTime, ctx.Err())
	}
	release = func() { <-gate }
	dl, ok := ctx.Deadline()
	if !ok || s.Ratelimiter == nil {
		return release, nil
	}
	bk := s.Ratelimiter.GetBucket(discordgo.EndpointChannelMessages(channelID))
	bk.Lock()
	wait := s.Ratelimiter.GetWaitTime(bk, 1)
	bk.Unlock()
	if wait > 0 && time.Until(dl) < wait+sendMargin {
		release()
		return nil, errNoTime
	}
	return release, nil
}

// Bounds on retrying a REST call Discord rate-limited: discordgo's own
// retry (turned off in Run) waits without limit and ignores the context.
const (
	rateLimitTries   = 3
	rateLimitMaxWait = 10 * time.Second
)

// retryRateLimited calls f, and again after the wait Discord asks for
// while it is rate-limited: at most rateLimitTries calls, never a wait
// longer than rateLimitMaxWait or past ctx.
func retryRateLimited[T any](ctx context.Context, f func() (T, error)) (T, error) {
	return retryLimited(ctx, rateLimitTries, rateLimitMaxWait, f)
}

// retryLimited calls f until it is not rate-limited, at most tries times
// (0: no limit), waiting as Discord asks unless the wait is longer than
// maxWait or would end after ctx's deadline.
func retryLimited[T any](ctx context.Context, tries int, maxWait time.Duration, f func() (T, error)) (T, error) {
	for try := 1; ; try++ {
		v, err := f()
		var rl *discordgo.RateLimitError
		if !errors.As(err, &rl) || try == tries {
			return v, err
		}
		wait := time.Duration(0)
		if rl.RateLimit != nil && rl.TooManyRequests != nil {
			wait = rl.RetryAfter
		}
		if dl, ok := ctx.Deadline(); wait > maxWait || ok && time.Until(dl) < wait {
			return v, err
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return v, err
		}
	}
}

// deliverTimeout bounds delivering an answer once it is made, waits for
// Discord's rate limits included: a late answer rather than none. A
// notice then has noticeTimeout of its own.
const deliverTimeout = time.Minute

// post sends r with f (a destination's first or more), waiting out
// Discord's rate limits until ctx is done.
func post(ctx context.Context, f func(context.Context, reply) (string, error), r reply) (string, error) {
	return retryLimited(ctx, 0, deliverTimeout, func() (string, error) { return f(ctx, r) })
}

// send delivers replies to d in order and returns the message IDs.
func send(ctx context.Context, d destination, replies []reply) ([]string, error) {
	var ids []string
	for i, r := range replies {
		p := d.more
		if i == 0 {
			p = d.first
		}
		id, err := post(ctx, p, r)
		if err != nil {
			return ids, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// streamer shows an answer while it is generated, as a draft: the first
// partial text is posted as the answer's first message, later ones edit it
// at most once per interval (an edit Discord rate-limits is skipped, not
// waited for). The final answer replaces it (see finish).
type streamer struct {
	dest  destination
	every time.Duration
	log   *slog.Logger

	mu   sync.Mutex
	text string

	poke chan struct{}
	stop chan struct{}
	done chan struct{}
}

func startStream(ctx context.Context, d destination, every time.Duration, log *slog.Logger) *streamer {
	st := &streamer{dest: d, every: every, log: log, poke: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go st.run(ctx)
	return st
}

// delta is the bot.Options.OnDelta callback; it never blocks.
func (st *streamer) delta(partial string) {
	st.mu.Lock()
	st.text = partial
	st.mu.Unlock()
	select {
	case st.poke <- struct{}{}:
	default:
	}
}

func (st *streamer) run(ctx context.Context) {
	defer close(st.done)
	var last time.Time
	for {
		select {
		case <-st.poke:
		case <-st.stop:
			return
		case <-ctx.Done():
			return
		}
		if wait := st.every - time.Since(last); !last.IsZero() && wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-st.stop:
				t.Stop()
				return
			case <-ctx.Done():
				t.Stop()
				return
			}
		}
		st.mu.Lock()
		text := st.text
		st.mu.Unlock()
		_, err := st.dest.first(ctx, reply{Content: renderPartial(text)})
		var rl *discordgo.RateLimitError
		switch {
		case errors.As(err, &rl):
			st.log.Debug("partial answer skipped: rate-limited", "err", err)
		case err != nil:
			st.log.Warn("showing a partial answer", "err", err)
			return
		}
		last = time.Now()
	}
}

// finish stops streaming; once it returns the destination is the
// caller's again.
func (st *streamer) finish() {
	close(st.stop)
	<-st.done
}

// question is one question being answered, from a message or /ask.
type question struct {
	source    string // SourceMention, SourceReply, SourceDM or SourceSlash
	text      string
	userID    string
	guildID   string
	channelID string
	eventID   string // the message or interaction ID
	history   []bot.Turn
	parent    string // the bot message a follow-up replied to
	dest      destination
	articleID string // the article option of /ask, "" for all
	articles  string // the collection searched, "" for all
	arrived   time.Time
	answered  func() // called when the answer is ready, before it is sent
	// delivered, if set, is called with the answer's message IDs once it
	// was delivered.
	delivered func(ctx context.Context, ids []string)
}

// noticeTimeout bounds sending a notice outside a question's context.
const noticeTimeout = 10 * time.Second

// User-facing notices. Short, and never any internals.
const (
	noticeFailed   = "Sorry — something went wrong while answering. Please try again in a moment."
	noticeTooSlow  = "Sorry — that took too long to answer. Please try again."
	noticeBusy     = "I'm answering a lot of questions right now — please try again in a minute."
	noticeClosing  = "I'm restarting — please ask again in a minute."
	noticeEmpty    = "Ask me something about the articles, e.g. “what did the report find?”"
	noticeChannel  = "I don't answer questions in this channel."
	noticeNeedPing = "I can only read replies that mention me — keep the @mention on when you reply."
)

// answerQuestion answers an admitted question: it waits for an answer
// slot, streams the answer while it is generated, sends it, remembers it
// for follow-ups and feedback, and logs and counts it.
func (b *Bot) answerQuestion(ctx context.Context, q question) {
	defer b.queue.leave()
	finished := func() {
		if q.answered != nil {
			q.answered()
		}
	}
	waitStart := time.Now()
	if err := b.queue.acquire(ctx); err != nil {
		finished()
		b.answerFailed(ctx, q, err)
		return
	}
	waited := time.Since(waitStart)

	st := startStream(ctx, q.dest, b.cfg.StreamInterval, b.log)
	ans, err := b.answerer.Answer(ctx, q.text, bot.Options{History: q.history, OnDelta: st.delta, ArticleID: q.articleID, Collection: q.articles})
	st.finish()
	// The slot bounds answers being computed, not delivered: an answer
	// waiting out Discord's rate limit does not hold up the next one.
	b.queue.release()
	finished()
	if err != nil {
		b.answerFailed(ctx, q, err)
		return
	}
	replies := renderAnswer(ans)
	if b.feedback != nil && ans.ID != "" {
		last := &replies[len(replies)-1]
		last.Components = append(last.Components, feedbackRow(ans.ID))
	}
	if ans.ID != "" {
		b.questions.put(ans.ID, q.text)
	}
	// The question's context may have ended while the answer was made
	// (its deadline counts the wait for a slot; shutdown cancels it): the
	// answer is sent regardless, within its own bound.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deliverTimeout)
	defer cancel()
	ids, err := send(sctx, q.dest, replies)
	if err == nil {
		for _, id := range ids {
			b.turns.put(id, turnRecord{turn: bot.Turn{Question: q.text, Answer: renderBody(ans.Body)}, parent: q.parent})
		}
	}
	total := time.Since(q.arrived)
	b.metrics.answered(ans.Refused, ans.Note != "", ans.Check.Dropped, total, err == nil)

	attrs := []slog.Attr{
		slog.String("source", q.source), slog.String("event_id", q.eventID),
		slog.String("user_id", q.userID), slog.String("guild_id", q.guildID), slog.String("channel_id", q.channelID),
		slog.String("answer_id", ans.ID), slog.String("mode", string(ans.Mode)), slog.Bool("refused", ans.Refused),
		slog.Int("sources", len(ans.Sources)), slog.Int("history", len(q.history)),
		slog.Int("quotes_kept", ans.Check.Kept), slog.Int("quotes_repaired", ans.Check.Repaired),
		slog.Int("quotes_reattributed", ans.Check.Reattributed), slog.Int("quotes_dropped", ans.Check.Dropped),
		slog.Int("messages", len(ids)),
		slog.Duration("wait", waited), slog.Duration("retrieval", ans.Timings.Retrieval),
		slog.Duration("llm", ans.Timings.LLM), slog.Duration("total", total),
	}
	if ans.Note != "" {
		attrs = append(attrs, slog.String("note", ans.Note))
	}
	if b.cfg.LogContent {
		attrs = append(attrs, slog.String("question", q.text), slog.String("answer", ans.Text()))
	}
	if err != nil {
		b.metrics.answerError()
		b.log.LogAttrs(ctx, slog.LevelError, "sending an answer", append(attrs, slog.Any("err", err))...)
		// Never leave a draft or a partial answer looking final. The
		// notice has a budget of its own: rate-limit waits may have spent
		// the answer's.
		nctx, ncancel := context.WithTimeout(context.WithoutCancel(ctx), noticeTimeout)
		defer ncancel()
		b.tellFailed(nctx, q, noticeFailed)
		return
	}
	b.log.LogAttrs(ctx, slog.LevelInfo, "question answered", attrs...)
	if q.delivered != nil {
		q.delivered(sctx, ids)
	}
}

// answerFailed tells the asker that no answer is coming, and logs why.
func (b *Bot) answerFailed(ctx context.Context, q question, err error) {
	b.metrics.answerError()
	notice := noticeFailed
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		notice = noticeTooSlow
	case errors.Is(err, bot.ErrEmptyQuestion):
		notice = noticeEmpty
	case errors.Is(err, bot.ErrQuestionTooLong):
		notice = b.tooLong(q.text)
	case errors.Is(err, retrieval.ErrUnknownCollection):
		notice = noticeEmptyCollection(q.articles)
	}
	b.log.LogAttrs(ctx, slog.LevelError, "question not answered",
		slog.String("source", q.source), slog.String("event_id", q.eventID), slog.String("user_id", q.userID),
		slog.Duration("total", time.Since(q.arrived)), slog.Any("err", err))
	// The question's context may be what ended: tell the user regardless.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), noticeTimeout)
	defer cancel()
	b.tellFailed(sctx, q, notice)
}

// signalTimeout bounds the reaction that stands in for a notice.
const signalTimeout = 5 * time.Second

// tellFailed sends the asker the notice that no answer is coming or, when
// that cannot be sent, signals it with a reaction on the question.
func (b *Bot) tellFailed(ctx context.Context, q question, notice string) {
	_, err := post(ctx, q.dest.first, reply{Content: notice})
	if err == nil {
		return
	}
	b.log.Warn("sending a notice", "event_id", q.eventID, "err", err)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), signalTimeout)
	defer cancel()
	if err := q.dest.signal(sctx); err != nil {
		b.log.Warn("signalling an unanswered question", "event_id", q.eventID, "err", err)
		return
	}
	b.log.Info("unanswered question signalled with a reaction", "event_id", q.eventID)
}
