package discordfake_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

	"github.com/verbatim-bot/verbatim/bot/discord/discordfake"
)

func session(t *testing.T, f *discordfake.Server, token string) *discordgo.Session {
	t.Helper()
	s, err := discordgo.New("Bot " + token)
	if err != nil {
		t.Fatal(err)
	}
	s.Client = f.Client()
	s.Dialer = f.Dialer()
	return s
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestSession drives discordgo through READY, a dispatched message, an
// interaction answered and edited, a dropped connection resumed, and a
// scripted 429.
func TestSession(t *testing.T) {
	f := discordfake.New(discordfake.Options{Token: "good"})
	defer f.Close()
	ctx := ctxT(t)
	s := session(t, f, "good")

	msgs := make(chan *discordgo.MessageCreate, 8)
	inters := make(chan *discordgo.InteractionCreate, 8)
	s.AddHandler(func(_ *discordgo.Session, m *discordgo.MessageCreate) { msgs <- m })
	s.AddHandler(func(_ *discordgo.Session, i *discordgo.InteractionCreate) { inters <- i })
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.State.User.ID; got != f.BotUser().ID {
		t.Fatalf("READY user = %q, want %q", got, f.BotUser().ID)
	}

	alice := discordfake.User{ID: "42", Username: "alice"}
	id, err := f.Mention("7", alice, "hello")
	if err != nil {
		t.Fatal(err)
	}
	m := recv(t, ctx, msgs)
	if m.ID != id || m.Author.ID != "42" || len(m.Mentions) != 1 || m.Mentions[0].ID != f.BotUser().ID {
		t.Fatalf("MESSAGE_CREATE = %+v", m.Message)
	}
	rid, err := f.Reply(id, alice, "again", true)
	if err != nil {
		t.Fatal(err)
	}
	if r := recv(t, ctx, msgs); r.ID != rid || r.ReferencedMessage == nil || r.ReferencedMessage.ID != id {
		t.Fatalf("reply = %+v", r.Message)
	}

	in, err := f.Command(discordfake.Invoker{User: alice, ChannelID: "7", GuildID: f.GuildID(), Permissions: 32},
		"ask", discordfake.StringOption("question", "why?"))
	if err != nil {
		t.Fatal(err)
	}
	ic := recv(t, ctx, inters)
	if ic.Member == nil || ic.Member.Permissions != 32 || ic.ApplicationCommandData().Options[0].StringValue() != "why?" {
		t.Fatalf("interaction = %+v", ic.Interaction)
	}
	if err := s.InteractionRespond(ic.Interaction, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource}); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.AckLatency(in.ID); !ok {
		t.Fatal("no ack latency recorded")
	}
	err = s.InteractionRespond(ic.Interaction, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource})
	var rest *discordgo.RESTError
	if !errors.As(err, &rest) || rest.Message == nil || rest.Message.Code != 40060 {
		t.Fatalf("second acknowledgement: err = %v, want 40060", err)
	}
	text := "answer"
	msg, err := s.InteractionResponseEdit(ic.Interaction, &discordgo.WebhookEdit{Content: &text})
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := f.Message(msg.ID); p.Content != "answer" {
		t.Fatalf("stored original = %+v", p)
	}

	// A 429 is retried after retry_after.
	f.Script(http.MethodPost, "/channels/7/messages", discordfake.RateLimited(50*time.Millisecond))
	if _, err := s.ChannelMessageSend("7", "hi"); err != nil {
		t.Fatal(err)
	}
	posts, err := f.WaitForN(ctx, 2, func(c discordfake.Call) bool { return c.Is(http.MethodPost, "/channels/7/messages") })
	if err != nil {
		t.Fatal(err)
	}
	if posts[0].Status != http.StatusTooManyRequests || posts[1].Status != http.StatusOK {
		t.Fatalf("statuses = %d, %d", posts[0].Status, posts[1].Status)
	}
	recv(t, ctx, msgs) // the bot's own message is echoed

	// Drop the connection: discordgo resumes and gets the missed event.
	if !f.Drop(0) {
		t.Fatal("no connection to drop")
	}
	id2, _ := f.Mention("7", alice, "after the drop")
	if _, err := f.WaitForFrame(ctx, func(fr discordfake.Frame) bool { return fr.Op == discordfake.OpResume }); err != nil {
		t.Fatal(err)
	}
	if m := recv(t, ctx, msgs); m.ID != id2 {
		t.Fatalf("after resume got %s, want %s", m.ID, id2)
	}
}

func TestInvalidToken(t *testing.T) {
	f := discordfake.New(discordfake.Options{Token: "good"})
	defer f.Close()
	s := session(t, f, "bad")
	if _, err := s.User("@me"); err == nil {
		t.Fatal("REST with a bad token succeeded")
	}
	err := s.Open()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 4004 {
		t.Fatalf("Open = %v, want close 4004", err)
	}
}

