package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/verbatim-bot/verbatim/corpus/feeds"
	"github.com/verbatim-bot/verbatim/corpus/fetch"
	"github.com/verbatim-bot/verbatim/retrieval"
)

// fetchPolicy is the policy of every download: fetch's defaults, private
// addresses allowed only with FETCH_ALLOW_PRIVATE.
func (a *app) fetchPolicy() *fetch.Policy {
	return &fetch.Policy{AllowPrivate: a.cfg.FetchAllowPrivate}
}

// syncer returns the Syncer of ARTICLES_DIR's subscriptions, its state
// under DATA_DIR.
func (a *app) syncer() *feeds.Syncer {
	return feeds.New(feeds.Config{
		ArticlesDir: a.cfg.ArticlesDir,
		StateDir:    filepath.Join(a.cfg.DataDir, "sync"),
		Client:      fetch.NewClient(*a.fetchPolicy()),
		HostRate:    a.cfg.SyncHostRate,
		Prune:       a.cfg.SyncPrune,
		Logger:      a.log,
	})
}

// privateHint adds the way out to an error refusing a private address.
func privateHint(err error) error {
	if errors.Is(err, fetch.ErrNotPublic) {
		return fmt.Errorf("%w (FETCH_ALLOW_PRIVATE=true allows loopback and private addresses)", err)
	}
	return err
}

func runSync(ctx context.Context, a *app, args []string) error {
	fs := a.newFlags(`[--json]`, "Syncs every subscription in ARTICLES_DIR once (fetching only what changed), then\nrefreshes the index if an article changed.")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if a.cfg.ArticlesDir == "" {
		return errors.New("ARTICLES_DIR is not set: subscriptions live in a folder of articles; set it to a writable folder")
	}
	a.logger(slog.LevelWarn)
	rep, err := a.syncer().Sync(ctx)
	if err != nil {
		return err
	}
	var stats *retrieval.Stats
	if rep.Changed() {
		_, st, err := a.openIndex(ctx, !*asJSON)
		if err != nil {
			return err
		}
		stats = &st
	}
	if *asJSON {
		return a.writeJSON(toReportJSON(rep, stats))
	}
	printReport(a.stdout, rep)
	if stats != nil {
		fmt.Fprintln(a.stdout, formatStats(*stats))
	}
	return nil
}

// reportJSON is 'verbatim sync --json': what the sync did, and the index
// refresh when an article changed.
type reportJSON struct {
	Subscriptions int               `json:"subscriptions"`
	Requests      int               `json:"requests"`
	Conditional   int               `json:"conditional"`
	NotModified   int               `json:"not_modified"`
	Added         int               `json:"added"`
	Updated       int               `json:"updated"`
	Unchanged     int               `json:"unchanged"`
	Removed       int               `json:"removed"`
	Failed        int               `json:"failed"`
	Errors        []sourceErrorJSON `json:"errors"`
	Index         *statsJSON        `json:"index,omitempty"`
}

type sourceErrorJSON struct {
	Source string `json:"source"`
	Error  string `json:"error"`
}

func toReportJSON(r feeds.Report, st *retrieval.Stats) reportJSON {
	out := reportJSON{Subscriptions: r.Sources, Requests: r.Requests, Conditional: r.Conditional, NotModified: r.NotModified,
		Added: r.Added, Updated: r.Updated, Unchanged: r.Unchanged, Removed: r.Removed, Failed: r.Failed, Errors: []sourceErrorJSON{}}
	for _, e := range r.Errors {
		out.Errors = append(out.Errors, sourceErrorJSON{Source: e.Source, Error: e.Err})
	}
	if st != nil {
		s := toStatsJSON(*st)
		out.Index = &s
	}
	return out
}

// printReport prints what a sync did, one line, then a line per failed
// feed or sitemap.
func printReport(w io.Writer, r feeds.Report) {
	fmt.Fprintf(w, "%s: %d added, %d updated, %d unchanged, %d removed, %d failed; %d requests (%d conditional, %d not modified)\n",
		count(r.Sources, "subscription"), r.Added, r.Updated, r.Unchanged, r.Removed, r.Failed, r.Requests, r.Conditional, r.NotModified)
	for _, e := range r.Errors {
		fmt.Fprintf(w, "failed %s: %s (its articles stay)\n", e.Source, e.Err)
	}
}

// subscriptionJSON is one subscription in 'verbatim sources --json'.
type subscriptionJSON struct {
	File      string     `json:"file"`
	URL       string     `json:"url,omitempty"`
	Kind      string     `json:"kind,omitempty"`
	Title     string     `json:"title,omitempty"`
	Folder    string     `json:"folder,omitempty"`
	LastSync  *time.Time `json:"last_sync,omitempty"`
	LastOK    *time.Time `json:"last_ok,omitempty"`
	LastError string     `json:"last_error,omitempty"`
	Listed    int        `json:"entries"`
	Saved     int        `json:"saved"`
	Failed    int        `json:"failed"`
	Gone      int        `json:"gone"`
}

func runSources(ctx context.Context, a *app, args []string) error {
	fs := a.newFlags(`[--json]`, "Lists the subscriptions (feeds and sitemaps) in ARTICLES_DIR with their last sync,\nentry counts and last error.")
	asJSON := fs.Bool("json", false, "print the list as JSON")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if a.cfg.ArticlesDir == "" {
		return errors.New("ARTICLES_DIR is not set: subscriptions live in a folder of articles")
	}
	a.logger(slog.LevelWarn)
	list, err := a.syncer().Sources()
	if err != nil {
		return err
	}
	out := make([]subscriptionJSON, len(list))
	for i, s := range list {
		out[i] = toSubscriptionJSON(s)
	}
	if *asJSON {
		return a.writeJSON(out)
	}
	for _, s := range out {
		printSource(a.stdout, s)
	}
	fmt.Fprintln(a.stdout, count(len(out), "subscription"))
	return nil
}

func toSubscriptionJSON(s feeds.Status) subscriptionJSON {
	x := subscriptionJSON{File: s.File, LastError: s.LastError, Listed: s.Listed, Saved: s.Saved, Failed: s.Failed, Gone: s.Gone}
	if sub := s.Subscription; sub != nil {
		x.URL, x.Kind, x.Title, x.Folder = sub.URL, string(sub.Kind), sub.Title, sub.Folder
	}
	if !s.LastSync.IsZero() {
		x.LastSync = &s.LastSync
	}
	if !s.LastOK.IsZero() {
		x.LastOK = &s.LastOK
	}
	return x
}

func printSource(w io.Writer, s subscriptionJSON) {
	title := s.Title
	if title == "" {
		title = s.URL
	}
	if s.URL == "" {
		fmt.Fprintf(w, "%s: unreadable: %s\n", s.File, s.LastError)
		return
	}
	fmt.Fprintf(w, "%s (%s)\n  %s → %s/\n", title, s.Kind, s.URL, s.Folder)
	last := "never synced"
	if s.LastSync != nil {
		last = "last sync " + s.LastSync.Local().Format("2006-01-02 15:04")
	}
	fmt.Fprintf(w, "  %s: %d entries, %d saved, %d failed, %d no longer listed\n", last, s.Listed, s.Saved, s.Failed, s.Gone)
	if s.LastError != "" {
		fmt.Fprintf(w, "  last error: %s\n", s.LastError)
	}
}

// count is "1 subscription", "2 subscriptions".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
