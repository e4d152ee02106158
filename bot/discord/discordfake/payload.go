package discordfake

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// MessagePayload is what a client asks Discord to show: the body of a
// message create or edit, a webhook execute, or an interaction callback's
// data. On an edit, absent fields are left unchanged.
type MessagePayload struct {
	Content          string            `json:"content"`
	Embeds           []Embed           `json:"embeds"`
	Components       []Component       `json:"components"`
	AllowedMentions  *AllowedMentions  `json:"allowed_mentions"`
	MessageReference *MessageReference `json:"message_reference"`
	Flags            int               `json:"flags"`
	Choices          []Choice          `json:"choices"` // autocomplete results
}

// Embed is a rich embed.
type Embed struct {
	Title       string       `json:"title,omitempty"`
	Description string       `json:"description,omitempty"`
	URL         string       `json:"url,omitempty"`
	Fields      []EmbedField `json:"fields,omitempty"`
	Footer      *EmbedText   `json:"footer,omitempty"`
	Author      *EmbedText   `json:"author,omitempty"`
}

// EmbedField is one name/value field of an embed.
type EmbedField struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Inline bool   `json:"inline,omitempty"`
}

// EmbedText is an embed footer (Text) or author (Name).
type EmbedText struct {
	Text string `json:"text,omitempty"`
	Name string `json:"name,omitempty"`
}

// Component is a message component: an action row (type 1) holding
// buttons (type 2).
type Component struct {
	Type       int         `json:"type"`
	CustomID   string      `json:"custom_id,omitempty"`
	Label      string      `json:"label,omitempty"`
	Style      int         `json:"style,omitempty"`
	Disabled   bool        `json:"disabled,omitempty"`
	URL        string      `json:"url,omitempty"`
	Emoji      *Emoji      `json:"emoji,omitempty"`
	Components []Component `json:"components,omitempty"`
}

// Emoji names a button's emoji.
type Emoji struct {
	Name string `json:"name,omitempty"`
}

// AllowedMentions says which mentions in a message may ping. A nil Parse
// means the field was null (Discord's default parsing applies); an empty
// non-nil Parse means nothing pings.
type AllowedMentions struct {
	Parse       []string `json:"parse"`
	Users       []string `json:"users,omitempty"`
	Roles       []string `json:"roles,omitempty"`
	RepliedUser bool     `json:"replied_user"`
}

// MessageReference points at the message a reply answers.
type MessageReference struct {
	MessageID       string `json:"message_id"`
	ChannelID       string `json:"channel_id,omitempty"`
	GuildID         string `json:"guild_id,omitempty"`
	FailIfNotExists *bool  `json:"fail_if_not_exists,omitempty"`
}

// Choice is one autocomplete suggestion.
type Choice struct {
	Name  string `json:"name"`
	Value any    `json:"value"`
}

// Callback is the body of an interaction callback.
type Callback struct {
	Type int             `json:"type"`
	Data *MessagePayload `json:"data"`
}

// Buttons returns every button in the payload's action rows.
func (p MessagePayload) Buttons() []Component {
	var out []Component
	for _, row := range p.Components {
		out = append(out, row.Components...)
	}
	return out
}

// Discord's message limits.
const (
	maxContent     = 2000
	maxEmbeds      = 10
	maxEmbedTitle  = 256
	maxEmbedDesc   = 4096
	maxEmbedFields = 25
	maxFieldName   = 256
	maxFieldValue  = 1024
	maxFooter      = 2048
	maxAuthor      = 256
	maxEmbedTotal  = 6000
	maxRows        = 5
	maxRowItems    = 5
	maxCustomID    = 100
	maxLabel       = 80
)

