package fetch

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestIsPublic(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		addr string
		want bool
		why  string
	}{
		{"93.184.215.14", true, "public IPv4"},
		{"2606:4700::1", true, "public IPv6"},
		{"0.0.0.0", false, "0.0.0.0/8 this network"},
		{"0.1.2.3", false, "0.0.0.0/8 this network"},
		{"0.255.255.255", false, "0.0.0.0/8 this network"},
		{"10.1.2.3", false, "10.0.0.0/8 private"},
		{"100.64.0.1", false, "100.64.0.0/10 carrier-grade NAT"},
		{"100.127.255.254", false, "100.64.0.0/10 carrier-grade NAT"},
		{"127.0.0.1", false, "127.0.0.0/8 loopback"},
		{"127.255.0.1", false, "127.0.0.0/8 loopback"},
		{"169.254.169.254", false, "169.254.0.0/16 link-local (cloud metadata)"},
		{"172.16.0.1", false, "172.16.0.0/12 private"},
		{"172.31.255.1", false, "172.16.0.0/12 private"},
		{"192.0.0.8", false, "192.0.0.0/24 IETF assignments"},
		{"192.0.2.1", false, "192.0.2.0/24 documentation"},
		{"192.88.99.1", false, "192.88.99.0/24 6to4 relay"},
		{"192.168.0.1", false, "192.168.0.0/16 private"},
		{"198.18.0.1", false, "198.18.0.0/15 benchmarking"},
		{"198.19.255.255", false, "198.18.0.0/15 benchmarking"},
		{"198.51.100.7", false, "198.51.100.0/24 documentation"},
		{"203.0.113.9", false, "203.0.113.0/24 documentation"},
		{"224.0.0.1", false, "224.0.0.0/4 multicast"},
		{"240.0.0.1", false, "240.0.0.0/4 reserved"},
		{"255.255.255.255", false, "broadcast"},
		{"::", false, "unspecified"},
		{"::1", false, "IPv6 loopback"},
		{"::7f00:1", false, "::/96 IPv4-compatible"},
		{"::5db8:d70e", false, "::/96 IPv4-compatible"},
		{"::ffff:127.0.0.1", false, "IPv4-mapped loopback"},
		{"::ffff:93.184.215.14", true, "IPv4-mapped public"},
		{"64:ff9b::5db8:d70e", true, "NAT64 of a public address"},
		{"64:ff9b::7f00:1", false, "NAT64 of loopback"},
		{"64:ff9b::a9fe:a9fe", false, "NAT64 of link-local"},
		{"64:ff9b::a01:203", false, "NAT64 of private"},
		{"64:ff9b:1::5db8:d70e", false, "64:ff9b:1::/48 local-use NAT64"},
		{"100::1", false, "100::/64 discard-only"},
		{"2001:0:4136:e378::1", false, "2001::/32 Teredo"},
		{"2001:2::1", false, "2001:2::/48 benchmarking"},
		{"2001:10::1", false, "2001:10::/28 ORCHID"},
		{"2001:20::1", false, "2001:20::/28 ORCHIDv2"},
		{"2001:db8::1", false, "2001:db8::/32 documentation"},
		{"2002:5db8:d70e::1", true, "6to4 of a public address"},
		{"2002:7f00:1::", false, "6to4 of loopback"},
		{"2002:c0a8:1::1", false, "6to4 of private"},
		{"2002:a9fe:a9fe::", false, "6to4 of link-local"},
		{"2002:7f00:1::%eth0", false, "6to4 of loopback with a zone"},
		{"3fff::1", false, "3fff::/20 documentation"},
		{"5f00::1", false, "5f00::/16 segment routing"},
		{"fc00::1", false, "fc00::/7 unique local"},
		{"fd00::1", false, "fc00::/7 unique local"},
		{"fe80::1", false, "fe80::/10 link-local"},
		{"fe80::1%eth0", false, "fe80::/10 link-local with a zone"},
		{"fec0::1", false, "fec0::/10 site-local"},
		{"ff02::1", false, "ff00::/8 multicast"},
	} {
		if got := IsPublic(netip.MustParseAddr(tc.addr)); got != tc.want {
			t.Errorf("IsPublic(%s) (%s) = %v, want %v", tc.addr, tc.why, got, tc.want)
		}
	}
}

