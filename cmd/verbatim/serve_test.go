package main

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verbatim-bot/verbatim/bot/discord/discordfake"
)

// TestServeRevokedToken runs serve against a fake Discord that refuses the
// token the way a revoked one is refused (400 with code 40001, the gateway
// closed with 4000): serve must stop on its own, non-zero, with an error
// naming DISCORD_TOKEN and never showing its value.
func TestServeRevokedToken(t *testing.T) {
	for _, r := range []discordfake.Revocation{
		{Status: http.StatusUnauthorized, Close: 4004},
		{Status: http.StatusBadRequest, Code: 40001, Close: 4000},
	} {
		t.Run(http.StatusText(r.Status), func(t *testing.T) {
			f := discordfake.New(discordfake.Options{})
			defer f.Close()
			f.RevokeTokenWith(r)
			offline(t)
			const secret = "MTAwMA.revoked.token-value"
			t.Setenv("ARTICLES_DIR", "")
			t.Setenv("DATA_DIR", t.TempDir())
			t.Setenv("DISCORD_TOKEN", secret)
			t.Setenv("DISCORD_API_URL", f.URL())
			// serve does not stop by itself within the minute: the test
			// fails on its exit status, not on a measured time.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var out, errb bytes.Buffer
			code := run(ctx, []string{"serve"}, &out, &errb)
			if ctx.Err() != nil {
				t.Fatalf("serve still running after a minute with a revoked token; stderr:\n%s", errb.String())
			}
			if code == 0 || !strings.Contains(errb.String(), "DISCORD_TOKEN") {
				t.Errorf("serve exited %d; stderr:\n%s", code, errb.String())
			}
			if strings.Contains(out.String()+errb.String(), secret) {
				t.Error("serve printed the token")
			}
		})
	}
}

// TestServeTokenRevokedWhileServing revokes the token while serve is
// running (the gateway then drops with 4000 and refuses every IDENTIFY
// with 4000; REST answers 400 with code 40001): serve must stop on its
// own, non-zero, naming DISCORD_TOKEN.
func TestServeTokenRevokedWhileServing(t *testing.T) {
	f := discordfake.New(discordfake.Options{})
	defer f.Close()
	offline(t)
	t.Setenv("ARTICLES_DIR", "")
	t.Setenv("DATA_DIR", t.TempDir())
	t.Setenv("DISCORD_TOKEN", "MTAwMA.good.token-value")
	t.Setenv("DISCORD_API_URL", f.URL())
	ctx, code, errb := serveUp(t, f)
	f.RevokeTokenWith(discordfake.Revocation{Status: http.StatusBadRequest, Code: 40001, Close: 4000})
	f.Drop(4000)
	c := <-code
	if ctx.Err() != nil {
		t.Fatalf("serve still running a minute after the token was revoked")
	}
	if c == 0 || !strings.Contains(errb.String(), "DISCORD_TOKEN") || strings.Contains(errb.String(), "token-value") {
		t.Errorf("serve exited %d; stderr:\n%s", c, errb.String())
	}
}

// TestChannelCollectionsSetting checks DISCORD_CHANNEL_COLLECTIONS: pairs
// of channel and ARTICLES_DIR sub-folder, each folder checked to exist.
func TestChannelCollectionsSetting(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "docs"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		value, dir string
		want       map[string]string
		err        string
	}{
		{"111:docs", dir, map[string]string{"111": "docs"}, ""},
		{"111:docs,222:docs", dir, map[string]string{"111": "docs", "222": "docs"}, ""},
		{"111:nope", dir, nil, `collection "nope" is not a folder in ARTICLES_DIR`},
		{"111:../docs", dir, nil, "is not channel:folder"},
		{"111:docs", "", nil, "ARTICLES_DIR, which is not set"},
	} {
		t.Run(tc.value, func(t *testing.T) {
			offline(t)
			t.Setenv("ARTICLES_DIR", tc.dir)
			t.Setenv("DISCORD_CHANNEL_COLLECTIONS", tc.value)
			c, err := loadConfig()
			switch {
			case tc.err == "" && err != nil:
				t.Fatal(err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("err = %v, want %q", err, tc.err)
			case tc.err == "" && !maps.Equal(c.DiscordCollections, tc.want):
				t.Errorf("collections = %v, want %v", c.DiscordCollections, tc.want)
			}
		})
	}
}

// TestServeStopsItsSync stops serve (its token revoked) while the
// scheduled sync waits for a page: serve returns only once the sync has
// stopped and saved what it learnt, never leaving it running.
func TestServeStopsItsSync(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	var once sync.Once
	var site *httptest.Server
	site = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/feed.xml":
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Slow</title><item><link>%s/story</link></item></channel></rss>`, site.URL)
		case "/story":
			once.Do(func() { close(entered) })
			select {
			case <-release:
			case <-r.Context().Done():
			}
			http.NotFound(w, r)
		default:
			http.NotFound(w, r)
		}
	}))
	defer site.Close()
	f := discordfake.New(discordfake.Options{})
	defer f.Close()
	offline(t)
	articles, data := t.TempDir(), t.TempDir()
	sub := "url: " + site.URL + "/feed.xml\nkind: feed\nfolder: slow\n"
	if err := os.WriteFile(filepath.Join(articles, "slow.subscription.yaml"), []byte(sub), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(articles, "note.md"), []byte("# Note\n\nThe ferry to the island leaves the harbour every morning at seven, weather permitting.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ARTICLES_DIR", articles)
	t.Setenv("DATA_DIR", data)
	t.Setenv("FETCH_ALLOW_PRIVATE", "true")
	t.Setenv("SYNC_INTERVAL", "1h")
	t.Setenv("DISCORD_TOKEN", "MTAwMA.good.token-value")
	t.Setenv("DISCORD_API_URL", f.URL())
	ctx, code, errb := serveUp(t, f)
	select {
	case <-entered: // the sync waits for the page
	case <-ctx.Done():
		t.Fatal("the scheduled sync did not start")
	}
	f.RevokeTokenWith(discordfake.Revocation{Status: http.StatusBadRequest, Code: 40001, Close: 4000})
	f.Drop(4000)
	if c := <-code; c == 0 {
		t.Errorf("serve exited 0; stderr:\n%s", errb.String())
	}
	if _, err := os.Stat(filepath.Join(data, "sync", "slow.json")); err != nil {
		t.Errorf("serve returned with its sync still running (no state saved): %v", err)
	}
}

// serveUp runs serve against f in the environment set, within a minute,
// until it has registered its commands; it returns the run's context, its
// exit status when it returns, and its stderr.
func serveUp(t *testing.T, f *discordfake.Server) (context.Context, <-chan int, *bytes.Buffer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	var out, errb bytes.Buffer
	code := make(chan int, 1)
	go func() { code <- run(ctx, []string{"serve"}, &out, &errb) }()
	if _, err := f.WaitFor(ctx, func(c discordfake.Call) bool { return c.Method == http.MethodPut && c.OK() }); err != nil {
		t.Fatal(err) // the commands were not registered: serve is not up
	}
	return ctx, code, &errb
}
