package retrieval

import (
	"context"
	"errors"
	"fmt"

	"github.com/philippgille/chromem-go"
)

// vectorIndex holds the passage vectors of one snapshot and finds those
// nearest a query. chromemIndex is the one in use; an external vector
// store would be another implementation, with search unchanged.
type vectorIndex interface {
	// add stores passage id's unit vector. It is safe for concurrent use.
	add(ctx context.Context, id string, v []float32) error
	// nearest returns the IDs of up to n passages by decreasing cosine
	// similarity to the unit vector q.
	nearest(ctx context.Context, q []float32, n int) ([]string, error)
	count() int
}

// chromemIndex is an in-memory chromem-go collection. Its own persistence
// is not used: the embedding cache is ours (see cache.go).
type chromemIndex struct {
	coll *chromem.Collection
}

// errNoVector is what chromem's embedding function returns: every passage
// and query comes with its vector, and without a function of its own
// chromem would install its OpenAI default.
var errNoVector = errors.New("vector index: a document without a vector")

func newChromemIndex() (*chromemIndex, error) {
	noEmbed := func(context.Context, string) ([]float32, error) { return nil, errNoVector }
	coll, err := chromem.NewDB().CreateCollection("passages", nil, noEmbed)
	if err != nil {
		return nil, fmt.Errorf("creating collection: %w", err)
	}
	return &chromemIndex{coll: coll}, nil
}

func (c *chromemIndex) add(ctx context.Context, id string, v []float32) error {
	return c.coll.AddDocument(ctx, chromem.Document{ID: id, Embedding: v})
}

func (c *chromemIndex) nearest(ctx context.Context, q []float32, n int) ([]string, error) {
	n = min(n, c.coll.Count())
	if n == 0 {
		return nil, nil
	}
	res, err := c.coll.QueryEmbedding(ctx, q, n, nil, nil)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(res))
	for i, r := range res {
		ids[i] = r.ID
	}
	return ids, nil
}

func (c *chromemIndex) count() int { return c.coll.Count() }
