package retrieval

import (
	"bytes"
	"unicode"
	"unicode/utf8"

	"github.com/kljensen/snowball/english"
)

// Terms returns the index terms of text, in order, as used by both the BM25
// index and the local embedder, so that queries and passages meet in the same
// vocabulary. It:
//
//   - lowercases (Unicode) and folds Latin-1 and Latin Extended-A letters to
//     ASCII ("Café" → "cafe", "ß" → "ss", "Æ" → "ae");
//   - splits on every rune that is not a letter or digit, except that an
//     apostrophe (' ’ ‘ ‛ ʼ ＇) between letters is dropped and joins the word
//     ("don't" → "dont"), a possessive or contracted "'s" is removed
//     ("Israel's" → "israel"), and a comma between digits is dropped
//     ("1,000" → "1000");
//   - ignores combining marks and invisible characters (soft hyphen,
//     zero-width spaces and joiners, word joiner, byte-order mark);
//   - splits runs of Han, Hiragana and Katakana, which are written without
//     spaces between words, into their overlapping character bigrams
//     ("北京首都" → "北京", "京首", "首都"; a lone character is kept as it
//     is), so a question in Chinese or Japanese meets its passage without
//     a dictionary;
//   - drops English stopwords (see isStopword) and single letters;
//   - stems words of three or more ASCII letters with the Snowball (Porter2)
//     English stemmer; words containing digits or other scripts are kept
//     as they are.
func Terms(text string) []string {
	var st stemmer
	return st.appendTerms(nil, text)
}

// Words returns the words of text that Terms would keep, in order, folded
// and lowercased as Terms does but not stemmed: the words to look up in a
// vocabulary of whole words.
func Words(text string) []string {
	var out []string
	sc := wordScanner{text: text}
	for w := sc.next(); w != nil; w = sc.next() {
		out = append(out, string(w))
	}
	return out
}

// appendTerms appends the terms of text (see Terms) to dst. It is the
// allocation-light form for hot loops: a long-lived stemmer remembers the
// stems it has computed, so steady-state tokenizing allocates only when dst
// grows.
func (st *stemmer) appendTerms(dst []string, text string) []string {
	sc := wordScanner{text: text, buf: st.buf[:0]}
	for w := sc.next(); w != nil; w = sc.next() {
		dst = append(dst, st.stem(w))
	}
	st.buf = sc.buf
	return dst
}

// wordScanner yields the folded, lowercased words of a text that are not
// stopwords, as described for terms but before stemming.
type wordScanner struct {
	text  string
	i     int    // next byte of text to read
	buf   []byte // the word being built, reused between words
	inRun bool   // the rune at i ended the last bigram of a Han or Kana run
}

// next returns the next word, or nil at the end of the text. The slice
// aliases the scanner's buffer and is valid until the next call.
func (s *wordScanner) next() []byte {
	for {
		w, more := s.word()
		if len(w) > 0 && !(len(w) == 1 && w[0] >= 'a') && !isStopword(w) {
			return w
		}
		if !more {
			return nil
		}
	}
}

