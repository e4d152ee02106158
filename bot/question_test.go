package bot

import "testing"

func TestFocus(t *testing.T) {
	tests := []struct{ in, want string }{
		{"What is the capital of Azerbaijan?", "What is the capital of Azerbaijan?"},
		{"hey what is the capital of Azerbaijan?", "what is the capital of Azerbaijan?"},
		{"hi all, what is the capital of azerbaijan", "what is the capital of azerbaijan"},
		{"Question 3: what is the capital of Azerbaijan?", "what is the capital of Azerbaijan?"},
		{"Q3. what is the capital of Azerbaijan?", "what is the capital of Azerbaijan?"},
		{"3) what is the capital of Azerbaijan?", "what is the capital of Azerbaijan?"},
		{"ok so quick question: who runs azerbaijan 🤔", "who runs azerbaijan"},
		{"🇦🇿 what is the capital of Azerbaijan? 🙏 thanks!", "what is the capital of Azerbaijan?"},
		{"hello bot!! how much oil does israel get from azerbaijan? thx", "how much oil does israel get from azerbaijan?"},
		{"  what   about\n turkey?  ", "what about turkey?"},
		{"hi!", "hi!"},
		{"👍", "👍"},
		{"Is 3 a number?", "Is 3 a number?"},
		{"1992: what happened?", "1992: what happened?"},
	}
	for _, tt := range tests {
		if got := focus(tt.in); got != tt.want {
			t.Errorf("focus(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