// validate checks p against Discord's limits and returns the reason for a
// 400, or "". create requires some content, as Discord does. Checks run in
// the order Discord reports them: content, embeds, components, emptiness.
func (p MessagePayload) validate(create bool) string {
	if n := utf8.RuneCountInString(p.Content); n > maxContent {
		return fmt.Sprintf("content: Must be %d or fewer in length (got %d).", maxContent, n)
	}
	if msg := validateEmbeds(p.Embeds); msg != "" {
		return msg
	}
	if msg := validateComponents(p.Components); msg != "" {
		return msg
	}
	if create && p.Content == "" && len(p.Embeds) == 0 && len(p.Components) == 0 {
		return emptyMessage
	}
	return ""
}

// validateEmbeds checks each embed's own limits, then the size limit on
// the text of all embeds together.
func validateEmbeds(embeds []Embed) string {
	if len(embeds) > maxEmbeds {
		return "embeds: Must be 10 or fewer in length."
	}
	total := 0
	for i, e := range embeds {
		size, msg := e.validate(i)
		if msg != "" {
			return msg
		}
		total += size
	}
	if total > maxEmbedTotal {
		return fmt.Sprintf("embeds: Embed size exceeds maximum size of %d (got %d).", maxEmbedTotal, total)
	}
	return ""
}

// validate checks embed i of a message and returns the length of its text,
// which counts towards maxEmbedTotal, or the reason for a 400.
func (e Embed) validate(i int) (size int, msg string) {
	n := utf8.RuneCountInString
	switch {
	case n(e.Title) > maxEmbedTitle:
		return 0, fmt.Sprintf("embeds.%d.title: Must be %d or fewer in length.", i, maxEmbedTitle)
	case n(e.Description) > maxEmbedDesc:
		return 0, fmt.Sprintf("embeds.%d.description: Must be %d or fewer in length.", i, maxEmbedDesc)
	case len(e.Fields) > maxEmbedFields:
		return 0, fmt.Sprintf("embeds.%d.fields: Must be %d or fewer in length.", i, maxEmbedFields)
	case e.URL != "" && !strings.HasPrefix(e.URL, "https://") && !strings.HasPrefix(e.URL, "http://"):
		return 0, fmt.Sprintf("embeds.%d.url: Not a well formed URL.", i)
	}
	size = n(e.Title) + n(e.Description)
	for j, f := range e.Fields {
		if f.Name == "" || n(f.Name) > maxFieldName || f.Value == "" || n(f.Value) > maxFieldValue {
			return 0, fmt.Sprintf("embeds.%d.fields.%d: name must be 1-%d and value 1-%d in length.", i, j, maxFieldName, maxFieldValue)
		}
		size += n(f.Name) + n(f.Value)
	}
	if e.Footer != nil {
		if n(e.Footer.Text) > maxFooter {
			return 0, fmt.Sprintf("embeds.%d.footer.text: Must be %d or fewer in length.", i, maxFooter)
		}
		size += n(e.Footer.Text)
	}
	if e.Author != nil {
		if n(e.Author.Name) > maxAuthor {
			return 0, fmt.Sprintf("embeds.%d.author.name: Must be %d or fewer in length.", i, maxAuthor)
		}
		size += n(e.Author.Name)
	}
	return size, ""
}

// validateComponents checks the action rows of a message and the buttons
// in them.
func validateComponents(rows []Component) string {
	if len(rows) > maxRows {
		return "components: Must be 5 or fewer in length."
	}
	for i, row := range rows {
		if row.Type != 1 || len(row.Components) == 0 || len(row.Components) > maxRowItems {
			return fmt.Sprintf("components.%d: an action row holds 1-5 components.", i)
		}
		for j, b := range row.Components {
			if msg := b.validateButton(i, j); msg != "" {
				return msg
			}
		}
	}
	return ""
}

