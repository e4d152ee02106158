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
