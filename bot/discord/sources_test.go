package discord

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verbatim-bot/verbatim/bot"
	"github.com/verbatim-bot/verbatim/bot/discord/discordfake"
	"github.com/verbatim-bot/verbatim/corpus"
	"github.com/verbatim-bot/verbatim/corpus/feeds"
	"github.com/verbatim-bot/verbatim/corpus/feeds/feedsfake"
	"github.com/verbatim-bot/verbatim/corpus/fetch"
	"github.com/verbatim-bot/verbatim/retrieval"
)

func TestAddSubscribesAndSources(t *testing.T) {
	t.Parallel()
	f := newFake(t, discordfake.Options{})
	w := newFeedWorld(t, "")
	site, syncer := w.site, w.syncer
	h := start(t, f, Config{GuildID: "2000", ArticlesDir: w.dir, FetchClient: w.client, Feeds: syncer}, w.a, w.ix, w.reload)
	admin := member(2, 32)

	in := h.command(admin, "add", discordfake.StringOption("url", site.URL(feedsfake.Atom)))
	h.callback(in)
	_, p := h.original(in)
	if want := "Subscribed to the feed “Fake News”: 2 articles added, 0 updated, 0 unchanged, 0 failed. Reloaded in "; !strings.HasPrefix(p.Content, want) {
		t.Errorf("/add of a feed = %q, want it to start %q", p.Content, want)
	}
	q := h.mention(general, user(4), "Where does the Saturday market move to?")
	if _, r := h.replyTo(q); !strings.Contains(r.Content, "old station yard") {
		t.Errorf("an entry of the feed is not served: %q", r.Content)
	}

	// The feed fails: its articles stay, /sources shows why.
	site.FailFeeds(http.StatusInternalServerError)
	if _, err := syncer.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	in = h.command(admin, "sources")
	cb := h.callback(in)
	if cb.Type != discordfake.CallbackMessage || cb.Data.Flags != 64 || len(cb.Data.Embeds) != 1 {
		t.Fatalf("/sources = %+v", cb)
	}
	d := cb.Data.Embeds[0].Description
	for _, want := range []string{"Fake News", "(feed)", "synced <t:", "2 entries, 2 saved, 0 failed", "last error: the server answered 500"} {
		if !strings.Contains(d, want) {
			t.Errorf("/sources lacks %q:\n%s", want, d)
		}
	}
	if cb := h.callback(h.command(member(1, 0), "sources")); cb.Data.Content != noticeSourcesNotAdm {
		t.Errorf("/sources by a member = %+v", cb)
	}
	q = h.mention(general, user(4), "Where does the Saturday market move to?")
	if _, r := h.replyTo(q); !strings.Contains(r.Content, "old station yard") {
		t.Errorf("after the failed sync the entry is not served: %q", r.Content)
	}
}

// TestAddFeedInCollection subscribes from a channel limited to a
// collection: the feed's entries are saved in that collection's folder, so
// the channel finds them.
func TestAddFeedInCollection(t *testing.T) {
	t.Parallel()
	f := newFake(t, discordfake.Options{})
	w := newFeedWorld(t, "news")
	h := start(t, f, Config{ArticlesDir: w.dir, FetchClient: w.client, Feeds: w.syncer, ChannelCollections: map[string]string{other: "news"}}, w.a, w.ix, w.reload)
	admin := discordfake.Invoker{User: user(2), ChannelID: other, GuildID: f.GuildID(), Permissions: 32}
	in := h.command(admin, "add", discordfake.StringOption("url", w.site.URL(feedsfake.RSS)))
	if _, p := h.original(in); !strings.HasPrefix(p.Content, "Subscribed to the feed") {
		t.Fatalf("/add of a feed = %q", p.Content)
	}
	q := h.mention(other, user(3), "Where does the Saturday market move to?")
	if _, r := h.replyTo(q); !strings.Contains(r.Content, "old station yard") {
		t.Errorf("#other does not find the feed's entry subscribed from it: %q", r.Content)
	}
}

// feedWorld is a feedsfake site with two news pages, an articles folder
// (with the sub-folder collection, if not ""), a Syncer on them and a
// reload of the folder into the test library.
type feedWorld struct {
	site   *feedsfake.Site
	dir    string
	client *http.Client
	syncer *feeds.Syncer
	ix     *retrieval.Index
	a      *bot.Answerer
	reload Reload
}

func newFeedWorld(t *testing.T, collection string) *feedWorld {
	t.Helper()
	w := &feedWorld{site: feedsfake.New(t), dir: articlesDir(t), client: fetch.NewClient(fetch.Policy{AllowPrivate: true})}
	w.ix, w.a = library(t)
	w.site.Set("/news/ferries", "Ferries Return", "Ferries to the islands resume on Friday after the harbour wall was repaired over the winter months.")
	w.site.Set("/news/market", "Market Moves", "The Saturday market moves to the old station yard while the square is repaved this spring.")
	if collection != "" {
		if err := os.Mkdir(filepath.Join(w.dir, collection), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	w.syncer = feeds.New(feeds.Config{ArticlesDir: w.dir, StateDir: t.TempDir(), Client: w.client, HostRate: 1000})
	w.reload = func(ctx context.Context) (retrieval.Stats, error) {
		c, err := corpus.LoadDir(ctx, w.dir, corpus.Options{})
		if err != nil {
			return retrieval.Stats{}, err
		}
		return w.ix.Load(ctx, c, nil)
	}
	return w
}
