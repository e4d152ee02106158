package discord

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/verbatim-bot/verbatim/bot/discord/discordfake"
)

// TestHealthzFollowsREADY checks /healthz end to end: ready after READY,
// not ready while the gateway is down even though its websocket opens
// (Discord closes every IDENTIFY), ready again once a session resumes or
// starts, and answering again.
func TestHealthzFollowsREADY(t *testing.T) {
	t.Parallel()
	f := newFake(t, discordfake.Options{})
	ix, real := library(t)
	m := NewMetrics(nil)
	h := start(t, f, Config{Metrics: m, ReconnectWait: 100 * time.Millisecond}, real, ix, nil)
	if body := scrape(t, m, "/healthz"); body != "ok\n" {
		t.Fatalf("/healthz after start = %q", body)
	}
	f.FailIdentify(4000) // the websocket opens, HELLO comes, READY never does
	f.Drop(0)
	if _, err := f.WaitForN(h.ctx, 2, func(c discordfake.Call) bool { return c.Is(http.MethodGet, "/users/@me") }); err != nil {
		t.Fatal(err) // the token check after the first failed reconnect
	}
	if body := scrape(t, m, "/healthz"); !strings.HasPrefix(body, "not connected") {
		t.Errorf("/healthz while IDENTIFY fails = %q", body)
	}
	f.FailIdentify(0)
	h.waitLog("connecting to the gateway failed; retrying")
	q := h.mention(general, user(1), capitalQ)
	if _, p := h.replyTo(q); !isBaku(p.Content) {
		t.Errorf("answer after reconnecting: %q", p.Content)
	}
	if body := scrape(t, m, "/healthz"); body != "ok\n" {
		t.Errorf("/healthz after reconnecting = %q", body)
	}
}

// TestAnswerSecondsCountsDelivered checks that an answer Discord never
// took is not counted in verbatim_answer_seconds.
func TestAnswerSecondsCountsDelivered(t *testing.T) {
	t.Parallel()
	f := newFake(t, discordfake.Options{})
	ix, real := library(t)
	m := NewMetrics(nil)
	h := start(t, f, Config{Metrics: m}, real, ix, nil)
	h.allowed[http.StatusInternalServerError] = true
	fail := discordfake.Response{Status: http.StatusInternalServerError, Body: map[string]any{"message": "500: Internal Server Error", "code": 0}}
	f.Script(http.MethodPost, "/channels/"+general+"/messages", fail)
	q := h.mention(general, user(1), capitalQ)
	h.waitLog("sending an answer", "event_id", q)
	if body := scrape(t, m, "/metrics"); !strings.Contains(body, "verbatim_answer_seconds_count 0\n") {
		t.Errorf("an undelivered answer was timed:\n%s", grepLines(body, "verbatim_answer_seconds_count"))
	}
	q = h.mention(general, user(2), capitalQ)
	h.waitLog("question answered", "event_id", q)
	if body := scrape(t, m, "/metrics"); !strings.Contains(body, "verbatim_answer_seconds_count 1\n") {
		t.Errorf("a delivered answer was not timed:\n%s", grepLines(body, "verbatim_answer_seconds_count"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestInteractionsWithoutData checks that an interaction with no ID or
// token gets no response (there is nowhere to send one), and that an
// autocomplete without data is answered with an empty autocomplete
// result, not a message.
func TestInteractionsWithoutData(t *testing.T) {
	t.Parallel()
	f := newFake(t, discordfake.Options{})
	ix, real := library(t)
	h := start(t, f, Config{}, real, ix, nil)
	h.allowed[http.StatusNotFound] = true // the fake never dispatched these
	h.b.onInteraction(h.b.s, &discordgo.InteractionCreate{Interaction: &discordgo.Interaction{}})
	h.b.onInteraction(h.b.s, &discordgo.InteractionCreate{Interaction: &discordgo.Interaction{
		ID: "999", Token: "tok", Type: discordgo.InteractionApplicationCommandAutocomplete}})
	c := h.wait(func(c discordfake.Call) bool { return c.Is(http.MethodPost, "/interactions/999/tok/callback") })
	if cb, err := c.Callback(); err != nil || cb.Type != discordfake.CallbackAutocomplete || cb.Data == nil || len(cb.Data.Choices) != 0 {
		t.Errorf("autocomplete without data answered %s", c.Body)
	}
	for _, c := range f.Calls() { // onInteraction answers before it returns
		if strings.HasPrefix(c.Path, "/interactions//") {
			t.Errorf("a zero-valued interaction was answered at %s", c.Path)
		}
	}
}
