package discord

import (
	"context"

	"github.com/verbatim-bot/verbatim/corpus"
	"github.com/verbatim-bot/verbatim/retrieval"
)

// articlesFor is the articles a channel's questions search.
func (b *Bot) articlesFor(channelID string) []*corpus.Article {
	return b.lib.Articles()
}

// scope is the collection the questions asked in a channel (or a thread
// of parent) search; "" for all articles.
func (b *Bot) scope(channelID, parent string) string {
	return ""
}

// quoteIn looks text up among the articles a channel searches.
func (b *Bot) quoteIn(ctx context.Context, channelID, text, articleID string) ([]retrieval.QuoteHit, error) {
	return b.lib.Quote(ctx, text, retrieval.QuoteOptions{K: 5, ArticleID: articleID})
}
