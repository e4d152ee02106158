package bot

import (
	"regexp"
	"strings"
	"unicode"
)

// chatOpening matches what people put before a question in a chat and is
// not part of it: greetings and fillers ("hey", "hi all,", "ok so",
// "quick question:"), and a numbering ("Question 3:", "Q3.", "3)").
var chatOpening = regexp.MustCompile(`(?i)^(?:(?:hey|hi|hello|hiya|howdy|yo|ok|okay|so|um+|uh+|well|please|pls|plz|sorry|quick question)(?:\s+(?:there|all|everyone|everybody|guys|folks|team|bot|again))?\s*[,:;.!?\-–—]*\s+|(?:question|q)\s*\.?\s*#?\d{1,3}\s*[:.)\-–—]\s*|\d{1,3}\s*[:.)]\s+)+`)

// chatClosing matches thanks and fillers after a question.
var chatClosing = regexp.MustCompile(`(?i)[\s,.!]*(?:\b(?:thanks|thank you|thx|ty|pls|please|plz|cheers)\b[\s,.!]*)+$`)

// focus returns the question within a chat message: without greetings,
// fillers and numbering around it, emoji and other pictographs, or runs of
// white space, so that they change neither retrieval nor refusal. A
// message that is all noise ("hi!") is returned trimmed, as it was.
func focus(q string) string {
	s := strings.Map(func(r rune) rune {
		switch {
		case unicode.Is(unicode.So, r), unicode.Is(unicode.Sk, r) && r > 0x7f,
			r == '\u200d', unicode.Is(unicode.Variation_Selector, r), unicode.Is(unicode.Co, r):
			return -1
		}
		return r
	}, q)
	s = strings.Join(strings.Fields(s), " ")
	s = chatOpening.ReplaceAllString(s, "")
	s = chatClosing.ReplaceAllString(s, "")
	if strings.TrimFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) == "" {
		return strings.TrimSpace(q)
	}
	return s
}
