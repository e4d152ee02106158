package discord

import "strings"

// zwsp is the zero-width space NeutralizeMentions inserts: invisible when
// displayed, ignored by quote matching (corpus.Fold drops it), and enough to
// stop Discord from parsing a mention.
const zwsp = "\u200b"

// neutralizeMentions returns s with every Discord mention made inert by a
// zero-width space after its '@': "@everyone" and "@here" (in any letter
// case), and user, nickname and role mentions "<@id>", "<@!id>", "<@&id>".
// The text reads the same; nothing pings, even where a client ignores
// allowed_mentions (which every message also sets).
func neutralizeMentions(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		b.WriteByte(s[i])
		if s[i] != '@' {
			continue
		}
		rest := s[i+1:]
		if i > 0 && s[i-1] == '<' || hasPrefixFold(rest, "everyone") || hasPrefixFold(rest, "here") {
			b.WriteString(zwsp)
		}
	}
	return b.String()
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
