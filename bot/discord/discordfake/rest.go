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

// formError is Discord's 400 for a request that breaks its limits. msg is
// "path.to.field: what is wrong" (or just what is wrong, for the request
// as a whole); the body nests it as Discord does:
// {"code": 50035, "errors": {"path": {"to": {"field": {"_errors": [{"code":
// …, "message": …}]}}}}}. An empty message is Discord's 50006 instead.
func formError(msg string) reply {
	if msg == emptyMessage {
		return apiError(http.StatusBadRequest, 50006, emptyMessage)
	}
	field, text, ok := strings.Cut(msg, ": ")
	if !ok || strings.ContainsAny(field, " ") {
		field, text = "", msg
	}
	code := "BASE_TYPE_INVALID"
	if strings.Contains(text, "or fewer in length") {
		code = "BASE_TYPE_MAX_LENGTH"
	}
	errs := map[string]any{"_errors": []any{map[string]any{"code": code, "message": text}}}
	if field != "" {
		path := strings.Split(field, ".")
		for i := len(path) - 1; i >= 0; i-- {
			errs = map[string]any{path[i]: errs}
		}
	}
	return reply{status: http.StatusBadRequest, body: map[string]any{
		"message": "Invalid Form Body", "code": 50035, "errors": errs,
	}}
}

// emptyMessage is Discord's reason for a message with nothing to show.
const emptyMessage = "Cannot send an empty message"

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

// route answers one REST call: a scripted response if one is queued,
// else gateway discovery, which needs no token, else the first entry of
// restRoutes that matches, once the token is checked.
func (s *Server) route(c Call) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rep, ok := s.scripted(c.Method + " " + c.Path); ok {
		return rep
	}
	if b := s.limits[c.Method+" "+c.Path]; b != nil {
		h, limited := b.take(c.Time)
		if limited != nil {
			return reply{status: limited.Status, header: limited.Header, body: limited.Body}
		}
		rep := s.routeAuthorized(c)
		if rep.header == nil {
			rep.header = http.Header{}
		}
		for k, v := range h {
			rep.header[k] = v
		}
		return rep
	}
	return s.routeAuthorized(c)
}

// routeAuthorized answers gateway discovery, which needs no token, else
// the first entry of restRoutes that matches, once the token is checked.
func (s *Server) routeAuthorized(c Call) reply {
	seg := strings.Split(strings.Trim(c.Path, "/"), "/")
	if seg[0] == "gateway" && c.Method == http.MethodGet {
		return s.gatewayBot()
	}
	// Interaction callbacks and webhooks authenticate by their token.
	if seg[0] != "interactions" && seg[0] != "webhooks" && !s.tokenOK(c.Header.Get("Authorization")) {
		if r := s.revoked; r != nil && r.Status != http.StatusUnauthorized {
			return apiError(r.Status, r.Code, "401: Unauthorized")
		}
		return apiError(http.StatusUnauthorized, 0, "401: Unauthorized")
	}
	for _, rt := range restRoutes {
		if rt.matches(c, seg) {
			return rt.handle(s, seg, c)
		}
	}
	return notFound
}

// scripted pops the next scripted response for key ("METHOD /path").
func (s *Server) scripted(key string) (reply, bool) {
	q := s.scripts[key]
	if len(q) == 0 {
		return reply{}, false
	}
	s.scripts[key] = q[1:]
	return reply{status: q[0].Status, header: q[0].Header, body: q[0].Body}, true
}

