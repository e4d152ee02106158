package discord

import (
	"log/slog"
	"net/http"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/verbatim-bot/verbatim/bot/discord/discordfake"
)

// BenchmarkInteractionAck measures how long after an INTERACTION_CREATE is
// written to the gateway the bot's deferred acknowledgement arrives, with
// 20 /ask questions from 20 users in flight at once (an op is one round of
// 20, answered in full).
func BenchmarkInteractionAck(b *testing.B) {
	f := newFake(b, discordfake.Options{})
	ix, a := library(b)
	h := start(b, f, Config{RatePerUser: -1}, a, ix, nil)
	var lat []time.Duration
	b.ResetTimer()
	for range b.N {
		ins := make([]discordfake.Interaction, 20)
		for u := range ins {
			ins[u] = h.command(member(u, 0), "ask", discordfake.StringOption("question", capitalQ))
		}
		for _, in := range ins {
			if _, p := h.original(in); !isBaku(p.Content) {
				b.Fatalf("answer = %q", p.Content)
			}
			d, ok := f.AckLatency(in.ID)
			if !ok {
				b.Fatal("no acknowledgement")
			}
			lat = append(lat, d)
		}
		f.Forget()
		h.logs.reset()
	}
	b.StopTimer()
	slices.Sort(lat)
	ms := func(q float64) float64 {
		return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(ms(0.50), "ack-p50-ms")
	b.ReportMetric(ms(0.99), "ack-p99-ms")
	b.ReportMetric(ms(1), "ack-max-ms")
}

// BenchmarkBurst sends 100 mentions across 20 users at once (five each,
// within the per-user burst) and waits for every reply. It reports
// questions not answered, error logs, and the heap and goroutines left
// after the bursts compared with before (after a GC, with the fake's own
// records dropped).
func BenchmarkBurst(b *testing.B) {
	f := newFake(b, discordfake.Options{})
	ix, a := library(b)
	h := start(b, f, Config{RateBurst: 5}, a, ix, nil)
	h.replyTo(h.mention(general, user(0), capitalQ)) // warm up
	h.waitLog("question answered")
	f.Forget()
	h.logs.reset()
	f.Client().CloseIdleConnections() // pooled connections are not leaks
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	goroutines := runtime.NumGoroutine()

	lost, errs := 0, 0
	b.ResetTimer()
	for i := range b.N {
		asked := map[string]bool{}
		for k := range 100 {
			asked[h.mention(general, user(1000+i*20+k%20), capitalQ)] = true
		}
		replies := h.waitN(100, func(c discordfake.Call) bool {
			if c.Method != http.MethodPost || c.Path != "/channels/"+general+"/messages" {
				return false
			}
			p, err := c.Message()
			return err == nil && p.MessageReference != nil && asked[p.MessageReference.MessageID]
		})
		for _, c := range replies {
			if p := h.payload(c); !c.OK() || !isBaku(p.Content) {
				lost++
			}
		}
		for q := range asked {
			h.waitLog("question answered", "event_id", q)
		}
		h.logs.mu.Lock()
		for _, r := range h.logs.recs {
			if r.Level >= slog.LevelError {
				errs++
				b.Logf("error log: %s %v", r.Msg, r.Attrs)
			}
		}
		h.logs.mu.Unlock()
		f.Forget()
		h.logs.reset()
	}
	b.StopTimer()
	f.Client().CloseIdleConnections()
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(lost), "lost")
	b.ReportMetric(float64(errs), "errors")
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/1024, "heap-delta-KiB")
	b.ReportMetric(float64(runtime.NumGoroutine()-goroutines), "goroutine-delta")
	b.ReportMetric(float64(before.HeapAlloc)/1024, "heap-before-KiB")
}
