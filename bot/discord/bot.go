// Package discord puts Verbatim into Discord with discordgo: members ask by
// mentioning the bot, replying to its answers, in DMs or with /ask, and get
// cited answers whose quotes are verified word for word; /quote finds the
// exact passage; /articles lists what the bot knows; admins /reload the
// corpus and /add articles without a restart. The bot needs no privileged intent: Discord
// delivers message text for mentions, DMs and replies that mention it.
package discord

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/cenkalti/backoff/v5"
	"github.com/gorilla/websocket"

	"github.com/verbatim-bot/verbatim/bot"
	"github.com/verbatim-bot/verbatim/corpus"
	"github.com/verbatim-bot/verbatim/corpus/feeds"
	"github.com/verbatim-bot/verbatim/corpus/fetch"
	"github.com/verbatim-bot/verbatim/retrieval"
)

// Answerer answers a question with verified quotes; *bot.Answerer is
// one.
type Answerer interface {
	Answer(ctx context.Context, question string, opts bot.Options) (*bot.Answer, error)
}

// Library is the part of the index the commands read; *retrieval.Index is
// one.
type Library interface {
	Quote(ctx context.Context, phrase string, opts retrieval.QuoteOptions) ([]retrieval.QuoteHit, error)
	Articles() []*corpus.Article
	Article(id string) (*corpus.Article, bool)
}

// Reload reloads the corpus and swaps the index in, reporting what changed.
// It returns an error wrapping retrieval.ErrReloading while another reload
// runs, and must leave the serving index untouched when it fails.
type Reload func(ctx context.Context) (retrieval.Stats, error)

// Errors Run returns when Discord refuses the bot for good. discordgo would
// otherwise retry them forever.
var (
	ErrInvalidToken      = errors.New("bot: Discord rejected the bot token (check DISCORD_TOKEN)")
	ErrDisallowedIntents = errors.New("bot: Discord refused the gateway intents")
)

// Config configures a Bot. Zero values pick the defaults noted.
type Config struct {
	// Token is the bot token, with or without the "Bot " prefix.
	Token string
	// GuildID registers the commands in that guild only, where they appear
	// at once (for setup); "" registers them globally.
	GuildID string
	// AppID is the application ID; "" takes it from the gateway's READY.
	AppID string
	// AllowedChannels limits the guild channels (and their threads) where
	// the bot answers; empty allows all. DMs are always answered.
	AllowedChannels []string
	// AdminUserIDs and AdminRoleIDs may /reload and /add in addition to members
	// with the Manage Server or Administrator permission.
	AdminUserIDs, AdminRoleIDs []string
	// UseThreads answers a mention in a new thread started from the
	// question instead of as a reply.
	UseThreads bool
	// ForumChannels are forum channels whose every new post is answered in
	// its thread without a mention; the asker's 👍 on the answer marks the
	// post resolved.
	ForumChannels []string
	// ChannelCollections limits channels (channel ID → collection, a
	// sub-folder of the articles folder) to the articles of that
	// collection, in their threads too; other channels search every
	// article.
	ChannelCollections map[string]string
	// MaxQuestionRunes bounds a question's length; 0 means
	// bot.DefaultMaxQuestionRunes.
	MaxQuestionRunes int
	// RatePerUser is how many questions a minute one user may ask after
	// RateBurst questions at once; 0 means DefaultRatePerUser, negative no
	// limit.
	RatePerUser int
	// RateBurst is how many questions a user may ask at once; 0 means
	// DefaultRateBurst.
	RateBurst int
	// MaxConcurrent bounds the answers computed at once; 0 means
	// DefaultMaxConcurrent.
	MaxConcurrent int
	// MaxWaiting bounds the questions waiting for one of those slots;
	// beyond it askers are told the bot is busy. 0 means DefaultMaxWaiting.
	MaxWaiting int
	// AnswerTimeout bounds one answer, waiting included; 0 means
	// DefaultAnswerTimeout.
	AnswerTimeout time.Duration
	// HistoryDepth is how many earlier turns of a reply chain are given as
	// context to a follow-up question; 0 means bot.MaxHistoryTurns (the
	// most the answerer uses), negative none.
	HistoryDepth int
	// StreamInterval is the least time between two edits of an answer
	// being generated; 0 means DefaultStreamInterval.
	StreamInterval time.Duration
	// ShutdownTimeout bounds how long Run waits for answers in flight
	// once its context is done; 0 means DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
	// CommandRetry is the first wait before registering the slash
	// commands again after a failure (doubling up to an hour); 0 means
	// DefaultCommandRetry.
	CommandRetry time.Duration
	// ReconnectWait is the first wait before reopening the gateway after a
	// failed attempt (doubling up to two minutes); 0 means
	// DefaultReconnectWait.
	ReconnectWait time.Duration
	// ArticlesDir is the folder the corpus is loaded from, where /add
	// saves articles before it reloads; "" (the embedded articles) does
	// not offer /add.
	ArticlesDir string
	// FetchClient downloads the pages and files given to /add; nil means
	// fetch.NewClient with the default policy, which connects only to
	// public internet addresses, so that /add cannot read the bot's
	// private network.
	FetchClient *http.Client
	// Feeds, when set, makes /add subscribe to the feeds and sitemaps it
	// is given (pages are still saved as pages) and offers /sources; its
	// Client should follow the same policy as FetchClient.
	Feeds *feeds.Syncer
	// FeedbackPath is the file 👍/👎 clicks are appended to (JSON lines);
	// "" shows no feedback buttons.
	FeedbackPath string
	// LogContent adds questions and answers to the info-level logs.
	LogContent bool
	// APIURL, if set, is the base URL of a Discord-compatible server that
	// receives every REST call meant for discord.com (its /gateway/bot
	// names the gateway to connect to); "" talks to Discord.
	APIURL string
	// HTTPClient and Dialer replace discordgo's REST client and websocket
	// dialer (tests point them at a fake Discord).
	HTTPClient *http.Client
	Dialer     *websocket.Dialer
	// Logger receives structured logs; nil discards them.
	Logger *slog.Logger
	// Metrics, if set, counts questions, refusals, latencies and errors.
	Metrics *Metrics
}

