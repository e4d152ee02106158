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
		{"how tall is honda's asimo now", Length},
		{"how high is mount kenya", Length},
		{"how far is it from baku to tel aviv", Length},
		{"how quick is honda's robot when it runs", Speed},
		{"how fast did they set up formal relations", AnyKind}, // how soon, not a speed
		{"how heavy is the robot", Weight},
		{"how big is azerbaijan's army", Quantity},
		{"how high is unemployment", Length},
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

// TestMeasureHolds checks what holds a measure with its unit (or a rate).
func TestMeasureHolds(t *testing.T) {
	holds := []struct {
		k    Kind
		s    string
		want bool
	}{
		{Length, "Asimo has grown 10cm to 130cm.", true},
		{Length, "The peak rises to 5,199 metres.", true},
		{Length, "The bridge is two miles long.", true},
		{Length, "Asimo was born five years ago.", false},
		{Length, "The club lost £5m last year.", false},
		{Length, "The club lost 5m euros last year.", false},
		{Length, "The bridge crosses the 400 m wide river.", true},
		{Length, "It has an average width of 400 m (1,300 ft).", true},
		{Length, "A 2m-long fence.", true},
		{Length, "Some 1.4m workers struck.", false},
		{Length, "Unemployment rose to 5.3%.", true},
		{Length, "The peak is a mile high.", true},
		{Speed, "At 3km/h, it is closer to a leisurely jog.", true},
		{Speed, "It can now run at 6 km an hour.", true},
		{Speed, "It runs faster than before.", false},
		{Speed, "Broadband of 8Mbps reached most homes.", true},
		{Speed, "Inflation rose 3.1 per cent.", true},
		{Weight, "The robot weighs 52kg.", true},
		{Weight, "It weighs less than before.", false},
		{Weight, "Phones for 3G networks sold well.", false},
		{Weight, "Add 5g of sugar.", true},
		{Weight, "The formula g is a constant.", false},
	}
	for _, tt := range holds {
		if got := tt.k.holds(tt.s, nil, nil); got != tt.want {
			t.Errorf("%s holds %q = %v, want %v", tt.k, tt.s, got, tt.want)
		}
	}
}
