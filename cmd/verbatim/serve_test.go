package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/verbatim-bot/verbatim/bot/discord/discordfake"
)

// TestServeRevokedToken runs serve against a fake Discord that refuses the
// token the way a revoked one is refused (400 with code 40001, the gateway
// closed with 4000): serve must stop on its own, non-zero, with an error
// naming DISCORD_TOKEN and never showing its value.
func TestServeRevokedToken(t *testing.T) {
	for _, r := range []discordfake.Revocation{
		{Status: http.StatusUnauthorized, Close: 4004},
		{Status: http.StatusBadRequest, Code: 40001, Close: 4000},
	} {
		t.Run(http.StatusText(r.Status), func(t *testing.T) {
			f := discordfake.New(discordfake.Options{})
			defer f.Close()
			f.RevokeTokenWith(r)
			offline(t)
			const secret = "MTAwMA.revoked.token-value"
			t.Setenv("ARTICLES_DIR", "")
			t.Setenv("DATA_DIR", t.TempDir())
			t.Setenv("DISCORD_TOKEN", secret)
			t.Setenv("DISCORD_API_URL", f.URL())
			// serve does not stop by itself within the minute: the test
			// fails on its exit status, not on a measured time.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var out, errb bytes.Buffer
			code := run(ctx, []string{"serve"}, &out, &errb)
			if ctx.Err() != nil {
				t.Fatalf("serve still running after a minute with a revoked token; stderr:\n%s", errb.String())
			}
			if code == 0 || !strings.Contains(errb.String(), "DISCORD_TOKEN") {
				t.Errorf("serve exited %d; stderr:\n%s", code, errb.String())
			}
			if strings.Contains(out.String()+errb.String(), secret) {
				t.Error("serve printed the token")
			}
		})
	}
}