// Defaults for Config fields left zero.
const (
	DefaultRatePerUser     = 6
	DefaultRateBurst       = 3
	DefaultMaxConcurrent   = 4
	DefaultMaxWaiting      = 100
	DefaultAnswerTimeout   = 2 * time.Minute
	DefaultStreamInterval  = time.Second
	DefaultShutdownTimeout = 20 * time.Second
	DefaultCommandRetry    = 5 * time.Second
	DefaultReconnectWait   = time.Second
)

// Bot is a Verbatim Discord bot. Create it with New and start it with Run.
type Bot struct {
	cfg      Config
	answerer Answerer
	lib      Library
	reload   Reload
	fetch    *http.Client  // downloads for /add
	feeds    *feeds.Syncer // subscriptions for /add and /sources; nil: none
	api      *url.URL      // Config.APIURL, parsed
	log      *slog.Logger
	metrics  *Metrics

	allowed, admins, adminRoles, forums map[string]bool

	limits    *userLimits
	queue     *queue
	feedback  *feedbackLog
	questions *recent[string, string]     // answer ID → question, for feedback
	turns     *recent[string, turnRecord] // bot message ID → the turn it shows
	threads   *recent[string, string]     // threads the bot started → their channel
	handled   *recent[string, bool]       // message and interaction IDs seen: Discord may deliver one twice
	posts     *recent[string, forumPost]  // forum thread ID → the post, until answered
	answers   *recent[string, forumPost]  // forum answer ID → the post it answers
	noticed   *noticeThrottle             // limit notices sent in channels
	gates     *sendGates                  // queue messages per channel
	reloading atomic.Bool
	started   atomic.Bool

	// Set by Run before the session opens.
	s          *discordgo.Session
	botID      string
	appID      string
	work       context.Context // parent of every handler's context
	cancelWork context.CancelFunc
	fatal      chan error
	drops      chan struct{} // the gateway connection dropped

	mu       sync.Mutex
	closing  bool
	inflight sync.WaitGroup
}

// turnRecord is what the bot remembers about one of its answer messages.
type turnRecord struct {
	turn   bot.Turn
	parent string // the bot message the question replied to, if any
}

// memory is how many answers the bot remembers for feedback and reply
// chains.
const memory = 4096

