package eval

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/verbatim-bot/verbatim/corpus/evaldata"
)

func TestLoadQuestions(t *testing.T) {
	tests := []struct {
		name    string
		jsonl   string
		want    []Question
		wantErr string
	}{
		{
			name: "squad",
			jsonl: `{"id": "q1", "question": "Which NFL team represented the AFC?", "article_id": "Super_Bowl_50", "paragraph_index": 0, "answers": [{"text": "Denver Broncos", "answer_start": 177}, {"text": "Denver Broncos", "answer_start": 177}, {"text": "Broncos", "answer_start": 184}]}

{"id": "q2", "question": " Where? ", "article_id": "X", "paragraph_index": 3, "answers": []}
`,
			want: []Question{
				{ID: "q1", Text: "Which NFL team represented the AFC?", ArticleID: "Super_Bowl_50", ParagraphN: 1, Answers: []string{"Denver Broncos", "Broncos"}, Answerable: true},
				{ID: "q2", Text: "Where?", ArticleID: "X", ParagraphN: 4, Answerable: true},
			},
		},
		{
			name: "seed",
			jsonl: `{"id": "seed-02", "question": "How much of Israel's oil does Azerbaijan supply?", "answers": ["about 60%"], "evidence": "Azerbaijan supplies about 60% of oil resources, which Israel needs", "answerable": true}
{"id": "seed-11", "question": "Who won the 2022 FIFA World Cup?", "answers": [], "evidence": null, "answerable": false}`,
			want: []Question{
				{ID: "seed-02", Text: "How much of Israel's oil does Azerbaijan supply?", Answers: []string{"about 60%"}, Evidence: "Azerbaijan supplies about 60% of oil resources, which Israel needs", Answerable: true},
				{ID: "seed-11", Text: "Who won the 2022 FIFA World Cup?"},
			},
		},
		{name: "empty file", jsonl: "", want: nil},
		{name: "bad json", jsonl: `{"id": "a", "question": "ok?"}` + "\n{not json\n", wantErr: "line 2"},
		{name: "no question", jsonl: `{"id": "a"}`, wantErr: `no "question"`},
		{name: "bad answers", jsonl: `{"question": "q", "answers": 3}`, wantErr: "answers"},
		{name: "negative index", jsonl: `{"question": "q", "article_id": "a", "paragraph_index": -1}`, wantErr: "negative"},
		{name: "index without article", jsonl: `{"question": "q", "paragraph_index": 1}`, wantErr: "article_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "q.jsonl")
			if err := os.WriteFile(path, []byte(tt.jsonl), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := LoadQuestions(path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("questions (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := LoadQuestions(filepath.Join(t.TempDir(), "absent.jsonl")); err == nil {
		t.Error("loading a missing file succeeded")
	}
}

// TestLoadSharedQuestions reads the real question files when present.
func TestLoadSharedQuestions(t *testing.T) {
	dir := evaldata.Dir(t)
	for _, tt := range []struct {
		file string
		n    int
	}{{"squad-dev/questions.jsonl", 5327}, {"seed-questions.jsonl", 11}} {
		qs, err := LoadQuestions(filepath.Join(dir, tt.file))
		if err != nil {
			t.Fatal(err)
		}
		if len(qs) != tt.n {
			t.Errorf("%s: %d questions, want %d", tt.file, len(qs), tt.n)
		}
		for _, q := range qs {
			if q.Answerable && len(q.Answers) == 0 {
				t.Errorf("%s: answerable question %s has no answers", tt.file, q.ID)
			}
		}
	}
}