func TestClientRefusesLoopbackUnlessAllowed(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("hello"))
	}))
	defer srv.Close()
	ctx := context.Background()
	_, err := Get(ctx, NewClient(Policy{}), Request{URL: srv.URL})
	if !errors.Is(err, ErrNotPublic) {
		t.Fatalf("Get of a loopback server = %v, want ErrNotPublic", err)
	}
	resp, err := Get(ctx, NewClient(Policy{AllowPrivate: true}), Request{URL: srv.URL})
	if err != nil || string(resp.Body) != "hello" {
		t.Fatalf("Get with AllowPrivate = %v, %v", resp, err)
	}
}

func TestClientSendsNoCredentials(t *testing.T) {
	t.Parallel()
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/start" {
			http.Redirect(w, r, "/end", http.StatusFound)
			return
		}
		got = r.Header.Clone()
	}))
	defer srv.Close()
	u := strings.Replace(srv.URL, "://", "://alice:secret@", 1) + "/start#frag"
	resp, err := Get(context.Background(), NewClient(Policy{AllowPrivate: true}), Request{URL: u})
	if err != nil {
		t.Fatal(err)
	}
	if a := got.Get("Authorization"); a != "" {
		t.Errorf("Authorization sent: %q", a)
	}
	if ua := got.Get("User-Agent"); ua != DefaultUserAgent {
		t.Errorf("User-Agent = %q, want %q", ua, DefaultUserAgent)
	}
	if resp.URL.User != nil || resp.URL.Fragment != "" || resp.URL.Path != "/end" {
		t.Errorf("served URL = %s", resp.URL)
	}
}

func TestGetLimits(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			w.Write([]byte(strings.Repeat("x", 100)))
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case "/ftp":
			http.Redirect(w, r, "ftp://example.com/x", http.StatusFound)
		case "/gone":
			http.Error(w, "gone", http.StatusGone)
		case "/cached":
			if r.Header.Get("If-None-Match") == `"v1"` {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Header().Set("ETag", `"v1"`)
			w.Write([]byte("body"))
		}
	}))
	defer srv.Close()
	c := NewClient(Policy{AllowPrivate: true})
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		req  Request
		want func(error) bool
	}{
		{"over the size limit", Request{URL: srv.URL + "/big", MaxBytes: 10}, func(err error) bool { return errors.Is(err, ErrTooLarge) }},
		{"redirect loop", Request{URL: srv.URL + "/loop"}, func(err error) bool { return err != nil && strings.Contains(err.Error(), "redirects") }},
		{"redirect to ftp", Request{URL: srv.URL + "/ftp"}, func(err error) bool { return errors.Is(err, ErrScheme) }},
		{"not http", Request{URL: "file:///etc/passwd"}, func(err error) bool { return errors.Is(err, ErrScheme) }},
		{"status", Request{URL: srv.URL + "/gone"}, func(err error) bool {
			var se *StatusError
			return errors.As(err, &se) && se.Code == http.StatusGone
		}},
	} {
		if _, err := Get(ctx, c, tc.req); !tc.want(err) {
			t.Errorf("%s: err = %v", tc.name, err)
		}
	}
	first, err := Get(ctx, c, Request{URL: srv.URL + "/cached"})
	if err != nil || first.NotModified || first.ETag != `"v1"` {
		t.Fatalf("first = %+v, %v", first, err)
	}
	second, err := Get(ctx, c, Request{URL: srv.URL + "/cached", ETag: first.ETag})
	if err != nil || !second.NotModified || len(second.Body) != 0 {
		t.Fatalf("conditional = %+v, %v", second, err)
	}
}
