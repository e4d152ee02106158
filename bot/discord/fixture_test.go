package discord

import (
	"context"
	"fmt"
	"testing"
	"testing/fstest"

	"github.com/verbatim-bot/verbatim/bot"
	"github.com/verbatim-bot/verbatim/corpus"
	"github.com/verbatim-bot/verbatim/retrieval"
	"github.com/verbatim-bot/verbatim/retrieval/retrievaltest"
)

// testArticles is a small corpus: three articles with content, one of them
// without a URL, and fillers so that /articles has two pages.
func testArticles(extra ...string) fstest.MapFS {
	fs := fstest.MapFS{
		"azerbaijan.md": {Data: []byte(`---
title: Azerbaijan and Israel
url: https://example.com/azerbaijan
---
Azerbaijan sits at the crossroads of Europe and Asia, next to Iran, Turkey and Russia. It aligned with Israel after gaining independence from the Soviet Union in 1992.

Baku is the capital of Azerbaijan. Located on the Caspian sea, the country is one of the world’s major oil producers and Baku is its economic center.

The two countries signed a deal for natural gas exploration off Israel’s Mediterranean coast. In 2023, Israel was Azerbaijan’s sixth largest oil buyer.
`)},
		"rail.md": {Data: []byte(`---
title: Rail Strike Ends
url: https://example.com/rail-strike
---
Union leaders accepted the offer late on Sunday, ending a two-week walkout by train drivers across the country.

Trains will run a normal timetable from Wednesday, the operator said in a statement on Monday morning.

“We are glad it’s over,” said one commuter waiting at the station for the first train in a fortnight.
`)},
		"bees.md": {Data: []byte(`# Urban Beekeeping

Rooftop hives in the city produced more honey per colony than rural hives last summer, the beekeepers' association reported.

Urban bees forage on a wider variety of flowers planted in parks, balconies and along railway embankments.
`)},
	}
	for i := 1; i <= 9; i++ {
		fs[fmt.Sprintf("filler-%d.md", i)] = &fstest.MapFile{Data: []byte(fmt.Sprintf(
			"# Filler note %d\n\nThis filler note number %d describes an ordinary municipal meeting about parking permits and street lighting.\n", i, i))}
	}
	for i, text := range extra {
		fs[fmt.Sprintf("extra-%d.md", i)] = &fstest.MapFile{Data: []byte(text)}
	}
	return fs
}

// library is a real index over testArticles with the offline embedder
// (without the sentence encoder, which these tests of delivery do not
// need and which is slow under -race), and the real extractive answerer
// on it.
func library(t testing.TB) (*retrieval.Index, *bot.Answerer) {
	t.Helper()
	c, err := corpus.Load(context.Background(), testArticles(), corpus.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ix := retrievaltest.IndexWith(t, c, nil)
	return ix, bot.New(ix, bot.Config{Meaning: retrievaltest.Meaning(t)})
}
