package discord

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/verbatim-bot/verbatim/corpus"
	"github.com/verbatim-bot/verbatim/retrieval"
)

// maxQuoteRunes bounds the phrase /quote looks for.
const maxQuoteRunes = 300

// reloadTimeout bounds /reload: an interaction token lasts 15 minutes.
const reloadTimeout = 14 * time.Minute

// maxOptionRunes is the longest string option Discord accepts.
const maxOptionRunes = 6000

// onInteraction routes slash commands, autocomplete and button clicks.
func (b *Bot) onInteraction(s *discordgo.Session, ic *discordgo.InteractionCreate) {
	if ic.Interaction == nil || ic.ID == "" || ic.Token == "" {
		b.log.Warn("interaction ignored: no ID or token")
		return
	}
	if !b.handled.add("i"+ic.ID, true) {
		b.log.Debug("interaction ignored: delivered twice", "interaction_id", ic.ID)
		return
	}
	in := ic.Interaction
	defer b.recoverHandler("interaction", in.ID, func(ctx context.Context) { b.failInteraction(ctx, in) })
	arrived := time.Now()
	var cmd *command
	timeout := b.cfg.AnswerTimeout
	data, hasData := in.Data.(discordgo.ApplicationCommandInteractionData)
	if in.Type == discordgo.InteractionApplicationCommand && hasData {
		if cmd = findCommand(data.Name); cmd != nil && cmd.timeout > 0 {
			timeout = cmd.timeout
		}
	}
	ctx, end, ok := b.begin(timeout)
	if !ok {
		if in.Type != discordgo.InteractionApplicationCommandAutocomplete {
			ctx, cancel := context.WithTimeout(context.Background(), noticeTimeout)
			defer cancel()
			b.notice(ctx, in, noticeClosing)
		}
		return
	}
	defer end()
	switch in.Type {
	case discordgo.InteractionApplicationCommand:
		b.runCommand(ctx, cmd, in, data, arrived)
	case discordgo.InteractionApplicationCommandAutocomplete:
		b.autocomplete(ctx, in)
	case discordgo.InteractionMessageComponent:
		id := in.MessageComponentData().CustomID
		page, search, isArticles := parseArticlesID(id)
		switch {
		case strings.HasPrefix(id, feedbackPrefix):
			b.recordFeedback(ctx, in, id)
		case isArticles:
			b.respond(ctx, in, discordgo.InteractionResponseUpdateMessage, renderArticles(b.articlesFor(in.ChannelID), search, page), 0)
		default:
			b.notice(ctx, in, noticeStaleButton)
		}
	default:
		b.notice(ctx, in, noticeUnknown)
	}
}

// noticeNoWords answers a /quote with nothing to look for.
const noticeNoWords = "Give me some words to look for — letters or digits, not only symbols."

// Notices for interactions the bot does not (or no longer) handle.
const (
	noticeUnknown     = "I don't know that command any more — it may have changed; try again in a minute."
	noticeStaleButton = "That button no longer works."
)

// failInteraction tells the user an interaction failed: as its response,
// or, once it was acknowledged, by editing that response. An autocomplete
// gets no suggestions: it cannot show a message.
func (b *Bot) failInteraction(ctx context.Context, in *discordgo.Interaction) {
	if in.Type == discordgo.InteractionApplicationCommandAutocomplete {
		b.suggest(ctx, in, nil)
		return
	}
	err := b.s.InteractionRespond(in, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Content: noticeFailed, Flags: discordgo.MessageFlagsEphemeral, AllowedMentions: noMentions()},
	}, discordgo.WithContext(ctx))
	if err != nil {
		b.sendNotice(ctx, &interactionDest{s: b.s, in: in}, in.ID, noticeFailed)
	}
}

// respond answers an interaction at once.
func (b *Bot) respond(ctx context.Context, in *discordgo.Interaction, typ discordgo.InteractionResponseType, r reply, flags discordgo.MessageFlags) {
	_, err := retryRateLimited(ctx, func() (struct{}, error) {
		return struct{}{}, b.s.InteractionRespond(in, &discordgo.InteractionResponse{Type: typ, Data: &discordgo.InteractionResponseData{
			Content: r.Content, Embeds: nonNilEmbeds(r.Embeds), Components: nonNilComponents(r.Components),
			Flags: flags, AllowedMentions: noMentions(),
		}}, discordgo.WithContext(ctx))
	})
	if err != nil {
		b.log.Warn("responding to an interaction", "interaction_id", in.ID, "err", err)
	}
}