func TestDispatchAndTransport(t *testing.T) {
	f := discordfake.New(discordfake.Options{})
	defer f.Close()
	ctx := ctxT(t)
	s := session(t, f, "x")
	guilds := make(chan *discordgo.GuildCreate, 1)
	s.AddHandler(func(_ *discordgo.Session, g *discordgo.GuildCreate) { guilds <- g })
	if err := f.Dispatch("GUILD_CREATE", map[string]any{"id": f.GuildID(), "name": "Test guild"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Open(); err != nil { // the event queued before READY is delivered after it
		t.Fatal(err)
	}
	defer s.Close()
	if g := recv(t, ctx, guilds); g.ID != f.GuildID() || g.Name != "Test guild" {
		t.Errorf("GUILD_CREATE = %+v", g.Guild)
	}

	c := &http.Client{Transport: f.Transport()}
	if _, err := c.Get("https://example.com/"); err == nil {
		t.Error("the transport let a request leave for another host")
	}
	resp, err := c.Get("https://discord.com/api/v9/gateway")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /gateway = %d", resp.StatusCode)
	}
}

func TestLimits(t *testing.T) {
	f := discordfake.New(discordfake.Options{})
	defer f.Close()
	s := session(t, f, "x")
	long := make([]byte, 2001)
	for i := range long {
		long[i] = 'a'
	}
	_, err := s.ChannelMessageSend("7", string(long))
	var rest *discordgo.RESTError
	if !errors.As(err, &rest) || rest.Response.StatusCode != http.StatusBadRequest {
		t.Fatalf("2,001 characters: err = %v, want 400", err)
	}
	var body struct {
		Code   int `json:"code"`
		Errors struct {
			Content struct {
				Errors []struct{ Code, Message string } `json:"_errors"`
			} `json:"content"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(rest.ResponseBody, &body); err != nil || body.Code != 50035 || len(body.Errors.Content.Errors) != 1 ||
		body.Errors.Content.Errors[0].Code != "BASE_TYPE_MAX_LENGTH" {
		t.Errorf("2,001 characters: body %s, want Discord's nested form errors", rest.ResponseBody)
	}
	if _, err := s.ChannelMessageSend("7", string(long[:2000])); err != nil {
		t.Fatalf("2,000 characters: %v", err)
	}
	_, err = s.ChannelMessageSend("7", "")
	if !errors.As(err, &rest) || rest.Message == nil || rest.Message.Code != 50006 {
		t.Errorf("empty message: err = %v, want 50006", err)
	}
}

func recv[T any](t *testing.T, ctx context.Context, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-ctx.Done():
		t.Fatal("timed out waiting for an event")
		panic("unreachable")
	}
}

// TestRouteLimit checks that Limit refuses a route's requests beyond its
// count with a 429 whose retry_after is the rest of the window, sends
// Discord's X-RateLimit headers on the requests it lets through, and
// starts a new window once the old one is over.
func TestRouteLimit(t *testing.T) {
	f := discordfake.New(discordfake.Options{})
	defer f.Close()
	f.Limit(http.MethodPost, "/channels/7/messages", 2, 300*time.Millisecond)
	c := f.DirectClient()
	post := func() *http.Response {
		t.Helper()
		resp, err := c.Post(f.URL()+"/api/v10/channels/7/messages", "application/json", strings.NewReader(`{"content":"hi"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for i, want := range []string{"1", "0"} {
		if r := post(); r.StatusCode != http.StatusOK || r.Header.Get("X-RateLimit-Remaining") != want {
			t.Errorf("request %d: %d, remaining %q", i+1, r.StatusCode, r.Header.Get("X-RateLimit-Remaining"))
		}
	}
	if r := post(); r.StatusCode != http.StatusTooManyRequests || r.Header.Get("X-RateLimit-Reset-After") == "" {
		t.Errorf("third request in the window: %d, reset after %q", r.StatusCode, r.Header.Get("X-RateLimit-Reset-After"))
	}
	time.Sleep(350 * time.Millisecond) // the window ends
	if r := post(); r.StatusCode != http.StatusOK {
		t.Errorf("first request of the next window: %d", r.StatusCode)
	}
}

// TestForumPost checks the events of a forum post as Discord sends them:
// THREAD_CREATE (newly created, in the forum) before the first message,
// whose ID is the thread's; and a reaction dispatched as
// MESSAGE_REACTION_ADD.
func TestForumPost(t *testing.T) {
	f := discordfake.New(discordfake.Options{})
	defer f.Close()
	ctx := ctxT(t)
	s := session(t, f, "x")
	s.SyncEvents = true // to see the order events arrive in
	type seen struct{ kind, id, parent string }
	events := make(chan seen, 10)
	s.AddHandler(func(_ *discordgo.Session, tc *discordgo.ThreadCreate) {
		if tc.NewlyCreated {
			events <- seen{"thread", tc.ID, tc.ParentID}
		}
	})
	s.AddHandler(func(_ *discordgo.Session, m *discordgo.MessageCreate) { events <- seen{"message", m.ID, m.ChannelID} })
	s.AddHandler(func(_ *discordgo.Session, r *discordgo.MessageReactionAdd) {
		events <- seen{"reaction " + r.Emoji.Name, r.MessageID, r.UserID}
	})
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	f.AddForum("90", "help", discordfake.ForumTag{ID: "91", Name: "Resolved"})
	id, err := f.Post("90", discordfake.User{ID: "5", Username: "asker"}, "Title", "Body")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.React(id, discordfake.User{ID: "5"}, "👍"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []seen{{"thread", id, "90"}, {"message", id, id}, {"reaction 👍", id, "5"}} {
		if got := recv(t, ctx, events); got != want {
			t.Errorf("event %+v, want %+v", got, want)
		}
	}
	if ch, ok := f.Channel(id); !ok || ch.ParentID != "90" || ch.OwnerID != "5" || ch.Name != "Title" {
		t.Errorf("post = %+v", ch)
	}
}
