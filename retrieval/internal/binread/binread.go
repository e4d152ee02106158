// Package binread reads the little-endian tables that scripts/distill
// writes and the binary embeds, from a string, without copying.
package binread

import (
	"errors"
	"fmt"
	"math"
)

// Reader consumes a string from the front. Its first failure sticks: later
// reads return zero values, and Err reports it.
type Reader struct {
	rest string
	err  error
}

// New returns a Reader of s.
func New(s string) *Reader { return &Reader{rest: s} }

// Err returns the first failure, or nil.
func (r *Reader) Err() error { return r.err }

// Rest returns what is left to read.
func (r *Reader) Rest() string { return r.rest }

// Next returns the next n bytes.
func (r *Reader) Next(n int) string {
	if r.err != nil {
		return ""
	}
	if n < 0 || n > len(r.rest) {
		r.err = errors.New("truncated")
		return ""
	}
	head := r.rest[:n]
	r.rest = r.rest[n:]
	return head
}

// Uint32 returns the next little-endian uint32.
func (r *Reader) Uint32() uint32 {
	b := r.Next(4)
	if len(b) < 4 {
		return 0
	}
	return Le32(b)
}

// Int returns the next uint32, which must fit an int32.
func (r *Reader) Int() int {
	v := r.Uint32()
	if v > math.MaxInt32 {
		r.fail(errors.New("value out of range"))
		return 0
	}
	return int(v)
}

// Name returns the next name: its length as a uint32, from 1 to max, then
// its bytes.
func (r *Reader) Name(max int) string {
	n := r.Int()
	if r.err == nil && (n == 0 || n > max) {
		r.fail(fmt.Errorf("bad name length %d", n))
	}
	return r.Next(n)
}

func (r *Reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

// Le32 decodes the little-endian uint32 at the start of b.
func Le32(b string) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}
