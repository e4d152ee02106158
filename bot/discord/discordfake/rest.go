package discordfake

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// interactionState tracks one dispatched interaction and its responses.
type interactionState struct {
	id, token          string
	channelID, guildID string
	messageID          string // the message whose component was clicked
	dispatched         time.Time
	firstCallback      time.Time
	ackType            int    // 0 until acknowledged
	original           string // message ID of the response
	followups          map[string]bool
}

type reply struct {
	status int
	header http.Header
	body   any
}

func apiError(status, code int, msg string) reply {
	return reply{status: status, body: map[string]any{"message": msg, "code": code}}
}

func formError(msg string) reply {
	return reply{status: http.StatusBadRequest, body: map[string]any{
		"message": "Invalid Form Body", "code": 50035, "errors": msg,
	}}
}

var notFound = apiError(http.StatusNotFound, 0, "404: Not Found")

func (s *Server) serveREST(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/api")
	if strings.HasPrefix(path, "/v") { // drop the API version: /v9/...
		if i := strings.IndexByte(path[1:], '/'); i >= 0 {
			path = path[1+i:]
		}
	}
	body, _ := io.ReadAll(r.Body)
	call := Call{
		Method: r.Method, Path: path, Query: r.URL.Query(), Header: r.Header.Clone(),
		Body: body, Time: time.Now(),
	}
	rep := s.route(call)
	call.Status = rep.status
	if rep.body != nil {
		call.Response = mustJSON(rep.body)
	}
	s.calls.add(call)

	for k, vs := range rep.header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if call.Response != nil {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(rep.status)
	_, _ = w.Write(call.Response)
}

func (s *Server) route(c Call) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := c.Method + " " + c.Path
	if q := s.scripts[key]; len(q) > 0 {
		s.scripts[key] = q[1:]
		return reply{status: q[0].Status, header: q[0].Header, body: q[0].Body}
	}
	seg := strings.Split(strings.Trim(c.Path, "/"), "/")
	if seg[0] == "gateway" && c.Method == http.MethodGet {
		return reply{status: http.StatusOK, body: map[string]any{
			"url": s.wsURL(), "shards": 1,
			"session_start_limit": map[string]int{"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1},
		}}
	}
	if seg[0] != "interactions" && seg[0] != "webhooks" && !s.tokenOK(c.Header.Get("Authorization")) {
		return apiError(http.StatusUnauthorized, 0, "401: Unauthorized")
	}
	switch {
	case c.Method == http.MethodGet && c.Path == "/users/@me":
		return reply{status: http.StatusOK, body: s.BotUser()}
	case c.Method == http.MethodGet && c.Path == "/oauth2/applications/@me":
		return reply{status: http.StatusOK, body: map[string]any{"id": s.opts.AppID, "name": s.opts.BotName, "bot": s.BotUser()}}
	case c.Method == http.MethodPut && seg[0] == "applications" && len(seg) == 3 && seg[2] == "commands":
		return s.putCommands(seg[1], "", c.Body)
	case c.Method == http.MethodPut && seg[0] == "applications" && len(seg) == 5 && seg[2] == "guilds" && seg[4] == "commands":
		return s.putCommands(seg[1], seg[3], c.Body)
	case c.Method == http.MethodPost && seg[0] == "interactions" && len(seg) == 4 && seg[3] == "callback":
		return s.callback(seg[1], seg[2], c)
	case seg[0] == "webhooks" && len(seg) >= 3:
		return s.webhook(seg, c)
	case seg[0] == "channels" && len(seg) >= 2:
		return s.channel(seg, c)
	}
	return notFound
}

var commandName = regexp.MustCompile(`^[-_\p{Ll}\p{N}]{1,32}$`)

func (s *Server) putCommands(app, guild string, body []byte) reply {
	if app != s.opts.AppID {
		return apiError(http.StatusNotFound, 10002, "Unknown Application")
	}
	var cmds []map[string]any
	if err := json.Unmarshal(body, &cmds); err != nil {
		return apiError(http.StatusBadRequest, 50109, "The request body contains invalid JSON.")
	}
	if len(cmds) > 100 {
		return formError("at most 100 commands")
	}
	var stored []json.RawMessage
	var out []map[string]any
	for _, cmd := range cmds {
		if msg := checkCommand(cmd); msg != "" {
			return formError(msg)
		}
		name, _ := cmd["name"].(string)
		id := s.commandIDs[name]
		if id == "" {
			id = s.newID()
			s.commandIDs[name] = id
		}
		cmd["id"], cmd["application_id"], cmd["version"] = id, app, s.newID()
		if guild != "" {
			cmd["guild_id"] = guild
		}
		raw, _ := json.Marshal(cmd)
		stored = append(stored, raw)
		out = append(out, cmd)
	}
	s.commands[guild] = stored
	return reply{status: http.StatusOK, body: out}
}

func checkCommand(cmd map[string]any) string {
	name, _ := cmd["name"].(string)
	if !commandName.MatchString(name) {
		return "command name must be 1-32 lowercase characters: " + name
	}
	typ, _ := cmd["type"].(float64)
	if typ == 0 || typ == 1 {
		if d, _ := cmd["description"].(string); d == "" || utf8.RuneCountInString(d) > 100 {
			return name + ": description must be 1-100 characters"
		}
	}
	opts, _ := cmd["options"].([]any)
	if len(opts) > 25 {
		return name + ": at most 25 options"
	}
	for _, o := range opts {
		m, _ := o.(map[string]any)
		on, _ := m["name"].(string)
		od, _ := m["description"].(string)
		if !commandName.MatchString(on) || od == "" || utf8.RuneCountInString(od) > 100 {
			return name + ": invalid option " + on
		}
	}
	return ""
}

// Callback types (Discord's InteractionResponseType).
const (
	CallbackMessage         = 4
	CallbackDeferredMessage = 5
	CallbackDeferredUpdate  = 6
	CallbackUpdateMessage   = 7
	CallbackAutocomplete    = 8
)

func (s *Server) callback(id, token string, c Call) reply {
	in := s.interactions[id]
	if in == nil || in.token != token {
		return apiError(http.StatusNotFound, 10062, "Unknown interaction")
	}
	if in.firstCallback.IsZero() {
		in.firstCallback = c.Time
	}
	if in.ackType != 0 {
		return apiError(http.StatusBadRequest, 40060, "Interaction has already been acknowledged.")
	}
	if c.Time.Sub(in.dispatched) > s.opts.InteractionDeadline {
		return apiError(http.StatusNotFound, 10062, "Unknown interaction")
	}
	var cb struct {
		Type int             `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(c.Body, &cb); err != nil {
		return apiError(http.StatusBadRequest, 50109, "The request body contains invalid JSON.")
	}
	var p MessagePayload
	if len(cb.Data) > 0 && string(cb.Data) != "null" {
		if err := json.Unmarshal(cb.Data, &p); err != nil {
			return formError("data: " + err.Error())
		}
	}
	switch cb.Type {
	case CallbackMessage:
		if msg := p.validate(true); msg != "" {
			return formError(msg)
		}
		m := s.newMessage(in.channelID, in.guildID)
		m.WebhookID = s.opts.AppID
		m.apply(cb.Data)
		in.original = m.ID
	case CallbackDeferredMessage:
		m := s.newMessage(in.channelID, in.guildID)
		m.WebhookID = s.opts.AppID
		m.Flags = p.Flags | 128 // loading
		in.original = m.ID
	case CallbackDeferredUpdate, CallbackUpdateMessage:
		m := s.messages[in.messageID]
		if m == nil {
			return formError("update is only valid for component interactions")
		}
		if cb.Type == CallbackUpdateMessage {
			if msg := p.validate(false); msg != "" {
				return formError(msg)
			}
			m.apply(cb.Data)
		}
		in.original = m.ID
	case CallbackAutocomplete:
		if len(p.Choices) > 25 {
			return formError("data.choices: at most 25")
		}
		for _, ch := range p.Choices {
			v, _ := ch.Value.(string)
			if n := utf8.RuneCountInString(ch.Name); n == 0 || n > 100 || utf8.RuneCountInString(v) > 100 {
				return formError("data.choices: name and value must be 1-100 characters")
			}
		}
	default:
		return formError("type: unsupported interaction callback type")
	}
	in.ackType = cb.Type
	return reply{status: http.StatusNoContent}
}

func (s *Server) webhook(seg []string, c Call) reply {
	in := s.byToken[seg[2]]
	if seg[1] != s.opts.AppID || in == nil || in.ackType == 0 || in.ackType == CallbackAutocomplete {
		return apiError(http.StatusNotFound, 10015, "Unknown Webhook")
	}
	switch {
	case len(seg) == 3 && c.Method == http.MethodPost:
		p, err := c.Message()
		if err != nil {
			return apiError(http.StatusBadRequest, 50109, "The request body contains invalid JSON.")
		}
		if msg := p.validate(true); msg != "" {
			return formError(msg)
		}
		m := s.newMessage(in.channelID, in.guildID)
		m.WebhookID = s.opts.AppID
		m.apply(c.Body)
		if in.followups == nil {
			in.followups = make(map[string]bool)
		}
		in.followups[m.ID] = true
		if c.Query.Get("wait") != "true" {
			return reply{status: http.StatusNoContent}
		}
		return reply{status: http.StatusOK, body: m.wire(s, false)}
	case len(seg) == 5 && seg[3] == "messages":
		id := seg[4]
		if id == "@original" {
			id = in.original
		} else if !in.followups[id] {
			return apiError(http.StatusNotFound, 10008, "Unknown Message")
		}
		m := s.messages[id]
		if m == nil {
			return apiError(http.StatusNotFound, 10008, "Unknown Message")
		}
		switch c.Method {
		case http.MethodGet:
			return reply{status: http.StatusOK, body: m.wire(s, false)}
		case http.MethodPatch:
			return s.edit(m, c.Body)
		}
	}
	return notFound
}

func (s *Server) channel(seg []string, c Call) reply {
	ch := seg[1]
	switch {
	case len(seg) == 3 && seg[2] == "typing" && c.Method == http.MethodPost:
		return reply{status: http.StatusNoContent}
	case len(seg) == 3 && seg[2] == "messages" && c.Method == http.MethodPost:
		p, err := c.Message()
		if err != nil {
			return apiError(http.StatusBadRequest, 50109, "The request body contains invalid JSON.")
		}
		if msg := p.validate(true); msg != "" {
			return formError(msg)
		}
		var ref *MessageReference
		if r := p.MessageReference; r != nil {
			if target := s.messages[r.MessageID]; target != nil {
				ref = &MessageReference{MessageID: target.ID, ChannelID: target.ChannelID, GuildID: target.GuildID}
			} else if r.FailIfNotExists == nil || *r.FailIfNotExists {
				return formError("message_reference: Unknown message")
			}
		}
		m := s.newMessage(ch, s.guildOf(ch))
		m.apply(c.Body)
		m.Reference = ref
		if ref != nil {
			m.Type = 19
		}
		s.dispatchLocked(event{typ: "MESSAGE_CREATE", data: mustJSON(m.wire(s, false))})
		return reply{status: http.StatusOK, body: m.wire(s, false)}
	case len(seg) == 4 && seg[2] == "messages":
		m := s.messages[seg[3]]
		if m == nil || m.ChannelID != ch {
			return apiError(http.StatusNotFound, 10008, "Unknown Message")
		}
		switch c.Method {
		case http.MethodGet:
			return reply{status: http.StatusOK, body: m.wire(s, false)}
		case http.MethodPatch:
			if m.Author.ID != s.opts.BotID {
				return apiError(http.StatusForbidden, 50005, "Cannot edit a message authored by another user")
			}
			return s.edit(m, c.Body)
		}
	case len(seg) == 5 && seg[2] == "messages" && seg[4] == "threads" && c.Method == http.MethodPost:
		m := s.messages[seg[3]]
		if m == nil || m.ChannelID != ch {
			return apiError(http.StatusNotFound, 10008, "Unknown Message")
		}
		if m.Thread != "" {
			return apiError(http.StatusBadRequest, 160004, "A thread has already been created for this message")
		}
		var ts struct {
			Name string `json:"name"`
		}
		_ = json.Unmarshal(c.Body, &ts)
		if n := utf8.RuneCountInString(ts.Name); n == 0 || n > 100 {
			return formError("name: Must be between 1 and 100 in length.")
		}
		m.Thread = m.ID // Discord gives a thread started from a message the message's ID
		s.channelGuild[m.ID] = m.GuildID
		return reply{status: http.StatusCreated, body: map[string]any{
			"id": m.ID, "type": 11, "guild_id": m.GuildID, "parent_id": ch, "name": ts.Name,
			"owner_id": s.opts.BotID, "thread_metadata": map[string]any{"archived": false, "auto_archive_duration": 1440},
		}}
	}
	return notFound
}

func (s *Server) edit(m *storedMessage, body []byte) reply {
	var p MessagePayload
	if err := json.Unmarshal(body, &p); err != nil {
		return apiError(http.StatusBadRequest, 50109, "The request body contains invalid JSON.")
	}
	if msg := p.validate(false); msg != "" {
		return formError(msg)
	}
	m.apply(body)
	m.Flags &^= 128 // no longer loading
	edited := time.Now()
	m.Edited = &edited
	return reply{status: http.StatusOK, body: m.wire(s, false)}
}

func (s *Server) guildOf(channelID string) string {
	if g, ok := s.channelGuild[channelID]; ok {
		return g
	}
	return s.opts.GuildID
}

func mustJSON(v any) json.RawMessage {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return raw
}