// notice answers an interaction at once with a short message only the
// user sees.
func (b *Bot) notice(ctx context.Context, in *discordgo.Interaction, text string) {
	b.respond(ctx, in, discordgo.InteractionResponseChannelMessageWithSource, reply{Content: text}, discordgo.MessageFlagsEphemeral)
}

// deferResponse acknowledges an interaction with "thinking…", to be
// edited within 15 minutes.
func (b *Bot) deferResponse(ctx context.Context, in *discordgo.Interaction, flags discordgo.MessageFlags) error {
	_, err := retryRateLimited(ctx, func() (struct{}, error) {
		return struct{}{}, b.s.InteractionRespond(in, &discordgo.InteractionResponse{
			Type: discordgo.InteractionResponseDeferredChannelMessageWithSource,
			Data: &discordgo.InteractionResponseData{Flags: flags},
		}, discordgo.WithContext(ctx))
	})
	return err
}

// ask answers /ask: checks that cost nothing, then the deferred
// acknowledgement, and only then the answer.
func (b *Bot) ask(ctx context.Context, in *discordgo.Interaction, data discordgo.ApplicationCommandInteractionData, arrived time.Time) {
	var flags discordgo.MessageFlags
	if optBool(data, "private") {
		flags = discordgo.MessageFlagsEphemeral
	}
	b.askText(ctx, in, SourceSlash, optString(data, "question"), strings.TrimSpace(optString(data, "article")), flags, arrived)
}

// askText answers text asked by an interaction (/ask, or the Ask
// Verbatim menu on a message), searching only the article named (if any)
// among those of the channel's collection.
func (b *Bot) askText(ctx context.Context, in *discordgo.Interaction, source, text, article string, flags discordgo.MessageFlags, arrived time.Time) {
	b.metrics.question(source)
	text = strings.TrimSpace(text)
	switch {
	case in.GuildID != "" && !b.channelAllowed(b.s, in.ChannelID):
		b.notice(ctx, in, noticeChannel)
		return
	case text == "":
		b.notice(ctx, in, noticeEmpty)
		return
	}
	var articleID string
	if article != "" {
		a := b.findArticle(in.ChannelID, article)
		if a == nil {
			b.notice(ctx, in, noticeUnknownArticle(article))
			return
		}
		articleID = a.ID
	}
	user := interactionUser(in)
	if notice := b.admit(text, user.ID); notice != "" {
		b.notice(ctx, in, notice)
		return
	}
	if err := b.deferResponse(ctx, in, flags); err != nil {
		b.queue.leave()
		b.metrics.answerError()
		b.log.Error("acknowledging a question", "interaction_id", in.ID, "err", err)
		return
	}
	b.metrics.acked(time.Since(arrived))
	b.answerQuestion(ctx, question{
		source: source, text: text, userID: user.ID, guildID: in.GuildID, channelID: in.ChannelID,
		eventID: in.ID, dest: &interactionDest{s: b.s, in: in, flags: flags}, arrived: arrived,
		articleID: articleID, articles: b.scope(in.ChannelID, ""),
	})
}

// noticeUnknownArticle answers an article option that names no article.
func noticeUnknownArticle(name string) string {
	return fmt.Sprintf("I don't know an article called “%s” — pick one from the list as you type.", escapeQuote(inert(truncate(name, 100))))
}

// quote answers /quote with the passages that contain the phrase word for
// word, or else the closest ones. No LLM is involved.
func (b *Bot) quote(ctx context.Context, in *discordgo.Interaction, data discordgo.ApplicationCommandInteractionData) {
	text := strings.TrimSpace(optString(data, "text"))
	if runes(text) > maxQuoteRunes {
		b.notice(ctx, in, fmt.Sprintf("That is too long to look up (the limit is %d characters).", maxQuoteRunes))
		return
	}
	b.findQuote(ctx, in, text, strings.TrimSpace(optString(data, "article")))
}

