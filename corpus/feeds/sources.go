package feeds

import (
	"path/filepath"
	"time"
)

// Status is a subscription as 'verbatim sources' and /sources show it.
type Status struct {
	// Subscription is nil when the file could not be read; File and
	// LastError then say which and why.
	Subscription *Subscription
	File         string // the subscription file, in the articles folder
	LastSync     time.Time
	LastOK       time.Time
	// LastError is why the feed or sitemap itself failed in the last
	// sync; "" when it was read.
	LastError string
	Listed    int // entries the feed or sitemap lists
	Saved     int // of which saved as articles
	Failed    int // entries whose last fetch failed
	Gone      int // entries no longer listed, whose articles are kept
}

// Sources returns the status of every subscription, in file name order.
// It does not wait for a sync in progress (which may take many minutes):
// the files it reads are replaced whole, so it sees the state of the last
// checkpoint.
func (s *Syncer) Sources() ([]Status, error) {
	subs, bad, err := subscriptions(s.cfg.ArticlesDir)
	if err != nil {
		return nil, err
	}
	var out []Status
	for _, sub := range subs {
		st, err := readState(s.statePath(sub))
		if err != nil {
			return nil, err
		}
		x := Status{Subscription: sub, File: sub.name + SubscriptionSuffix, LastSync: st.LastSync, LastOK: st.LastOK, LastError: st.LastError}
		for _, e := range st.Entries {
			switch {
			case e.Gone:
				x.Gone++
				continue
			case e.Error != "":
				x.Failed++
			}
			x.Listed++
			if e.File != "" && exists(filepath.Join(s.cfg.ArticlesDir, sub.Folder, e.File)) {
				x.Saved++
			}
		}
		out = append(out, x)
	}
	for name, err := range bad {
		out = append(out, Status{File: name, LastError: err.Error()})
	}
	return out, nil
}
