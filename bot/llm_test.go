package bot

import (
	"context"
	"errors"
	"testing"

	"github.com/verbatim-bot/verbatim/retrieval/openaifake"
)

// TestServedModelsWrapsItsError: the error of a model list that could not
// be read still says why (errors.Is), its message without the key.
func TestServedModelsWrapsItsError(t *testing.T) {
	srv := openaifake.New()
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := ServedModels(ctx, LLMConfig{BaseURL: srv.URL(), APIKey: "sk-secret-key-for-the-test"})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("ServedModels with its context ended = %v, want it to wrap context.Canceled", err)
	}
}
