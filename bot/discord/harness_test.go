package discord

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verbatim-bot/verbatim/bot"
	"github.com/verbatim-bot/verbatim/bot/discord/discordfake"
)

// Channels and users of the fake guild.
const (
	general = "3001"
	other   = "3002"
	quiet   = "3009"
)

func user(n int) discordfake.User {
	return discordfake.User{ID: fmt.Sprint(5000 + n), Username: fmt.Sprintf("user%d", n)}
}

func member(n int, perms int64) discordfake.Invoker {
	return discordfake.Invoker{User: user(n), ChannelID: general, GuildID: "2000", Permissions: perms}
}

// answerFunc adapts a function to Answerer.
type answerFunc func(context.Context, string, bot.Options) (*bot.Answer, error)

func (f answerFunc) Answer(ctx context.Context, q string, o bot.Options) (*bot.Answer, error) {
	return f(ctx, q, o)
}

// harness runs a Bot against a fake Discord for one test.
type harness struct {
	t    testing.TB
	f    *discordfake.Server
	b    *Bot
	logs *logSink
	ctx  context.Context // the test's deadline

	stop    context.CancelFunc
	runErr  chan error
	allowed map[int]bool // statuses the final check accepts besides 2xx
}

// testTimeout bounds every wait of a test; nothing is expected to take
// more than a fraction of it.
const testTimeout = 60 * time.Second

func newFake(t testing.TB, opts discordfake.Options) *discordfake.Server {
	t.Helper()
	f := discordfake.New(opts)
	t.Cleanup(f.Close)
	return f
}

// start runs a bot on f and waits until it has registered its commands.
// When the test ends the bot is stopped, Run must return nil, every
// message it sent must have had mentions disabled, and Discord must have
// accepted every call (unless allowed).
func start(t testing.TB, f *discordfake.Server, cfg Config, a Answerer, lib Library, reload Reload) *harness {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	logs := newLogSink()
	if cfg.Token == "" {
		cfg.Token = "test-token"
	}
	// The bot is pointed at the fake with APIURL, as at any
	// Discord-compatible server; its client reaches nothing else, not even
	// discord.com, so the override is what makes the tests work.
	cfg.APIURL, cfg.HTTPClient, cfg.Dialer, cfg.Logger = f.URL(), f.DirectClient(), f.Dialer(), slog.New(logs)
	b, err := New(cfg, a, lib, reload)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	h := &harness{t: t, f: f, b: b, logs: logs, ctx: ctx, stop: stop, runErr: make(chan error, 1), allowed: map[int]bool{}}
	go func() { h.runErr <- b.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		select {
		case err := <-h.runErr:
			if err != nil {
				t.Errorf("Run = %v", err)
			}
		case <-time.After(testTimeout):
			t.Error("Run did not return")
		}
		h.checkCalls()
	})
	h.waitLog("connected to Discord")
	return h
}

// wait returns the first call matching.
func (h *harness) wait(match func(discordfake.Call) bool) discordfake.Call {
	h.t.Helper()
	c, err := h.f.WaitFor(h.ctx, match)
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}

// waitN returns the first n calls matching.
func (h *harness) waitN(n int, match func(discordfake.Call) bool) []discordfake.Call {
	h.t.Helper()
	cs, err := h.f.WaitForN(h.ctx, n, match)
	if err != nil {
		h.t.Fatal(err)
	}
	return cs
}

func (h *harness) mention(channel string, u discordfake.User, text string) string {
	h.t.Helper()
	id, err := h.f.Mention(channel, u, text)
	if err != nil {
		h.t.Fatal(err)
	}
	return id
}

func (h *harness) command(inv discordfake.Invoker, name string, opts ...discordfake.Option) discordfake.Interaction {
	h.t.Helper()
	in, err := h.f.Command(inv, name, opts...)
	if err != nil {
		h.t.Fatal(err)
	}
	return in
}

// replyTo waits for the bot's reply to message id.
func (h *harness) replyTo(id string) (discordfake.Call, discordfake.MessagePayload) {
	h.t.Helper()
	c := h.wait(isReplyTo(id))
	return c, h.payload(c)
}

func isReplyTo(id string) func(discordfake.Call) bool {
	return func(c discordfake.Call) bool {
		if c.Method != http.MethodPost || !strings.HasSuffix(c.Path, "/messages") || !c.OK() {
			return false
		}
		p, err := c.Message()
		return err == nil && p.MessageReference != nil && p.MessageReference.MessageID == id
	}
}

// callback waits for the acknowledgement of in.
func (h *harness) callback(in discordfake.Interaction) discordfake.Callback {
	h.t.Helper()
	c := h.wait(func(c discordfake.Call) bool { return c.Is(http.MethodPost, in.CallbackPath()) })
	if !c.OK() {
		h.t.Fatalf("callback answered %d: %s", c.Status, c.Response)
	}
	cb, err := c.Callback()
	if err != nil {
		h.t.Fatal(err)
	}
	return cb
}

