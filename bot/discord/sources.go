package discord

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/verbatim-bot/verbatim/corpus/feeds"
)

// subscribeTimeout bounds the download and first sync of a feed or
// sitemap given to /add.
const subscribeTimeout = 10 * time.Minute

// addLink downloads link for /add through Config.Feeds: a feed or sitemap
// is subscribed to, its entries saved in collection, and synced (done is
// then set and msg is the report); a page comes back as its name and data
// for corpus.Import.
func (b *Bot) addLink(ctx context.Context, eventID, userID, collection, link string) (name string, data []byte, msg string, done bool, err error) {
	subCtx, cancel := context.WithTimeout(ctx, subscribeTimeout)
	defer cancel()
	added, err := b.feeds.AddIn(subCtx, link, collection)
	if err != nil {
		return "", nil, "", false, err
	}
	if added.Subscription == nil {
		return added.PageName, added.PageData, "", false, nil
	}
	return "", nil, b.subscribed(ctx, eventID, userID, added), true, nil
}

// subscribed reloads after /add subscribed to a feed or sitemap (if an
// article changed) and returns the report for the admin.
func (b *Bot) subscribed(ctx context.Context, eventID, userID string, added *feeds.Added) string {
	sub, rep := added.Subscription, added.Report
	b.log.Info("subscribed", "event_id", eventID, "user_id", userID, "source", sub.URL, "kind", sub.Kind,
		"existed", added.Existed, "added", rep.Added, "updated", rep.Updated, "failed", rep.Failed)
	verb := "Subscribed to"
	if added.Existed {
		verb = "Already subscribed to"
	}
	title := sub.Name()
	s := fmt.Sprintf("%s the %s “%s”: %s added, %d updated, %d unchanged, %d failed.", verb, sub.Kind,
		escapeQuote(truncate(title, 100)), plural(rep.Added, "article"), rep.Updated, rep.Unchanged, rep.Failed)
	if len(rep.Errors) > 0 {
		s += " Its " + string(sub.Kind) + " failed: " + escapeQuote(truncate(rep.Errors[0].Err, 200)) + "."
	}
	if !rep.Changed() {
		return s
	}
	st, err := b.reload(ctx)
	if err != nil {
		b.log.Error("add: reload after subscribing failed", "event_id", eventID, "err", err)
		return s + " The reload failed: " + reloadReason(err) + "; the articles are saved, and /reload serves them."
	}
	return s + " " + renderReload(st)
}

// feedReason says why a feed or sitemap could not be subscribed to, or ""
// when err is not of that kind.
func feedReason(err error) string {
	switch {
	case errors.Is(err, feeds.ErrDisallowed):
		return "the site's robots.txt does not allow it"
	case errors.Is(err, feeds.ErrMalformed):
		return "the feed or sitemap could not be read"
	}
	return ""
}

// runSources answers /sources (for admins, checked by runCommand): the
// subscriptions with their last sync, entry counts and last error.
func (b *Bot) runSources(ctx context.Context, in *discordgo.Interaction) {
	if b.feeds == nil {
		b.notice(ctx, in, noticeNoSources)
		return
	}
	list, err := b.feeds.Sources()
	if err != nil {
		b.log.Error("sources: reading the subscriptions", "err", err)
		b.notice(ctx, in, "The subscriptions could not be read; the error is in the bot's log.")
		return
	}
	b.respond(ctx, in, discordgo.InteractionResponseChannelMessageWithSource, renderSources(list), discordgo.MessageFlagsEphemeral)
}

const noticeNoSources = "Subscriptions are not available on this bot."

// renderSources lists subscriptions in an embed, as many as fit.
func renderSources(list []feeds.Status) reply {
	if len(list) == 0 {
		return reply{Content: "No subscriptions yet. Give /add the link of a feed (RSS, Atom, JSON Feed) or a sitemap."}
	}
	var sb strings.Builder
	shown := 0
	for _, s := range list {
		line := sourceLine(s)
		if runes(sb.String())+runes(line) > maxEmbedDesc {
			break
		}
		sb.WriteString(line)
		shown++
	}
	footer := plural(len(list), "subscription")
	if shown < len(list) {
		footer = fmt.Sprintf("%d of %s shown", shown, footer)
	}
	return reply{Embeds: []*discordgo.MessageEmbed{{
		Title:       "Subscriptions",
		Description: sb.String(),
		Footer:      &discordgo.MessageEmbedFooter{Text: footer},
	}}}
}

func sourceLine(s feeds.Status) string {
	sub := s.Subscription
	if sub == nil {
		return fmt.Sprintf("• `%s`: unreadable (%s)\n", escapeQuote(truncate(s.File, 100)), escapeQuote(truncate(s.LastError, 200)))
	}
	title := escapeQuote(truncate(sub.URL, 150))
	if sub.Title != "" {
		title = escapeQuote(truncate(sub.Title, 100))
	}
	if u := httpURL(sub.URL); u != "" && runes(u) <= maxArticleURL {
		title = "[" + title + "](" + u + ")"
	}
	last := "never synced"
	if !s.LastSync.IsZero() {
		last = fmt.Sprintf("synced <t:%d:R>", s.LastSync.Unix())
	}
	entries := fmt.Sprintf("%d entries", s.Listed)
	if s.Listed == 1 {
		entries = "1 entry"
	}
	line := fmt.Sprintf("• %s (%s) — %s · %s, %d saved, %d failed, %d no longer listed\n",
		title, sub.Kind, last, entries, s.Saved, s.Failed, s.Gone)
	if s.LastError != "" {
		line += "  last error: " + escapeQuote(truncate(s.LastError, 200)) + "\n"
	}
	return line
}
