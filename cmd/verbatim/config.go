package main

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
	"github.com/joho/godotenv"
	"github.com/verbatim-bot/verbatim/corpus"
	"github.com/verbatim-bot/verbatim/retrieval/openaihttp"
)

// Config is every setting Verbatim reads, parsed once from the environment
// (and a .env file in the working directory, if present). README.md has the
// same table; .env.example lists each variable with a comment.
type Config struct {
	ArticlesDir string `env:"ARTICLES_DIR"` // "" = the embedded default articles
	DataDir     string `env:"DATA_DIR"`     // "" = <user cache dir>/verbatim

	// Corpus limits and links.
	FollowExternalLinks  bool  `env:"FOLLOW_EXTERNAL_LINKS"`  // follow links out of ARTICLES_DIR
	MaxParagraphs        int   `env:"MAX_PARAGRAPHS"`         // 0 = corpus.DefaultMaxParagraphs
	MaxCorpusBytes       int64 `env:"MAX_CORPUS_BYTES"`       // 0 = corpus.DefaultMaxCorpusBytes
	MaxArticleParagraphs int   `env:"MAX_ARTICLE_PARAGRAPHS"` // 0 = corpus.DefaultMaxArticleParagraphs

	// Fetching and subscriptions (add, sync, serve).
	FetchAllowPrivate bool          `env:"FETCH_ALLOW_PRIVATE"`           // let fetches reach loopback and private addresses
	SyncInterval      time.Duration `env:"SYNC_INTERVAL" envDefault:"1h"` // serve syncs this often; 0 = never
	SyncPrune         bool          `env:"SYNC_PRUNE"`                    // delete articles whose entry left its feed or sitemap
	SyncHostRate      float64       `env:"SYNC_HOST_RATE"`                // requests per second per host; 0 = feeds.DefaultHostRate

	// LLM (any OpenAI-compatible API). Generating mode is on when APIKey or BaseURL is set.
	OpenAIKey  string        `env:"OPENAI_API_KEY"`
	LLMBaseURL string        `env:"LLM_BASE_URL"`
	LLMModel   string        `env:"LLM_MODEL"`                             // "" = bot.DefaultModel
	LLMTimeout time.Duration `env:"LLM_TIMEOUT"`                           // 0 = bot.DefaultLLMTimeout
	LLMFormat  string        `env:"LLM_RESPONSE_FORMAT" envDefault:"auto"` // auto, json_schema, json_object or none
	LLMContext int           `env:"LLM_CONTEXT_TOKENS"`                    // 0 = bot.DefaultContextTokens

	// Embeddings. Embedder "auto" uses the API when OPENAI_API_KEY,
	// EMBEDDING_MODEL or EMBEDDING_BASE_URL is set, the offline local
	// embedder otherwise: a local LLM server (LLM_BASE_URL alone) may
	// serve no embedding model, and a missing one would stop indexing.
	Embedder         string  `env:"EMBEDDER" envDefault:"auto"` // auto, local, hashed or openai
	VectorWeight     float64 `env:"VECTOR_WEIGHT"`              // 0 = calibrated per embedder
	EmbeddingModel   string  `env:"EMBEDDING_MODEL"`            // "" = defaultEmbeddingModel
	EmbeddingBaseURL string  `env:"EMBEDDING_BASE_URL"`         // "" = LLM_BASE_URL

	// Answers.
	TopK          int     `env:"TOP_K"`          // 0 = bot.DefaultTopK
	MinRelevance  float64 `env:"MIN_RELEVANCE"`  // 0 = bot.DefaultMinRelevance
	MinSimilarity float64 `env:"MIN_SIMILARITY"` // 0 = bot.DefaultMinSimilarity
	MinSupport    float64 `env:"MIN_SUPPORT"`    // 0 = bot.DefaultMinSupport
	// SentenceEncoder "minilm" reads the question and its best sentences
	// with the transformer in the binary; "off" saves its CPU and memory
	// and gates by words and the static table.
	SentenceEncoder    string  `env:"SENTENCE_ENCODER" envDefault:"minilm"`
	MaxSentences       int     `env:"MAX_SENTENCES"`        // 0 = retrieval.DefaultMaxSentences
	SentenceWeight     float64 `env:"SENTENCE_WEIGHT"`      // 0 = retrieval.DefaultSentenceWeight
	MinCloseness       float64 `env:"MIN_CLOSENESS"`        // 0 = bot.DefaultMinCloseness
	MinAnswerCloseness float64 `env:"MIN_ANSWER_CLOSENESS"` // 0 = bot.DefaultMinAnswerCloseness
	MinTopicality      float64 `env:"MIN_TOPICALITY"`       // 0 = bot.DefaultMinTopicality
	MaxQuestionChars   int     `env:"MAX_QUESTION_CHARS"`   // 0 = bot.DefaultMaxQuestionRunes

	// Discord.
	DiscordToken    string   `env:"DISCORD_TOKEN"`
	DiscordAPIURL   string   `env:"DISCORD_API_URL"` // "" = Discord itself
	DiscordGuildID  string   `env:"DISCORD_GUILD_ID"`
	DiscordChannels []string `env:"DISCORD_CHANNELS"`
	AdminUserIDs    []string `env:"ADMIN_USER_IDS"`
	AdminRoleIDs    []string `env:"ADMIN_ROLE_IDS"`
	UseThreads      bool     `env:"DISCORD_THREADS"`
	DiscordForums   []string `env:"DISCORD_FORUM_CHANNELS"`
	// DiscordCollections maps channel IDs to ARTICLES_DIR sub-folders.
	DiscordCollections map[string]string `env:"DISCORD_CHANNEL_COLLECTIONS" envKeyValSeparator:":"`
	RatePerMinute      int               `env:"RATE_PER_USER_PER_MINUTE"` // 0 = discord.DefaultRatePerUser
	RateBurst          int               `env:"RATE_BURST"`               // 0 = discord.DefaultRateBurst
	MaxConcurrent      int               `env:"MAX_CONCURRENT_ANSWERS"`   // 0 = discord.DefaultMaxConcurrent
	ShutdownTimeout    time.Duration     `env:"SHUTDOWN_TIMEOUT"`         // 0 = discord.DefaultShutdownTimeout
	MetricsAddr        string            `env:"METRICS_ADDR"`

	// Logging.
	LogLevel   string `env:"LOG_LEVEL"`                    // debug, info, warn, error; "" = info for serve, warn otherwise
	LogFormat  string `env:"LOG_FORMAT" envDefault:"text"` // text or json
	LogContent bool   `env:"LOG_CONTENT"`                  // log question and answer text at info level
}