// word reads up to the end of the next word and returns it (possibly empty)
// and whether any text remains.
//
// It is a byte-level state machine on the hot path of indexing and every
// query: its cases stay together in one loop rather than split into calls.
//
//gocyclo:ignore
func (s *wordScanner) word() (w []byte, more bool) {
	w = s.buf[:0]
	defer func() { s.buf = w[:0] }()
	text := s.text
	for s.i < len(text) {
		i := s.i
		c := text[i]
		if c < utf8.RuneSelf {
			s.i++
			switch {
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
				w = append(w, c)
			case 'A' <= c && c <= 'Z':
				w = append(w, c+'a'-'A')
			case c == ',' && len(w) > 0 && isDigit(w[len(w)-1]) && s.i < len(text) && isDigit(text[s.i]):
				// thousands separator: keep the number whole
			case c == '\'' && joins(text, s.i, w):
			default:
				if len(w) > 0 {
					return w, true
				}
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		s.i += size
		switch {
		case isUnspaced(r):
			if len(w) > 0 { // a word of another script ends here
				s.i = i
				return w, true
			}
			next, _ := utf8.DecodeRuneInString(text[s.i:])
			if s.i < len(text) && isUnspaced(next) {
				s.inRun = true
				return utf8.AppendRune(utf8.AppendRune(w, r), next), true
			}
			if s.inRun { // r ended the run's last bigram
				s.inRun = false
				continue
			}
			return utf8.AppendRune(w, r), true
		case r == '’' || r == '‘' || r == 'ʼ' || r == '‛' || r == '＇':
			if !joins(text, s.i, w) && len(w) > 0 {
				return w, true
			}
		case 0xC0 <= r && r < 0x180:
			if f, ok := latinFold(r); ok {
				w = append(w, f...)
			} else if len(w) > 0 {
				return w, true
			}
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			w = utf8.AppendRune(w, unicode.ToLower(r))
		case unicode.Is(unicode.Mn, r) || isInvisible(r):
			// combining mark of a decomposed accent, or an invisible
			// character such as a soft hyphen: ignore
		default:
			if len(w) > 0 {
				return w, true
			}
		}
	}
	return w, false
}

// joins reports whether an apostrophe ending just before text[next] is
// inside the word w and dropped, joining its two halves ("don't" → "dont").
// A possessive or contracted "'s" that ends the word does not join: the word
// ends at the apostrophe and the lone "s" is discarded.
func joins(text string, next int, w []byte) bool {
	if len(w) == 0 || next >= len(text) || !isLetterAt(text, next) {
		return false
	}
	if text[next] == 's' || text[next] == 'S' {
		end := next + 1
		return end < len(text) && (isLetterAt(text, end) || isDigit(text[end]))
	}
	return true
}

// latinFold returns the lowercase ASCII folding of r, a rune in
// U+00C0..U+017F, and false for the two symbols × and ÷ in that range.
func latinFold(r rune) (string, bool) {
	switch r {
	case 'Æ', 'æ':
		return "ae", true
	case 'ß':
		return "ss", true
	case 'Þ', 'þ':
		return "th", true
	case 'Œ', 'œ':
		return "oe", true
	case 'Ĳ', 'ĳ':
		return "ij", true
	case '×', '÷':
		return "", false
	}
	i := r - 0xC0
	return latinFolds[i : i+1], true
}

// latinFolds maps U+00C0..U+017F to one lowercase ASCII letter each.
const latinFolds = "aaaaaaaceeeeiiiidnooooo ouuuuytsaaaaaaaceeeeiiiidnooooo ouuuuyty" +
	"aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiiiiijjkkkllllllllll" +
	"nnnnnnnnnoooooooorrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs"

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isLetterAt reports whether text[i:] starts with a letter.
func isLetterAt(text string, i int) bool {
	c := text[i]
	if c < utf8.RuneSelf {
		return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
	}
	r, _ := utf8.DecodeRuneInString(text[i:])
	return unicode.IsLetter(r)
}

// stemmer stems words, remembering the stems it has computed. The zero value
// is ready to use; a stemmer is not safe for concurrent use.
type stemmer struct {
	memo map[string]string
	buf  []byte // word buffer reused by appendTerms
}

// stem returns the term for the word w (see stemWord), remembering it.
func (s *stemmer) stem(w []byte) string {
	if st, ok := s.memo[string(w)]; ok {
		return st
	}
	word := string(w)
	st := stemWord(word)
	if s.memo == nil {
		s.memo = make(map[string]string)
	}
	if len(s.memo) < maxStemMemo {
		s.memo[word] = st
	}
	return st
}

// stemWord returns the Snowball English stem of word, or word itself when
// it is shorter than three bytes or not all ASCII letters.
func stemWord(word string) string {
	for i := 0; i < len(word); i++ {
		if c := word[i]; c < 'a' || c > 'z' {
			return word
		}
	}
	if len(word) <= 2 {
		return word
	}
	return english.Stem(word, true)
}

// maxStemMemo bounds a stemmer's memory: English text has far fewer distinct
// words than this, so only pathological input stops being remembered.
const maxStemMemo = 1 << 20

// isStopword reports whether the lowercased, apostrophe-free word w carries
// too little meaning to index: the Snowball English stopword list, the
// contractions it implies once apostrophes are dropped, and a few auxiliaries
// common in questions.
func isStopword(w []byte) bool {
	switch string(w) {
	case "a", "about", "above", "after", "again", "against", "all", "am", "an",
		"and", "any", "are", "as", "at", "be", "because", "been", "before",
		"being", "below", "between", "both", "but", "by", "can", "did", "do",
		"does", "doing", "don", "down", "during", "each", "few", "for", "from",
		"further", "had", "has", "have", "having", "he", "her", "here", "hers",
		"herself", "him", "himself", "his", "how", "i", "if", "in", "into", "is",
		"it", "its", "itself", "just", "me", "more", "most", "my", "myself",
		"no", "nor", "not", "now", "of", "off", "on", "once", "only", "or",
		"other", "our", "ours", "ourselves", "out", "over", "own", "s", "same",
		"she", "should", "so", "some", "such", "t", "than", "that", "the", "their",
		"theirs", "them", "themselves", "then", "there", "these", "they",
		"this", "those", "through", "to", "too", "under", "until", "up",
		"very", "was", "we", "were", "what", "when", "where", "which", "while",
		"who", "whom", "why", "will", "with", "you", "your", "yours", "yourself",
		"yourselves",
		// contractions without their apostrophe
		"dont", "doesnt", "didnt", "isnt", "arent", "wasnt", "werent", "cant",
		"couldnt", "wouldnt", "shouldnt", "wont", "hasnt", "havent", "hadnt",
		"im", "ive", "youre", "youve", "theyre", "theyve", "weve",
		// auxiliaries and fillers
		"also", "could", "would", "might", "must", "shall", "may", "whose",
		"upon", "onto", "us", "yet":
		return true
	}
	return w[0] >= 0xe3 && bytes.ContainsAny(w, interrogatives)
}

// interrogatives are the Chinese question words and particles (where,
// who, what, the question particles): a character bigram holding one is,
// like "where" or "who", a stopword.
const interrogatives = "哪谁吗呢么"

// isUnspaced reports whether r is a letter of a script written without
// spaces between words, indexed by character bigrams: Han, Hiragana,
// Katakana (with its prolonged sound mark).
func isUnspaced(r rune) bool {
	return r >= 0x3040 && (unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r) || r == 'ー')
}

// isInvisible reports whether r is one of the invisible characters that
// corpus.Fold drops, so that both see the same words.
func isInvisible(r rune) bool {
	switch r {
	case '\u200B', '\u200C', '\u200D', '\u2060', '\uFEFF', '\u00AD':
		return true
	}
	return false
}
