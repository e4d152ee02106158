package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/verbatim-bot/verbatim/bot/discord"
	"github.com/verbatim-bot/verbatim/corpus/feeds"
	"github.com/verbatim-bot/verbatim/corpus/fetch"
	"github.com/verbatim-bot/verbatim/retrieval"
)

func runServe(ctx context.Context, a *app, args []string) error {
	fs := a.newFlags("", "Runs the Discord bot: answers mentions, replies to its answers, and the /ask, /quote,\n/articles, /reload and (with ARTICLES_DIR) /add and /sources slash commands, and syncs\nthe subscriptions every SYNC_INTERVAL. Needs DISCORD_TOKEN.")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if a.cfg.DiscordToken == "" {
		return errors.New("DISCORD_TOKEN is not set: create a bot at https://discord.com/developers/applications and put its token in the environment or .env")
	}
	log := a.logger(slog.LevelInfo)
	ix, stats, err := a.openIndexWith(ctx, false, true)
	if err != nil {
		return err
	}
	defer ix.Close() // stops a background encoding, saving what it did
	log.Info("index ready", "articles", stats.Articles, "paragraphs", stats.Paragraphs,
		"embedded", stats.Embedded, "cached", stats.Cached, "sentences", stats.Sentences,
		"sentences_pending", stats.SentencesPending, "seconds", stats.Duration.Seconds())

	var metrics *discord.Metrics
	if a.cfg.MetricsAddr != "" {
		metrics = discord.NewMetrics(prometheus.NewRegistry())
		ln, err := net.Listen("tcp", a.cfg.MetricsAddr)
		if err != nil {
			return fmt.Errorf("METRICS_ADDR: %w", err)
		}
		srv := &http.Server{Handler: metrics.Handler(), ReadHeaderTimeout: 5 * time.Second}
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("metrics server stopped", "err", err)
			}
		}()
		defer srv.Close()
		log.Info("serving /metrics and /healthz", "addr", ln.Addr().String())
	}

	ar, err := a.answerer(ctx, ix)
	if err != nil {
		return err
	}
	// One policy for /add and the subscriptions; the sync runs beside
	// the bot and reloads the index when an article changed.
	client := fetch.NewClient(*a.fetchPolicy())
	var syncer *feeds.Syncer
	if a.cfg.ArticlesDir != "" {
		syncer = a.syncer()
	}

	b, err := discord.New(discord.Config{
		Token:              a.cfg.DiscordToken,
		APIURL:             a.cfg.DiscordAPIURL,
		GuildID:            a.cfg.DiscordGuildID,
		AllowedChannels:    a.cfg.DiscordChannels,
		AdminUserIDs:       a.cfg.AdminUserIDs,
		AdminRoleIDs:       a.cfg.AdminRoleIDs,
		ArticlesDir:        a.cfg.ArticlesDir,
		FetchClient:        client,
		Feeds:              syncer,
		UseThreads:         a.cfg.UseThreads,
		ForumChannels:      a.cfg.DiscordForums,
		ChannelCollections: a.cfg.DiscordCollections,
		MaxQuestionRunes:   a.cfg.MaxQuestionChars,
		RatePerUser:        a.cfg.RatePerMinute,
		RateBurst:          a.cfg.RateBurst,
		MaxConcurrent:      a.cfg.MaxConcurrent,
		ShutdownTimeout:    a.cfg.ShutdownTimeout,
		FeedbackPath:       filepath.Join(a.cfg.DataDir, "feedback.jsonl"),
		LogContent:         a.cfg.LogContent,
		Logger:             log,
		Metrics:            metrics,
	}, ar, ix, func(ctx context.Context) (retrieval.Stats, error) {
		return a.reload(ctx, ix, false)
	})
	if err != nil {
		return err
	}
	if syncer != nil && a.cfg.SyncInterval > 0 {
		// Stopped, and waited for, when the bot stops for any reason, so
		// that no sync outlives serve.
		syncCtx, stopSync := context.WithCancel(ctx)
		var wg sync.WaitGroup
		defer func() { stopSync(); wg.Wait() }()
		wg.Go(func() {
			syncer.Run(syncCtx, a.cfg.SyncInterval, func(ctx context.Context) error {
				_, err := a.reload(ctx, ix, false)
				return err
			})
		})
	}
	return b.Run(ctx)
}