// loadConfig reads .env (if present; real environment variables win) and
// the environment into a Config.
func loadConfig() (Config, error) {
	if err := godotenv.Load(); err != nil && !errors.Is(err, os.ErrNotExist) {
		return Config{}, envFileError(".env", err)
	}
	var c Config
	if err := env.Parse(&c); err != nil {
		return Config{}, fmt.Errorf("configuration: %w", envError(err))
	}
	if c.DataDir == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			dir = os.TempDir()
		}
		c.DataDir = filepath.Join(dir, "verbatim")
	}
	if err := c.check(); err != nil {
		return Config{}, fmt.Errorf("configuration: %w", err)
	}
	if err := c.checkCollections(); err != nil {
		return Config{}, fmt.Errorf("configuration: DISCORD_CHANNEL_COLLECTIONS: %w", err)
	}
	return c, nil
}

// check reports the first setting with a value it cannot take.
func (c Config) check() error {
	for _, o := range []struct {
		name, value string
		allowed     []string
	}{
		{"EMBEDDER", c.Embedder, []string{"auto", "local", "hashed", "openai"}},
		{"SENTENCE_ENCODER", c.SentenceEncoder, []string{"minilm", "off"}},
		{"LLM_RESPONSE_FORMAT", c.LLMFormat, []string{"auto", "json_schema", "json_object", "none"}},
		{"LOG_FORMAT", c.LogFormat, []string{"text", "json"}},
	} {
		if !slices.Contains(o.allowed, o.value) {
			n := len(o.allowed)
			return fmt.Errorf("%s must be %s or %s, not %q", o.name, strings.Join(o.allowed[:n-1], ", "), o.allowed[n-1], o.value)
		}
	}
	for _, u := range []struct{ name, value string }{{"LLM_BASE_URL", c.LLMBaseURL}, {"EMBEDDING_BASE_URL", c.EmbeddingBaseURL}} {
		if _, err := openaihttp.BaseURL(u.value); err != nil {
			return fmt.Errorf("%s: %w", u.name, err)
		}
	}
	if c.MaxParagraphs < 0 || c.MaxCorpusBytes < 0 || c.MaxArticleParagraphs < 0 {
		return errors.New("MAX_PARAGRAPHS, MAX_CORPUS_BYTES and MAX_ARTICLE_PARAGRAPHS must not be negative")
	}
	if c.SentenceWeight < 0 {
		return errors.New("SENTENCE_WEIGHT must not be negative")
	}
	if c.MaxSentences < 0 {
		return errors.New("MAX_SENTENCES must not be negative")
	}
	if c.VectorWeight < 0 {
		return errors.New("VECTOR_WEIGHT must not be negative")
	}
	if c.SyncInterval < 0 || c.SyncHostRate < 0 {
		return errors.New("SYNC_INTERVAL and SYNC_HOST_RATE must not be negative")
	}
	if c.LogLevel != "" {
		var l slog.Level
		if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
			return fmt.Errorf("LOG_LEVEL: %w", err)
		}
	}
	return nil
}

