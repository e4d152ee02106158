package corpus

import (
	"fmt"
	"net/url"
	"strings"
)

// TextFragmentURL returns articleURL with a text fragment (#:~:text=) that
// makes browsers scroll to and highlight quote: the whole quote when it is
// short, else its first and last few words as textStart,textEnd. The
// terms are percent-encoded so that the fragment's own syntax characters
// ('-', '&', ',') in the quote stay literal. A URL that is not http(s) is
// returned unchanged.
func TextFragmentURL(articleURL, quote string) string {
	u, err := url.Parse(articleURL)
	words := strings.Fields(quote)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || len(words) == 0 {
		return articleURL
	}
	u.Fragment, u.RawFragment = "", ""
	const edge = 4 // words kept at each end of a long quote
	text := fragmentEncode(strings.Join(words, " "))
	if len(words) > 2*edge+2 {
		text = fragmentEncode(strings.Join(words[:edge], " ")) + "," + fragmentEncode(strings.Join(words[len(words)-edge:], " "))
	}
	return u.String() + "#:~:text=" + text
}

// fragmentEncode percent-encodes everything but ASCII letters, digits and
// ".~_" (over-encoding is always valid; '-', '&' and ',' must be encoded).
func fragmentEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '~' || c == '_' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
