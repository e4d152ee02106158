// Package bot turns a question into Verbatim's reply: retrieved passages,
// an LLM (or extractive) answer with numbered citations, and quotes that are
// verified to appear word for word in the cited paragraph before anyone sees
// them. It knows nothing about Discord; the CLI and the bot both drive it.
package bot

import (
	"strconv"
	"strings"
	"time"

	"github.com/verbatim-bot/verbatim/corpus"
	"github.com/verbatim-bot/verbatim/retrieval"
)

// Mode says how an Answer was produced. A refusal because no passage is
// relevant enough is Extractive (no model was asked); a refusal because the
// model said the passages do not answer is Generated.
type Mode string

const (
	Generated  Mode = "generated"  // written by the LLM, then verified
	Extractive Mode = "extractive" // sentences quoted from the top passages
)

// Answer is the verified reply to one question. Its Body is data, not
// markup: each face (the CLI, Discord) renders it in its own syntax and
// escapes the text for it.
type Answer struct {
	ID       string // random, for feedback and logs
	Question string
	// Body is the reply: prose, verified quotes and citations, in order.
	Body    []Segment
	Sources []Source // only sources cited in Body, numbered 1..len
	Refused bool     // the articles do not answer; Sources is empty
	// Closest names the nearest articles when Refused.
	Closest []ArticleRef
	Mode    Mode
	// Asked is true when the passages went to the language model
	// (whatever it then said, or failed to).
	Asked bool
	// KeywordOnly is true when the question could not be embedded (the
	// embedding server failed) and the passages were found by keywords
	// alone; faces say so.
	KeywordOnly bool
	Note        string // why the answer fell back to extractive, if it did; a sentence for users
	// Judgement is what was measured to decide whether the passages
	// answer the question.
	Judgement Judgement
	// Check is what verification changed in the model's reply; it is kept
	// when the reply could not be verified and the answer fell back to
	// extractive, so that --verbose shows why.
	Check   Check
	Timings Timings
	// Query is what was searched: the question, or for a follow-up the
	// previous question joined to it (see Answerer.Answer).
	Query string
	// Retrieved are the TopK passages the answer was drawn from, with
	// their retrieval scores: retrieval's best, or with a model the ones
	// holding the best sentences of a deeper search, best first; what the
	// model saw and the sources were drawn from (for --verbose and
	// debugging).
	Retrieved []retrieval.Result
}

// SegmentKind says what a Segment of an answer's Body is.
type SegmentKind string

const (
	// Prose is text written by the model (or the answerer), shown as is.
	Prose SegmentKind = "text"
	// InlineQuote is a verified quotation within the prose, shown between
	// quotation marks.
	InlineQuote SegmentKind = "quote"
	// Excerpt is a verified quote shown on its own line: the sentences of
	// an extractive answer.
	Excerpt SegmentKind = "excerpt"
	// Citation cites one source.
	Citation SegmentKind = "citation"
)

// Segment is one piece of an answer's Body. Prose segments carry their own
// white space; faces concatenate segments, starting each Excerpt on a line
// of its own.
type Segment struct {
	Kind SegmentKind
	// Text is the prose, or the quote in its source's own characters
	// (empty for a Citation).
	Text string
	// Source is the cited Sources[i].N, for quotes and citations; 0 for
	// prose.
	Source int
	// Span locates a quote's Text in its source's paragraph (byte offsets).
	Span corpus.Span
}

// Text returns the body as plain text: prose as written, quotes between
// “ and ”, each excerpt on its own line, citations as [n]. It is for logs,
// conversation history and evaluation; faces render Body themselves.
func (a *Answer) Text() string {
	var b strings.Builder
	for _, s := range a.Body {
		switch s.Kind {
		case Prose:
			b.WriteString(s.Text)
		case InlineQuote:
			b.WriteString("“" + s.Text + "”")
		case Excerpt:
			if b.Len() > 0 {
				b.WriteString("\n")
			}
			b.WriteString("“" + strings.Join(strings.Fields(s.Text), " ") + "” ")
		case Citation:
			b.WriteString("[" + strconv.Itoa(s.Source) + "]")
		}
	}
	return b.String()
}

// Source is one cited paragraph.
type Source struct {
	N         int // the number Citation segments refer to
	ArticleID string
	Title     string
	URL       string
	Author    string    // "" when unknown
	Published time.Time // zero when unknown
	Paragraph corpus.Paragraph
	Quotes    []Quote // verified quotes, in the source's own characters
}

// Quote is an exact excerpt of Source.Paragraph.Text, in the article's own
// characters (whatever syntax a face would read in them: faces escape it).
type Quote struct {
	Text string
	Span corpus.Span // byte offsets of Text in the paragraph
}

// ArticleRef names an article.
type ArticleRef struct {
	ID, Title, URL string
}

// Check records what verification changed in the LLM's reply.
type Check struct {
	Kept           int // quotes found verbatim (after normalising) in their cited passage
	Repaired       int // near misses replaced by the source sentence they came from
	Reattributed   int // quotes moved to the passage that really contains them
	Dropped        int // quotes that matched nothing close enough
	MarkersRemoved int // [n] markers pointing at sources that do not exist
	Uncited        int // citations removed from sentences their sources do not support (see holdClaims)
}

// Timings break down where an answer's time went.
type Timings struct {
	Retrieval, LLM, Verify, Total time.Duration
}

// Options tune one call to Answerer.Answer.
type Options struct {
	// History is the earlier turns of a conversation (oldest first), used
	// to understand follow-up questions. It is context, never a source.
	History []Turn
	// OnDelta, if set, receives the reply text so far while a generating
	// LLM streams it (unverified, raw model text: for progress display
	// only). It is called from the goroutine running Answer, and never
	// once Answer has returned.
	OnDelta func(partial string)
	// ArticleID restricts retrieval to one article; "" for all.
	ArticleID string
	// Collection restricts retrieval to one collection (a sub-folder of
	// the corpus, see corpus.Article.Collection); "" for all.
	Collection string
}

// Turn is one earlier question and the reply text shown for it.
type Turn struct {
	Question, Answer string
}