// gatewayBot answers GET /gateway and /gateway/bot with the fake's
// websocket URL.
func (s *Server) gatewayBot() reply {
	return reply{status: http.StatusOK, body: map[string]any{
		"url": s.wsURL(), "shards": 1,
		"session_start_limit": map[string]int{"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1},
	}}
}

// A restRoute maps requests for one endpoint to its handler. An empty
// method matches every method, and the handler answers those it does not
// serve. In a pattern, "*" matches any one path segment and a final "**"
// zero or more further segments; a pattern without "*" must equal the path
// exactly, so "/users/@me/" is not "/users/@me".
type restRoute struct {
	method  string
	pattern string
	handle  func(s *Server, seg []string, c Call) reply
}

// restRoutes are the REST endpoints the fake serves, tried in order. A
// handler finds the pattern's wildcards in seg, the path's segments.
var restRoutes = []restRoute{
	{http.MethodGet, "/users/@me", func(s *Server, _ []string, _ Call) reply {
		return reply{status: http.StatusOK, body: s.BotUser()}
	}},
	{http.MethodGet, "/oauth2/applications/@me", func(s *Server, _ []string, _ Call) reply {
		return reply{status: http.StatusOK, body: map[string]any{"id": s.opts.AppID, "name": s.opts.BotName, "bot": s.BotUser()}}
	}},
	{http.MethodPut, "/applications/*/commands", func(s *Server, seg []string, c Call) reply {
		return s.putCommands(seg[1], "", c.Body)
	}},
	{http.MethodPut, "/applications/*/guilds/*/commands", func(s *Server, seg []string, c Call) reply {
		return s.putCommands(seg[1], seg[3], c.Body)
	}},
	{http.MethodPost, "/interactions/*/*/callback", func(s *Server, seg []string, c Call) reply {
		return s.callback(seg[1], seg[2], c)
	}},
	{"", "/webhooks/*/*/**", (*Server).webhook},
	{http.MethodPost, "/channels/*/typing", func(*Server, []string, Call) reply {
		return reply{status: http.StatusNoContent}
	}},
	{http.MethodPost, "/channels/*/messages", (*Server).createMessage},
	{"", "/channels/*/messages/*", (*Server).channelMessage},
	{http.MethodPost, "/channels/*/messages/*/threads", (*Server).startThread},
	{http.MethodPut, "/channels/*/messages/*/reactions/*/@me", (*Server).addReaction},
	{"", "/channels/*", (*Server).channel},
}

// matches reports whether c is a request for rt; seg is c.Path split into
// segments, without leading and trailing slashes.
func (rt restRoute) matches(c Call, seg []string) bool {
	if rt.method != "" && rt.method != c.Method {
		return false
	}
	if !strings.Contains(rt.pattern, "*") {
		return c.Path == rt.pattern
	}
	want := strings.Split(strings.Trim(rt.pattern, "/"), "/")
	if last := len(want) - 1; want[last] == "**" {
		want = want[:last]
		if len(seg) < len(want) {
			return false
		}
		seg = seg[:len(want)]
	}
	if len(seg) != len(want) {
		return false
	}
	for i, w := range want {
		if w != "*" && w != seg[i] {
			return false
		}
	}
	return true
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
	typ, _ := cmd["type"].(float64)
	if typ == 0 || typ == 1 {
		if !commandName.MatchString(name) {
			return "name: command name must be 1-32 lowercase characters: " + name
		}
		if d, _ := cmd["description"].(string); d == "" || utf8.RuneCountInString(d) > 100 {
			return name + ".description: must be 1-100 characters"
		}
	} else { // a user or message context-menu command
		if n := utf8.RuneCountInString(name); n == 0 || n > 32 {
			return "name: a context-menu command's name must be 1-32 characters: " + name
		}
		if d, _ := cmd["description"].(string); d != "" {
			return name + ".description: a context-menu command has no description"
		}
		if opts, _ := cmd["options"].([]any); len(opts) > 0 {
			return name + ".options: a context-menu command has no options"
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

// callback answers an interaction's callback: the one response Discord
// accepts, and only within the deadline after the interaction was written.
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
	var msg string
	switch cb.Type {
	case CallbackMessage:
		if msg = s.respondWithMessage(in, p, cb.Data); msg != "" && msg != emptyMessage {
			msg = "data." + msg
		}
	case CallbackDeferredMessage:
		s.deferMessage(in, p.Flags)
	case CallbackDeferredUpdate, CallbackUpdateMessage:
		msg = s.updateClicked(in, cb.Type == CallbackUpdateMessage, p, cb.Data)
	case CallbackAutocomplete:
		msg = validateChoices(p.Choices)
	default:
		msg = "type: unsupported interaction callback type"
	}
	if msg != "" {
		return formError(msg)
	}
	in.ackType = cb.Type
	return reply{status: http.StatusNoContent}
}

// respondWithMessage stores the message of a CallbackMessage as the
// interaction's original response, or returns the reason for a 400. data
// is the callback's raw data, so that only the fields present are copied.
func (s *Server) respondWithMessage(in *interactionState, p MessagePayload, data json.RawMessage) string {
	if msg := p.validate(true); msg != "" {
		return msg
	}
	m := s.newMessage(in.channelID, in.guildID)
	m.WebhookID = s.opts.AppID
	m.apply(data)
	in.original = m.ID
	return ""
}

// deferMessage stores a loading placeholder as the original response of a
// CallbackDeferredMessage, to be filled in by a later edit.
func (s *Server) deferMessage(in *interactionState, flags int) {
	m := s.newMessage(in.channelID, in.guildID)
	m.WebhookID = s.opts.AppID
	m.Flags = flags | 128 // loading
	in.original = m.ID
}

// updateClicked makes the message whose component was clicked the
// interaction's original response, applying the new content when update
// is set (CallbackUpdateMessage), or returns the reason for a 400.
func (s *Server) updateClicked(in *interactionState, update bool, p MessagePayload, data json.RawMessage) string {
	m := s.messages[in.messageID]
	if m == nil {
		return "update is only valid for component interactions"
	}
	if update {
		if msg := p.validate(false); msg != "" {
			return msg
		}
		m.apply(data)
	}
	in.original = m.ID
	return ""
}

// validateChoices checks the results of an autocomplete callback.
func validateChoices(choices []Choice) string {
	if len(choices) > 25 {
		return "data.choices: at most 25"
	}
	for _, ch := range choices {
		v, _ := ch.Value.(string)
		if n := utf8.RuneCountInString(ch.Name); n == 0 || n > 100 || utf8.RuneCountInString(v) > 100 {
			return "data.choices: name and value must be 1-100 characters"
		}
	}
	return ""
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

// createMessage answers POST /channels/{channel}/messages: the bot sends
// a message, perhaps a reply, which is also dispatched as MESSAGE_CREATE.
func (s *Server) createMessage(seg []string, c Call) reply {
	ch := seg[1]
	p, err := c.Message()
	if err != nil {
		return apiError(http.StatusBadRequest, 50109, "The request body contains invalid JSON.")
	}
	if msg := p.validate(true); msg != "" {
		return formError(msg)
	}
	ref, ok := s.resolveReference(p.MessageReference)
	if !ok {
		return formError("message_reference: Unknown message")
	}
	m := s.newMessage(ch, s.guildOf(ch))
	m.apply(c.Body)
	m.Reference = ref
	if ref != nil {
		m.Type = 19 // reply
	}
	s.dispatchLocked(event{typ: "MESSAGE_CREATE", data: mustJSON(m.wire(s, false))})
	return reply{status: http.StatusOK, body: m.wire(s, false)}
}

// resolveReference returns the reference a new message stores for the one
// it asks to reply to, nil if none. A reference to an unknown message is
// dropped when fail_if_not_exists is false and fails (!ok) otherwise.
func (s *Server) resolveReference(r *MessageReference) (ref *MessageReference, ok bool) {
	if r == nil {
		return nil, true
	}
	if target := s.messages[r.MessageID]; target != nil {
		return &MessageReference{MessageID: target.ID, ChannelID: target.ChannelID, GuildID: target.GuildID}, true
	}
	return nil, r.FailIfNotExists != nil && !*r.FailIfNotExists
}

// channelMessage answers GET, PATCH and DELETE
// /channels/{channel}/messages/{id}; the bot may edit only its own
// messages.
func (s *Server) channelMessage(seg []string, c Call) reply {
	m := s.messageIn(seg[1], seg[3])
	if m == nil {
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
	case http.MethodDelete:
		delete(s.messages, m.ID)
		return reply{status: http.StatusNoContent}
	}
	return notFound
}

// startThread answers POST /channels/{channel}/messages/{id}/threads: a
// thread started from a message, at most one per message.
func (s *Server) startThread(seg []string, c Call) reply {
	ch := seg[1]
	m := s.messageIn(ch, seg[3])
	if m == nil {
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

// messageIn returns the stored message id if it is in channel ch, else nil.
func (s *Server) messageIn(ch, id string) *storedMessage {
	if m := s.messages[id]; m != nil && m.ChannelID == ch {
		return m
	}
	return nil
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
