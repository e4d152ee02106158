package main

import (
	"testing"
	"time"
)

func TestAgo(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{-time.Hour, "in the future"},
		{30 * time.Minute, "within the last two hours"},
		{5 * time.Hour, "5 hours ago"},
		{123 * time.Hour, "5 days ago"},
	} {
		if got := ago(tt.d); got != tt.want {
			t.Errorf("ago(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
