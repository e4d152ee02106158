// Package discordfake is an in-process fake of Discord's gateway and REST API
// for tests that drive the real discordgo client. Point a discordgo.Session
// at it with Client (an *http.Client whose transport sends discord.com
// requests to the fake, so no package globals are touched) and Dialer; the
// fake then serves gateway discovery, a websocket gateway (HELLO, IDENTIFY →
// READY, heartbeat ACKs, RESUME → RESUMED with replay of missed events) and
// the REST endpoints a bot uses. Every REST call and every gateway frame the
// client sends is recorded; tests wait for them with WaitFor and
// WaitForFrame, dispatch events with the typed helpers, script responses
// (a 429, a 500) with Script, and drop the connection with Drop.
package discordfake

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Options configure a Server. Zero values pick the defaults noted.
type Options struct {
	// Token is the bot token the fake accepts (with or without the "Bot "
	// prefix). When set, REST calls with another token get 401 and an
	// IDENTIFY or RESUME with another token is closed with code 4004.
	// "" accepts any token.
	Token string
	// BotID is the bot user's ID; default "1000".
	BotID string
	// BotName is the bot user's name; default "Verbatim".
	BotName string
	// AppID is the application ID sent in READY; default BotID.
	AppID string
	// GuildID is the guild listed in READY; default "2000".
	GuildID string
	// HeartbeatInterval is sent in HELLO; default 41.25 s.
	HeartbeatInterval time.Duration
	// InteractionDeadline is how long after an INTERACTION_CREATE is
	// written the first callback is accepted; later ones get Discord's
	// 10062 "Unknown interaction". Default 3 s.
	InteractionDeadline time.Duration
}

// Server is a running fake. Create it with New and stop it with Close.
type Server struct {
	opts Options
	srv  *httptest.Server

	calls  *record[Call]
	frames *record[Frame]

	mu            sync.Mutex
	nextID        uint64
	revoked       *Revocation
	failIdentify  int
	scripts       map[string][]Response
	limits        map[string]*bucket // by "METHOD /path"
	messages      map[string]*storedMessage
	interactions  map[string]*interactionState // by ID
	byToken       map[string]*interactionState
	commands      map[string][]json.RawMessage // by scope: "" global, else guild ID
	commandIDs    map[string]string            // command name → ID
	events        []event                      // dispatches from eventBase on; seq = eventBase + index + 1
	eventBase     int
	eventsChanged chan struct{}
	delivered     int               // events written to some connection
	sessions      map[string]int    // session ID → first event index it may receive
	channelGuild  map[string]string // channel ID → guild ID ("" for DMs)
	channels      map[string]*Channel
	conns         map[*conn]bool
	current       *conn
}

