package feeds

import (
	"testing"
	"time"
)

func TestRobots(t *testing.T) {
	t.Parallel()
	const txt = `# comments are ignored
User-agent: googlebot
Disallow: /

User-agent: *
Disallow: /private/
Allow: /private/open$
Disallow: /*.pdf$
Disallow: /search?

User-agent: Verbatim
User-agent: otherbot
Disallow: /drafts
Allow: /drafts/public
Crawl-delay: 2
`
	for _, tc := range []struct {
		agent, path string
		want        bool
	}{
		{"verbatim", "/news/1", true},
		{"verbatim", "/drafts/x", false},
		{"verbatim", "/drafts/public/x", true},
		{"verbatim", "/private/x", true}, // its own group replaces "*"
		{"someone", "/private/x", false},
		{"someone", "/private/open", true},
		{"someone", "/private/open/more", false},
		{"someone", "/files/report.pdf", false},
		{"someone", "/files/report.pdf?x", true},
		{"someone", "/search?q=x", false},
		{"someone", "/searching", true},
		{"someone", "/", true},
	} {
		if got := parseRobots([]byte(txt), tc.agent).allowed(tc.path); got != tc.want {
			t.Errorf("%s %s: allowed = %v, want %v", tc.agent, tc.path, got, tc.want)
		}
	}
	if d := parseRobots([]byte(txt), "verbatim").crawlDelay; d != 2*time.Second {
		t.Errorf("crawl delay = %v", d)
	}
	if !parseRobots(nil, "verbatim").allowed("/anything") {
		t.Error("an empty robots.txt disallows")
	}
}