// findQuote looks text up in the articles of the channel's collection (or
// the one article named) and shows where they say it.
func (b *Bot) findQuote(ctx context.Context, in *discordgo.Interaction, text, article string) {
	switch {
	case in.GuildID != "" && !b.channelAllowed(b.s, in.ChannelID):
		b.notice(ctx, in, noticeChannel)
		return
	case text == "":
		b.notice(ctx, in, "Give me some words to look for.")
		return
	}
	if err := b.deferResponse(ctx, in, 0); err != nil {
		b.log.Error("acknowledging a quote lookup", "interaction_id", in.ID, "err", err)
		return
	}
	dest := &interactionDest{s: b.s, in: in}
	var articleID string
	if article != "" {
		a := b.findArticle(in.ChannelID, article)
		if a == nil {
			b.sendNotice(ctx, dest, in.ID, noticeUnknownArticle(article))
			return
		}
		articleID = a.ID
	}
	start := time.Now()
	hits, err := b.quoteIn(ctx, in.ChannelID, text, articleID)
	if err != nil {
		if !errors.Is(err, retrieval.ErrEmptyQuery) {
			b.log.Error("looking up a quote", "interaction_id", in.ID, "err", err)
		}
		notice := noticeFailed
		switch {
		case errors.Is(err, retrieval.ErrNotLoaded):
			notice = "No articles are loaded yet."
		case errors.Is(err, retrieval.ErrEmptyQuery):
			notice = noticeNoWords
		case errors.Is(err, retrieval.ErrUnknownCollection):
			notice = noticeEmptyCollection(b.scope(in.ChannelID, ""))
		}
		b.sendNotice(ctx, dest, in.ID, notice)
		return
	}
	exact := 0
	for _, h := range hits {
		if h.Exact {
			exact++
		}
	}
	if _, err := send(ctx, dest, renderQuoteHits(text, hits)); err != nil {
		b.log.Error("sending /quote results", "interaction_id", in.ID, "err", err)
		return
	}
	attrs := []any{"interaction_id", in.ID, "user_id", interactionUser(in).ID, "article_id", articleID,
		"hits", len(hits), "exact", exact, "took", time.Since(start)}
	if b.cfg.LogContent {
		attrs = append(attrs, "phrase", text)
	}
	b.log.Info("quote looked up", attrs...)
}

func (b *Bot) sendNotice(ctx context.Context, d destination, eventID, text string) {
	if _, err := post(ctx, d.first, reply{Content: text}); err != nil {
		b.log.Warn("sending a notice", "event_id", eventID, "err", err)
	}
}

// findArticle resolves an article option among the articles of the
// channel's collection: an ID (what autocomplete fills in), else a title,
// else the one title containing it.
func (b *Bot) findArticle(channelID, name string) *corpus.Article {
	arts := b.articlesFor(channelID)
	for _, a := range arts {
		if a.ID == name {
			return a
		}
	}
	var found []*corpus.Article
	for _, a := range arts {
		if strings.EqualFold(a.Title, name) {
			return a
		}
		if strings.Contains(strings.ToLower(a.Title), strings.ToLower(name)) {
			found = append(found, a)
		}
	}
	if len(found) == 1 {
		return found[0]
	}
	return nil
}

// autocomplete suggests articles for the article option of /ask and
// /quote: titles starting with what was typed first, then titles or IDs
// containing it, among the articles the channel searches. An
// autocomplete without data, or for another option, gets no suggestions.
func (b *Bot) autocomplete(ctx context.Context, in *discordgo.Interaction) {
	data, _ := in.Data.(discordgo.ApplicationCommandInteractionData)
	var typed string
	focused := false
	for _, o := range data.Options {
		if o.Focused && o.Name == "article" {
			typed, _ = o.Value.(string)
			focused = true
		}
	}
	var choices []*discordgo.ApplicationCommandOptionChoice
	if focused {
		choices = articleChoices(b.articlesFor(in.ChannelID), typed)
	}
	b.suggest(ctx, in, choices)
}

