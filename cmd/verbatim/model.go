package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/verbatim-bot/verbatim/bot"
)

// modelCheckTimeout bounds the start-up question of which models the
// LLM server serves.
const modelCheckTimeout = 5 * time.Second

// llmModel returns the model to ask for. With LLM_BASE_URL set it asks the
// server which models it serves: an unset LLM_MODEL takes the only one, and
// a model the server does not list is a configuration error naming those it
// does. A server that cannot say (down, or no /models) leaves the setting
// as it is, with a warning when that means sending OpenAI's default model
// name to another server.
func (a *app) llmModel(ctx context.Context, cfg bot.LLMConfig) (string, error) {
	if a.cfg.LLMBaseURL == "" {
		return cfg.Model, nil
	}
	ctx, cancel := context.WithTimeout(ctx, modelCheckTimeout)
	defer cancel()
	served, err := bot.ServedModels(ctx, cfg)
	if err != nil {
		if cfg.Model == "" {
			a.logger(slog.LevelWarn).Warn("LLM_MODEL is not set and the server did not say which models it serves; asking for OpenAI's default model, which other servers may not have",
				"url", redactedURL(a.cfg.LLMBaseURL), "model", bot.DefaultModel, "err", err)
		}
		return cfg.Model, nil
	}
	return pickModel(cfg.Model, served)
}

// pickModel chooses want among the served models: the model itself, or
// the one Ollama lists with the ":latest" tag; with want "", the only one.
func pickModel(want string, served []string) (string, error) {
	if len(served) == 0 {
		return want, nil
	}
	if want == "" {
		if len(served) == 1 {
			return served[0], nil
		}
		return "", fmt.Errorf("configuration: LLM_MODEL is not set and the server at LLM_BASE_URL serves %d models; set it to one of: %s", len(served), listModels(served))
	}
	for _, m := range served {
		if m == want || m == want+":latest" {
			return m, nil
		}
	}
	return "", fmt.Errorf("configuration: LLM_MODEL %q is not served at LLM_BASE_URL; it serves: %s", want, listModels(served))
}

// listModels names up to ten models.
func listModels(ms []string) string {
	const most = 10
	if len(ms) > most {
		return strings.Join(ms[:most], ", ") + fmt.Sprintf(" and %d more", len(ms)-most)
	}
	return strings.Join(ms, ", ")
}

// redactedURL is raw with any password replaced by "xxxxx", fit for a log.
func redactedURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable)"
	}
	return u.Redacted()
}
