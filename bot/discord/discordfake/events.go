package discordfake

import (
	"errors"
	"strconv"
	"time"
)

// User is a Discord user as the gateway shows it.
type User struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Bot      bool   `json:"bot,omitempty"`
}

// Message is a message a test user sends, delivered with MESSAGE_CREATE.
type Message struct {
	ID        string // assigned when ""
	ChannelID string
	GuildID   string // "" for a direct message
	Author    User
	Content   string
	Mentions  []User
	ReplyTo   string // ID of a stored message this replies to
}

// SendMessage stores m and dispatches MESSAGE_CREATE for it, with
// message_reference and referenced_message filled in for a reply. It
// returns the message ID.
func (s *Server) SendMessage(m Message) (string, error) {
	if m.ChannelID == "" || m.Author.ID == "" {
		return "", errors.New("discordfake: a message needs a channel and an author")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sm := &storedMessage{
		ID: m.ID, ChannelID: m.ChannelID, GuildID: m.GuildID, Author: m.Author,
		Content: m.Content, Mentions: m.Mentions, Time: time.Now(),
	}
	if sm.ID == "" {
		sm.ID = s.newID()
	}
	if m.ReplyTo != "" {
		ref := s.messages[m.ReplyTo]
		if ref == nil {
			return "", errors.New("discordfake: reply to unknown message " + m.ReplyTo)
		}
		sm.Type = 19
		sm.Reference = &MessageReference{MessageID: ref.ID, ChannelID: ref.ChannelID, GuildID: ref.GuildID}
	}
	s.channelGuild[m.ChannelID] = m.GuildID
	s.messages[sm.ID] = sm
	s.dispatchLocked(event{typ: "MESSAGE_CREATE", data: mustJSON(sm.wire(s, false))})
	return sm.ID, nil
}

// Mention sends "<@bot> text" from author in a channel of the fake's guild.
func (s *Server) Mention(channelID string, author User, text string) (string, error) {
	return s.SendMessage(Message{
		ChannelID: channelID, GuildID: s.opts.GuildID, Author: author,
		Content: "<@" + s.opts.BotID + "> " + text, Mentions: []User{s.BotUser()},
	})
}

// DM sends text from author in a direct-message channel.
func (s *Server) DM(channelID string, author User, text string) (string, error) {
	return s.SendMessage(Message{ChannelID: channelID, Author: author, Content: text})
}

// Reply sends text from author as a reply to the stored message replyTo,
// in the same channel. ping mentions the replied-to author, as Discord's
// reply does by default.
func (s *Server) Reply(replyTo string, author User, text string, ping bool) (string, error) {
	s.mu.Lock()
	ref := s.messages[replyTo]
	s.mu.Unlock()
	if ref == nil {
		return "", errors.New("discordfake: reply to unknown message " + replyTo)
	}
	var mentions []User
	if ping {
		mentions = []User{ref.Author}
	}
	return s.SendMessage(Message{
		ChannelID: ref.ChannelID, GuildID: ref.GuildID, Author: author,
		Content: text, Mentions: mentions, ReplyTo: replyTo,
	})
}

// Invoker is who triggers an interaction, and where.
type Invoker struct {
	User      User
	ChannelID string
	// GuildID is "" for a direct message: the interaction then carries
	// user instead of member.
	GuildID string
	// Permissions are the member's permissions in the channel.
	Permissions int64
	Roles       []string
}

// Option is one slash-command option value.
type Option struct {
	Name    string `json:"name"`
	Type    int    `json:"type"`
	Value   any    `json:"value,omitempty"`
	Focused bool   `json:"focused,omitempty"`

	attachment *Attachment // sent in the interaction's resolved data
}

// Attachment is a file uploaded with an attachment option.
type Attachment struct {
	ID          string `json:"id"`
	Filename    string `json:"filename"`
	Size        int    `json:"size"`
	URL         string `json:"url"`
	ProxyURL    string `json:"proxy_url"`
	ContentType string `json:"content_type,omitempty"`
}

// AttachmentOption is an attachment option (type 11): its value is the
// attachment's ID, and the attachment goes in the interaction's
// data.resolved.attachments, as Discord sends it.
func AttachmentOption(name string, a Attachment) Option {
	return Option{Name: name, Type: 11, Value: a.ID, attachment: &a}
}

// StringOption is a string option.
func StringOption(name, value string) Option { return Option{Name: name, Type: 3, Value: value} }

// BoolOption is a boolean option.
func BoolOption(name string, value bool) Option { return Option{Name: name, Type: 5, Value: value} }

// FocusedOption is the string option being typed in an autocomplete
// interaction.
func FocusedOption(name, partial string) Option {
	return Option{Name: name, Type: 3, Value: partial, Focused: true}
}

// Interaction identifies a dispatched interaction, to find the client's
// responses to it among the recorded calls.
type Interaction struct {
	ID, Token, AppID string
}

// CallbackPath is the path of the interaction's callback.
func (i Interaction) CallbackPath() string {
	return "/interactions/" + i.ID + "/" + i.Token + "/callback"
}

// OriginalPath is the path of the interaction's original response.
func (i Interaction) OriginalPath() string { return i.FollowupPath() + "/messages/@original" }

// FollowupPath is the path follow-up messages are posted to.
func (i Interaction) FollowupPath() string { return "/webhooks/" + i.AppID + "/" + i.Token }

// Command dispatches a slash command interaction (type 2).
func (s *Server) Command(inv Invoker, name string, opts ...Option) (Interaction, error) {
	return s.interact(inv, 2, name, opts, "", "")
}

// Autocomplete dispatches an autocomplete interaction (type 4) for a
// command; one option should be a FocusedOption.
func (s *Server) Autocomplete(inv Invoker, name string, opts ...Option) (Interaction, error) {
	return s.interact(inv, 4, name, opts, "", "")
}

// MessageCommand dispatches a message context-menu command (an
// application command of type 3) used on the stored message targetID,
// which Discord sends in the interaction's data.resolved.messages.
func (s *Server) MessageCommand(inv Invoker, name, targetID string) (Interaction, error) {
	return s.interact(inv, 2, name, nil, targetID, "")
}

// Click dispatches a button click (type 3) on the stored message messageID.
func (s *Server) Click(inv Invoker, messageID, customID string) (Interaction, error) {
	return s.interact(inv, 3, "", nil, messageID, customID)
}

func (s *Server) interact(inv Invoker, typ int, name string, opts []Option, messageID, customID string) (Interaction, error) {
	if inv.User.ID == "" || inv.ChannelID == "" {
		return Interaction{}, errors.New("discordfake: an interaction needs a user and a channel")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.newID()
	in := &interactionState{
		id: id, token: "itoken-" + id, channelID: inv.ChannelID, guildID: inv.GuildID, messageID: messageID,
	}
	p := map[string]any{
		"id": id, "application_id": s.opts.AppID, "type": typ, "token": in.token, "version": 1,
		"channel_id": inv.ChannelID, "locale": "en-US", "app_permissions": "412317240384",
	}
	switch typ {
	case 3:
		m := s.messages[messageID]
		if m == nil {
			return Interaction{}, errors.New("discordfake: click on unknown message " + messageID)
		}
		p["message"] = m.wire(s, false)
		p["data"] = map[string]any{"custom_id": customID, "component_type": 2}
	default:
		cmdID := s.commandIDs[name]
		if cmdID == "" {
			cmdID = "cmd-" + name
		}
		if opts == nil {
			opts = []Option{}
		}
		data := map[string]any{"id": cmdID, "name": name, "type": 1, "options": opts}
		if messageID != "" { // a message context-menu command
			m := s.messages[messageID]
			if m == nil {
				return Interaction{}, errors.New("discordfake: command on unknown message " + messageID)
			}
			data = map[string]any{"id": cmdID, "name": name, "type": 3, "target_id": messageID,
				"resolved": map[string]any{"messages": map[string]any{messageID: m.wire(s, true)}}}
		}
		attachments := map[string]*Attachment{}
		for _, o := range opts {
			if o.attachment != nil {
				attachments[o.attachment.ID] = o.attachment
			}
		}
		if len(attachments) > 0 {
			data["resolved"] = map[string]any{"attachments": attachments}
		}
		p["data"] = data
	}
	if inv.GuildID != "" {
		roles := inv.Roles
		if roles == nil {
			roles = []string{}
		}
		p["guild_id"] = inv.GuildID
		p["member"] = map[string]any{
			"user": inv.User, "roles": roles, "permissions": strconv.FormatInt(inv.Permissions, 10),
		}
	} else {
		p["user"] = inv.User
	}
	s.interactions[id] = in
	s.byToken[in.token] = in
	s.dispatchLocked(event{typ: "INTERACTION_CREATE", data: mustJSON(p), interactionID: id})
	return Interaction{ID: id, Token: in.token, AppID: s.opts.AppID}, nil
}
