package openaihttp

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	openai "github.com/sashabaranov/go-openai"
)

// DefaultBaseURL is OpenAI's API.
const DefaultBaseURL = "https://api.openai.com/v1"

// BaseURL validates and completes a configured API base URL: "" means
// DefaultBaseURL, a URL with no path gets "/v1", any other path is used as
// given.
func BaseURL(raw string) (string, error) {
	if raw == "" {
		return DefaultBaseURL, nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", errors.New("the base URL must be an http:// or https:// URL such as http://localhost:11434/v1")
	}
	if strings.Trim(u.Path, "/") == "" {
		u.Path = "/v1"
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// StatusCode returns the HTTP status of a go-openai error, 0 if it has
// none (a network failure, an undecodable body, an error event in a
// stream).
func StatusCode(err error) int {
	// RequestError first: for an {"error":"string"} body errors.As also
	// finds an empty APIError inside it.
	var re *openai.RequestError
	if errors.As(err, &re) {
		return re.HTTPStatusCode
	}
	var ae *openai.APIError
	if errors.As(err, &ae) {
		return ae.HTTPStatusCode
	}
	return 0
}

// Hint suggests the likely fix for a request the server refused, as a
// prefix for its error message; "" when there is none.
func Hint(err error) string {
	switch StatusCode(err) {
	case http.StatusUnauthorized, http.StatusForbidden:
		return "the server refused the API key: "
	case http.StatusNotFound:
		return "not found (the base URL must end in the API version, e.g. /v1, and the model must exist): "
	}
	return ""
}

// tokenLike matches what looks like a credential in a server's message:
// a bearer token, or an OpenAI-style key.
var tokenLike = regexp.MustCompile(`(?i)(bearer\s+)[^\s"',;]+|\bsk-[A-Za-z0-9_\-]{6,}`)

// Redact returns s with the Doer's secrets and anything that looks like a
// bearer token or API key replaced by "[redacted]".
func (d *Doer) Redact(s string) string { return Redact(s, d.cfg.Secrets...) }

// Redact returns s with secrets and anything that looks like a bearer
// token or API key replaced by "[redacted]".
func Redact(s string, secrets ...string) string {
	for _, k := range secrets {
		if k != "" {
			s = strings.ReplaceAll(s, k, "[redacted]")
		}
	}
	return tokenLike.ReplaceAllStringFunc(s, func(m string) string {
		if sub := tokenLike.FindStringSubmatch(m); sub[1] != "" {
			return sub[1] + "[redacted]"
		}
		return "[redacted]"
	})
}

// RedactError returns err with its message redacted (see Redact); it still
// unwraps to err for errors.Is and errors.As. Unchanged messages return err
// itself.
func RedactError(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := Redact(err.Error(), secrets...)
	if msg == err.Error() {
		return err
	}
	return &redacted{msg: msg, err: err}
}

type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }
