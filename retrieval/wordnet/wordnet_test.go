package wordnet

import "testing"

func TestShare(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"purchase", "buy", true},
		{"purchases", "bought", true}, // inflections, regular and not
		{"coalition", "alliance", true},
		{"lately", "recently", true},
		{"crude", "oil", true},
		{"children", "child", true},
		{"purchase", "alliance", false},
		{"pizza", "oil", false},
		{"guitar", "pipeline", false},
		{"xyzzy", "xyzzy", false}, // unknown words share nothing
	}
	tb := Default()
	for _, tt := range tests {
		if got := Share(tb.Senses(tt.a), tb.Senses(tt.b)); got != tt.want {
			t.Errorf("Share(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func BenchmarkDefault(b *testing.B) {
	for b.Loop() {
		parse(senses)
	}
}