// New checks cfg and returns a Bot that answers with a and looks passages
// up in lib. reload may be nil: /reload is then not offered.
func New(cfg Config, a Answerer, lib Library, reload Reload) (*Bot, error) {
	if strings.TrimSpace(strings.TrimPrefix(cfg.Token, "Bot ")) == "" {
		return nil, errors.New("bot: no token")
	}
	if a == nil || lib == nil {
		return nil, errors.New("bot: an Answerer and a Library are required")
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&cfg.MaxQuestionRunes, bot.DefaultMaxQuestionRunes)
	def(&cfg.RatePerUser, DefaultRatePerUser)
	def(&cfg.RateBurst, DefaultRateBurst)
	def(&cfg.MaxConcurrent, DefaultMaxConcurrent)
	def(&cfg.MaxWaiting, DefaultMaxWaiting)
	def(&cfg.HistoryDepth, bot.MaxHistoryTurns)
	for _, d := range []struct {
		v *time.Duration
		d time.Duration
	}{{&cfg.AnswerTimeout, DefaultAnswerTimeout}, {&cfg.StreamInterval, DefaultStreamInterval}, {&cfg.ShutdownTimeout, DefaultShutdownTimeout}, {&cfg.CommandRetry, DefaultCommandRetry}, {&cfg.ReconnectWait, DefaultReconnectWait}} {
		if *d.v <= 0 {
			*d.v = d.d
		}
	}
	if cfg.MaxConcurrent < 0 || cfg.MaxWaiting < 0 || cfg.RateBurst < 0 || cfg.MaxQuestionRunes < 0 {
		return nil, errors.New("bot: negative limit in config")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &Bot{
		cfg: cfg, answerer: a, lib: lib, reload: reload, log: log, metrics: cfg.Metrics,
		allowed: set(cfg.AllowedChannels), admins: set(cfg.AdminUserIDs), adminRoles: set(cfg.AdminRoleIDs),
		forums:    set(cfg.ForumChannels),
		posts:     newRecent[string, forumPost](memory),
		answers:   newRecent[string, forumPost](memory),
		limits:    newUserLimits(cfg.RatePerUser, cfg.RateBurst),
		queue:     newQueue(cfg.MaxConcurrent, cfg.MaxWaiting),
		questions: newRecent[string, string](memory),
		turns:     newRecent[string, turnRecord](memory),
		threads:   newRecent[string, string](memory),
		handled:   newRecent[string, bool](memory),
		noticed:   newNoticeThrottle(time.Minute),
		gates:     newSendGates(),
		fatal:     make(chan error, 1),
		drops:     make(chan struct{}, 1),
	}
	if cfg.APIURL != "" {
		u, err := url.Parse(cfg.APIURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("bot: the Discord API URL %q is not an http:// or https:// URL", cfg.APIURL)
		}
		b.api = u
	}
	b.fetch, b.feeds = cfg.FetchClient, cfg.Feeds
	if b.fetch == nil {
		b.fetch = fetch.NewClient(fetch.Policy{Timeout: fetchTimeout})
	}
	if cfg.FeedbackPath != "" {
		b.feedback = &feedbackLog{path: cfg.FeedbackPath}
	}
	return b, nil
}

func set(ids []string) map[string]bool {
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		if id = strings.TrimSpace(id); id != "" {
			m[id] = true
		}
	}
	return m
}

// Intents the bot identifies with: none is privileged, unless forums are
// answered — a post does not mention the bot, so reading it takes the
// privileged Message Content intent, and its 👍 the reactions intent.
func (b *Bot) intents() discordgo.Intent {
	i := discordgo.IntentsGuilds | discordgo.IntentsGuildMessages | discordgo.IntentsDirectMessages
	if len(b.forums) > 0 {
		i |= discordgo.IntentsMessageContent | discordgo.IntentsGuildMessageReactions
	}
	return i
}