// suggest answers an autocomplete with choices (none when nil).
func (b *Bot) suggest(ctx context.Context, in *discordgo.Interaction, choices []*discordgo.ApplicationCommandOptionChoice) {
	if choices == nil {
		choices = []*discordgo.ApplicationCommandOptionChoice{}
	}
	err := b.s.InteractionRespond(in, &discordgo.InteractionResponse{
		Type: discordgo.InteractionApplicationCommandAutocompleteResult,
		Data: &discordgo.InteractionResponseData{Choices: choices},
	}, discordgo.WithContext(ctx))
	if err != nil {
		b.log.Warn("answering autocomplete", "interaction_id", in.ID, "err", err)
	}
}

func articleChoices(arts []*corpus.Article, typed string) []*discordgo.ApplicationCommandOptionChoice {
	t := strings.ToLower(strings.TrimSpace(typed))
	var first, then []*corpus.Article
	for _, a := range arts {
		if runes(a.ID) > maxChoice {
			continue // cannot be a choice value
		}
		title := strings.ToLower(a.Title)
		switch {
		case strings.HasPrefix(title, t):
			first = append(first, a)
		case len(then) < maxChoices && (strings.Contains(title, t) || strings.Contains(strings.ToLower(a.ID), t)):
			then = append(then, a)
		}
		if len(first) == maxChoices {
			break
		}
	}
	all := append(first, then...)
	out := make([]*discordgo.ApplicationCommandOptionChoice, 0, maxChoices)
	for _, a := range all[:min(len(all), maxChoices)] {
		name := a.Title
		if strings.TrimSpace(name) == "" {
			name = a.ID
		}
		out = append(out, &discordgo.ApplicationCommandOptionChoice{Name: truncate(name, maxChoice), Value: a.ID})
	}
	return out
}

const (
	noticeNoReload  = "Reloading is not available on this bot."
	noticeReloadDM  = "/reload works only in a server, not in direct messages."
	noticeNotAdmin  = "Only server managers can reload the articles."
	noticeReloading = "A reload is already running; the current articles stay in service until it finishes."
)

// admitAdmin reports whether in comes from a server admin (never from a
// DM, whoever asks); if not, it tells the user with the given notice and
// logs the refusal of command what.
func (b *Bot) admitAdmin(ctx context.Context, in *discordgo.Interaction, what, dmNotice, adminNotice string) bool {
	user := interactionUser(in)
	switch {
	case in.GuildID == "" || in.Member == nil:
		b.log.Warn(what+" refused: not in a server", "user_id", user.ID)
		b.notice(ctx, in, dmNotice)
		return false
	case !b.isAdmin(in):
		b.log.Warn(what+" refused: not an admin", "user_id", user.ID, "guild_id", in.GuildID)
		b.notice(ctx, in, adminNotice)
		return false
	}
	return true
}

// claimAdminTask takes the one slot /reload and /add share and defers the
// reply privately; on false the user has been told, or the interaction
// could not be acknowledged. The caller releases the slot with
// b.reloading.Store(false).
func (b *Bot) claimAdminTask(ctx context.Context, in *discordgo.Interaction, what string) bool {
	if !b.reloading.CompareAndSwap(false, true) {
		b.notice(ctx, in, noticeReloading)
		return false
	}
	if err := b.deferResponse(ctx, in, discordgo.MessageFlagsEphemeral); err != nil {
		b.reloading.Store(false)
		b.log.Error("acknowledging /"+what, "interaction_id", in.ID, "err", err)
		return false
	}
	return true
}