// original waits for the edit of in's deferred response.
func (h *harness) original(in discordfake.Interaction) (discordfake.Call, discordfake.MessagePayload) {
	h.t.Helper()
	c := h.wait(func(c discordfake.Call) bool { return c.Is(http.MethodPatch, in.OriginalPath()) })
	if !c.OK() {
		h.t.Fatalf("edit answered %d: %s", c.Status, c.Response)
	}
	return c, h.payload(c)
}

func (h *harness) payload(c discordfake.Call) discordfake.MessagePayload {
	h.t.Helper()
	p, err := c.Message()
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}

// checkCalls asserts, over every REST call of the test, that Discord
// accepted it and that every message sent disabled all mentions.
func (h *harness) checkCalls() {
	h.t.Helper()
	for _, c := range h.f.Calls() {
		if !c.OK() && !h.allowed[c.Status] {
			h.t.Errorf("%s %s answered %d: %s", c.Method, c.Path, c.Status, c.Response)
		}
		var p *discordfake.MessagePayload
		switch {
		case strings.HasPrefix(c.Path, "/interactions/"):
			cb, err := c.Callback()
			if err != nil {
				h.t.Errorf("%s: %v", c.Path, err)
				continue
			}
			if cb.Type == discordfake.CallbackMessage || cb.Type == discordfake.CallbackUpdateMessage {
				p = cb.Data
			}
		case strings.HasSuffix(c.Path, "/typing"), strings.HasSuffix(c.Path, "/threads"), strings.HasSuffix(c.Path, "/commands"),
			strings.HasPrefix(c.Path, "/channels/") && strings.Count(c.Path, "/") == 2: // a thread's edit
		case c.Method == http.MethodPost || c.Method == http.MethodPatch:
			m, err := c.Message()
			if err != nil {
				h.t.Errorf("%s: %v", c.Path, err)
				continue
			}
			p = &m
		}
		if p == nil {
			continue
		}
		if am := p.AllowedMentions; am == nil || am.Parse == nil || len(am.Parse) != 0 || am.RepliedUser || len(am.Users)+len(am.Roles) > 0 {
			h.t.Errorf("%s %s: allowed_mentions = %+v, want parse [] and nothing else", c.Method, c.Path, am)
		}
	}
}

// logSink is a slog.Handler that records every record for tests to wait
// on.
type logSink struct {
	mu      sync.Mutex
	recs    []logRecord
	changed chan struct{}
}

type logRecord struct {
	Level slog.Level
	Msg   string
	Attrs map[string]string
}

func newLogSink() *logSink { return &logSink{changed: make(chan struct{})} }

// reset forgets the records so far; only while nothing waits.
func (l *logSink) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs = nil
}

func (l *logSink) Enabled(context.Context, slog.Level) bool { return true }
func (l *logSink) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logSink) WithGroup(string) slog.Handler            { return l }

func (l *logSink) Handle(_ context.Context, r slog.Record) error {
	rec := logRecord{Level: r.Level, Msg: r.Message, Attrs: map[string]string{}}
	r.Attrs(func(a slog.Attr) bool {
		rec.Attrs[a.Key] = a.Value.String()
		return true
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs = append(l.recs, rec)
	close(l.changed)
	l.changed = make(chan struct{})
	return nil
}

// wait returns the first record, past or future, with msg and the given
// attribute values.
func (l *logSink) wait(ctx context.Context, msg string, attrs ...string) (logRecord, error) {
	r, err := l.waitFunc(ctx, func(r logRecord) bool {
		if r.Msg != msg {
			return false
		}
		for i := 0; i+1 < len(attrs); i += 2 {
			if r.Attrs[attrs[i]] != attrs[i+1] {
				return false
			}
		}
		return true
	})
	if err != nil {
		return r, fmt.Errorf("log %q %v not seen: %w", msg, attrs, err)
	}
	return r, nil
}

// waitFunc returns the first record, past or future, matching.
func (l *logSink) waitFunc(ctx context.Context, match func(logRecord) bool) (logRecord, error) {
	for seen := 0; ; {
		l.mu.Lock()
		seen = min(seen, len(l.recs))
		recs, changed := l.recs[seen:], l.changed
		l.mu.Unlock()
		for _, r := range recs {
			if match(r) {
				return r, nil
			}
		}
		seen += len(recs)
		select {
		case <-changed:
		case <-ctx.Done():
			return logRecord{}, ctx.Err()
		}
	}
}

func (h *harness) waitLog(msg string, attrs ...string) logRecord {
	h.t.Helper()
	r, err := h.logs.wait(h.ctx, msg, attrs...)
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

// jsonBody decodes a call's raw body.
func jsonBody(t testing.TB, c discordfake.Call, v any) {
	t.Helper()
	if err := json.Unmarshal(c.Body, v); err != nil {
		t.Fatal(err)
	}
}
