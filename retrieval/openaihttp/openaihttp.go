// Package openaihttp is the one HTTP transport Verbatim uses for every
// OpenAI-compatible API (chat completions and embeddings, at OpenAI or at
// a local server): a go-openai HTTPDoer that retries what may succeed if
// repeated, honours the server's Retry-After within a cap, and classifies
// and redacts errors the same way for both clients.
package openaihttp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
	openai "github.com/sashabaranov/go-openai"
)

// Defaults for Policy fields left zero.
const (
	DefaultMaxRetries    = 3
	DefaultMaxRetryAfter = time.Minute
)

// maxBody bounds a buffered JSON reply (a batch of large embeddings is a
// few MiB).
const maxBody = 64 << 20

// Policy says how requests are retried. The zero Policy is the default.
type Policy struct {
	// MaxRetries is how many times a request is repeated after its first
	// attempt; 0 means DefaultMaxRetries, negative means never.
	MaxRetries int
	// MaxRetryAfter is the longest Retry-After honoured; a server asking
	// for more (or for more than the request's deadline leaves) ends the
	// retries at once. 0 means DefaultMaxRetryAfter.
	MaxRetryAfter time.Duration
	// Sleep waits between attempts; nil means a timer that returns early
	// with ctx's error. Tests inject one that records the waits.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now tells the time, to read a Retry-After date; nil means time.Now.
	Now func() time.Time
}

// Config configures one Doer.
type Config struct {
	Policy
	// AttemptTimeout bounds one attempt: until the response headers of a
	// stream, until the whole body of any other reply. A timed-out attempt
	// is retried; the request's own context bounds the whole call. 0
	// means no bound per attempt.
	AttemptTimeout time.Duration
	// Client sends the requests; nil means a new http.Client. Its own
	// Timeout should be 0: it would also cut streams.
	Client *http.Client
	// Logger receives a warning for each retry; nil discards.
	Logger *slog.Logger
	// Secrets are removed from everything logged (the API key).
	Secrets []string
}

// Doer is a go-openai HTTPDoer with Verbatim's retry policy. A request is
// repeated after a 408, 409, 429 or 5xx response, a network error, an
// attempt that timed out, or a JSON reply cut short; never after any other
// status, nor once a stream's body has been handed to the caller. It is
// safe for concurrent use.
type Doer struct {
	cfg Config
}

// New returns a Doer for cfg.
func New(cfg Config) *Doer {
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = DefaultMaxRetries
	}
	if cfg.MaxRetryAfter <= 0 {
		cfg.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Doer{cfg: cfg}
}

// ClientConfig returns a go-openai configuration for the API at baseURL
// (see BaseURL) with key as bearer token and d as its transport.
func (d *Doer) ClientConfig(key, baseURL string) (openai.ClientConfig, error) {
	base, err := BaseURL(baseURL)
	if err != nil {
		return openai.ClientConfig{}, err
	}
	oc := openai.DefaultConfig(key)
	oc.BaseURL = base
	oc.HTTPClient = d
	return oc, nil
}

// Report is what a Doer tells the caller about one call's retries; see
// WithReport.
type Report struct {
	Attempts int
	// Retryable is true when the last attempt failed in a way that could
	// succeed if repeated: the retries ran out, or RetryAfter was too long.
	Retryable bool
	// RetryAfter is the wait the server asked for when it was longer than
	// the policy or the deadline allowed; 0 otherwise.
	RetryAfter time.Duration
}

type reportKey struct{}

// WithReport returns a context whose requests fill in the returned Report.
func WithReport(ctx context.Context) (context.Context, *Report) {
	r := new(Report)
	return context.WithValue(ctx, reportKey{}, r), r
}

// Do sends req, retrying as the policy allows. The final response, failed
// or not, is returned as the server sent it (a JSON body buffered), so
// go-openai reads its error as usual.
func (d *Doer) Do(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	report, _ := ctx.Value(reportKey{}).(*Report)
	if report == nil {
		report = new(Report)
	}
	bo := &backoff.ExponentialBackOff{
		InitialInterval:     500 * time.Millisecond,
		RandomizationFactor: 0.25,
		Multiplier:          2,
		MaxInterval:         8 * time.Second,
	}
	bo.Reset()
	retries := max(d.cfg.MaxRetries, 0)
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		retries = 0 // the body cannot be sent again
	}
	for attempt := 0; ; attempt++ {
		report.Attempts = attempt + 1
		resp, retry, err := d.attempt(req)
		report.Retryable = retry
		if !retry || ctx.Err() != nil || attempt >= retries {
			return resp, err
		}
		wait := bo.NextBackOff()
		if resp != nil {
			if after := retryAfter(resp.Header, d.cfg.Now()); after > 0 {
				wait = after
				if d.tooLong(ctx, after) {
					report.RetryAfter = after
					return resp, err
				}
			}
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return resp, err
		}
		d.cfg.Logger.Warn("OpenAI-compatible request failed; retrying", "path", req.URL.Path,
			"attempt", attempt+1, "wait", wait, "error", d.Redact(describe(resp, err)))
		if resp != nil {
			resp.Body.Close()
		}
		if serr := d.cfg.Sleep(ctx, wait); serr != nil {
			return nil, serr
		}
	}
}