// New starts a fake Discord on a loopback httptest server.
func New(opts Options) *Server {
	if opts.BotID == "" {
		opts.BotID = "1000"
	}
	if opts.BotName == "" {
		opts.BotName = "Verbatim"
	}
	if opts.AppID == "" {
		opts.AppID = opts.BotID
	}
	if opts.GuildID == "" {
		opts.GuildID = "2000"
	}
	if opts.HeartbeatInterval <= 0 {
		opts.HeartbeatInterval = 41250 * time.Millisecond
	}
	if opts.InteractionDeadline <= 0 {
		opts.InteractionDeadline = 3 * time.Second
	}
	s := &Server{
		opts:          opts,
		calls:         newRecord[Call](),
		frames:        newRecord[Frame](),
		nextID:        1_000_000,
		scripts:       make(map[string][]Response),
		limits:        make(map[string]*bucket),
		messages:      make(map[string]*storedMessage),
		interactions:  make(map[string]*interactionState),
		byToken:       make(map[string]*interactionState),
		commands:      make(map[string][]json.RawMessage),
		commandIDs:    make(map[string]string),
		eventsChanged: make(chan struct{}),
		sessions:      make(map[string]int),
		channelGuild:  make(map[string]string),
		channels:      make(map[string]*Channel),
		conns:         make(map[*conn]bool),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/", s.serveREST)
	mux.HandleFunc("/gateway/", s.serveGateway)
	s.srv = httptest.NewServer(mux)
	return s
}

// Close drops every gateway connection and stops the server.
func (s *Server) Close() {
	s.mu.Lock()
	for c := range s.conns {
		c.close()
	}
	s.mu.Unlock()
	s.srv.Close()
}

// BotUser is the bot's own user.
func (s *Server) BotUser() User { return User{ID: s.opts.BotID, Username: s.opts.BotName, Bot: true} }

// GuildID is the guild the bot is in.
func (s *Server) GuildID() string { return s.opts.GuildID }

// Transport returns a RoundTripper that sends requests for discord.com
// (and discordapp.com) to the fake, and refuses any other host so a test
// can never reach the network.
func (s *Server) Transport() http.RoundTripper {
	target, _ := url.Parse(s.srv.URL)
	return rewriter{target: target, base: s.srv.Client().Transport}
}

// URL is the fake's base URL, for a client pointed at it directly (as
// discord.Config.APIURL does) rather than through Transport.
func (s *Server) URL() string { return s.srv.URL }

// DirectClient returns an *http.Client that reaches only the fake's own
// address: requests to discord.com fail, so a client that works with it
// really is pointed at URL.
func (s *Server) DirectClient() *http.Client {
	target, _ := url.Parse(s.srv.URL)
	return &http.Client{Transport: rewriter{target: target, base: s.srv.Client().Transport, direct: true}, Timeout: 20 * time.Second}
}

// Client returns an *http.Client using Transport; give it to
// discordgo.Session.Client.
func (s *Server) Client() *http.Client {
	return &http.Client{Transport: s.Transport(), Timeout: 20 * time.Second}
}

// Dialer returns a websocket dialer for discordgo.Session.Dialer. The
// gateway URL the fake hands out already points at the fake.
func (s *Server) Dialer() *websocket.Dialer {
	return &websocket.Dialer{HandshakeTimeout: 5 * time.Second}
}

type rewriter struct {
	target *url.URL
	base   http.RoundTripper
	direct bool // refuse discord.com too: only the fake's own address
}

// RoundTrip sends a Discord request to the fake (one already addressed to
// the fake goes as it is).
func (r rewriter) RoundTrip(req *http.Request) (*http.Response, error) {
	switch req.URL.Hostname() {
	case "discord.com", "discordapp.com", "www.discord.com":
		if r.direct {
			return nil, fmt.Errorf("discordfake: refusing request to %q: this client reaches only %s", req.URL.Host, r.target.Host)
		}
	case r.target.Hostname():
		if req.URL.Host == r.target.Host {
			return r.base.RoundTrip(req)
		}
		fallthrough
	default:
		return nil, fmt.Errorf("discordfake: refusing request to non-Discord host %q", req.URL.Host)
	}
	out := req.Clone(req.Context())
	out.URL.Scheme = r.target.Scheme
	out.URL.Host = r.target.Host
	out.Host = r.target.Host
	return r.base.RoundTrip(out)
}

// CloseIdleConnections closes the pooled connections to the fake, so
// that http.Client.CloseIdleConnections works through the rewriter.
func (r rewriter) CloseIdleConnections() {
	if c, ok := r.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// Call is one REST request the client made.
type Call struct {
	Method   string
	Path     string // after the API version, e.g. "/channels/5/messages"
	Query    url.Values
	Header   http.Header
	Body     []byte // the raw request body (JSON)
	Status   int    // the status the fake answered with
	Response []byte // the JSON body it answered with, if any
	Time     time.Time
}

// ResponseID is the "id" of the object the fake answered with (a created
// message, say), or "".
func (c Call) ResponseID() string {
	var v struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(c.Response, &v)
	return v.ID
}

// Is reports whether c is a method request to path.
func (c Call) Is(method, path string) bool { return c.Method == method && c.Path == path }

// Message decodes the body as a message (create, edit, webhook execute).
func (c Call) Message() (MessagePayload, error) {
	var p MessagePayload
	err := json.Unmarshal(c.Body, &p)
	return p, err
}

// Callback decodes the body of an interaction callback.
func (c Call) Callback() (Callback, error) {
	var cb Callback
	err := json.Unmarshal(c.Body, &cb)
	return cb, err
}

// OK reports whether the fake answered with a 2xx status.
func (c Call) OK() bool { return c.Status >= 200 && c.Status < 300 }

// Frame is one gateway payload the client sent.
type Frame struct {
	Op   int
	Data json.RawMessage
	Time time.Time
}

// Gateway opcodes the client sends.
const (
	OpHeartbeat = 1
	OpIdentify  = 2
	OpResume    = 6
)

// Calls returns every REST call recorded so far, oldest first.
func (s *Server) Calls() []Call { return s.calls.all() }

// Frames returns every gateway frame the client sent so far, oldest first.
func (s *Server) Frames() []Frame { return s.frames.all() }

// WaitFor returns the first recorded call, past or future, for which match
// is true, or ctx's error.
func (s *Server) WaitFor(ctx context.Context, match func(Call) bool) (Call, error) {
	got, err := s.calls.wait(ctx, 1, match)
	if err != nil {
		return Call{}, err
	}
	return got[0], nil
}

// WaitForN returns the first n recorded calls, past or future, for which
// match is true, or ctx's error.
func (s *Server) WaitForN(ctx context.Context, n int, match func(Call) bool) ([]Call, error) {
	return s.calls.wait(ctx, n, match)
}

// WaitForFrame returns the first gateway frame, past or future, for which
// match is true, or ctx's error.
func (s *Server) WaitForFrame(ctx context.Context, match func(Frame) bool) (Frame, error) {
	got, err := s.frames.wait(ctx, 1, match)
	if err != nil {
		return Frame{}, err
	}
	return got[0], nil
}

// Response is a scripted REST answer.
type Response struct {
	Status int
	Header http.Header
	Body   any // marshalled as JSON; nil sends no body
}

// RateLimited is Discord's 429 for a per-route limit, asking the client to
// retry after d (in the body's retry_after and the Retry-After and
// X-RateLimit-* headers).
func RateLimited(d time.Duration) Response {
	secs := d.Seconds()
	h := http.Header{}
	h.Set("Retry-After", strconv.Itoa(int(math.Ceil(secs))))
	h.Set("X-RateLimit-Limit", "5")
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("X-RateLimit-Reset-After", strconv.FormatFloat(secs, 'f', 3, 64))
	h.Set("X-RateLimit-Bucket", "fake-bucket")
	h.Set("X-RateLimit-Scope", "user")
	return Response{Status: http.StatusTooManyRequests, Header: h, Body: map[string]any{
		"message": "You are being rate limited.", "retry_after": secs, "global": false,
	}}
}

// Limit rate-limits method requests to path (as in Call.Path) the way
// Discord limits a route's bucket: at most n requests in each window of
// length per, the window starting at the first request after the last one
// ended. Requests beyond n get a 429 whose retry_after is the rest of the
// window; every response on the route carries the X-RateLimit headers.
// Scripted responses are answered first and not counted.
func (s *Server) Limit(method, path string, n int, per time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits[method+" "+path] = &bucket{n: n, per: per}
}

// bucket is one rate-limited route.
type bucket struct {
	n     int
	per   time.Duration
	start time.Time
	used  int
}

// take counts a request at now: ok, with the headers to send, or the 429
// to answer.
func (b *bucket) take(now time.Time) (h http.Header, limited *Response) {
	if now.Sub(b.start) >= b.per {
		b.start, b.used = now, 0
	}
	left := b.per - now.Sub(b.start)
	if b.used >= b.n {
		r := RateLimited(left)
		return nil, &r
	}
	b.used++
	h = http.Header{}
	h.Set("X-RateLimit-Limit", strconv.Itoa(b.n))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(b.n-b.used))
	h.Set("X-RateLimit-Reset-After", strconv.FormatFloat(left.Seconds(), 'f', 3, 64))
	h.Set("X-RateLimit-Bucket", "fake-bucket")
	return h, nil
}

// Script queues responses for method requests to path (as in Call.Path);
// each matching request consumes one, then the fake's normal behaviour
// resumes.
func (s *Server) Script(method, path string, rs ...Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := method + " " + path
	s.scripts[k] = append(s.scripts[k], rs...)
}

// RevokeToken makes every later REST call fail with 401 and every later
// IDENTIFY or RESUME close with 4004, as after the token is reset in the
// developer portal.
func (s *Server) RevokeToken() {
	s.RevokeTokenWith(Revocation{Status: http.StatusUnauthorized, Close: 4004})
}

// Revocation is how the fake refuses a revoked token: REST calls get
// Status with error Code in the body, IDENTIFY and RESUME are closed with
// Close. Discord has been seen to answer 400 with code 40001 and to close
// with 4000 rather than 4004.
type Revocation struct {
	Status, Code, Close int
}

// RevokeTokenWith revokes the token, refusing it as r says.
func (s *Server) RevokeTokenWith(r Revocation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked = &r
}

// FailIdentify makes the gateway answer every later IDENTIFY and RESUME by
// closing the connection with code (4004 authentication failed, 4014
// disallowed intents); 0 restores normal behaviour. REST is unaffected.
func (s *Server) FailIdentify(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failIdentify = code
}

// AckLatency is the time from writing an interaction's INTERACTION_CREATE
// to the client's first callback for it; false until both happened.
func (s *Server) AckLatency(interactionID string) (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.interactions[interactionID]
	if in == nil || in.dispatched.IsZero() || in.firstCallback.IsZero() {
		return 0, false
	}
	return in.firstCallback.Sub(in.dispatched), true
}

// Forget drops what the fake has recorded so far — calls, frames, stored
// messages, interactions and delivered events — so that a long benchmark
// measures the client's memory, not the fake's. Call it only while nothing
// waits on the fake.
func (s *Server) Forget() {
	s.calls.reset()
	s.frames.reset()
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.messages)
	clear(s.interactions)
	clear(s.byToken)
	if n := s.delivered - s.eventBase; n > 0 {
		s.events = append([]event(nil), s.events[n:]...)
		s.eventBase = s.delivered
	}
}

