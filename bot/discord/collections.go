package discord

import "github.com/verbatim-bot/verbatim/corpus"

// articlesFor is the articles a channel's questions search.
func (b *Bot) articlesFor(channelID string) []*corpus.Article {
	return b.lib.Articles()
}

// scope is the collection the questions asked in a channel (or a thread
// of parent) search; "" for all articles.
func (b *Bot) scope(channelID, parent string) string {
	return ""
}