// validateButton checks component j of action row i if it is a button
// (type 2): a link button (style 5) needs a URL, any other a custom ID,
// and every button a label or an emoji. Other component types pass.
func (b Component) validateButton(i, j int) string {
	if b.Type != 2 {
		return ""
	}
	n := utf8.RuneCountInString
	link := b.Style == 5
	switch {
	case link && b.URL == "", !link && (b.CustomID == "" || n(b.CustomID) > maxCustomID):
		return fmt.Sprintf("components.%d.components.%d.custom_id: must be 1-%d in length.", i, j, maxCustomID)
	case n(b.Label) > maxLabel:
		return fmt.Sprintf("components.%d.components.%d.label: Must be %d or fewer in length.", i, j, maxLabel)
	case b.Label == "" && b.Emoji == nil:
		return fmt.Sprintf("components.%d.components.%d: a button needs a label or an emoji.", i, j)
	}
	return ""
}

// storedMessage is a message the fake knows: sent by a test user or by the
// bot.
type storedMessage struct {
	ID, ChannelID, GuildID string
	Author                 User
	WebhookID              string
	Type                   int
	Content                string
	Embeds                 json.RawMessage
	Components             json.RawMessage
	Flags                  int
	Mentions               []User
	Reference              *MessageReference
	Thread                 string
	Reactions              map[string][]string // emoji → user IDs
	Time                   time.Time
	Edited                 *time.Time
}

// newMessage stores an empty message authored by the bot.
func (s *Server) newMessage(channelID, guildID string) *storedMessage {
	m := &storedMessage{ID: s.newID(), ChannelID: channelID, GuildID: guildID, Author: s.BotUser(), Time: time.Now()}
	s.messages[m.ID] = m
	return m
}

// apply copies the display fields present in a JSON body onto m.
func (m *storedMessage) apply(body []byte) {
	var f map[string]json.RawMessage
	if json.Unmarshal(body, &f) != nil {
		return
	}
	if v, ok := f["content"]; ok {
		_ = json.Unmarshal(v, &m.Content)
	}
	if v, ok := f["embeds"]; ok {
		m.Embeds = v
	}
	if v, ok := f["components"]; ok {
		m.Components = v
	}
	if v, ok := f["flags"]; ok {
		_ = json.Unmarshal(v, &m.Flags)
	}
}

// payload is the message as a MessagePayload.
func (m *storedMessage) payload() MessagePayload {
	p := MessagePayload{Content: m.Content, Flags: m.Flags, MessageReference: m.Reference}
	_ = json.Unmarshal(m.Embeds, &p.Embeds)
	_ = json.Unmarshal(m.Components, &p.Components)
	return p
}

// wire is the message as Discord sends it; nested messages carry no
// referenced_message of their own.
func (m *storedMessage) wire(s *Server, nested bool) map[string]any {
	out := map[string]any{
		"id":               m.ID,
		"channel_id":       m.ChannelID,
		"author":           m.Author,
		"content":          m.Content,
		"timestamp":        m.Time.Format(time.RFC3339Nano),
		"edited_timestamp": nil,
		"tts":              false,
		"mention_everyone": false,
		"mentions":         nonNil(m.Mentions),
		"mention_roles":    []string{},
		"attachments":      []any{},
		"embeds":           rawOrEmpty(m.Embeds),
		"components":       rawOrEmpty(m.Components),
		"pinned":           false,
		"type":             m.Type,
		"flags":            m.Flags,
	}
	if m.Edited != nil {
		out["edited_timestamp"] = m.Edited.Format(time.RFC3339Nano)
	}
	if m.GuildID != "" {
		out["guild_id"] = m.GuildID
		if !m.Author.Bot {
			out["member"] = map[string]any{"roles": []string{}}
		}
	}
	if m.WebhookID != "" {
		out["webhook_id"] = m.WebhookID
	}
	if m.Reference != nil {
		out["message_reference"] = m.Reference
		if !nested {
			if ref := s.messages[m.Reference.MessageID]; ref != nil {
				out["referenced_message"] = ref.wire(s, true)
			} else {
				out["referenced_message"] = nil
			}
		}
	}
	return out
}

func nonNil(us []User) []User {
	if us == nil {
		return []User{}
	}
	return us
}

func rawOrEmpty(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || string(raw) == "null" {
		return json.RawMessage("[]")
	}
	return raw
}
