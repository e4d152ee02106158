package discord

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// userLimits is a token bucket per user: every user may ask burst
// questions at once and then one every 1/limit.
type userLimits struct {
	limit rate.Limit
	burst int

	mu        sync.Mutex
	users     map[string]*rate.Limiter
	lastPrune time.Time
}

func newUserLimits(perMinute, burst int) *userLimits {
	if perMinute < 0 {
		return nil // unlimited
	}
	return &userLimits{limit: rate.Limit(float64(perMinute) / 60), burst: burst, users: make(map[string]*rate.Limiter)}
}

// wait reports how long user must wait before asking again; 0 admits the
// question and uses one token.
func (l *userLimits) wait(user string, now time.Time) time.Duration {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	lim := l.users[user]
	if lim == nil {
		lim = rate.NewLimiter(l.limit, l.burst)
		l.users[user] = lim
	}
	r := lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d
	}
	l.prune(now)
	return 0
}

// prune forgets users whose bucket has refilled (they are as if new), at
// most once a minute, so the map does not grow without bound.
func (l *userLimits) prune(now time.Time) {
	if len(l.users) < 1024 || now.Sub(l.lastPrune) < time.Minute {
		return
	}
	l.lastPrune = now
	for u, lim := range l.users {
		if lim.TokensAt(now) >= float64(l.burst) {
			delete(l.users, u)
		}
	}
}

// queue bounds the answers computed at once (slots) and the questions
// admitted in all (running plus waiting for a slot).
type queue struct {
	slots chan struct{}
	mu    sync.Mutex
	n     int // admitted and not yet done
	max   int
}

func newQueue(concurrent, waiting int) *queue {
	return &queue{slots: make(chan struct{}, concurrent), max: concurrent + waiting}
}

// admit reserves a place in the queue; false when it is full.
func (q *queue) admit() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n >= q.max {
		return false
	}
	q.n++
	return true
}

// acquire waits for a slot for an admitted question.
func (q *queue) acquire(ctx context.Context) error {
	select {
	case q.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// release gives up a slot taken by acquire.
func (q *queue) release() { <-q.slots }

// leave gives up the place taken by admit.
func (q *queue) leave() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.n--
}

// noticeThrottle lets at most one notice a window through per user.
type noticeThrottle struct {
	window time.Duration
	mu     sync.Mutex
	last   *recent[string, time.Time]
}

func newNoticeThrottle(window time.Duration) *noticeThrottle {
	return &noticeThrottle{window: window, last: newRecent[string, time.Time](memory)}
}

// allow reports whether user may be sent a notice now, and if so counts
// it.
func (n *noticeThrottle) allow(user string, now time.Time) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if t, ok := n.last.get(user); ok && now.Sub(t) < n.window {
		return false
	}
	n.last.put(user, now)
	return true
}

// recent is a map that keeps only its newest max entries.
type recent[K comparable, V any] struct {
	mu    sync.Mutex
	max   int
	m     map[K]V
	order []K // a ring once full; next is the oldest
	next  int
}

func newRecent[K comparable, V any](max int) *recent[K, V] {
	return &recent[K, V]{max: max, m: make(map[K]V)}
}

func (r *recent[K, V]) put(k K, v V) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.putLocked(k, v)
}

// add puts k with v unless k is already there, and reports whether it
// added it.
func (r *recent[K, V]) add(k K, v V) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.m[k]; ok {
		return false
	}
	r.putLocked(k, v)
	return true
}

func (r *recent[K, V]) putLocked(k K, v V) {
	if _, ok := r.m[k]; !ok {
		if len(r.order) < r.max {
			r.order = append(r.order, k)
		} else {
			delete(r.m, r.order[r.next])
			r.order[r.next] = k
			r.next = (r.next + 1) % r.max
		}
	}
	r.m[k] = v
}

func (r *recent[K, V]) get(k K) (V, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.m[k]
	return v, ok
}
