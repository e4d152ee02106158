//go:build unix

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/creack/pty"

	"github.com/verbatim-bot/verbatim/retrieval/openaifake"
)

// TestAskStreamsOnATerminal runs ask with stdout on a pseudo-terminal: the
// model's answer appears dimmed as it streams, is erased, and the verified
// answer with its sources is printed in its place.
func TestAskStreamsOnATerminal(t *testing.T) {
	srv := openaifake.New()
	defer srv.Close()
	srv.Models = []string{"tiny-instruct"}
	reply, _ := json.Marshal(map[string]any{
		"answer":     "Baku is the capital [1].",
		"quotes":     []map[string]any{{"source": 1, "text": "Baku is the capital of Azerbaijan."}},
		"answerable": true,
	})
	srv.Chat.Respond(func(r openaifake.ChatRequest) openaifake.Response {
		if !r.Stream {
			t.Error("ask on a terminal did not stream")
		}
		return openaifake.Response{Chunks: []string{string(reply[:20]), string(reply[20:])}}
	})
	localLLM(t, srv)

	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 24, Cols: 80}); err != nil {
		t.Fatal(err)
	}
	read := make(chan string)
	go func() {
		b, _ := io.ReadAll(ptmx)
		read <- string(b)
	}()
	var errb bytes.Buffer
	code := run(context.Background(), []string{"ask", "What is the capital of Azerbaijan?"}, tty, &errb)
	tty.Close()
	out := <-read
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	drawn := strings.Index(out, "\x1b[2mBaku")
	erased := strings.Index(out, "\x1b[J")
	final := strings.LastIndex(out, "Baku is the capital [1].")
	if drawn < 0 || erased < drawn || final < erased {
		t.Fatalf("want the draft drawn, erased, then the answer; got %q", out)
	}
	if !strings.Contains(out[final:], "Sources:") {
		t.Errorf("no sources after the answer: %q", out[final:])
	}
}
