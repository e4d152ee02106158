package discord

import (
	"context"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
)

// command is one slash command: what is registered, what runs, for how
// long, and for whom. A new command is one entry in commands and one
// handler.
type command struct {
	name string
	// define returns the registration (its Name is set from name); nil
	// when this bot does not offer the command.
	define func(b *Bot) *discordgo.ApplicationCommand
	run    func(b *Bot, ctx context.Context, in *discordgo.Interaction, data discordgo.ApplicationCommandInteractionData, arrived time.Time)
	// timeout bounds a run; 0 means Config.AnswerTimeout.
	timeout time.Duration
	// admin, when set, registers the command for server managers in
	// servers only and checks again at run time (server admins can
	// override command permissions), with these notices for refusals.
	admin *adminNotices
}

type adminNotices struct{ dm, notAdmin string }

// commands is the bot's table of slash commands.
func commands() []command {
	return []command{{
		name: "ask",
		define: func(b *Bot) *discordgo.ApplicationCommand {
			return &discordgo.ApplicationCommand{
				Description: "Ask about the articles; the answer quotes them word for word.",
				Options: []*discordgo.ApplicationCommandOption{
					{Type: discordgo.ApplicationCommandOptionString, Name: "question", Description: "What do you want to know?", Required: true, MaxLength: min(b.cfg.MaxQuestionRunes, maxOptionRunes)},
					{Type: discordgo.ApplicationCommandOptionBoolean, Name: "private", Description: "Show the answer to you only"},
					{Type: discordgo.ApplicationCommandOptionString, Name: "article", Description: "Only search this article", Autocomplete: true},
				},
			}
		},
		run: (*Bot).ask,
	}, {
		name: "quote",
		define: func(*Bot) *discordgo.ApplicationCommand {
			return &discordgo.ApplicationCommand{
				Description: "Find the exact passage that contains a phrase.",
				Options: []*discordgo.ApplicationCommandOption{
					{Type: discordgo.ApplicationCommandOptionString, Name: "text", Description: "The words to find", Required: true, MaxLength: maxQuoteRunes},
					{Type: discordgo.ApplicationCommandOptionString, Name: "article", Description: "Only search this article", Autocomplete: true},
				},
			}
		},
		run: func(b *Bot, ctx context.Context, in *discordgo.Interaction, data discordgo.ApplicationCommandInteractionData, _ time.Time) {
			b.quote(ctx, in, data)
		},
	}, {
		name:   menuAsk,
		define: messageCommand,
		run: func(b *Bot, ctx context.Context, in *discordgo.Interaction, data discordgo.ApplicationCommandInteractionData, arrived time.Time) {
			b.askText(ctx, in, SourceMenu, targetText(data), "", 0, arrived)
		},
	}, {
		name:   menuQuote,
		define: messageCommand,
		run: func(b *Bot, ctx context.Context, in *discordgo.Interaction, data discordgo.ApplicationCommandInteractionData, _ time.Time) {
			b.findQuote(ctx, in, truncateWords(targetText(data), maxQuoteRunes), "")
		},
	}, {
		name: "articles",
		define: func(*Bot) *discordgo.ApplicationCommand {
			return &discordgo.ApplicationCommand{
				Description: "List the articles Verbatim knows.",
				Options: []*discordgo.ApplicationCommandOption{
					{Type: discordgo.ApplicationCommandOptionString, Name: "search", Description: "Only titles containing this", MaxLength: maxSearchRunes},
				},
			}
		},
		run: func(b *Bot, ctx context.Context, in *discordgo.Interaction, data discordgo.ApplicationCommandInteractionData, _ time.Time) {
			r := renderArticles(b.articlesFor(in.ChannelID), truncateRunes(optString(data, "search"), maxSearchRunes), 0)
			b.respond(ctx, in, discordgo.InteractionResponseChannelMessageWithSource, r, discordgo.MessageFlagsEphemeral)
		},
	}, {
		name: "reload",
		define: func(b *Bot) *discordgo.ApplicationCommand {
			if b.reload == nil {
				return nil
			}
			return &discordgo.ApplicationCommand{Description: "Reload the articles from disk (server managers only)."}
		},
		run: func(b *Bot, ctx context.Context, in *discordgo.Interaction, _ discordgo.ApplicationCommandInteractionData, _ time.Time) {
			b.runReload(ctx, in)
		},
		timeout: reloadTimeout,
		admin:   &adminNotices{dm: noticeReloadDM, notAdmin: noticeNotAdmin},
	}, {
		name: "add",
		define: func(b *Bot) *discordgo.ApplicationCommand {
			if b.reload == nil || b.cfg.ArticlesDir == "" {
				return nil
			}
			return &discordgo.ApplicationCommand{
				Description: "Add an article from a link or a file, then reload (server managers only).",
				Options: []*discordgo.ApplicationCommandOption{
					{Type: discordgo.ApplicationCommandOptionString, Name: "url", Description: "Link to a web page, text or Markdown file, or a feed or sitemap to subscribe to", MaxLength: 2000},
					{Type: discordgo.ApplicationCommandOptionAttachment, Name: "file", Description: "A .txt, .md, .html, .jsonl or .pdf file (text UTF-8, up to 5 MiB)"},
				},
			}
		},
		run: func(b *Bot, ctx context.Context, in *discordgo.Interaction, data discordgo.ApplicationCommandInteractionData, _ time.Time) {
			b.runAdd(ctx, in, data)
		},
		timeout: reloadTimeout,
		admin:   &adminNotices{dm: noticeAddDM, notAdmin: noticeAddNotAdm},
	}, {
		name: "sources",
		define: func(b *Bot) *discordgo.ApplicationCommand {
			if b.feeds == nil {
				return nil
			}
			return &discordgo.ApplicationCommand{Description: "List the feeds and sitemaps subscribed to, with their last sync (server managers only)."}
		},
		run: func(b *Bot, ctx context.Context, in *discordgo.Interaction, _ discordgo.ApplicationCommandInteractionData, _ time.Time) {
			b.runSources(ctx, in)
		},
		admin: &adminNotices{dm: noticeSourcesDM, notAdmin: noticeSourcesNotAdm},
	}}
}

