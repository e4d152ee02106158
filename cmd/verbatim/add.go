package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/verbatim-bot/verbatim/corpus"
	"github.com/verbatim-bot/verbatim/corpus/feeds"
)

func runAdd(ctx context.Context, a *app, args []string) error {
	fs := a.newFlags("URL|FILE",
		"Adds an article to ARTICLES_DIR: a web page (saved as HTML, with its URL for citations)\nor a .txt, .md, .html or .jsonl file. It must load as an article; an existing different\nfile of the same name is never replaced. A feed (RSS, Atom, JSON Feed) or sitemap is\nsubscribed to instead: its entries are saved as articles and kept up to date by\n'verbatim sync'. Then it refreshes the index like 'verbatim index'.")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return fmt.Errorf("%w: give one URL or file, e.g. verbatim add https://example.com/story", errUsage)
	}
	if a.cfg.ArticlesDir == "" {
		return errors.New("ARTICLES_DIR is not set: add saves into a folder of articles; set it to a writable folder")
	}
	log := a.logger(slog.LevelWarn)
	src := rest[0]
	var name, from string
	var data []byte
	if lower := strings.ToLower(src); strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://") {
		added, err := a.syncer().Add(ctx, src)
		if err != nil {
			return privateHint(err)
		}
		if added.Subscription != nil {
			return a.subscribed(ctx, added)
		}
		name, data, from = added.PageName, added.PageData, src
	} else {
		name = filepath.Base(src)
		data, err = readLimited(src, corpus.DefaultMaxFileBytes)
	}
	if err != nil {
		return err
	}
	imp, err := corpus.Import(ctx, a.cfg.ArticlesDir, name, data, corpus.Options{Logger: log, SourceURL: from})
	if err != nil {
		return err
	}
	_, stats, err := a.openIndex(ctx, true)
	if err != nil {
		if !imp.Created {
			return err
		}
		if rerr := imp.Remove(); rerr != nil {
			return fmt.Errorf("%w (and %s could not be removed: %w)", err, imp.Path, rerr)
		}
		return fmt.Errorf("%w (%s was removed again)", err, imp.Path)
	}
	verb := "added"
	if !imp.Created {
		verb = "already there"
	}
	for _, art := range imp.Corpus.Articles {
		fmt.Fprintf(a.stdout, "%s: %s (%s)\n", verb, art.Title, art.ID)
	}
	fmt.Fprintf(a.stdout, "saved as %s\n", imp.Path)
	fmt.Fprintln(a.stdout, formatStats(stats))
	for _, s := range stats.Skipped {
		fmt.Fprintf(a.stdout, "skipped %s: %s\n", s.Source, s.Reason)
	}
	return nil
}

// readLimited reads the file name, failing with corpus.ErrTooLarge when it
// holds more than max bytes.
func readLimited(name string, max int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s: %w: over the %d-byte limit", name, corpus.ErrTooLarge, max)
	}
	return data, nil
}

// subscribed reports a feed or sitemap Add subscribed to, and refreshes
// the index.
func (a *app) subscribed(ctx context.Context, added *feeds.Added) error {
	sub := added.Subscription
	verb := "subscribed to"
	if added.Existed {
		verb = "already subscribed to"
	}
	title := sub.Name()
	fmt.Fprintf(a.stdout, "%s %s: %s (entries saved in %s)\n", verb, sub.Kind, title, filepath.Join(a.cfg.ArticlesDir, sub.Folder))
	printReport(a.stdout, added.Report)
	_, stats, err := a.openIndex(ctx, true)
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, formatStats(stats))
	return nil
}
