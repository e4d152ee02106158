package corpus

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/verbatim-bot/verbatim/corpus/evaldata"
)

func TestDefaultShippedArticle(t *testing.T) {
	c, err := Load(context.Background(), Default(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Articles) != 1 || len(c.Skipped) != 0 {
		t.Fatalf("got %d articles, %d skipped (%v), want 1, 0", len(c.Articles), len(c.Skipped), c.Skipped)
	}
	a := c.Articles[0]
	if want := "Azerbaijan, The Shiite Muslim Nation with Close Ties to Israel"; a.Title != want {
		t.Errorf("Title = %q, want %q", a.Title, want)
	}
	if a.ID != "azerbaijan-israel-ties" || a.Source != "azerbaijan-israel-ties.txt" {
		t.Errorf("ID, Source = %q, %q", a.ID, a.Source)
	}
	if len(a.Paragraphs) != 23 || c.Paragraphs() != 23 {
		t.Fatalf("%d paragraphs, want 23 (standfirst + 22 body)", len(a.Paragraphs))
	}
	standfirst := a.Paragraphs[0]
	if !strings.HasPrefix(standfirst.Text, "Azerbaijan, a Shia Muslim nation bordering Iran,") ||
		!strings.Contains(standfirst.Text, "military cooperation—positioning itself") {
		t.Errorf("standfirst = %q", standfirst.Text)
	}
	last := a.Paragraphs[22]
	if want := "Khanin says that its relations with Israel should be enough to encourage the US that Azerbaijan is a reliable partner."; last.Text != want {
		t.Errorf("last paragraph = %q, want %q", last.Text, want)
	}
	for i, p := range a.Paragraphs {
		sum := sha256.Sum256([]byte(p.Text))
		if p.N != i+1 || p.ID != a.ID+"#"+strconv.Itoa(i+1) || p.ArticleID != a.ID || p.Hash != hex.EncodeToString(sum[:]) {
			t.Errorf("paragraph %d: N=%d ID=%q ArticleID=%q Hash=%q", i, p.N, p.ID, p.ArticleID, p.Hash)
		}
		if p.Text != strings.TrimSpace(p.Text) || strings.Contains(p.Text, "\n") {
			t.Errorf("paragraph %d not trimmed to one line: %q", p.N, p.Text)
		}
	}
	all := ""
	for _, p := range a.Paragraphs {
		all += p.Text + "\n"
	}
	for _, typographic := range []string{"’", "“", "”", "—", "…", "Ze’ev Khanin", "then…through Turkey"} {
		if !strings.Contains(all, typographic) {
			t.Errorf("typographic text %q lost", typographic)
		}
	}
	for _, q := range []string{`Ze'ev Khanin`, `"Azerbaijan is a friendly country to Israel.`, "Georgia and then...through"} {
		found := false
		for _, p := range a.Paragraphs {
			if _, ok := Find(p.Text, q); ok {
				found = true
			}
		}
		if !found {
			t.Errorf("Find(%q) found nothing in the loaded article", q)
		}
	}
}

// summary is the part of an article the format tests compare.
type summary struct {
	ID, Title, URL, Author, Source string
	Published                      time.Time
	N                              []int
	Text                           []string
}

func summarize(c *Corpus) map[string]summary {
	m := make(map[string]summary)
	for _, a := range c.Articles {
		s := summary{ID: a.ID, Title: a.Title, URL: a.URL, Author: a.Author, Source: a.Source, Published: a.Published}
		for _, p := range a.Paragraphs {
			s.N = append(s.N, p.N)
			s.Text = append(s.Text, p.Text)
		}
		m[a.ID] = s
	}
	return m
}

func TestLoadFormats(t *testing.T) {
	var logs bytes.Buffer
	c, err := LoadDir(context.Background(), "testdata/formats", Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]summary{
		"news-blocks": {
			ID: "news-blocks", Title: "Budget Talks Resume in Brussels", Source: "news/blocks.txt",
			N: []int{1, 2, 4},
			Text: []string{
				"Ministers returned to the table on Monday after a weekend of\nclosed-door meetings, officials said.",
				"The finance ministers’ statement called the gap “narrow but real” — and promised a deal by Friday.",
				"A third paragraph follows the fragment, and it has enough words.",
			},
		},
		"news-lines": {
			ID: "news-lines", Title: "Harbour Reopens After Storm", Source: "news/lines.txt",
			N: []int{1, 2, 3},
			Text: []string{
				"The port authority said ships could enter again from dawn on Tuesday.",
				"Cranes damaged by the wind will take weeks to repair, it added.",
				"Fishermen welcomed the news after nine days ashore.",
			},
		},
		"with-front-matter": {
			ID: "with-front-matter", Title: "Rail Strike Ends", URL: "https://example.com/rail-strike",
			Author: "Jane Doe", Source: "with-front-matter.md", Published: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC),
			N: []int{1, 3, 4},
			Text: []string{
				"Union leaders accepted the offer late on Sunday, ending a two-week walkout.",
				"Trains will run a normal timetable from Wednesday, the operator said in a statement.\nServices on the northern line may take longer to recover.",
				"“We are glad it’s over,” said one commuter waiting at the station.",
			},
		},
		"no-front-matter": {
			ID: "no-front-matter", Title: "Library Opens Late Night Hours", Source: "no-front-matter.md",
			N: []int{1, 2},
			Text: []string{
				"The city library will stay open until midnight during exam season, starting next week.",
				"Students had petitioned for longer hours for more than a year.",
			},
		},
		"page": {
			ID: "page", Title: "Bridge Repairs Finish Early", URL: "https://example.com/news/bridge-repairs",
			Author: "Sam Lee", Source: "page.html",
			N: []int{1, 2, 3, 4},
			Text: []string{
				"Repairs to the old river bridge finished three weeks ahead of schedule, the council said on Thursday, and the bridge reopened to traffic the same afternoon.",
				"Engineers replaced the worn bearings and resurfaced the deck, work that had been expected to last until the end of the month. “The weather was kind to us,” said the project manager, who added that night shifts also helped.",
				"Cyclists will get a separate lane from next spring, once the council approves the final design and the budget for the extra work.",
				"Local shops near the bridge said business had fallen sharply during the closure and hoped customers would now return.",
			},
		},
		"super-bowl-50": {
			ID: "super-bowl-50", Title: "Super Bowl 50", URL: "https://en.wikipedia.org/wiki/Super_Bowl_50", Source: "articles.jsonl:1",
			N: []int{1, 4},
			Text: []string{
				"Super Bowl 50 was an American football game to determine the champion of the NFL.",
				"The game was played on February 7, 2016, at Levi’s Stadium.",
			},
		},
		"title-only-article": {
			ID: "title-only-article", Title: "Title Only Article", Source: "articles.jsonl:4",
			N:    []int{1},
			Text: []string{"A paragraph with no id uses the title for its identifier."},
		},
	}
	if diff := cmp.Diff(want, summarize(c)); diff != "" {
		t.Errorf("articles (-want +got):\n%s", diff)
	}
	var skipped []string
	for _, s := range c.Skipped {
		skipped = append(skipped, s.Source)
	}
	if diff := cmp.Diff([]string{"articles.jsonl:2", "articles.jsonl:5"}, skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
	if !strings.Contains(logs.String(), "articles.jsonl:2") {
		t.Errorf("no warning naming the bad line; logs:\n%s", logs.String())
	}
	// IDs are in load order: lexical by path, then by line.
	var ids []string
	for _, a := range c.Articles {
		ids = append(ids, a.ID)
	}
	if diff := cmp.Diff([]string{"super-bowl-50", "title-only-article", "news-blocks", "news-lines", "no-front-matter", "page", "with-front-matter"}, ids); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

func TestLoadBadFiles(t *testing.T) {
	var logs bytes.Buffer
	c, err := LoadDir(context.Background(), "testdata/bad", Options{MaxFileBytes: 1000, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Articles) != 1 || c.Articles[0].ID != "good" {
		t.Fatalf("articles = %v, want only good", summarize(c))
	}
	want := map[string]string{
		"bad-date.md":      "published",
		"bad-yaml.md":      "front matter",
		"binary.txt":       "binary",
		"empty.txt":        "no paragraphs",
		"fragments.txt":    "fragments",
		"invalid-utf8.txt": "invalid UTF-8",
		"oversized.txt":    "limit",
		"unclosed.md":      "front matter",
	}
	got := make(map[string]string)
	for _, s := range c.Skipped {
		got[s.Source] = s.Reason
	}
	if len(got) != len(want) {
		t.Errorf("skipped %v, want %d files", got, len(want))
	}
	for source, reason := range want {
		if !strings.Contains(got[source], reason) {
			t.Errorf("%s: reason %q, want one mentioning %q", source, got[source], reason)
		}
		if !strings.Contains(logs.String(), source) {
			t.Errorf("%s: no warning logged", source)
		}
	}
}

func TestLoadTextLayouts(t *testing.T) {
	tests := []struct {
		name, file string
		title      string
		want       []string
	}{
		{"one per line, CRLF", "Title\r\nFirst paragraph is right here.\r\nSecond paragraph is right here.\r\n",
			"Title", []string{"First paragraph is right here.", "Second paragraph is right here."}},
		{"blank after title only", "\n\nTitle\n\nFirst paragraph is right here.\nSecond paragraph is right here.\n\n",
			"Title", []string{"First paragraph is right here.", "Second paragraph is right here."}},
		{"blocks, CR only", "\ufeffTitle\rFirst paragraph,\rwrapped here.\r\rSecond paragraph is right here.",
			"Title", []string{"First paragraph,\nwrapped here.", "Second paragraph is right here."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(context.Background(), fstest.MapFS{"a.txt": {Data: []byte(tt.file)}}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			a := c.Articles[0]
			if a.Title != tt.title {
				t.Errorf("Title = %q, want %q", a.Title, tt.title)
			}
			if diff := cmp.Diff(tt.want, summarize(c)["a"].Text); diff != "" {
				t.Errorf("paragraphs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadMarkdownVariants(t *testing.T) {
	tests := []struct {
		name, file     string
		title          string
		published      time.Time
		n              []int
		want           []string
		wantSkipReason string
	}{
		{"front matter title wins over heading",
			"---\ntitle: From Front Matter\npublished: 2024-05-01T10:30:00+02:00\n---\n# From Heading\n\nBody paragraph that is long enough.\n",
			"From Front Matter", time.Date(2024, 5, 1, 10, 30, 0, 0, time.FixedZone("", 7200)),
			[]int{1}, []string{"Body paragraph that is long enough."}, ""},
		{"no title at all uses the file name", "Body paragraph that is long enough.\n\n### Closing remarks of the piece ###\n",
			"a", time.Time{}, []int{1, 2}, []string{"Body paragraph that is long enough.", "Closing remarks of the piece"}, ""},
		{"heading splits a block", "# T\nIntro paragraph is long enough here.\n## Section heading text here\nNext paragraph is long enough here.\n",
			"T", time.Time{}, []int{1, 2, 3}, []string{"Intro paragraph is long enough here.", "Section heading text here", "Next paragraph is long enough here."}, ""},
		{"markdown kept verbatim", "# T\n\nSome **bold** and a [link](https://x.example) stay as written.\n",
			"T", time.Time{}, []int{1}, []string{"Some **bold** and a [link](https://x.example) stay as written."}, ""},
		{"front matter only", "---\ntitle: Empty\n---\n", "", time.Time{}, nil, nil, "no paragraphs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{
				"a.md":     {Data: []byte(tt.file)},
				"ok.jsonl": {Data: []byte(`{"id":"ok","paragraphs":["Another article keeps the load from failing."]}`)},
			}
			c, err := Load(context.Background(), fsys, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantSkipReason != "" {
				if len(c.Skipped) != 1 || !strings.Contains(c.Skipped[0].Reason, tt.wantSkipReason) {
					t.Errorf("Skipped = %v, want a.md: %s", c.Skipped, tt.wantSkipReason)
				}
				return
			}
			s := summarize(c)["a"]
			if s.Title != tt.title || !s.Published.Equal(tt.published) {
				t.Errorf("Title, Published = %q, %v; want %q, %v", s.Title, s.Published, tt.title, tt.published)
			}
			if diff := cmp.Diff(tt.want, s.Text); diff != "" {
				t.Errorf("paragraphs (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.n, s.N); diff != "" {
				t.Errorf("N (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadHTMLOgURL(t *testing.T) {
	page := `<html><head><title>Fallback</title><meta property="og:url" content="https://example.com/og"></head><body><div id="content">` +
		strings.Repeat(`<p>A paragraph of the page body that has plenty of words in it, so readability keeps it as content.</p>`, 4) +
		`<p>Last line<br>after a break, still one paragraph.</p></div></body></html>`
	c, err := Load(context.Background(), fstest.MapFS{"p.htm": {Data: []byte(page)}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := c.Articles[0]
	if a.URL != "https://example.com/og" || a.Title != "Fallback" {
		t.Errorf("URL, Title = %q, %q", a.URL, a.Title)
	}
	if n := len(a.Paragraphs); n != 5 || a.Paragraphs[4].Text != "Last line after a break, still one paragraph." {
		t.Errorf("%d paragraphs, last %q", n, a.Paragraphs[n-1].Text)
	}
}

func TestLoadDuplicateIDs(t *testing.T) {
	const body = "\nA paragraph long enough to keep as a passage.\n"
	fsys := fstest.MapFS{
		"a.txt":      {Data: []byte("One" + body)},
		"a.md":       {Data: []byte("# Two\n" + body)},
		"x.jsonl":    {Data: []byte(`{"id":"A","title":"Three","paragraphs":["A paragraph long enough to keep as a passage."]}` + "\n" + `{"id":"a-2","title":"Four","paragraphs":["A paragraph long enough to keep as a passage."]}`)},
		"sub/b.txt":  {Data: []byte("Five" + body)},
		"sub-b.html": {Data: []byte("<p>Too short.</p>")},
	}
	var logs bytes.Buffer
	c, err := Load(context.Background(), fsys, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	got := make(map[string]string)
	for _, a := range c.Articles {
		got[a.Title] = a.ID
		for _, p := range a.Paragraphs {
			if p.ArticleID != a.ID || !strings.HasPrefix(p.ID, a.ID+"#") {
				t.Errorf("paragraph %q of article %q", p.ID, a.ID)
			}
		}
	}
	// Later duplicates are named by a hash of their own source, not by
	// how many came before them.
	want := map[string]string{"Two": "a", "One": "a-" + sourceHash("a.txt"), "Three": "a-" + sourceHash("x.jsonl:1"), "Four": "a-2", "Five": "sub-b"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("IDs by title (-want +got):\n%s", diff)
	}
	// A colliding file that sorts first takes the plain slug from a.md
	// and leaves the IDs that were already renamed alone.
	fsys["A.txt"] = &fstest.MapFile{Data: []byte("Zero" + body)}
	c, err = Load(context.Background(), fsys, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got = make(map[string]string)
	for _, a := range c.Articles {
		got[a.Title] = a.ID
	}
	want["Zero"], want["Two"] = "a", "a-"+sourceHash("a.md")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("IDs by title after adding A.txt (-want +got):\n%s", diff)
	}
}

// sourceHash is the suffix Load gives a duplicate ID from source.
func sourceHash(source string) string {
	sum := sha256.Sum256([]byte(source))
	return hex.EncodeToString(sum[:3])
}

func TestUniqueIDHashTaken(t *testing.T) {
	l := newLoader(context.Background(), fstest.MapFS{}, Options{})
	l.ids["a"], l.ids["a-"+sourceHash("b.txt")] = true, true
	sum := sha256.Sum256([]byte("b.txt"))
	if got, want := l.uniqueID("a", "b.txt"), "a-"+hex.EncodeToString(sum[:])[:7]; got != want {
		t.Errorf("uniqueID = %q, want %q", got, want)
	}
}

func TestLoadFragmentsKeepNumbering(t *testing.T) {
	line := `{"id":"f","paragraphs":["First paragraph long enough to keep.", "and", ".", "Short one.", "1 2 3 4 5 6", "Fifth paragraph long enough to keep."]}`
	c, err := Load(context.Background(), fstest.MapFS{"f.jsonl": {Data: []byte(line)}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := summarize(c)["f"]
	if diff := cmp.Diff([]int{1, 6}, s.N); diff != "" {
		t.Errorf("N (-want +got):\n%s", diff)
	}
	if c.Articles[0].Paragraphs[1].ID != "f#6" {
		t.Errorf("ID = %q, want f#6", c.Articles[0].Paragraphs[1].ID)
	}
}

func TestLoadJSONLLongLines(t *testing.T) {
	long := `{"id":"long","paragraphs":["` + strings.Repeat("word ", 400) + `"]}`
	data := long + "\n" + `{"id":"short","paragraphs":["A short article that fits within the limit."]}` + "\n"
	c, err := Load(context.Background(), fstest.MapFS{"x.jsonl": {Data: []byte(data)}}, Options{MaxFileBytes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Articles) != 1 || c.Articles[0].ID != "short" {
		t.Errorf("articles = %v", summarize(c))
	}
	if len(c.Skipped) != 1 || c.Skipped[0].Source != "x.jsonl:1" || !strings.Contains(c.Skipped[0].Reason, "limit") {
		t.Errorf("skipped = %v", c.Skipped)
	}
	// The same long line loads under the default limit, through the
	// 1 MiB read buffer several times over.
	big := `{"id":"big","paragraphs":["` + strings.Repeat("word ", 1<<19) + `"]}`
	c, err = Load(context.Background(), fstest.MapFS{"x.jsonl": {Data: []byte(big)}}, Options{})
	if err != nil || len(c.Articles[0].Paragraphs[0].Text) != 5<<19-1 {
		t.Errorf("big line: err %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	ctx := context.Background()
	onlyBad := fstest.MapFS{
		"empty.txt": {Data: nil},
		"bin.txt":   {Data: []byte("Title\n\x00\x00")},
		"README.md": {Data: []byte("# Notes\n\nThese notes are long enough to be a paragraph.")},
	}
	tests := []struct {
		name string
		load func() (*Corpus, error)
		want error
	}{
		{"empty folder", func() (*Corpus, error) { return Load(ctx, fstest.MapFS{}, Options{}) }, ErrNoArticles},
		{"only bad files", func() (*Corpus, error) { return Load(ctx, onlyBad, Options{}) }, ErrNoArticles},
		{"missing dir", func() (*Corpus, error) { return LoadDir(ctx, filepath.Join(t.TempDir(), "missing"), Options{}) }, fs.ErrNotExist},
		{"cancelled", func() (*Corpus, error) {
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			return Load(cctx, Default(), Options{})
		}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tt.load()
			if !errors.Is(err, tt.want) || c != nil {
				t.Errorf("got %v, %v; want error %v", c, err, tt.want)
			}
		})
	}
	// The error says why the first file was skipped.
	_, err := Load(ctx, onlyBad, Options{})
	if msg := err.Error(); !strings.Contains(msg, "2 skipped") || !strings.Contains(msg, "bin.txt: binary data (NUL byte at offset 6)") {
		t.Errorf("error %q does not name the first skipped file and reason", msg)
	}
	file := filepath.Join(t.TempDir(), "file.txt")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadDir(ctx, file, Options{}); err == nil {
		t.Error("LoadDir of a file: no error")
	}
}

func TestSlug(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Super_Bowl_50", "super-bowl-50"},
		{"news/a", "news-a"},
		{"  --Hello,  World!--  ", "hello-world"},
		{"reuters-1", "reuters-1"},
		{"azerbaijan-israel-ties", "azerbaijan-israel-ties"},
		{"Café Müller", "café-müller"},
		{"café", "café"},
		{"cafè", "cafè"},
		{"cafe\u0301s", "cafe\u0301s"}, // a combining accent stays in its word
		{"ΣΑΣ/東京 1", "σασ-東京-1"},
		{"٣ أيام", "٣-أيام"},
	}
	for _, tt := range tests {
		if got := Slug(tt.in); got != tt.want {
			t.Errorf("Slug(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if a, b := Slug("—"), Slug("…"); a == b || !strings.HasPrefix(a, "article-") {
		t.Errorf("Slug of punctuation: %q, %q", a, b)
	}
}

func TestLoadSQuADNumbering(t *testing.T) {
	path := evaldata.Path(t, "squad-dev/articles.jsonl")
	c, err := LoadFile(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Articles) != 48 || c.Paragraphs() != 2067 || len(c.Skipped) != 0 {
		t.Errorf("%d articles, %d paragraphs, skipped %v; want 48, 2067, none", len(c.Articles), c.Paragraphs(), c.Skipped)
	}
	a := c.Articles[0]
	if a.ID != Slug("Super_Bowl_50") || a.Paragraphs[0].ID != "super-bowl-50#1" {
		t.Errorf("first article %q, paragraph %q", a.ID, a.Paragraphs[0].ID)
	}
}

func BenchmarkLoadReuters(b *testing.B) {
	path := evaldata.Path(b, "reuters/articles.jsonl")
	info, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(info.Size())
	ctx := context.Background()
	var c *Corpus
	for b.Loop() {
		c, err = LoadFile(ctx, path, Options{})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(c.Articles)), "articles")
	b.ReportMetric(float64(c.Paragraphs()), "paragraphs")
}

func TestLoadJSONLManyBatches(t *testing.T) {
	var b strings.Builder
	const lines = 3*batchLines + 17
	for i := range lines {
		id := "art-" + strconv.Itoa(i%(lines-5)) // the last five lines repeat the first IDs
		b.WriteString(`{"id":"` + id + `","paragraphs":["Paragraph number ` + strconv.Itoa(i) + ` is long enough to keep."]}` + "\n")
	}
	c, err := Load(context.Background(), fstest.MapFS{"many.jsonl": {Data: []byte(b.String())}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Articles) != lines {
		t.Fatalf("%d articles, want %d", len(c.Articles), lines)
	}
	for i, a := range c.Articles {
		want := "art-" + strconv.Itoa(i)
		if i >= lines-5 {
			want = "art-" + strconv.Itoa(i-(lines-5)) + "-" + sourceHash("many.jsonl:"+strconv.Itoa(i+1))
		}
		if a.ID != want || a.Source != "many.jsonl:"+strconv.Itoa(i+1) ||
			a.Paragraphs[0].Text != "Paragraph number "+strconv.Itoa(i)+" is long enough to keep." {
			t.Fatalf("article %d: ID %q, Source %q, text %q", i, a.ID, a.Source, a.Paragraphs[0].Text)
		}
	}
}

func TestLoadFileCancelled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.jsonl")
	if err := os.WriteFile(path, []byte(`{"id":"a","paragraphs":["A paragraph long enough to keep."]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err := LoadFile(context.Background(), path, Options{}); err != nil || c.Articles[0].Source != "a.jsonl:1" {
		t.Fatalf("LoadFile: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := LoadFile(ctx, path, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled LoadFile: err %v", err)
	}
	if _, err := LoadFile(context.Background(), filepath.Join(filepath.Dir(path), "a.csv"), Options{}); err == nil {
		t.Error("LoadFile of a .csv: no error")
	}
}