// limitsText names the corpus limits in force, for reports.
func (c Config) limitsText() string {
	paras, bytes := c.corpusLimits()
	return fmt.Sprintf("MAX_PARAGRAPHS=%d, MAX_CORPUS_BYTES=%d, MAX_ARTICLE_PARAGRAPHS=%d",
		paras, bytes, cmp.Or(c.MaxArticleParagraphs, corpus.DefaultMaxArticleParagraphs))
}

// corpusLimits are MAX_PARAGRAPHS and MAX_CORPUS_BYTES, defaults filled in.
func (c Config) corpusLimits() (paras int, bytes int64) {
	return cmp.Or(c.MaxParagraphs, corpus.DefaultMaxParagraphs), cmp.Or(c.MaxCorpusBytes, corpus.DefaultMaxCorpusBytes)
}

// checkCollections checks that every collection named in
// DISCORD_CHANNEL_COLLECTIONS is a sub-folder of ARTICLES_DIR.
func (c Config) checkCollections() error {
	if len(c.DiscordCollections) == 0 {
		return nil
	}
	if c.ArticlesDir == "" {
		return errors.New("collections are sub-folders of ARTICLES_DIR, which is not set")
	}
	for ch, col := range c.DiscordCollections {
		if strings.TrimSpace(ch) == "" || col == "" || col == "." || col == ".." || strings.ContainsAny(col, `/\`) {
			return fmt.Errorf("%q:%q is not channel:folder, with a folder directly in ARTICLES_DIR", ch, col)
		}
		if fi, err := os.Stat(filepath.Join(c.ArticlesDir, col)); err != nil || !fi.IsDir() {
			return fmt.Errorf("collection %q is not a folder in ARTICLES_DIR", col)
		}
	}
	return nil
}

// generating reports whether an LLM is configured.
func (c Config) generating() bool { return c.OpenAIKey != "" || c.LLMBaseURL != "" }

// defaultEmbeddingModel is OpenAI's embedding model, used when
// EMBEDDING_MODEL is empty.
const defaultEmbeddingModel = "text-embedding-3-small"

// useOpenAIEmbeddings reports whether embeddings come from the API: when
// asked for, or (auto) when an embedding model or server is named, or an
// OpenAI key is given for OpenAI itself. A key beside LLM_BASE_URL (often a
// placeholder for a local server) does not switch the embedder.
func (c Config) useOpenAIEmbeddings() bool {
	return c.Embedder == "openai" ||
		(c.Embedder == "auto" && (c.OpenAIKey != "" && c.LLMBaseURL == "" || c.EmbeddingModel != "" || c.EmbeddingBaseURL != ""))
}

// envError rewrites env's parse errors, which name Go fields, to name the
// environment variables instead ("LLM_TIMEOUT: time: invalid duration …").
func envError(err error) error {
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		return err
	}
	t := reflect.TypeFor[Config]()
	msgs := make([]string, 0, len(agg.Errors))
	for _, e := range agg.Errors {
		var pe env.ParseError
		if errors.As(e, &pe) {
			if f, ok := t.FieldByName(pe.Name); ok {
				name, _, _ := strings.Cut(f.Tag.Get("env"), ",")
				msgs = append(msgs, fmt.Sprintf("%s: %v", name, pe.Err))
				continue
			}
		}
		msgs = append(msgs, e.Error())
	}
	return errors.New(strings.Join(msgs, "; "))
}

// logger builds the process logger writing to w, the command's stderr, so
// that stdout stays clean for answers and --json output.
func (c Config) logger(w io.Writer, fallback slog.Level) *slog.Logger {
	level := fallback
	if c.LogLevel != "" {
		_ = level.UnmarshalText([]byte(c.LogLevel)) // validated in loadConfig
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// envLine is a well-formed .env assignment: NAME=value or NAME: value,
// perhaps after "export".
var envLine = regexp.MustCompile(`^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*[=:]\s*(.*)$`)

// envFileError describes a .env file godotenv could not read by its file
// and line and the variable's name, never by its text: godotenv's own
// message quotes the file from the fault on, secrets included.
func envFileError(name string, err error) error {
	data, rerr := os.ReadFile(name)
	if rerr != nil {
		return fmt.Errorf("reading %s: %w", name, rerr)
	}
	for i, line := range strings.Split(string(data), "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		m := envLine.FindStringSubmatch(line)
		if m == nil {
			return fmt.Errorf("reading %s: line %d is not NAME=value (values are not shown)", name, i+1)
		}
		if v := m[2]; v != "" && strings.ContainsAny(v[:1], `"'`+"`") && strings.Count(v, v[:1]) < 2 {
			return fmt.Errorf("reading %s: line %d: the quoted value of %s is not closed on its line (values are not shown)", name, i+1, m[1])
		}
	}
	return fmt.Errorf("reading %s: the file is malformed (values are not shown)", name)
}