// tooLong reports whether a Retry-After of after is more than the policy
// or ctx's deadline allows.
func (d *Doer) tooLong(ctx context.Context, after time.Duration) bool {
	if after > d.cfg.MaxRetryAfter {
		return true
	}
	dl, ok := ctx.Deadline()
	return ok && time.Until(dl) < after
}

// attempt sends one copy of req and reports whether its outcome may be
// retried.
func (d *Doer) attempt(req *http.Request) (*http.Response, bool, error) {
	ctx := req.Context()
	actx, cancel := context.WithCancel(ctx)
	var timer *time.Timer
	if d.cfg.AttemptTimeout > 0 {
		timer = time.AfterFunc(d.cfg.AttemptTimeout, cancel)
	}
	timedOut := func() bool { return timer != nil && !timer.Stop() }
	r, err := clone(req, actx)
	if err != nil {
		cancel()
		return nil, false, err
	}
	resp, err := d.cfg.Client.Do(r)
	if err != nil {
		late := timedOut()
		cancel()
		if ctx.Err() == nil && late {
			err = fmt.Errorf("request timed out after %v: %w", d.cfg.AttemptTimeout, context.DeadlineExceeded)
		}
		return nil, ctx.Err() == nil, err
	}
	if isStream(req, resp) && resp.StatusCode < 300 {
		timedOut() // the bound was on the headers; the stream outlives it and this call
		resp.Body = &cancelBody{resp.Body, cancel}
		return resp, false, nil
	}
	defer cancel()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
	late := timedOut()
	if err != nil {
		if late {
			err = fmt.Errorf("timed out after %v: %w", d.cfg.AttemptTimeout, context.DeadlineExceeded)
		}
		return nil, ctx.Err() == nil, fmt.Errorf("reading the response: %w", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, retryableStatus(resp.StatusCode) || resp.StatusCode < 300 && truncated(body), nil
}

// isStream reports whether resp is a stream, by what was asked for or what
// came back.
func isStream(req *http.Request, resp *http.Response) bool {
	return strings.Contains(req.Header.Get("Accept"), "text/event-stream") ||
		strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream")
}

// clone returns a copy of req for one attempt, with a fresh body and ctx.
func clone(req *http.Request, ctx context.Context) (*http.Request, error) {
	r := req.Clone(ctx)
	if req.Body != nil && req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		r.Body = body
	}
	return r, nil
}

// cancelBody releases an attempt's context when a stream is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

func retryableStatus(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusConflict ||
		code == http.StatusTooManyRequests || code >= 500
}

// truncated reports whether body is JSON cut short, as a dropped
// connection leaves it (JSON that is wrong in any other way is not
// retried: the server would send it again).
func truncated(body []byte) bool {
	var v json.RawMessage
	err := json.NewDecoder(bytes.NewReader(body)).Decode(&v)
	return errors.Is(err, io.ErrUnexpectedEOF) || len(bytes.TrimSpace(body)) == 0
}

// describe is a failed attempt in a few words, for the log.
func describe(resp *http.Response, err error) string {
	if err != nil {
		return err.Error()
	}
	if resp.StatusCode < 300 {
		return "the reply was cut short"
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), resp.Body))
	return fmt.Sprintf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
}

// retryAfter returns the delay a response asks for in its Retry-After-Ms
// (OpenAI) or Retry-After (delay-seconds or HTTP date) header, or 0.
func retryAfter(h http.Header, now time.Time) time.Duration {
	if ms, err := strconv.ParseFloat(h.Get("Retry-After-Ms"), 64); err == nil && ms > 0 {
		return time.Duration(min(ms, 1e12) * float64(time.Millisecond))
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		return time.Duration(max(min(s, 1e9), 0) * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
