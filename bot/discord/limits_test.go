package discord

import (
	"slices"
	"testing"
	"time"
)

func TestUserLimits(t *testing.T) {
	now := time.Now()
	l := newUserLimits(6, 2) // one every 10 s after 2 at once
	for i, want := range []bool{true, true, false} {
		if got := l.wait("a", now) == 0; got != want {
			t.Errorf("question %d admitted = %v, want %v", i+1, got, want)
		}
	}
	if d := l.wait("a", now); d <= 0 || d > 10*time.Second {
		t.Errorf("wait = %v, want (0, 10s]", d)
	}
	if l.wait("b", now) != 0 {
		t.Error("another user was limited")
	}
	if l.wait("a", now.Add(10*time.Second)) != 0 {
		t.Error("not refilled after 10 s")
	}
	// Refilled users are forgotten once there are many.
	for i := range 2000 {
		l.wait(string(rune('A'+i)), now)
	}
	l.wait("z", now.Add(time.Hour))
	if n := len(l.users); n > 1 {
		t.Errorf("%d users remembered after all refilled", n)
	}
	if unlimited := newUserLimits(-1, 0); unlimited.wait("a", now) != 0 {
		t.Error("a negative rate limits")
	}
}

func TestQueue(t *testing.T) {
	q := newQueue(1, 1)
	if got := []bool{q.admit(), q.admit(), q.admit()}; !slices.Equal(got, []bool{true, true, false}) {
		t.Fatalf("admits %v; a queue of 1 running + 1 waiting admits exactly 2", got)
	}
	q.leave()
	if !q.admit() {
		t.Error("no place after one left")
	}
}

func TestRecent(t *testing.T) {
	r := newRecent[int, int](3)
	for i := range 5 {
		r.put(i, i*10)
	}
	r.put(4, 41) // an update does not evict
	for i, want := range []bool{false, false, true, true, true} {
		if _, ok := r.get(i); ok != want {
			t.Errorf("get(%d) found = %v, want %v", i, ok, want)
		}
	}
	if v, _ := r.get(4); v != 41 {
		t.Errorf("get(4) = %d", v)
	}
}