// Run connects to Discord, registers the slash commands with one bulk
// overwrite (in Config.GuildID, or globally), logs the invite URL and
// answers until ctx is done. It then stops taking questions, waits up to
// Config.ShutdownTimeout for answers in flight and closes the session. A
// rejected token (at the first REST call, at IDENTIFY, or later while
// reconnecting) makes it return ErrInvalidToken. Run may be called once.
func (b *Bot) Run(ctx context.Context) error {
	if !b.started.CompareAndSwap(false, true) {
		return errors.New("bot: Run called twice")
	}
	s, err := b.session()
	if err != nil {
		return err
	}
	me, err := retryRateLimited(ctx, func() (*discordgo.User, error) { return s.User("@me", discordgo.WithContext(ctx)) })
	if err != nil {
		return runError(ctx, "checking the token", err)
	}
	b.botID = me.ID
	b.work, b.cancelWork = context.WithCancel(context.WithoutCancel(ctx))
	defer b.cancelWork()

	if err := b.connect(ctx, s); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	reconnectCtx, stopReconnect := context.WithCancel(ctx)
	reconnected := make(chan struct{})
	go func() { defer close(reconnected); b.reconnect(reconnectCtx, s) }()
	stopReconnecting := sync.OnceFunc(func() { stopReconnect(); <-reconnected })
	defer stopReconnecting()
	b.appID = b.applicationID(s, me)
	n, rerr := b.registerCommands(ctx, s)
	switch {
	case rerr == nil:
	case ctx.Err() != nil || unauthorized(rerr):
		stopReconnecting()
		b.shutdown()
		s.Close()
		return runError(ctx, "registering commands", rerr)
	default:
		// Mentions need no commands: keep answering them, and retry.
		b.log.Error("registering the slash commands failed; answering mentions, retrying", "err", rerr)
		go b.retryCommands(b.work, s)
	}
	scope := "global"
	if b.cfg.GuildID != "" {
		scope = "guild " + b.cfg.GuildID
	}
	b.log.Info("connected to Discord", "user", me.Username, "bot_id", b.botID, "app_id", b.appID,
		"commands", n, "scope", scope, "invite", b.InviteURL())

	select {
	case <-ctx.Done():
	case err = <-b.fatal:
	}
	stopReconnecting()
	b.shutdown()
	if cerr := s.Close(); cerr != nil && err == nil {
		b.log.Warn("closing the Discord session", "err", cerr)
	}
	b.log.Info("disconnected from Discord")
	return err
}

// registerCommands overwrites the application's slash commands with the
// bot's, and returns how many were registered.
func (b *Bot) registerCommands(ctx context.Context, s *discordgo.Session) (int, error) {
	cmds, err := retryRateLimited(ctx, func() ([]*discordgo.ApplicationCommand, error) {
		return s.ApplicationCommandBulkOverwrite(b.appID, b.cfg.GuildID, b.registrations(), discordgo.WithContext(ctx))
	})
	b.metrics.setCommands(err == nil)
	return len(cmds), err
}

// retryCommands registers the slash commands again after a failure, with
// exponential backoff from Config.CommandRetry up to an hour, until it
// succeeds or ctx is done.
func (b *Bot) retryCommands(ctx context.Context, s *discordgo.Session) {
	bo := &backoff.ExponentialBackOff{InitialInterval: b.cfg.CommandRetry, RandomizationFactor: 0.25, Multiplier: 2, MaxInterval: time.Hour}
	bo.Reset()
	for {
		t := time.NewTimer(bo.NextBackOff())
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		n, err := b.registerCommands(ctx, s)
		if err == nil {
			b.log.Info("slash commands registered", "commands", n)
			return
		}
		if ctx.Err() == nil {
			b.log.Error("registering the slash commands failed again", "err", err)
		}
	}
}

// session makes the discordgo session Run uses.
func (b *Bot) session() (*discordgo.Session, error) {
	s, err := discordgo.New("Bot " + strings.TrimPrefix(b.cfg.Token, "Bot "))
	if err != nil {
		return nil, fmt.Errorf("bot: %w", err)
	}
	s.Client = b.httpClient()
	s.ShouldRetryOnRateLimit = false // retryRateLimited bounds the waits instead
	s.ShouldReconnectOnError = false // onDisconnect reconnects, within bounds
	if b.cfg.Dialer != nil {
		s.Dialer = b.cfg.Dialer
	}
	s.Identify.Intents = b.intents()
	b.s = s
	return s, nil
}

// runError is what Run returns for a failed REST call while starting:
// nil once ctx is done, ErrInvalidToken for a rejected token.
func runError(ctx context.Context, doing string, err error) error {
	switch {
	case ctx.Err() != nil:
		return nil
	case unauthorized(err):
		return ErrInvalidToken
	}
	return fmt.Errorf("bot: %s: %w", doing, err)
}

// connect adds the handlers and opens the gateway connection, trying
// again (see open) while Discord closes it with 4000 on IDENTIFY.
func (b *Bot) connect(ctx context.Context, s *discordgo.Session) error {
	s.AddHandler(b.onMessage)
	s.AddHandler(b.onInteraction)
	s.AddHandler(func(*discordgo.Session, *discordgo.Ready) { b.metrics.setConnected(true) })
	s.AddHandler(func(*discordgo.Session, *discordgo.Resumed) { b.metrics.setConnected(true) })
	s.AddHandler(b.onDisconnect)
	b.addForumHandlers(s)
	return b.open(ctx, s, true)
}

