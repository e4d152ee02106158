package discord

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/verbatim-bot/verbatim/bot/discord/discordfake"
	"github.com/verbatim-bot/verbatim/corpus"
	"github.com/verbatim-bot/verbatim/corpus/fetch"
	"github.com/verbatim-bot/verbatim/retrieval"
)

const canalPage = `<!DOCTYPE html><html><head><title>Canal Locks Reopen</title></head><body><div id="content">
<p>The canal locks reopened to boats on Saturday after a winter of repairs to the old gates and the towpath.</p>
<p>Volunteers from the canal trust repainted the lock keeper's cottage and cleared the weeds from the basin.</p>
<p>Boaters queued from dawn to be the first through the lower lock, which had been closed since November.</p>
</div></body></html>`

// pages serves what /add downloads in the tests.
func pages(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	serve := func(path, contentType, body string) {
		mux.HandleFunc(path, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", contentType)
			w.Write([]byte(body))
		})
	}
	serve("/news/canal-locks", "text/html; charset=utf-8", canalPage)
	serve("/news/lighthouse", "text/plain", "Lighthouse Relit\n\nThe old lighthouse on the headland was relit on Sunday after forty years of darkness.\n")
	serve("/news/stub", "text/plain", "Stub\n\nToo short.\n")
	serve("/attachments/1/2/Ferries.md", "application/octet-stream", "# Ferries Return\n\nFerries to the islands resume on Friday after the harbour wall was repaired over the winter months.\n")
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// articlesDir is a folder holding testArticles.
func articlesDir(t *testing.T) string {
	dir := t.TempDir()
	for name, f := range testArticles() {
		if err := os.WriteFile(filepath.Join(dir, name), f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

func TestAdd(t *testing.T) {
	t.Parallel()
	f := newFake(t, discordfake.Options{})
	ix, a := library(t)
	srv := pages(t)
	dir := articlesDir(t)
	var fail atomic.Bool
	reloads := make(chan struct{}, 10)
	reload := func(ctx context.Context) (retrieval.Stats, error) {
		reloads <- struct{}{}
		if fail.Load() {
			return retrieval.Stats{}, errors.New("embedding server unavailable")
		}
		c, err := corpus.LoadDir(ctx, dir, corpus.Options{})
		if err != nil {
			return retrieval.Stats{}, err
		}
		return ix.Load(ctx, c, nil)
	}
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Skip("the test server is not on 127.0.0.1")
	}
	host := "127-0-0-1" // the file name's start, a Slug of the page's host
	h := start(t, f, Config{GuildID: "2000", ArticlesDir: dir, FetchClient: srv.Client()}, a, ix, reload)
	admin := member(2, 32) // Manage Server

	t.Run("registered for managers, with url and file options", func(t *testing.T) {
		var cmds []struct {
			Name     string  `json:"name"`
			Perms    *string `json:"default_member_permissions"`
			Contexts []int   `json:"contexts"`
			Options  []struct {
				Name string `json:"name"`
				Type int    `json:"type"`
			} `json:"options"`
		}
		jsonBody(t, h.wait(func(c discordfake.Call) bool { return c.Method == http.MethodPut }), &cmds)
		found := false
		for _, c := range cmds {
			if c.Name != "add" {
				continue
			}
			found = true
			if c.Perms == nil || *c.Perms != "32" || len(c.Contexts) != 1 || c.Contexts[0] != 0 {
				t.Errorf("/add permissions %v, contexts %v", c.Perms, c.Contexts)
			}
			if len(c.Options) != 2 || c.Options[0].Name != "url" || c.Options[0].Type != 3 || c.Options[1].Name != "file" || c.Options[1].Type != 11 {
				t.Errorf("/add options = %+v", c.Options)
			}
		}
		if !found {
			t.Error("/add not registered")
		}
	})

	before := listDir(t, dir)
	notices := []struct {
		name string
		inv  discordfake.Invoker
		opts []discordfake.Option
		want string
	}{
		{"non-admin", member(1, 0), []discordfake.Option{discordfake.StringOption("url", srv.URL+"/news/canal-locks")}, noticeAddNotAdm},
		{"no option", admin, nil, noticeAddOne},
		{"both options", admin, []discordfake.Option{
			discordfake.StringOption("url", srv.URL+"/news/canal-locks"),
			discordfake.AttachmentOption("file", discordfake.Attachment{ID: "9", Filename: "a.md", Size: 10, URL: srv.URL + "/a.md"}),
		}, noticeAddOne},
		{"not http", admin, []discordfake.Option{discordfake.StringOption("url", "file:///etc/passwd")}, noticeAddScheme},
		{"credentials", admin, []discordfake.Option{discordfake.StringOption("url", strings.Replace(srv.URL, "://", "://alice:s3cret@", 1)+"/news/canal-locks")}, noticeAddUser},
		{"too large", admin, []discordfake.Option{discordfake.AttachmentOption("file", discordfake.Attachment{ID: "9", Filename: "a.md", Size: 6 << 20, URL: srv.URL + "/a.md"})}, noticeAddBig},
	}
	for _, tt := range notices {
		t.Run(tt.name, func(t *testing.T) {
			in := h.command(tt.inv, "add", tt.opts...)
			if cb := h.callback(in); cb.Type != discordfake.CallbackMessage || cb.Data.Flags != 64 || cb.Data.Content != tt.want {
				t.Errorf("/add = %+v, want the notice %q", cb, tt.want)
			}
		})
	}
	if got := listDir(t, dir); strings.Join(got, " ") != strings.Join(before, " ") || len(reloads) != 0 {
		t.Fatalf("refused /add commands wrote %v or reloaded %d times", got, len(reloads))
	}
	h.logs.mu.Lock()
	for _, r := range h.logs.recs {
		if strings.Contains(fmt.Sprint(r), "s3cret") || strings.Contains(fmt.Sprint(r), "alice") {
			t.Errorf("logged the link's credentials: %+v", r)
		}
	}
	h.logs.mu.Unlock()

	t.Run("admin adds a page", func(t *testing.T) {
		in := h.command(admin, "add", discordfake.StringOption("url", srv.URL+"/news/canal-locks"))
		if cb := h.callback(in); cb.Type != discordfake.CallbackDeferredMessage || cb.Data.Flags != 64 {
			t.Fatalf("/add acknowledged with %+v", cb)
		}
		_, p := h.original(in)
		want := "Added “Canal Locks Reopen” (`" + host + "-news-canal-locks.html`). Reloaded in "
		if !strings.HasPrefix(p.Content, want) || !strings.Contains(p.Content, ": 13 articles,") {
			t.Errorf("report = %q, want it to start %q", p.Content, want)
		}
		if _, err := os.Stat(filepath.Join(dir, host+"-news-canal-locks.html")); err != nil {
			t.Error(err)
		}
		q := h.mention(general, user(4), "When did the canal locks reopen to boats?")
		if _, r := h.replyTo(q); !strings.Contains(r.Content, "The canal locks reopened to boats on Saturday") {
			t.Errorf("the added article is not served: %q", r.Content)
		}
		art, ok := ix.Article(host + "-news-canal-locks")
		if !ok || art.URL != srv.URL+"/news/canal-locks" {
			t.Errorf("added article = %+v, %v; want it with the page's URL", art, ok)
		}
	})

	t.Run("admin adds an attachment", func(t *testing.T) {
		att := discordfake.Attachment{ID: "77", Filename: "Ferries.md", Size: 100, URL: srv.URL + "/attachments/1/2/Ferries.md"}
		in := h.command(admin, "add", discordfake.AttachmentOption("file", att))
		h.callback(in)
		_, p := h.original(in)
		if want := "Added “Ferries Return” (`ferries.md`). Reloaded in "; !strings.HasPrefix(p.Content, want) {
			t.Errorf("report = %q, want it to start %q", p.Content, want)
		}
		data, err := os.ReadFile(filepath.Join(dir, "ferries.md"))
		if err != nil || !strings.HasPrefix(string(data), "# Ferries Return\n") {
			t.Errorf("saved %q, %v", data, err)
		}
	})

	t.Run("refused content writes nothing", func(t *testing.T) {
		before := listDir(t, dir)
		for path, want := range map[string]string{
			"/news/stub":    "Couldn't add it: no article could be read from it (",
			"/news/missing": "Couldn't add it: the server answered 404. Nothing was saved.",
		} {
			in := h.command(admin, "add", discordfake.StringOption("url", srv.URL+path))
			h.callback(in)
			if _, p := h.original(in); !strings.HasPrefix(p.Content, want) || !strings.HasSuffix(p.Content, "Nothing was saved.") {
				t.Errorf("%s: report = %q, want it to start %q", path, p.Content, want)
			}
		}
		if got := listDir(t, dir); strings.Join(got, " ") != strings.Join(before, " ") {
			t.Errorf("folder changed from %v to %v", before, got)
		}
	})

	t.Run("failed reload removes the file and keeps serving", func(t *testing.T) {
		before := listDir(t, dir)
		fail.Store(true)
		defer fail.Store(false)
		in := h.command(admin, "add", discordfake.StringOption("url", srv.URL+"/news/lighthouse"))
		h.callback(in)
		_, p := h.original(in)
		want := "Couldn't add it: the reload failed (the error is in the bot's log), so the file was removed again. The previous articles are still in service."
		if p.Content != want {
			t.Errorf("report = %q, want %q", p.Content, want)
		}
		h.waitLog("add: reload failed", "err", "embedding server unavailable")
		if got := listDir(t, dir); strings.Join(got, " ") != strings.Join(before, " ") {
			t.Errorf("folder changed from %v to %v", before, got)
		}
		q := h.mention(general, user(4), "When did the canal locks reopen to boats?")
		if _, r := h.replyTo(q); !strings.Contains(r.Content, "The canal locks reopened to boats on Saturday") {
			t.Errorf("after a failed reload: %q", r.Content)
		}
	})
}

func TestAddNeedsArticlesDir(t *testing.T) {
	t.Parallel()
	f := newFake(t, discordfake.Options{})
	ix, a := library(t)
	ran := make(chan struct{}, 1)
	reload := func(context.Context) (retrieval.Stats, error) {
		ran <- struct{}{}
		return retrieval.Stats{}, nil
	}
	h := start(t, f, Config{}, a, ix, reload)
	var cmds []struct {
		Name string `json:"name"`
	}
	jsonBody(t, h.wait(func(c discordfake.Call) bool { return c.Method == http.MethodPut }), &cmds)
	for _, c := range cmds {
		if c.Name == "add" {
			t.Error("/add registered without an articles folder")
		}
	}
	// A registration left from a bot configured with a folder.
	in := h.command(member(2, 32), "add", discordfake.StringOption("url", "https://example.com/a"))
	if cb := h.callback(in); cb.Type != discordfake.CallbackMessage || cb.Data.Flags != 64 || cb.Data.Content != noticeAddNoDir {
		t.Errorf("/add without ARTICLES_DIR = %+v", cb)
	}
	select {
	case <-ran:
		t.Error("reload ran")
	default:
	}
}

func TestPublicClientRefusesPrivateAddresses(t *testing.T) {
	t.Parallel()
	srv := pages(t)
	ix, a := library(t)
	b, err := New(Config{Token: "t"}, a, ix, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = corpus.Fetch(context.Background(), b.fetch, srv.URL+"/news/canal-locks", 0)
	if !errors.Is(err, fetch.ErrNotPublic) {
		t.Fatalf("Fetch of a loopback address = %v, want fetch.ErrNotPublic", err)
	}
	if got := b.addReason(err, ""); got != "that address is not on the public internet" {
		t.Errorf("reason = %q", got)
	}
}

func TestReloadAfterPanic(t *testing.T) {
	t.Parallel()
	f := newFake(t, discordfake.Options{})
	ix, a := library(t)
	var calls atomic.Int32
	reload := func(context.Context) (retrieval.Stats, error) {
		if calls.Add(1) == 1 {
			panic("reload broke")
		}
		return retrieval.Stats{Articles: 12}, nil
	}
	h := start(t, f, Config{}, a, ix, reload)
	h.allowed[http.StatusBadRequest] = true // the failure notice to an acknowledged interaction
	admin := member(2, 32)
	first := h.command(admin, "reload")
	h.callback(first)
	h.waitLog("handler panicked", "event_id", first.ID)
	second := h.command(admin, "reload")
	if cb := h.callback(second); cb.Type != discordfake.CallbackDeferredMessage {
		t.Fatalf("/reload after a panic = %+v, want it to run", cb)
	}
	if _, p := h.original(second); p.Content == noticeReloading || !strings.HasPrefix(p.Content, "Reloaded") {
		t.Errorf("/reload after a panic = %q", p.Content)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("reload ran %d times, want 2", n)
	}
}

// TestAddInCollection checks that /add in a channel limited to a
// collection saves the article in that collection's folder, where the
// channel then finds it.
func TestAddInCollection(t *testing.T) {
	t.Parallel()
	f := newFake(t, discordfake.Options{})
	ix, a := library(t)
	srv := pages(t)
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Skip("the test server is not on 127.0.0.1")
	}
	dir := articlesDir(t)
	if err := os.Mkdir(filepath.Join(dir, "news"), 0o755); err != nil {
		t.Fatal(err)
	}
	reload := func(ctx context.Context) (retrieval.Stats, error) {
		c, err := corpus.LoadDir(ctx, dir, corpus.Options{})
		if err != nil {
			return retrieval.Stats{}, err
		}
		return ix.Load(ctx, c, nil)
	}
	h := start(t, f, Config{ArticlesDir: dir, FetchClient: srv.Client(), ChannelCollections: map[string]string{other: "news"}}, a, ix, reload)
	admin := discordfake.Invoker{User: user(2), ChannelID: other, GuildID: f.GuildID(), Permissions: 32}
	in := h.command(admin, "add", discordfake.StringOption("url", srv.URL+"/news/lighthouse"))
	file := "news/127-0-0-1-news-lighthouse.txt"
	if _, p := h.original(in); !strings.HasPrefix(p.Content, "Added “Lighthouse Relit” (`"+file+"`). Reloaded in ") {
		t.Errorf("report = %q", p.Content)
	}
	if _, err := os.Stat(filepath.Join(dir, file)); err != nil {
		t.Error(err)
	}
	q := h.mention(other, user(3), "When was the old lighthouse relit?")
	if _, p := h.replyTo(q); !strings.Contains(p.Content, "relit on Sunday") {
		t.Errorf("#other does not find the article added to its collection: %q", p.Content)
	}
}
