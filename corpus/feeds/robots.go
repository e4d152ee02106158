package feeds

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
	"time"
)

// robots is the part of a robots.txt (RFC 9309) that applies to one
// user agent: its allow and disallow rules and any crawl delay. No Go
// library for it is available to this project, so it is read here.
type robots struct {
	rules      []robotsRule
	crawlDelay time.Duration
}

type robotsRule struct {
	allow   bool
	pattern string
}

// parseRobots reads the group of data that applies to the product token
// agent (lower case), or failing that the "*" group.
func parseRobots(data []byte, agent string) *robots {
	var mine, star robots
	var found bool
	var inMine, inStar, lastAgent bool
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		key, value = strings.ToLower(strings.TrimSpace(key)), strings.TrimSpace(value)
		if key == "user-agent" {
			if !lastAgent { // a new group starts
				inMine, inStar = false, false
			}
			lastAgent = true
			v := strings.ToLower(value)
			switch {
			case v == "*":
				inStar = true
			case v != "" && strings.Contains(agent, v):
				inMine, found = true, true
			}
			continue
		}
		lastAgent = false
		for _, g := range []struct {
			in bool
			r  *robots
		}{{inMine, &mine}, {inStar, &star}} {
			if !g.in {
				continue
			}
			switch key {
			case "allow", "disallow":
				if value != "" {
					g.r.rules = append(g.r.rules, robotsRule{allow: key == "allow", pattern: value})
				}
			case "crawl-delay":
				if s, err := strconv.ParseFloat(value, 64); err == nil && s > 0 {
					g.r.crawlDelay = time.Duration(s * float64(time.Second))
				}
			}
		}
	}
	if found {
		return &mine
	}
	return &star
}

// allowed reports whether the path (with its query) may be fetched: the
// longest matching rule decides, allow winning a tie; no match allows.
func (r *robots) allowed(path string) bool {
	if r == nil {
		return true
	}
	best, allow := -1, true
	for _, rule := range r.rules {
		if !robotsMatch(rule.pattern, path) {
			continue
		}
		if n := len(rule.pattern); n > best || (n == best && rule.allow) {
			best, allow = n, rule.allow
		}
	}
	return allow
}

// robotsMatch matches path against a robots.txt pattern: a prefix, where
// '*' matches any run of characters and a final '$' anchors the end.
func robotsMatch(pattern, path string) bool {
	anchored := strings.HasSuffix(pattern, "$")
	pattern = strings.TrimSuffix(pattern, "$")
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(path, parts[0]) {
		return false
	}
	rest := path[len(parts[0]):]
	for i, p := range parts[1:] {
		last := i == len(parts)-2
		if last && anchored {
			return strings.HasSuffix(rest, p)
		}
		j := strings.Index(rest, p)
		if j < 0 {
			return false
		}
		rest = rest[j+len(p):]
	}
	return !anchored || rest == ""
}