// Bounds on reconnecting to the gateway. Discord closes an IDENTIFY with
// 4000 (unknown error) for a token it no longer accepts as well as for a
// passing fault: after identifyTries such closes in a row the token is
// taken to be revoked.
const (
	identifyTries = 5
	reconnectMax  = 2 * time.Minute
)

// open opens the gateway connection, again and again with backoff until it
// succeeds, ctx is done or Discord refuses the bot for good: close 4004,
// 4014, a REST check of the token answered 401 or 40001, or identifyTries
// closes with 4000 in a row. At start (first) any other failure is
// returned at once, so a wrong DISCORD_API_URL is reported rather than
// retried.
func (b *Bot) open(ctx context.Context, s *discordgo.Session, first bool) error {
	bo := &backoff.ExponentialBackOff{InitialInterval: b.cfg.ReconnectWait, RandomizationFactor: 0.25, Multiplier: 2, MaxInterval: reconnectMax}
	bo.Reset()
	closes := 0
	for {
		err := s.Open()
		var ce *websocket.CloseError
		switch {
		case err == nil, errors.Is(err, discordgo.ErrWSAlreadyOpen):
			return nil
		case errors.As(err, &ce) && ce.Code == 4004:
			return ErrInvalidToken
		case errors.As(err, &ce) && ce.Code == 4014:
			return ErrDisallowedIntents
		case errors.As(err, &ce) && ce.Code == 4000:
			if closes++; closes >= identifyTries {
				return fmt.Errorf("%w: the gateway closed IDENTIFY with 4000 %d times in a row", ErrInvalidToken, closes)
			}
		case first:
			return fmt.Errorf("bot: connecting to the gateway: %w", err)
		}
		if b.tokenRejected(ctx, s) {
			return ErrInvalidToken
		}
		wait := bo.NextBackOff()
		b.log.Warn("connecting to the gateway failed; retrying", "err", err, "retry_in", wait.Round(time.Millisecond))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// tokenRejected asks Discord who the bot is and reports whether it
// refused the token.
func (b *Bot) tokenRejected(ctx context.Context, s *discordgo.Session) bool {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := s.User("@me", discordgo.WithContext(ctx), discordgo.WithRestRetries(0))
	return unauthorized(err)
}

// applicationID is Config.AppID, or else the application READY named, or
// else the bot user's ID.
func (b *Bot) applicationID(s *discordgo.Session, me *discordgo.User) string {
	if b.cfg.AppID != "" {
		return b.cfg.AppID
	}
	s.State.RLock()
	defer s.State.RUnlock()
	if app := s.State.Ready.Application; app != nil && app.ID != "" {
		return app.ID
	}
	return me.ID
}

// httpClient is the REST client: the configured one, counting errors when
// metrics are on.
func (b *Bot) httpClient() *http.Client {
	c := &http.Client{Timeout: 20 * time.Second}
	if b.cfg.HTTPClient != nil {
		copied := *b.cfg.HTTPClient
		c = &copied
	}
	if b.api != nil {
		c.Transport = apiRewriter{target: b.api, base: transportOf(c)}
	}
	if b.metrics != nil {
		c.Transport = countingTransport{base: transportOf(c), m: b.metrics}
	}
	return c
}

func transportOf(c *http.Client) http.RoundTripper {
	if c.Transport == nil {
		return http.DefaultTransport
	}
	return c.Transport
}

// apiRewriter sends the requests discordgo addresses to discord.com to a
// Discord-compatible server instead (Config.APIURL).
type apiRewriter struct {
	target *url.URL
	base   http.RoundTripper
}

func (r apiRewriter) RoundTrip(req *http.Request) (*http.Response, error) {
	switch req.URL.Hostname() {
	case "discord.com", "discordapp.com", "www.discord.com":
		out := req.Clone(req.Context())
		out.URL.Scheme, out.URL.Host, out.Host = r.target.Scheme, r.target.Host, r.target.Host
		if p := strings.TrimRight(r.target.Path, "/"); p != "" {
			out.URL.Path = p + out.URL.Path
		}
		return r.base.RoundTrip(out)
	}
	return r.base.RoundTrip(req)
}

// shutdown stops new questions and waits for those in flight, up to
// Config.ShutdownTimeout; then it cancels them and gives them a few
// seconds to wind down.
func (b *Bot) shutdown() {
	b.mu.Lock()
	b.closing = true
	b.mu.Unlock()
	done := make(chan struct{})
	go func() {
		b.inflight.Wait()
		close(done)
	}()
	t := time.NewTimer(b.cfg.ShutdownTimeout)
	defer t.Stop()
	select {
	case <-done:
		return
	case <-t.C:
	}
	b.log.Warn("shutdown timeout: cancelling answers in flight")
	b.cancelWork()
	t.Reset(5 * time.Second)
	select {
	case <-done:
	case <-t.C:
		b.log.Warn("answers still in flight after cancellation")
	}
}

// begin registers a handler in flight and gives it a context; ok is false
// once shutdown has started.
func (b *Bot) begin(timeout time.Duration) (ctx context.Context, end func(), ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closing {
		return nil, nil, false
	}
	b.inflight.Add(1)
	ctx, cancel := context.WithTimeout(b.work, timeout)
	return ctx, func() { cancel(); b.inflight.Done() }, true
}

// recoverHandler, deferred first in every event handler, keeps a panic
// from crashing the bot: it logs it and, with notify, tells the user with
// the short failure notice.
func (b *Bot) recoverHandler(event, eventID string, notify func(context.Context)) {
	r := recover()
	if r == nil {
		return
	}
	b.log.Error("handler panicked", "event", event, "event_id", eventID, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
	b.metrics.answerError()
	ctx, cancel := context.WithTimeout(context.Background(), noticeTimeout)
	defer cancel()
	notify(ctx)
}

// onDisconnect has the gateway connection reopened (discordgo's own
// reconnect is off: it retries forever, even a token Discord no longer
// accepts).
func (b *Bot) onDisconnect(*discordgo.Session, *discordgo.Disconnect) {
	b.metrics.setConnected(false)
	select {
	case b.drops <- struct{}{}:
	default: // a reconnect is already due
	}
}

// reconnect reopens the gateway connection after each drop until ctx is
// done; a refused token or the bounds of open end Run.
func (b *Bot) reconnect(ctx context.Context, s *discordgo.Session) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-b.drops:
		}
		b.mu.Lock()
		closing := b.closing
		b.mu.Unlock()
		if closing {
			return
		}
		err := b.open(ctx, s, false)
		if err == nil || ctx.Err() != nil {
			continue
		}
		b.log.Error("Discord refuses the bot: stopping", "err", err)
		select {
		case b.fatal <- err:
		default:
		}
		return
	}
}

