package discord

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/verbatim-bot/verbatim/bot/discord/discordfake"
)

// BenchmarkRateLimitStorm asks n questions at once (n users, one each) in
// a channel where Discord lets 5 messages through every 5 s and answers
// the rest 429 — a sustained storm lasting as long as the bot has messages
// to send. It reports what the askers see: the answer, one notice, only
// the ⚠️ reaction on their question, nothing, or an answer and a notice,
// and when the last answer arrived. Run with
// -benchtime 1x: one op is one storm.
func BenchmarkRateLimitStorm(b *testing.B) {
	for _, n := range []int{40, 80} {
		b.Run(fmt.Sprintf("questions=%d", n), func(b *testing.B) {
			for range b.N {
				stormOnce(b, n)
			}
		})
	}
}

func stormOnce(b *testing.B, n int) {
	f := newFake(b, discordfake.Options{})
	ix, a := library(b)
	h := start(b, f, Config{}, a, ix, nil)
	h.allowed[http.StatusTooManyRequests] = true
	path := "/channels/" + general + "/messages"
	f.Limit(http.MethodPost, path, 5, 5*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	began := time.Now()
	var qs []string
	for i := range n {
		qs = append(qs, h.mention(general, user(300+i), capitalQ))
	}
	for _, q := range qs {
		if _, err := h.logs.waitFunc(ctx, func(r logRecord) bool {
			return r.Attrs["event_id"] == q && (r.Msg == "question answered" || r.Msg == "sending an answer")
		}); err != nil {
			b.Fatal(err)
		}
	}
	// Give notices for failed answers their budget to arrive.
	time.Sleep(noticeTimeout + time.Second)
	var answered, noticed, signalled, nothing, both int
	var last time.Time
	for _, q := range qs {
		var answers, notices int
		for _, c := range f.Calls() {
			if !isReplyTo(q)(c) {
				continue
			}
			switch p := h.payload(c); {
			case isBaku(p.Content):
				answers++
				if c.Time.After(last) {
					last = c.Time
				}
			case p.Content == noticeFailed:
				notices++
			}
		}
		switch {
		case answers == 1 && notices == 0:
			answered++
		case answers == 0 && notices == 1:
			noticed++
		case answers == 0 && notices == 0 && len(f.Reactions(q, failEmoji)) == 1:
			signalled++
		case answers == 0 && notices == 0:
			nothing++
		default:
			both++
		}
	}
	limited := 0
	for _, c := range f.Calls() {
		if c.Is(http.MethodPost, path) && c.Status == http.StatusTooManyRequests {
			limited++
		}
	}
	b.ReportMetric(float64(answered), "answered")
	b.ReportMetric(float64(noticed), "notice")
	b.ReportMetric(float64(signalled), "reaction")
	b.ReportMetric(float64(nothing), "nothing")
	b.ReportMetric(float64(both), "answer+notice")
	b.ReportMetric(float64(limited), "429s")
	if !last.IsZero() {
		b.ReportMetric(last.Sub(began).Seconds(), "last-answer-s")
	}
}

// BenchmarkFirstAnswerAfterDrop drops the gateway connection (abruptly),
// asks a question at once — Discord queues it for the session — and
// measures the time from the drop to the bot's answer, through the
// reconnect and RESUME.
func BenchmarkFirstAnswerAfterDrop(b *testing.B) {
	f := newFake(b, discordfake.Options{})
	ix, a := library(b)
	h := start(b, f, Config{RatePerUser: -1}, a, ix, nil)
	h.replyTo(h.mention(general, user(0), capitalQ)) // warm up
	var lat []time.Duration
	b.ResetTimer()
	for i := range b.N {
		dropped := time.Now()
		if !f.Drop(0) {
			b.Fatal("no connection to drop")
		}
		q := h.mention(general, user(1+i%20), capitalQ)
		c, _ := h.replyTo(q)
		lat = append(lat, c.Time.Sub(dropped))
		h.waitLog("question answered", "event_id", q)
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Milliseconds()), "max-ms")
}
