package feeds

import (
	"time"

	"github.com/temoto/robotstxt"
)

// robots is the part of a robots.txt (RFC 9309) that applies to one user
// agent, read with github.com/temoto/robotstxt.
type robots struct {
	group      *robotstxt.Group
	crawlDelay time.Duration
}

// parseRobots reads the group of data that applies to the product token
// agent, or failing that the "*" group. A robots.txt that cannot be read
// as one allows everything, as a missing one does.
func parseRobots(data []byte, agent string) *robots {
	d, err := robotstxt.FromBytes(data)
	if err != nil {
		d, _ = robotstxt.FromBytes(nil)
	}
	g := d.FindGroup(agent)
	return &robots{group: g, crawlDelay: g.CrawlDelay}
}

// allowed reports whether the rules let the agent fetch path (with its
// query, if any).
func (r *robots) allowed(path string) bool { return r.group.Test(path) }
