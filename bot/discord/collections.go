package discord

import "github.com/verbatim-bot/verbatim/corpus"

// articlesFor is the articles a channel's questions search.
func (b *Bot) articlesFor(channelID string) []*corpus.Article {
	return b.lib.Articles()
}
