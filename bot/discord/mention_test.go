package discord

import "testing"

func TestNeutralizeMentions(t *testing.T) {
	for in, want := range map[string]string{
		"@everyone @here @Everyone": "@\u200beveryone @\u200bhere @\u200bEveryone",
		"<@123> <@!45> <@&67>":      "<@\u200b123> <@\u200b!45> <@\u200b&67>",
		"mail me at a@b.org":        "mail me at a@b.org",
		"no mentions":               "no mentions",
	} {
		if got := neutralizeMentions(in); got != want {
			t.Errorf("neutralizeMentions(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStripMentions(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<@123> what is the capital of Azerbaijan?", "what is the capital of Azerbaijan?"},
		{"hey <@123> <@!456> what is the capital of Azerbaijan?", "hey what is the capital of Azerbaijan?"},
		{"<@&789> <#42> who runs it?", "who runs it?"},
		{"mail a@b.org about <@1>", "mail a@b.org about"},
		{"no mentions", "no mentions"},
	}
	for _, tt := range tests {
		if got := stripMentions(tt.in); got != tt.want {
			t.Errorf("stripMentions(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
