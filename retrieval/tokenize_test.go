package retrieval

import (
	"slices"
	"strings"
	"testing"
)

func TestTerms(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"The and of", nil},
		{"Israel's ties", []string{"israel", "tie"}},
		{"Israel’s ties", []string{"israel", "tie"}},
		{"it's", nil},
		{"Don't stop", []string{"stop"}},
		{"O’Brien", []string{"obrien"}},
		{"Café Señor ß Æther", []string{"cafe", "senor", "ss", "aether"}},
		{"Cafe\u0301", []string{"cafe"}},
		{"1,000 people in 2004", []string{"1000", "peopl", "2004"}},
		{"Azerbaijan–Israel relations", []string{"azerbaijan", "israel", "relat"}},
		{"running runs ran", []string{"run", "run", "ran"}},
		{"a b c x 5", []string{"5"}},
		{"Москва Moscow", []string{"москва", "moscow"}},
		{"rock 'n' roll", []string{"rock", "roll"}},
		{"'quoted' words'", []string{"quot", "word"}},
		{"students' union", []string{"student", "union"}},
		{"infor\u00ADmation", []string{"inform"}},
		{"北京是中国的首都。", []string{"北京", "京是", "是中", "中国", "国的", "的首", "首都"}},
		{"首都 in 北京", []string{"首都", "北京"}},
		{"中", []string{"中"}},
		{"東京タワーは高い", []string{"東京", "京タ", "タワ", "ワー", "ーは", "は高", "高い"}},
		{"BBC中文网", []string{"bbc", "中文", "文网"}},
		{"故宫在哪里？", []string{"故宫", "宫在"}}, // bigrams with a question word are stopwords
		{"서울은 수도", []string{"서울은", "수도"}},
	}
	for _, tt := range tests {
		if got := Terms(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("Terms(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func BenchmarkTerms(b *testing.B) {
	text := strings.Repeat("The Normans (Norman: Nourmands; French: Normands; Latin: Normanni) were the people who in the 10th and 11th centuries gave their name to Normandy, a region in France. ", 4)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		Terms(text)
	}
}

func BenchmarkAppendTerms(b *testing.B) {
	text := "The Normans (Norman: Nourmands; French: Normands; Latin: Normanni) were the people who in the 10th and 11th centuries gave their name to Normandy, a region in France. They were descended from Norse (\"Norman\" comes from \"Norseman\") raiders and pirates from Denmark, Iceland and Norway who, under their leader Rollo, agreed to swear fealty to King Charles III of West Francia."
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	var st stemmer
	var dst []string
	for b.Loop() {
		dst = st.appendTerms(dst[:0], text)
	}
}
