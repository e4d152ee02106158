package bot

import (
	"maps"
	"slices"
	"testing"
)

func TestQuestionKind(t *testing.T) {
	tests := []struct {
		q    string
		want Kind
	}{
		{"how many barrels a day", Quantity},
		{"when's the next full moon", Time},
		{"when’s the next full moon", Time},
		{"who's in charge there", Person},
		{"where's the pipeline going", Place},
		{"so why did they send an envoy", Reason},
		{"what's aliyev trying to patch up", AnyKind},
	}
	for _, tt := range tests {
		if got := questionKind(tt.q); got != tt.want {
			t.Errorf("questionKind(%q) = %q, want %q", tt.q, got, tt.want)
		}
	}
}

func TestHasQuantity(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{"Azerbaijan supplies about 60% of oil.", true},
		{"The two countries signed a deal.", true},
		{"Thousands came.", true},
		{"On one hand, they understand the role of Azerbaijan.", false},
		{"One Shia Muslim country wants to stand with Israel.", false},
		{"It is one of the world's major oil producers.", false},
		{"In 2023, Israel was Azerbaijan's sixth largest oil buyer.", false},
		{"It became independent in May 1992.", false},
		{"They sent 2000 soldiers in 1994.", true},
		{"Sales rose to 1,500 barrels.", true},
	}
	for _, tt := range tests {
		if got := hasQuantity(tt.s); got != tt.want {
			t.Errorf("hasQuantity(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

// TestAskedTerms checks that the words saying what kind of answer is
// wanted, and light verbs, are not what a sentence is scored on.
func TestAskedTerms(t *testing.T) {
	tests := []struct {
		q    string
		want []string
	}{
		{"how many barrels a day go to israel", []string{"barrel", "day", "israel"}},
		{"what year did they stop being part of the ussr", []string{"stop", "part", "ussr"}},
		{"who came over lately", []string{"late"}},
		{"how much", []string{"much"}}, // nothing but cue words: all of them
	}
	for _, tt := range tests {
		got := slices.Sorted(maps.Keys(askedTerms(tt.q)))
		want := slices.Sorted(slices.Values(tt.want))
		if !slices.Equal(got, want) {
			t.Errorf("askedTerms(%q) = %q, want %q", tt.q, got, want)
		}
	}
}