// Original returns the ID of the message that answers an interaction
// (its original response), once the client has acknowledged it.
func (s *Server) Original(interactionID string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.interactions[interactionID]
	if in == nil || in.original == "" {
		return "", false
	}
	return in.original, true
}

// Message returns the current state of a stored message (sent by a user
// through the fake or by the bot through REST).
func (s *Server) Message(id string) (MessagePayload, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.messages[id]
	if m == nil {
		return MessagePayload{}, false
	}
	return m.payload(), true
}

func (s *Server) newID() string {
	s.nextID++
	return strconv.FormatUint(s.nextID, 10)
}

func (s *Server) tokenOK(tok string) bool {
	if s.revoked != nil {
		return false
	}
	return s.opts.Token == "" || strings.TrimPrefix(tok, "Bot ") == strings.TrimPrefix(s.opts.Token, "Bot ")
}

// record is an append-only log that callers can wait on.
type record[T any] struct {
	mu      sync.Mutex
	items   []T
	changed chan struct{} // closed and replaced on every add
}

func newRecord[T any]() *record[T] { return &record[T]{changed: make(chan struct{})} }

func (r *record[T]) add(v T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.items = append(r.items, v)
	close(r.changed)
	r.changed = make(chan struct{})
}

func (r *record[T]) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.items = nil
}

func (r *record[T]) all() []T {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]T(nil), r.items...)
}

func (r *record[T]) wait(ctx context.Context, n int, match func(T) bool) ([]T, error) {
	var got []T
	for seen := 0; ; {
		r.mu.Lock()
		seen = min(seen, len(r.items)) // reset empties the log
		items := r.items[seen:]
		changed := r.changed
		r.mu.Unlock()
		for _, v := range items {
			if match(v) {
				got = append(got, v)
				if len(got) == n {
					return got, nil
				}
			}
		}
		seen += len(items)
		select {
		case <-changed:
		case <-ctx.Done():
			return got, fmt.Errorf("discordfake: %d of %d awaited records seen: %w", len(got), n, ctx.Err())
		}
	}
}
