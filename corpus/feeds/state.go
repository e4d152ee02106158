package feeds

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// SubscriptionSuffix ends the name of a subscription file in the articles
// folder. The corpus loader reads no such file.
const SubscriptionSuffix = ".subscription.yaml"

// Subscription is one subscription file: a small YAML file an admin may
// read, edit (the title) or delete (which stops its sync; its articles
// stay).
type Subscription struct {
	URL    string    `yaml:"url"`
	Kind   Kind      `yaml:"kind"`
	Title  string    `yaml:"title,omitempty"`
	Folder string    `yaml:"folder"` // where its entries are saved, relative to the articles folder
	Added  time.Time `yaml:"added"`

	name string // the file's name, without SubscriptionSuffix
}

// Name is the subscription's title, or its URL when it has none.
func (s Subscription) Name() string {
	if s.Title != "" {
		return s.Title
	}
	return s.URL
}

const subscriptionHeader = `# A Verbatim subscription: the entries of this feed or sitemap are saved as
# articles in the folder below and kept up to date by 'verbatim sync' and by
# 'verbatim serve' every SYNC_INTERVAL. Delete this file to stop syncing; the
# articles already saved stay until you delete them.
`

func readSubscription(path string) (*Subscription, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("feeds: %w", err)
	}
	var s Subscription
	if err := yaml.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("feeds: %s: %w", filepath.Base(path), err)
	}
	if s.URL == "" || (s.Kind != KindFeed && s.Kind != KindSitemap) || !insideFolder(s.Folder) {
		return nil, fmt.Errorf("feeds: %s: needs url, kind (feed or sitemap) and a folder inside the articles folder", filepath.Base(path))
	}
	s.name = strings.TrimSuffix(filepath.Base(path), SubscriptionSuffix)
	return &s, nil
}

// insideFolder reports whether folder names a folder inside the articles
// folder, one the corpus loader reads: relative, without "..", and no
// element starting with '.'.
func insideFolder(folder string) bool {
	return folder != "" && !filepath.IsAbs(folder) && !strings.Contains(folder, "..") && !strings.Contains("/"+filepath.ToSlash(folder), "/.")
}

// subscriptions reads every subscription file in dir, in name order; the
// ones that cannot be read are returned as errors by name.
func subscriptions(dir string) ([]*Subscription, map[string]error, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*"+SubscriptionSuffix))
	if err != nil {
		return nil, nil, fmt.Errorf("feeds: %w", err)
	}
	sort.Strings(paths)
	var subs []*Subscription
	bad := map[string]error{}
	for _, p := range paths {
		s, err := readSubscription(p)
		if err != nil {
			bad[filepath.Base(p)] = err
			continue
		}
		subs = append(subs, s)
	}
	return subs, bad, nil
}

func writeSubscription(dir string, s *Subscription) error {
	body, err := yaml.Marshal(s)
	if err != nil {
		return fmt.Errorf("feeds: %w", err)
	}
	return writeAtomic(filepath.Join(dir, s.name+SubscriptionSuffix), append([]byte(subscriptionHeader), body...))
}

// state is what the last syncs of one subscription learnt, kept in the
// state folder as JSON: the validators of its documents and entries, so
// that the next sync fetches only what changed, and the outcome.
type state struct {
	LastSync  time.Time            `json:"last_sync"`
	LastOK    time.Time            `json:"last_ok,omitzero"`
	LastError string               `json:"last_error,omitempty"`
	Docs      map[string]*docState `json:"docs,omitempty"`    // the feed or sitemaps, by URL
	Entries   map[string]*entry    `json:"entries,omitempty"` // by URL
}

// docState is one feed or sitemap document as last fetched.
type docState struct {
	ETag         string   `json:"etag,omitempty"`
	LastModified string   `json:"last_modified,omitempty"`
	Updated      string   `json:"updated,omitempty"`  // the lastmod a sitemap index gave it
	Children     []listed `json:"children,omitempty"` // of a sitemap index
}

// entry is one article of a subscription.
type entry struct {
	Doc          string    `json:"doc"`            // the document that lists it
	File         string    `json:"file,omitempty"` // relative to the subscription's folder; "" until saved
	Updated      string    `json:"updated,omitempty"`
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"last_modified,omitempty"`
	Hash         string    `json:"sha256,omitempty"`   // of the saved file
	Author       string    `json:"author,omitempty"`   // as the feed gave it
	Published    time.Time `json:"published,omitzero"` // as the feed gave it
	Error        string    `json:"error,omitempty"`
	Gone         bool      `json:"gone,omitempty"` // no longer listed
}

// MarshalJSON and UnmarshalJSON keep listed's unexported fields.
func (l listed) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"url": l.url, "updated": l.updated})
}

func (l *listed) UnmarshalJSON(b []byte) error {
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	l.url, l.updated = m["url"], m["updated"]
	return nil
}

func readState(path string) (*state, error) {
	st := &state{}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("feeds: %w", err)
	}
	if err := json.Unmarshal(data, st); err != nil {
		return &state{}, nil // a damaged state costs one full fetch, nothing more
	}
	return st, nil
}

func writeState(path string, st *state) error {
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("feeds: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("feeds: %w", err)
	}
	return writeAtomic(path, data)
}

// writeAtomic replaces the file path with data: written beside it under a
// name starting with '.', which the corpus loader skips, then renamed.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-")
	if err != nil {
		return fmt.Errorf("feeds: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("feeds: %w", err)
	}
	return nil
}
