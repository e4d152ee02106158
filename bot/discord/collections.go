package discord

import (
	"context"

	"github.com/verbatim-bot/verbatim/corpus"
	"github.com/verbatim-bot/verbatim/retrieval"
)

// Collections (Config.ChannelCollections): a channel may be limited to the
// articles of one sub-folder of the articles folder. Questions, /quote,
// the menus, autocomplete and /articles in that channel, and in its
// threads and forum posts, see only that collection. There is one index;
// a collection is a filter on it, so /reload reloads every collection.

// scope is the collection the questions asked in a channel (or, for a
// thread, in its parent) search; "" for all articles.
func (b *Bot) scope(channelID, parent string) string {
	if len(b.cfg.ChannelCollections) == 0 {
		return ""
	}
	if c, ok := b.cfg.ChannelCollections[channelID]; ok {
		return c
	}
	if parent == "" {
		parent = b.parentOf(channelID)
	}
	return b.cfg.ChannelCollections[parent]
}

// parentOf is the channel a thread belongs to, "" when unknown or not a
// thread.
func (b *Bot) parentOf(channelID string) string {
	if p, ok := b.threads.get(channelID); ok {
		return p
	}
	if p, ok := b.posts.get(channelID); ok {
		return p.forumID
	}
	if b.s == nil || b.s.State == nil {
		return ""
	}
	if ch, err := b.s.State.Channel(channelID); err == nil && ch.IsThread() {
		return ch.ParentID
	}
	return ""
}

// articlesFor is the articles a channel's questions search.
func (b *Bot) articlesFor(channelID string) []*corpus.Article {
	all := b.lib.Articles()
	col := b.scope(channelID, "")
	if col == "" {
		return all
	}
	out := all[:0:0]
	for _, a := range all {
		if a.Collection() == col {
			out = append(out, a)
		}
	}
	return out
}

// quoteIn looks text up among the articles a channel searches.
func (b *Bot) quoteIn(ctx context.Context, channelID, text, articleID string) ([]retrieval.QuoteHit, error) {
	return b.lib.Quote(ctx, text, retrieval.QuoteOptions{K: 5, ArticleID: articleID, Collection: b.scope(channelID, "")})
}

// noticeEmptyCollection answers a question in a channel limited to a
// collection with no articles.
func noticeEmptyCollection(col string) string {
	return "This channel searches only the “" + escapeQuote(col) + "” collection, which has no articles yet."
}
