package binread

import (
	"strings"
	"testing"
)

func TestReader(t *testing.T) {
	le := func(v uint32) string { return string([]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}) }
	tests := []struct {
		name, in string
		read     func(r *Reader) any
		want     any
		err      string // in Err, "" for none
	}{
		{"uint32", le(258) + "x", func(r *Reader) any { return r.Uint32() }, uint32(258), ""},
		{"name", le(3) + "abcd", func(r *Reader) any { return r.Name(8) }, "abc", ""},
		{"truncated", "ab", func(r *Reader) any { return r.Uint32() }, uint32(0), "truncated"},
		{"empty name", le(0), func(r *Reader) any { return r.Name(8) }, "", "bad name length 0"},
		{"long name", le(9) + strings.Repeat("a", 9), func(r *Reader) any { return r.Name(8) }, "", "bad name length 9"},
		{"out of range", le(1 << 31), func(r *Reader) any { return r.Int() }, 0, "out of range"},
		{"failure sticks", "ab", func(r *Reader) any { r.Next(3); return r.Next(1) }, "", "truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New(tt.in)
			got := tt.read(r)
			if got != tt.want {
				t.Errorf("read %v, want %v", got, tt.want)
			}
			if err := r.Err(); (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Err() = %v, want %q", err, tt.err)
			}
		})
	}
	if r := New(le(1) + "rest"); r.Uint32() != 1 || r.Rest() != "rest" {
		t.Errorf("Rest after a uint32 = %q", r.Rest())
	}
}
