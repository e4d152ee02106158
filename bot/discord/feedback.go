package discord

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Feedback is one 👍/👎 click, as appended to Config.FeedbackPath (one
// JSON object a line).
type Feedback struct {
	Time     time.Time `json:"time"`
	AnswerID string    `json:"answer_id"`
	Question string    `json:"question"` // "" when the answer is no longer remembered
	UserID   string    `json:"user_id"`
	Vote     string    `json:"vote"` // "up" or "down"
}

// feedbackLog appends Feedback lines to a file, one writer at a time.
type feedbackLog struct {
	mu   sync.Mutex
	path string
}

func (f *feedbackLog) record(fb Feedback) error {
	line, err := json.Marshal(fb)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(f.path), 0o755); err != nil {
		return fmt.Errorf("bot: feedback: %w", err)
	}
	file, err := os.OpenFile(f.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("bot: feedback: %w", err)
	}
	_, err = file.Write(append(line, '\n'))
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("bot: feedback: %w", err)
	}
	return nil
}