// unauthorized reports whether err is Discord refusing the token: 401, or
// 400 with code 40001 (Unauthorized), as a revoked token may get.
func unauthorized(err error) bool {
	var re *discordgo.RESTError
	if !errors.As(err, &re) || re.Response == nil {
		return false
	}
	return re.Response.StatusCode == http.StatusUnauthorized || (re.Message != nil && re.Message.Code == discordgo.ErrCodeUnauthorized)
}

// Permissions returns the channel permissions the bot uses: read and send
// messages, in threads too, embed links (sources), read history (reply
// chains), add reactions (⚠️ on a question when not even a notice can be
// sent; the 👍 on forum answers); create public threads when it answers
// in threads; manage threads in forums (the resolved tag or title).
func Permissions(cfg Config) int64 {
	p := int64(discordgo.PermissionViewChannel | discordgo.PermissionSendMessages |
		discordgo.PermissionSendMessagesInThreads | discordgo.PermissionEmbedLinks |
		discordgo.PermissionReadMessageHistory | discordgo.PermissionAddReactions)
	if cfg.UseThreads {
		p |= discordgo.PermissionCreatePublicThreads
	}
	if len(cfg.ForumChannels) > 0 {
		p |= discordgo.PermissionManageThreads
	}
	return p
}

// InviteURL is the link a server admin opens to add the bot with the bot
// and applications.commands scopes and the permissions it uses, on
// Discord or, with Config.APIURL, on that server.
func (b *Bot) InviteURL() string {
	base := "https://discord.com"
	if b.api != nil {
		base = (&url.URL{Scheme: b.api.Scheme, Host: b.api.Host}).String()
	}
	return inviteURL(base, b.appID, Permissions(b.cfg))
}

func inviteURL(base, appID string, perms int64) string {
	v := url.Values{}
	v.Set("client_id", appID)
	v.Set("scope", "bot applications.commands")
	v.Set("permissions", strconv.FormatInt(perms, 10))
	return base + "/oauth2/authorize?" + v.Encode()
}
