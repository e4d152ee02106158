package corpus

import (
	"net/url"
	"testing"
)

func TestTextFragmentURL(t *testing.T) {
	tests := []struct{ url, quote, want string }{
		{"https://example.com/a", "Baku is the capital", "https://example.com/a#:~:text=Baku%20is%20the%20capital"},
		{"https://example.com/a#top", "x", "https://example.com/a#:~:text=x"},
		{"https://example.com/a?p=1", "well-known, safe & sound", "https://example.com/a?p=1#:~:text=well%2Dknown%2C%20safe%20%26%20sound"},
		{"https://example.com/a", "Sa’ar wrote “X”", "https://example.com/a#:~:text=Sa%E2%80%99ar%20wrote%20%E2%80%9CX%E2%80%9D"},
		{
			"https://example.com/a",
			"one two three four five six seven eight nine ten eleven",
			"https://example.com/a#:~:text=one%20two%20three%20four,eight%20nine%20ten%20eleven",
		},
		{"ftp://example.com/a", "x", "ftp://example.com/a"},
		{"https://example.com/a", "   ", "https://example.com/a"},
	}
	for _, tt := range tests {
		got := TextFragmentURL(tt.url, tt.quote)
		if got != tt.want {
			t.Errorf("TextFragmentURL(%q, %q) = %q, want %q", tt.url, tt.quote, got, tt.want)
		}
		if _, err := url.Parse(got); err != nil {
			t.Errorf("%q does not parse: %v", got, err)
		}
	}
}
