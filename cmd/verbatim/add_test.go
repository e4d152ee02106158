package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const canalPage = `<!DOCTYPE html><html><head><title>Canal Locks Reopen</title></head><body><div id="content">
<p>The canal locks reopened to boats on Saturday after a winter of repairs to the old gates and the towpath.</p>
<p>Volunteers from the canal trust repainted the lock keeper's cottage and cleared the weeds from the basin.</p>
<p>Boaters queued from dawn to be the first through the lower lock, which had been closed since November.</p>
</div></body></html>`

func TestAddThenAsk(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/news/canal-locks" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(canalPage))
	}))
	defer srv.Close()
	articles, data := t.TempDir(), t.TempDir()
	offline(t)
	t.Setenv("DATA_DIR", data)
	t.Setenv("ARTICLES_DIR", articles)
	verbatim := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := run(context.Background(), args, &out, &errb)
		return code, out.String(), errb.String()
	}

	pageURL := srv.URL + "/news/canal-locks"
	// Loopback is refused unless FETCH_ALLOW_PRIVATE allows it.
	code, out, stderr := verbatim("add", pageURL)
	if code != 1 || !strings.Contains(stderr, "not a public internet address") || !strings.Contains(stderr, "FETCH_ALLOW_PRIVATE=true") {
		t.Errorf("add of a loopback URL: exit %d: %s%s", code, out, stderr)
	}
	if entries, _ := os.ReadDir(articles); len(entries) != 0 {
		t.Errorf("the refused add left %v", entries)
	}
	t.Setenv("FETCH_ALLOW_PRIVATE", "true")
	code, out, stderr = verbatim("add", pageURL)
	if code != 0 {
		t.Fatalf("add: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"added: Canal Locks Reopen (", "1 articles, 3 paragraphs: 3 added"} {
		if !strings.Contains(out, want) {
			t.Errorf("add output lacks %q:\n%s", want, out)
		}
	}
	code, out, stderr = verbatim("ask", "--json", "When did the canal locks reopen to boats?")
	if code != 0 {
		t.Fatalf("ask: exit %d: %s", code, stderr)
	}
	var ans answerJSON
	if err := json.Unmarshal([]byte(out), &ans); err != nil {
		t.Fatal(err)
	}
	if ans.Refused || len(ans.Sources) == 0 || ans.Sources[0].URL != pageURL || ans.Sources[0].Title != "Canal Locks Reopen" ||
		!strings.Contains(ans.Sources[0].Quotes[0].Text, "reopened to boats on Saturday") {
		t.Errorf("ask after add = %+v", ans)
	}

	// The same page again changes nothing; a file loads too.
	if code, out, stderr = verbatim("add", pageURL); code != 0 || !strings.Contains(out, "already there: Canal Locks Reopen") {
		t.Errorf("second add: exit %d: %s%s", code, out, stderr)
	}
	file := filepath.Join(t.TempDir(), "Lighthouse.txt")
	if err := os.WriteFile(file, []byte("Lighthouse Relit\n\nThe old lighthouse on the headland was relit on Sunday after forty years.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, stderr = verbatim("add", file); code != 0 || !strings.Contains(out, "added: Lighthouse Relit (lighthouse)") || !strings.Contains(out, "2 articles") {
		t.Errorf("add FILE: exit %d: %s%s", code, out, stderr)
	}

	before, _ := os.ReadDir(articles)
	stub := filepath.Join(t.TempDir(), "stub.txt")
	if err := os.WriteFile(stub, []byte("Stub\n\nToo short.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"add", stub}, 1, "no paragraphs"},
		{[]string{"add", srv.URL + "/missing"}, 1, "404"},
		{[]string{"add"}, 2, "give one URL or file"},
	} {
		if code, _, stderr := verbatim(tt.args...); code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, code, stderr, tt.code, tt.want)
		}
	}
	if after, _ := os.ReadDir(articles); len(after) != len(before) {
		t.Errorf("refused adds changed the folder: %d entries, then %d", len(before), len(after))
	}

	t.Setenv("ARTICLES_DIR", "")
	if code, _, stderr := verbatim("add", pageURL); code != 1 || !strings.Contains(stderr, "ARTICLES_DIR is not set") {
		t.Errorf("add without ARTICLES_DIR: exit %d: %s", code, stderr)
	}
}
