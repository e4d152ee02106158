package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/verbatim-bot/verbatim/corpus/feeds/feedsfake"
)

func TestSubscribeAskSync(t *testing.T) {
	site := feedsfake.New(t)
	towns := []string{"Harwick", "Bellmoor", "Castleford"}
	paragraphs := func(town string) []string {
		return []string{
			fmt.Sprintf("The ferry to %s was cancelled on Tuesday because of the winter storm.", town),
			fmt.Sprintf("Shopkeepers in %s stacked sandbags along the high street before the tide came in.", town),
			fmt.Sprintf("The mayor of %s thanked the lifeboat crew for rescuing two fishermen.", town),
		}
	}
	for i, town := range towns {
		site.Set(fmt.Sprintf("/news/%d", i+1), "Storm in "+town, paragraphs(town)...)
	}
	articles, data := t.TempDir(), t.TempDir()
	offline(t)
	t.Setenv("DATA_DIR", data)
	t.Setenv("ARTICLES_DIR", articles)
	t.Setenv("FETCH_ALLOW_PRIVATE", "true")
	t.Setenv("SYNC_HOST_RATE", "1000")
	verbatim := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := run(context.Background(), args, &out, &errb)
		return code, out.String(), errb.String()
	}

	code, out, stderr := verbatim("add", site.URL(feedsfake.RSS))
	if code != 0 {
		t.Fatalf("add: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"subscribed to feed: Fake News", "3 added", "3 articles, 9 paragraphs"} {
		if !strings.Contains(out, want) {
			t.Errorf("add output lacks %q:\n%s", want, out)
		}
	}

	code, out, stderr = verbatim("ask", "--json", "Who stacked sandbags along the high street in Bellmoor?")
	if code != 0 {
		t.Fatalf("ask: exit %d: %s", code, stderr)
	}
	var ans answerJSON
	if err := json.Unmarshal([]byte(out), &ans); err != nil {
		t.Fatal(err)
	}
	if ans.Refused || len(ans.Sources) == 0 || ans.Sources[0].URL != site.URL("/news/2") ||
		!strings.Contains(ans.Sources[0].Quotes[0].Text, "Shopkeepers in Bellmoor stacked sandbags") {
		t.Errorf("ask = %+v", ans)
	}
	// In plain output the source names its date and links to the quote.
	code, out, _ = verbatim("ask", "Who stacked sandbags along the high street in Bellmoor?")
	if code != 0 || !regexp.MustCompile(`\[1\] Storm in Bellmoor — ¶\d+ · \d{4}-\d\d-\d\d.* <`+regexp.QuoteMeta(site.URL("/news/2"))+`#:~:text=Shopkeepers%20in`).MatchString(out) {
		t.Errorf("plain ask lacks the dated source linking to its quote:\n%s", out)
	}

	site.Set("/news/4", "Storm in Dunmore", paragraphs("Dunmore")...)
	code, out, stderr = verbatim("sync")
	if code != 0 || !strings.Contains(out, "1 subscription: 1 added, 0 updated, 3 unchanged") || !strings.Contains(out, "4 articles, 12 paragraphs: 3 added") {
		t.Errorf("sync: exit %d:\n%s%s", code, out, stderr)
	}
	code, out, stderr = verbatim("sync")
	if code != 0 || !strings.Contains(out, "0 added, 0 updated, 4 unchanged") || strings.Contains(out, "paragraphs") {
		t.Errorf("unchanged sync: exit %d:\n%s%s", code, out, stderr)
	}

	site.FailFeeds(500)
	code, out, stderr = verbatim("sync", "--json")
	var rep reportJSON
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 {
		t.Fatalf("sync --json: exit %d, %v:\n%s%s", code, err, out, stderr)
	}
	if rep.Subscriptions != 1 || len(rep.Errors) != 1 || rep.Errors[0].Source != site.URL(feedsfake.RSS) || rep.Index != nil || rep.Added+rep.Updated+rep.Removed != 0 {
		t.Errorf("sync --json with the feed failing = %+v", rep)
	}
	code, out, stderr = verbatim("sources")
	if code != 0 || !strings.Contains(out, "Fake News (feed)") || !strings.Contains(out, "4 entries, 4 saved, 0 failed") || !strings.Contains(out, "last error: the server answered 500") {
		t.Errorf("sources: exit %d:\n%s%s", code, out, stderr)
	}
}
