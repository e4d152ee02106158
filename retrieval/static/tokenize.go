package static

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// These follow BERT's uncased WordPiece tokenizer as the model ships it.
const (
	maxWordChars = 100 // a longer word becomes [UNK]
	contPrefix   = "##"
	unkToken     = "[UNK]"
)

// tokenizer splits text into the model's WordPiece tokens, exactly as the
// model's own (Hugging Face) tokenizer does, so that table rows line up
// with what the transformer saw: special tokens are matched in the raw text;
// the rest has its ASCII control characters dropped and its CJK ideographs
// spaced apart, is decomposed (NFD), and is split into words on whitespace
// and punctuation, dropping control characters and nonspacing marks and
// lowercasing the rest; each word is then cut greedily into the longest
// vocabulary pieces, "##" marking pieces that continue a word. A word that
// cannot be cut, or is too long, becomes [UNK].
//
// Which non-ASCII characters are whitespace, punctuation or dropped comes
// from chars, probed from the model's tokenizer, whose Unicode tables are
// older than Go's.
type tokenizer struct {
	whole    map[string]int32 // pieces that begin a word
	cont     map[string]int32 // pieces that continue one, without "##"
	maxWhole int              // longest piece of whole, in bytes
	maxCont  int              // longest piece of cont, in bytes
	unk      int32
	specials []special
	chars    charTable
}

// A special token is matched verbatim in the raw text.
type special struct {
	text string
	id   int32
}

// tokState holds one goroutine's scratch buffers.
type tokState struct {
	clean, nfd, word []byte
}

func newTokenizer(vocab []string, chars charTable) (*tokenizer, error) {
	t := &tokenizer{
		whole: make(map[string]int32, len(vocab)),
		cont:  make(map[string]int32, len(vocab)/4),
		chars: chars,
	}
	for i, tok := range vocab {
		m, piece := t.whole, tok
		if rest, ok := strings.CutPrefix(tok, contPrefix); ok && rest != "" {
			m, piece = t.cont, rest
		}
		if _, dup := m[piece]; dup {
			return nil, fmt.Errorf("vocabulary: duplicate token %q", tok)
		}
		m[piece] = int32(i)
	}
	for p := range t.whole {
		t.maxWhole = max(t.maxWhole, len(p))
	}
	for p := range t.cont {
		t.maxCont = max(t.maxCont, len(p))
	}
	unk, ok := t.whole[unkToken]
	if !ok {
		return nil, errors.New("vocabulary: no " + unkToken)
	}
	t.unk = unk
	for _, s := range []string{"[PAD]", unkToken, "[CLS]", "[SEP]", "[MASK]"} {
		if id, ok := t.whole[s]; ok {
			t.specials = append(t.specials, special{s, id})
		}
	}
	return t, nil
}

// appendIDs appends the token ids of text to dst.
func (t *tokenizer) appendIDs(dst []int32, text string, st *tokState) []int32 {
	for {
		i, sp := t.nextSpecial(text)
		dst = t.appendSegment(dst, text[:i], st)
		if sp == nil {
			return dst
		}
		dst = append(dst, sp.id)
		text = text[i+len(sp.text):]
	}
}

// nextSpecial returns the offset of the first special token in s and that
// token, or len(s) and nil.
func (t *tokenizer) nextSpecial(s string) (int, *special) {
	for off := 0; ; off++ {
		i := strings.IndexByte(s[off:], '[')
		if i < 0 {
			return len(s), nil
		}
		off += i
		for k := range t.specials {
			if strings.HasPrefix(s[off:], t.specials[k].text) {
				return off, &t.specials[k]
			}
		}
	}
}

// appendSegment appends the ids of s, which holds no special token.
func (t *tokenizer) appendSegment(dst []int32, s string, st *tokState) []int32 {
	if s == "" {
		return dst
	}
	b, ascii := clean(st.clean[:0], s)
	st.clean = b
	if !ascii {
		st.nfd = norm.NFD.Append(st.nfd[:0], b...)
		b = st.nfd
	}
	return t.appendWords(dst, b, st)
}

