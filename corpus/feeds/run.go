package feeds

import (
	"context"
	"time"
)

// Run syncs every interval until ctx ends, starting at once. After a sync
// that changed an article, or while an earlier call failed, it calls
// changed (to reload the index); a failing changed is logged and tried
// again after the next sync. Run returns ctx's error.
func (s *Syncer) Run(ctx context.Context, interval time.Duration, changed func(context.Context) error) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	pending := false
	for {
		rep, err := s.Sync(ctx)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			s.log.Error("sync failed", "err", err)
		default:
			s.log.Info("synced", "sources", rep.Sources, "added", rep.Added, "updated", rep.Updated,
				"unchanged", rep.Unchanged, "removed", rep.Removed, "failed", rep.Failed,
				"requests", rep.Requests, "not_modified", rep.NotModified, "failed_sources", len(rep.Errors))
		}
		if rep.Changed() || pending {
			if err := changed(ctx); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				s.log.Error("reload after sync failed; trying again after the next sync", "err", err)
				pending = true
			} else {
				pending = false
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
