// Package fetch is the one policy every download of Verbatim follows, from
// the command line and from the bot alike: http and https only, public
// internet addresses only (checked on the address dialled, so after DNS
// and for every redirect) unless private ones are allowed, a bounded
// number of redirects, size and time limits, no credentials sent, and a
// User-Agent that names the bot.
package fetch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Defaults of Policy and Request.
const (
	// DefaultTimeout bounds one request, body included.
	DefaultTimeout = 20 * time.Second
	// DefaultMaxBytes bounds a response body.
	DefaultMaxBytes = 5 << 20
	// DefaultUserAgent names the bot and where to read about it.
	DefaultUserAgent = "Verbatim/1.0 (+https://github.com/verbatim-bot/verbatim)"
	// maxRedirects bounds the redirects followed for one request.
	maxRedirects = 5
)

// Errors of the policy, checked with errors.Is.
var (
	// ErrNotPublic refuses a connection to an address that is not on the
	// public internet.
	ErrNotPublic = errors.New("fetch: not a public internet address")
	// ErrTooLarge means the response body is over the size limit.
	ErrTooLarge = errors.New("fetch: response too large")
	// ErrScheme means a URL is not an http or https URL with a host.
	ErrScheme = errors.New("fetch: not an http or https URL")
)

// StatusError is the error of a request the server answered with a
// status other than 2xx (or 304 to a conditional request).
type StatusError struct{ Code int }

func (e *StatusError) Error() string {
	return fmt.Sprintf("the server answered %d %s", e.Code, http.StatusText(e.Code))
}

// Policy says what a Client may reach.
type Policy struct {
	// AllowPrivate lets the client connect to loopback, private and
	// other non-public addresses: for a self-hosted install reading its
	// own network, or a test. It also lets anyone who can make the bot
	// fetch a URL reach services on the bot's own network.
	AllowPrivate bool
	// Timeout bounds one request; 0 means DefaultTimeout.
	Timeout time.Duration
	// UserAgent is sent with every request; "" means DefaultUserAgent.
	UserAgent string
}

// NewClient returns an HTTP client that follows p. It ignores proxy
// settings: a proxy would itself be a private address, and the check must
// see the address of the server itself.
func NewClient(p Policy) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second}
	if !p.AllowPrivate {
		d.Control = func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			ip, err := netip.ParseAddr(host)
			if err != nil || !IsPublic(ip) {
				return fmt.Errorf("%w: %s", ErrNotPublic, host)
			}
			return nil
		}
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	t.DialContext = d.DialContext
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ua := p.UserAgent
	if ua == "" {
		ua = DefaultUserAgent
	}
	return &http.Client{
		Transport:     &transport{next: t, userAgent: ua},
		Timeout:       timeout,
		CheckRedirect: checkRedirect,
	}
}

// checkRedirect follows at most maxRedirects redirects, to http and https
// URLs only; the dialler checks each new address.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("fetch: more than %d redirects", maxRedirects)
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return fmt.Errorf("%w: redirected to %s", ErrScheme, req.URL.Redacted())
	}
	return nil
}

// transport sends every request with the User-Agent and without
// credentials: no user name or password from the URL, no Authorization
// or Cookie header.
type transport struct {
	next      http.RoundTripper
	userAgent string
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	if r.URL.User != nil {
		u := *r.URL
		u.User = nil
		r.URL = &u
	}
	r.Header.Del("Authorization")
	r.Header.Del("Cookie")
	r.Header.Set("User-Agent", t.userAgent)
	return t.next.RoundTrip(r)
}

// Request is one bounded GET.
type Request struct {
	URL    string
	Accept string // "" sends none
	// ETag and LastModified, from an earlier Response, make the request
	// conditional: an unchanged resource answers Response.NotModified.
	ETag, LastModified string
	// MaxBytes bounds the body; 0 means DefaultMaxBytes.
	MaxBytes int64
}

// Response is what Get read.
type Response struct {
	// NotModified is set when the server answered 304 to a conditional
	// request; Body is then empty.
	NotModified bool
	Body        []byte
	// MediaType is the Content-Type's media type in lower case, without
	// parameters.
	MediaType string
	// URL is where the body was finally served from, after redirects,
	// without user name, password or fragment.
	URL                *url.URL
	ETag, LastModified string
}

// Get does r with client: http and https URLs only, at most r.MaxBytes
// bytes (more fails with ErrTooLarge), a status other than 2xx or 304 is a
// *StatusError.
func Get(ctx context.Context, client *http.Client, r Request) (*Response, error) {
	req, err := newRequest(ctx, r)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	defer resp.Body.Close()
	out := &Response{
		URL:          served(resp.Request.URL),
		ETag:         resp.Header.Get("ETag"),
		LastModified: resp.Header.Get("Last-Modified"),
	}
	if resp.StatusCode == http.StatusNotModified && (r.ETag != "" || r.LastModified != "") {
		out.NotModified = true
		out.ETag = cmp.Or(out.ETag, r.ETag)
		out.LastModified = cmp.Or(out.LastModified, r.LastModified)
		return out, nil
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &StatusError{Code: resp.StatusCode}
	}
	if out.Body, err = readBody(resp, r.MaxBytes); err != nil {
		return nil, err
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	out.MediaType = strings.ToLower(mt)
	return out, nil
}

// newRequest builds the GET of r, refusing anything but an http or https
// URL with a host.
func newRequest(ctx context.Context, r Request) (*http.Request, error) {
	u, err := url.Parse(r.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		shown := r.URL
		if err == nil {
			shown = u.Redacted()
		}
		return nil, fmt.Errorf("%w: %q", ErrScheme, shown)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, served(u).String(), nil)
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	for k, v := range map[string]string{"Accept": r.Accept, "If-None-Match": r.ETag, "If-Modified-Since": r.LastModified} {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	return req, nil
}

// readBody reads resp's body, at most limit bytes (0 means
// DefaultMaxBytes).
func readBody(resp *http.Response, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultMaxBytes
	}
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("%w: %d bytes, over the %d-byte limit", ErrTooLarge, resp.ContentLength, limit)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: over the %d-byte limit", ErrTooLarge, limit)
	}
	return data, nil
}

// served returns u without user name, password or fragment.
func served(u *url.URL) *url.URL {
	c := *u
	c.User, c.Fragment, c.RawFragment = nil, "", ""
	return &c
}