// clean appends s to dst with each ASCII whitespace character made a space,
// ASCII control characters and invalid UTF-8 dropped, and each CJK
// ideograph set between spaces. It reports whether s was all ASCII.
func clean(dst []byte, s string) ([]byte, bool) {
	ascii := true
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			dst = cleanRune(dst, r)
			i += n
			ascii = false
			continue
		}
		i++
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			dst = append(dst, ' ')
		case c < ' ' || c == 0x7f:
		default:
			dst = append(dst, c)
		}
	}
	return dst, ascii
}

// cleanRune is clean for one non-ASCII rune.
func cleanRune(dst []byte, r rune) []byte {
	switch {
	case r == utf8.RuneError:
		return dst
	case isCJK(r):
		dst = append(dst, ' ')
		dst = utf8.AppendRune(dst, r)
		return append(dst, ' ')
	}
	return utf8.AppendRune(dst, r)
}

// isCJK reports whether r is a CJK ideograph, which BERT treats as a word.
// The ranges are the model tokenizer's.
func isCJK(r rune) bool {
	return (r >= 0x4E00 && r <= 0x9FFF) ||
		(r >= 0x3400 && r <= 0x4DBF) ||
		(r >= 0x20000 && r <= 0x2A6DF) ||
		(r >= 0x2A700 && r <= 0x2B73F) ||
		(r >= 0x2B740 && r <= 0x2B81F) ||
		(r >= 0x2B920 && r <= 0x2CEAF) ||
		(r >= 0xF900 && r <= 0xFAFF) ||
		(r >= 0x2F800 && r <= 0x2FA1F)
}

// isASCIIPunct reports whether BERT splits the ASCII character c off as a
// word of its own: punctuation and symbols.
func isASCIIPunct(c byte) bool {
	return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') ||
		(c >= '[' && c <= '`') || (c >= '{' && c <= '~')
}

// appendWords splits the cleaned, decomposed text b into words, dropping
// control characters and nonspacing marks and lowercasing, and appends the
// ids of each word.
func (t *tokenizer) appendWords(dst []int32, b []byte, st *tokState) []int32 {
	word, chars := st.word[:0], 0
	for i := 0; i < len(b); {
		r, n := rune(b[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRune(b[i:])
		}
		i += n
		switch t.classOf(r) {
		case classSpace:
			dst = t.appendWord(dst, word, chars)
			word, chars = word[:0], 0
		case classPunct:
			dst = t.appendWord(dst, word, chars)
			dst = t.appendWord(dst, b[i-n:i], 1)
			word, chars = word[:0], 0
		case classDrop:
		default:
			word = appendLower(word, r)
			chars++
		}
	}
	st.word = word
	return t.appendWord(dst, word, chars)
}

// classOf says what BERT does with r in decomposed, cleaned text.
func (t *tokenizer) classOf(r rune) charClass {
	switch {
	case r >= utf8.RuneSelf:
		return t.chars.class(r)
	case r == ' ':
		return classSpace
	case isASCIIPunct(byte(r)):
		return classPunct
	}
	return classLetter
}

func appendLower(dst []byte, r rune) []byte {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return append(dst, byte(r))
	}
	return utf8.AppendRune(dst, unicode.ToLower(r))
}

// appendWord appends the WordPiece ids of word, which has chars runes.
func (t *tokenizer) appendWord(dst []int32, word []byte, chars int) []int32 {
	if len(word) == 0 {
		return dst
	}
	if chars > maxWordChars {
		return append(dst, t.unk)
	}
	mark := len(dst)
	for start := 0; start < len(word); {
		id, n := t.longest(word[start:], start > 0)
		if n == 0 {
			return append(dst[:mark], t.unk)
		}
		dst = append(dst, id)
		start += n
	}
	return dst
}

// longest returns the id and length of the longest vocabulary piece that
// begins s (a continuation piece if cont), or 0, 0 if there is none.
func (t *tokenizer) longest(s []byte, cont bool) (int32, int) {
	m, limit := t.whole, t.maxWhole
	if cont {
		m, limit = t.cont, t.maxCont
	}
	for end := min(len(s), limit); end > 0; end-- {
		if end < len(s) && !utf8.RuneStart(s[end]) {
			continue
		}
		if id, ok := m[string(s[:end])]; ok {
			return id, end
		}
	}
	return 0, 0
}
