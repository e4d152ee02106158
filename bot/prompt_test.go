package bot

import (
	"errors"
	"testing"
)

func TestPartialAnswer(t *testing.T) {
	tests := []struct{ raw, want string }{
		{``, ``},
		{`{`, ``},
		{`{"answ`, ``},
		{`{"answer": `, ``},
		{`{"answer": "Baku is`, `Baku is`},
		{`{"answer": "Baku \"is\" the`, `Baku "is" the`},
		{`{"answer": "line\nbreak\`, "line\nbreak"},
		{`{"answer": "caf\u00e9 \u00`, `café `},
		{`{"answer": "smile \ud83d\ude00 \ud83d`, "smile 😀 "},
		{`{"answer": "done [1].", "quotes": [{"source": 1`, `done [1].`},
		{"```json\n{\"answer\": \"fenced", `fenced`},
		{"```", ``},
		{`Prose answer [1] so far`, `Prose answer [1] so far`},
		{"{\"answer\": \"Baku \xe2\x80", "Baku "}, // a character cut mid-way
	}
	for _, tt := range tests {
		if got := partialAnswer(tt.raw); got != tt.want {
			t.Errorf("partialAnswer(%q) = %q, want %q", tt.raw, got, tt.want)
		}
	}
}

func TestParseReply(t *testing.T) {
	tests := []struct {
		content string
		want    reply
		err     error
	}{
		{`{"answer": "A [1].", "quotes": [{"source": 1, "text": "x y"}], "answerable": true}`,
			reply{Text: "A [1].", Quotes: []rawQuote{{1, "x y"}}, Answerable: true}, nil},
		{`{"answer": "A.", "quotes": [{"source": "2", "text": "q"}, {"source": "[3]", "text": "r"}, {"text": "s"}]}`,
			reply{Text: "A.", Quotes: []rawQuote{{2, "q"}, {3, "r"}, {0, "s"}}, Answerable: true}, nil},
		{`{"answer": "", "quotes": [], "answerable": false}`, reply{}, nil},
		{"  Plain prose [1].  ", reply{Text: "Plain prose [1].", Answerable: true}, nil},
		{"", reply{}, errEmptyReply},
		{"```\n```", reply{}, errEmptyReply},
		{`{"answer": "cut`, reply{}, errMalformedReply},
		{`{"quotes": []}`, reply{}, errMalformedReply},
		{`{"answer": 42}`, reply{}, errMalformedReply},
		{`{"answer": "A [1].", "quotes": [], "answerable": true} Note: the set {x} is empty}`,
			reply{Text: "A [1].", Answerable: true}, nil},
		{"Here is the reply:\n```json\n{\"answer\": \"A.\", \"quotes\": [{\"source\": 1, \"text\": \"q\"}]}\n```\nHope it helps {:}",
			reply{Text: "A.", Quotes: []rawQuote{{1, "q"}}, Answerable: true}, nil},
		{"The set {a, b} has two members [1].", reply{Text: "The set {a, b} has two members [1].", Answerable: true}, nil},
		// What small local models send.
		{`Sure! Here is the JSON: {"answer": "Baku [1].", "quotes": [{"source": 1, "text": "q"}], "answerable": "true"}`,
			reply{Text: "Baku [1].", Quotes: []rawQuote{{1, "q"}}, Answerable: true}, nil},
		{`{"answer": "No.", "quotes": [], "answerable": "false"}`, reply{Text: "No."}, nil},
		{`{"answer": "Baku [1].", "quotes": "none", "answerable": 1}`, reply{Text: "Baku [1].", Answerable: true}, nil},
		{`Here you go: {"answer": "Baku is the capital [1].", "quotes": [{"source": 1, "text": "Baku is`, reply{}, errMalformedReply},
		{"Answer:\n```json\n{\"answer\": \"cut off", reply{}, errMalformedReply},
		{`The reply is {"answer" : "x"`, reply{}, errMalformedReply},
		{"{\"answer\": \"Baku is the capital.\nIt is on the Caspian [1].\",\n\"quotes\": [{\"source\": 1, \"text\": \"a\tb\"}], \"answerable\": true}",
			reply{Text: "Baku is the capital.\nIt is on the Caspian [1].", Quotes: []rawQuote{{1, "a\tb"}}, Answerable: true}, nil},
	}
	for _, tt := range tests {
		got, err := parseReply(tt.content)
		if !errors.Is(err, tt.err) {
			t.Errorf("parseReply(%q) error %v, want %v", tt.content, err, tt.err)
			continue
		}
		if err == nil && (got.Text != tt.want.Text || got.Answerable != tt.want.Answerable || len(got.Quotes) != len(tt.want.Quotes)) {
			t.Errorf("parseReply(%q) = %+v, want %+v", tt.content, got, tt.want)
			continue
		}
		for i := range got.Quotes {
			if got.Quotes[i] != tt.want.Quotes[i] {
				t.Errorf("parseReply(%q) quote %d = %+v, want %+v", tt.content, i, got.Quotes[i], tt.want.Quotes[i])
			}
		}
	}
}