// runReload answers /reload (for admins, checked by runCommand): one at a
// time, reporting what
// changed or why it failed — the index in service is kept on failure.
func (b *Bot) runReload(ctx context.Context, in *discordgo.Interaction) {
	user := interactionUser(in)
	if b.reload == nil { // a stale registration from a bot that had it
		b.notice(ctx, in, noticeNoReload)
		return
	}
	if !b.claimAdminTask(ctx, in, "reload") {
		return
	}
	st, err := func() (retrieval.Stats, error) {
		// Released before the report, so a reload may follow at once, and
		// even if the reload panics.
		defer b.reloading.Store(false)
		return b.reload(ctx)
	}()
	var msg string
	switch {
	case errors.Is(err, retrieval.ErrReloading):
		msg = noticeReloading
	case err != nil:
		b.log.Error("reload failed", "user_id", user.ID, "err", err)
		msg = "Reload failed: " + b.reason(err) + ". The previous articles are still in service."
	default:
		b.log.Info("reloaded", "user_id", user.ID, "articles", st.Articles, "paragraphs", st.Paragraphs,
			"added", st.Added, "changed", st.Changed, "removed", st.Removed, "cached", st.Cached,
			"embedded", st.Embedded, "skipped", len(st.Skipped), "left_out", len(st.LeftOut), "sentences_pending", st.SentencesPending, "took", st.Duration)
		msg = renderReload(st)
		if col := b.scope(in.ChannelID, ""); col != "" {
			msg += fmt.Sprintf(" This channel searches the “%s” collection: %s.", escapeQuote(col), plural(len(b.articlesFor(in.ChannelID)), "article"))
		}
	}
	b.sendNotice(ctx, &interactionDest{s: b.s, in: in, flags: discordgo.MessageFlagsEphemeral}, in.ID, msg)
}

// isAdmin reports whether the interaction's user may /reload: Manage
// Server or Administrator in the channel, an admin role, or an admin ID.
func (b *Bot) isAdmin(in *discordgo.Interaction) bool {
	if b.admins[interactionUser(in).ID] {
		return true
	}
	if in.Member == nil {
		return false
	}
	if in.Member.Permissions&(discordgo.PermissionManageGuild|discordgo.PermissionAdministrator) != 0 {
		return true
	}
	for _, r := range in.Member.Roles {
		if b.adminRoles[r] {
			return true
		}
	}
	return false
}

// reason is a failed reload's error as an admin may see it: one line,
// short, the token redacted.
func (b *Bot) reason(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "it took too long"
	case errors.Is(err, context.Canceled):
		return "it was cancelled"
	}
	msg, _, _ := strings.Cut(err.Error(), "\n")
	if tok := strings.TrimSpace(strings.TrimPrefix(b.cfg.Token, "Bot ")); tok != "" {
		msg = strings.ReplaceAll(msg, tok, "[redacted]")
	}
	return escapeQuote(truncate(msg, 200))
}

// recordFeedback appends a 👍/👎 click to the feedback file and thanks the
// user privately.
func (b *Bot) recordFeedback(ctx context.Context, in *discordgo.Interaction, customID string) {
	vote, answerID, ok := strings.Cut(strings.TrimPrefix(customID, feedbackPrefix), ":")
	if !ok || (vote != "up" && vote != "down") || b.feedback == nil {
		b.notice(ctx, in, "That button no longer works.")
		return
	}
	q, _ := b.questions.get(answerID)
	user := interactionUser(in)
	if err := b.feedback.record(Feedback{Time: time.Now().UTC(), AnswerID: answerID, Question: q, UserID: user.ID, Vote: vote}); err != nil {
		b.log.Error("recording feedback", "answer_id", answerID, "err", err)
		b.notice(ctx, in, "Sorry — I couldn't record that.")
		return
	}
	b.log.Info("feedback", "answer_id", answerID, "user_id", user.ID, "vote", vote)
	b.notice(ctx, in, "Thanks — your feedback was recorded.")
}

// interactionUser is who triggered an interaction, in a guild or a DM.
func interactionUser(in *discordgo.Interaction) *discordgo.User {
	if in.Member != nil && in.Member.User != nil {
		return in.Member.User
	}
	if in.User != nil {
		return in.User
	}
	return &discordgo.User{}
}

func optString(data discordgo.ApplicationCommandInteractionData, name string) string {
	if o := data.GetOption(name); o != nil {
		if v, ok := o.Value.(string); ok {
			return v
		}
	}
	return ""
}

func optBool(data discordgo.ApplicationCommandInteractionData, name string) bool {
	if o := data.GetOption(name); o != nil {
		if v, ok := o.Value.(bool); ok {
			return v
		}
	}
	return false
}
