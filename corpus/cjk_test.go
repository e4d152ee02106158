package corpus

import (
	"context"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func TestSentencesUnspacedScripts(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"北京是中华人民共和国的首都。上海是中国最大的城市！你知道吗？",
			[]string{"北京是中华人民共和国的首都。", "上海是中国最大的城市！", "你知道吗？"}},
		{"好。北京是中华人民共和国的首都。", []string{"好。北京是中华人民共和国的首都。"}},
		{"東京は日本の首都です。大阪は西にあります。", []string{"東京は日本の首都です。", "大阪は西にあります。"}},
		{"他说：「我们明天出发。」然后他走了很远的路。", []string{"他说：「我们明天出发。」", "然后他走了很远的路。"}},
		{"The capital is Beijing. 北京是首都城市。It is large and old.", []string{"The capital is Beijing.", "北京是首都城市。", "It is large and old."}},
		{"这是一个没有标点的中文句子", []string{"这是一个没有标点的中文句子"}},
	}
	for _, tt := range tests {
		var got []string
		for _, sp := range Sentences(tt.in) {
			got = append(got, tt.in[sp.Start:sp.End])
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Sentences(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

// TestLoadChineseArticle checks that a Chinese article keeps its
// paragraphs (a sentence without internal punctuation is not a fragment),
// that too-short ones are counted, and that its sentences split.
func TestLoadChineseArticle(t *testing.T) {
	text := "北京\n\n北京是中华人民共和国的首都。它有三千多年的历史！\n\n这是一个没有标点的中文句子\n\n你好\n"
	c, err := Load(context.Background(), fstest.MapFS{"beijing.txt": {Data: []byte(text)}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := c.Articles[0]
	if a.Title != "北京" || len(a.Paragraphs) != 2 || a.Fragments != 1 || c.Fragments() != 1 {
		t.Fatalf("title %q, %d paragraphs, %d fragments: %+v", a.Title, len(a.Paragraphs), a.Fragments, a.Paragraphs)
	}
	if a.ID != "beijing" || a.Paragraphs[1].N != 2 || a.Paragraphs[1].Text != "这是一个没有标点的中文句子" {
		t.Errorf("ID %q, paragraphs %+v", a.ID, a.Paragraphs)
	}
	p := a.Paragraphs[0].Text
	if got := Sentences(p); len(got) != 2 || p[got[1].Start:got[1].End] != "它有三千多年的历史！" {
		t.Errorf("sentences of %q: %v", p, got)
	}
}

func TestIsFragmentUnspaced(t *testing.T) {
	for in, want := range map[string]bool{
		"你好":     true,
		"今天天气很好": false,
		"这是一个没有标点的中文句子": false,
		"はい":       true,
		"東京タワーは高い": false,
	} {
		if got := isFragment(in); got != want {
			t.Errorf("isFragment(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestFindInsideUnspacedText(t *testing.T) {
	para := "北京是中华人民共和国的首都，也是全国的政治和文化中心。"
	for _, q := range []string{"中华人民共和国", "的首都", "北京"} {
		if _, ok := Find(para, q); !ok {
			t.Errorf("Find(%q): not found", q)
		}
	}
	if _, ok := Find("Iran 北京", "ran"); ok {
		t.Error(`"ran" found inside "Iran"`)
	}
	if got := Words("北京是Beijing的首都"); !slices.Equal(got, []string{"北", "京", "是", "beijing", "的", "首", "都"}) {
		t.Errorf("Words = %q", got)
	}
	if s := Similarity("北京是中华人民共和国的首都", "北京是中国的首都"); s < 0.5 || s >= 1 {
		t.Errorf("Similarity of a near miss = %.2f, want in [0.5, 1)", s)
	}
}

func TestFindCornerBrackets(t *testing.T) {
	para := "他说：「我们明天出发。」然后他走了。"
	for _, q := range []string{"「我们明天出发。」", "“我们明天出发。”", "我们明天出发"} {
		if _, ok := Find(para, q); !ok {
			t.Errorf("Find(%q) in %q: not found", q, para)
		}
	}
}
