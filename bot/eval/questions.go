// Package eval measures Verbatim against question sets: how well retrieval
// ranks the passage that answers (recall@k, MRR, latency), and how well
// answers do.
package eval

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// Question is one evaluation question. It is read from either of the two
// JSONL formats of ../shared/eval: SQuAD (squad-dev/questions.jsonl: id,
// question, article_id, paragraph_index, answers [{text, answer_start}])
// or the seed questions about the shipped article (seed-questions.jsonl:
// id, question, answers [string], evidence, answerable).
type Question struct {
	ID   string
	Text string
	// ArticleID is the "id" of the gold article in its articles.jsonl (not
	// yet slugged); "" when the question names none.
	ArticleID string
	// ParagraphN is the 1-based position of the gold paragraph in that
	// article (paragraph_index+1), or 0 when the question names none.
	ParagraphN int
	// Answers are the distinct accepted answer texts, in file order.
	Answers []string
	// Evidence is a passage excerpt that answers the question, verbatim
	// from the article; "" when none is given.
	Evidence string
	// Answerable is false when the articles do not answer the question
	// (the right reply is a refusal). SQuAD questions are all answerable.
	Answerable bool
	// OffCorpus marks a question about nothing the corpora cover (kind
	// "off-corpus" in the natural set), as opposed to one on an
	// article's topic that the article does not answer.
	OffCorpus bool
	// Corpus and Split are the natural set's "corpus" (shipped, squad-dev,
	// bbc, none) and "split" (tune, test); "" in other sets.
	Corpus, Split string
}

// questionLine is one line of either format.
type questionLine struct {
	ID             string          `json:"id"`
	Question       string          `json:"question"`
	ArticleID      string          `json:"article_id"`
	ParagraphIndex *int            `json:"paragraph_index"`
	Answers        json.RawMessage `json:"answers"`
	Evidence       *string         `json:"evidence"`
	Answerable     *bool           `json:"answerable"`
	Kind           string          `json:"kind"`
	Corpus         string          `json:"corpus"`
	Split          string          `json:"split"`
}

// Filter returns the questions of qs from one of the corpora named (any
// corpus when corpora is empty) and of split (any when ""). Off-corpus
// questions (corpus "none") belong to every corpus.
func Filter(qs []Question, corpora []string, split string) []Question {
	var out []Question
	for _, q := range qs {
		if len(corpora) > 0 && !q.OffCorpus && !slices.Contains(corpora, q.Corpus) {
			continue
		}
		if split != "" && q.Split != split {
			continue
		}
		out = append(out, q)
	}
	return out
}

// LoadQuestions reads a JSONL file of questions in either format. Blank
// lines are ignored; any malformed line is an error naming the line, since
// a partly read question set would give misleading figures.
func LoadQuestions(path string) ([]Question, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	defer f.Close()
	qs, err := readQuestions(f)
	if err != nil {
		return nil, fmt.Errorf("eval: %s: %w", path, err)
	}
	return qs, nil
}

func readQuestions(r io.Reader) ([]Question, error) {
	var qs []Question
	br := bufio.NewReader(r)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		if line = bytes.TrimSpace(line); len(line) > 0 {
			q, perr := parseQuestion(line)
			if perr != nil {
				return nil, fmt.Errorf("line %d: %w", n, perr)
			}
			qs = append(qs, q)
		}
		if err != nil {
			return qs, nil
		}
	}
}

func parseQuestion(line []byte) (Question, error) {
	var ql questionLine
	if err := json.Unmarshal(line, &ql); err != nil {
		return Question{}, err
	}
	q := Question{
		ID:         ql.ID,
		Text:       strings.TrimSpace(ql.Question),
		ArticleID:  ql.ArticleID,
		Answerable: ql.Answerable == nil || *ql.Answerable,
		OffCorpus:  ql.Kind == "off-corpus",
		Corpus:     ql.Corpus,
		Split:      ql.Split,
	}
	if q.Text == "" {
		return Question{}, errors.New(`no "question"`)
	}
	if ql.ParagraphIndex != nil {
		if *ql.ParagraphIndex < 0 {
			return Question{}, fmt.Errorf("negative paragraph_index %d", *ql.ParagraphIndex)
		}
		if q.ArticleID == "" {
			return Question{}, errors.New(`paragraph_index without article_id`)
		}
		q.ParagraphN = *ql.ParagraphIndex + 1
	}
	if ql.Evidence != nil {
		q.Evidence = *ql.Evidence
	}
	answers, err := parseAnswers(ql.Answers)
	if err != nil {
		return Question{}, err
	}
	for _, a := range answers {
		if a != "" && !slices.Contains(q.Answers, a) {
			q.Answers = append(q.Answers, a)
		}
	}
	return q, nil
}

// parseAnswers accepts ["text", ...] and [{"text": ..., "answer_start": n}, ...].
func parseAnswers(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var texts []string
	if err := json.Unmarshal(raw, &texts); err == nil {
		return texts, nil
	}
	var objs []struct {
		Text string `json:"text"`
	}
	if err := json.Unmarshal(raw, &objs); err != nil {
		return nil, fmt.Errorf(`"answers" is neither a list of strings nor of {"text"} objects: %w`, err)
	}
	for _, o := range objs {
		texts = append(texts, o.Text)
	}
	return texts, nil
}