const (
	noticeSourcesDM     = "/sources works only in a server, not in direct messages."
	noticeSourcesNotAdm = "Only server managers can list the subscriptions."
)

// Message context-menu commands (right-click a message → Apps).
const (
	menuAsk   = "Ask Verbatim" // answers the message as a question
	menuQuote = "Find quote"   // finds where the articles say what the message claims
)

// SourceMenu is a question asked with the Ask Verbatim menu on a message.
const SourceMenu = "menu"

func messageCommand(*Bot) *discordgo.ApplicationCommand {
	return &discordgo.ApplicationCommand{Type: discordgo.MessageApplicationCommand}
}

// targetText is the text of the message a context-menu command was used
// on, without mentions; Discord sends it with the interaction, whatever
// the bot's intents.
func targetText(data discordgo.ApplicationCommandInteractionData) string {
	if data.Resolved == nil {
		return ""
	}
	m := data.Resolved.Messages[data.TargetID]
	if m == nil {
		return ""
	}
	return stripMentions(m.Content)
}

// truncateWords cuts s to at most n runes, at a word boundary when there
// is one.
func truncateWords(s string, n int) string {
	if runes(s) <= n {
		return s
	}
	cut := truncateRunes(s, n)
	if i := strings.LastIndexByte(cut, ' '); i > 0 {
		cut = cut[:i]
	}
	return strings.TrimSpace(cut)
}

// findCommand returns the command called name, nil if there is none.
func findCommand(name string) *command {
	for _, c := range commands() {
		if c.name == name {
			return &c
		}
	}
	return nil
}

// registrations are the slash commands the bot registers.
func (b *Bot) registrations() []*discordgo.ApplicationCommand {
	manage := int64(discordgo.PermissionManageGuild)
	var out []*discordgo.ApplicationCommand
	for _, c := range commands() {
		def := c.define(b)
		if def == nil {
			continue
		}
		def.Name = c.name
		if c.admin != nil {
			def.DefaultMemberPermissions = &manage
			def.Contexts = &[]discordgo.InteractionContextType{discordgo.InteractionContextGuild}
		}
		out = append(out, def)
	}
	return out
}

// runCommand runs a slash command (nil: one the bot does not know).
func (b *Bot) runCommand(ctx context.Context, c *command, in *discordgo.Interaction, data discordgo.ApplicationCommandInteractionData, arrived time.Time) {
	switch {
	case c == nil:
		b.notice(ctx, in, noticeUnknown)
	case c.admin != nil && !b.admitAdmin(ctx, in, c.name, c.admin.dm, c.admin.notAdmin):
	default:
		c.run(b, ctx, in, data, arrived)
	}
}
