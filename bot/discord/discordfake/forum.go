package discordfake

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"time"
	"unicode/utf8"
)

// Channel types the fake knows.
const (
	ChannelText         = 0
	ChannelPublicThread = 11
	ChannelForum        = 15
)

// ForumTag is a tag a forum offers for its posts.
type ForumTag struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Channel is a guild channel or thread the fake stores: forums, and the
// posts (threads) started in them.
type Channel struct {
	ID            string     `json:"id"`
	Type          int        `json:"type"`
	GuildID       string     `json:"guild_id"`
	Name          string     `json:"name"`
	ParentID      string     `json:"parent_id,omitempty"`
	OwnerID       string     `json:"owner_id,omitempty"`
	AvailableTags []ForumTag `json:"available_tags,omitempty"`
	AppliedTags   []string   `json:"applied_tags,omitempty"`
	Archived      bool       `json:"-"`
}

func (c *Channel) wire() map[string]any {
	out := map[string]any{"id": c.ID, "type": c.Type, "guild_id": c.GuildID, "name": c.Name}
	switch c.Type {
	case ChannelForum:
		out["available_tags"] = nonNilSlice(c.AvailableTags)
	case ChannelPublicThread:
		out["parent_id"], out["owner_id"] = c.ParentID, c.OwnerID
		out["applied_tags"] = nonNilSlice(c.AppliedTags)
		out["thread_metadata"] = map[string]any{"archived": c.Archived, "auto_archive_duration": 1440, "locked": false}
		out["message_count"], out["member_count"] = 0, 1
	}
	return out
}

func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// AddForum adds a forum channel with the given tags to the fake's guild.
func (s *Server) AddForum(id, name string, tags ...ForumTag) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.channels[id] = &Channel{ID: id, Type: ChannelForum, GuildID: s.opts.GuildID, Name: name, AvailableTags: tags}
	s.channelGuild[id] = s.opts.GuildID
}

// Post starts a post in a forum as Discord does: a public thread named
// title, owned by author, dispatched as THREAD_CREATE (newly_created),
// then its first message — whose ID is the thread's — as MESSAGE_CREATE.
// It returns the thread's ID.
func (s *Server) Post(forumID string, author User, title, content string, tags ...string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	forum := s.channels[forumID]
	if forum == nil || forum.Type != ChannelForum {
		return "", errors.New("discordfake: no forum " + forumID)
	}
	id := s.newID()
	th := &Channel{ID: id, Type: ChannelPublicThread, GuildID: forum.GuildID, Name: title, ParentID: forumID, OwnerID: author.ID, AppliedTags: tags}
	s.channels[id] = th
	s.channelGuild[id] = forum.GuildID
	created := th.wire()
	created["newly_created"] = true
	s.dispatchLocked(event{typ: "THREAD_CREATE", data: mustJSON(created)})
	m := &storedMessage{ID: id, ChannelID: id, GuildID: forum.GuildID, Author: author, Content: content, Time: time.Now()}
	s.messages[id] = m
	s.dispatchLocked(event{typ: "MESSAGE_CREATE", data: mustJSON(m.wire(s, false))})
	return id, nil
}

// React adds user's reaction emoji to a stored message and dispatches
// MESSAGE_REACTION_ADD.
func (s *Server) React(messageID string, u User, emoji string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.messages[messageID]
	if m == nil {
		return errors.New("discordfake: reaction to unknown message " + messageID)
	}
	s.reactLocked(m, u.ID, emoji)
	return nil
}

func (s *Server) reactLocked(m *storedMessage, userID, emoji string) {
	if m.Reactions == nil {
		m.Reactions = make(map[string][]string)
	}
	if slices.Contains(m.Reactions[emoji], userID) {
		return
	}
	m.Reactions[emoji] = append(m.Reactions[emoji], userID)
	ev := map[string]any{
		"user_id": userID, "channel_id": m.ChannelID, "message_id": m.ID,
		"emoji": map[string]any{"id": nil, "name": emoji}, "type": 0, "burst": false,
	}
	if m.GuildID != "" {
		ev["guild_id"] = m.GuildID
	}
	s.dispatchLocked(event{typ: "MESSAGE_REACTION_ADD", data: mustJSON(ev)})
}

// Reactions returns who reacted to a stored message with emoji.
func (s *Server) Reactions(messageID, emoji string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.messages[messageID]; m != nil {
		return slices.Clone(m.Reactions[emoji])
	}
	return nil
}

// Channel returns a stored forum or post.
func (s *Server) Channel(id string) (Channel, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[id]
	if c == nil {
		return Channel{}, false
	}
	cp := *c
	cp.AvailableTags = slices.Clone(c.AvailableTags)
	cp.AppliedTags = slices.Clone(c.AppliedTags)
	return cp, true
}

// channel answers GET and PATCH /channels/{id} for the stored forums and
// posts. A PATCH of a post may change its name, applied tags (those its
// forum offers, at most 5) and archived state; it is dispatched as
// THREAD_UPDATE.
func (s *Server) channel(seg []string, c Call) reply {
	ch := s.channels[seg[1]]
	if ch == nil {
		return apiError(http.StatusNotFound, 10003, "Unknown Channel")
	}
	switch c.Method {
	case http.MethodGet:
		return reply{status: http.StatusOK, body: ch.wire()}
	case http.MethodPatch:
		var p struct {
			Name        *string   `json:"name"`
			AppliedTags *[]string `json:"applied_tags"`
			Archived    *bool     `json:"archived"`
		}
		if err := json.Unmarshal(c.Body, &p); err != nil {
			return apiError(http.StatusBadRequest, 50109, "The request body contains invalid JSON.")
		}
		if msg := s.checkThreadEdit(ch, p.Name, p.AppliedTags); msg != "" {
			return formError(msg)
		}
		if p.Name != nil {
			ch.Name = *p.Name
		}
		if p.AppliedTags != nil {
			ch.AppliedTags = *p.AppliedTags
		}
		if p.Archived != nil {
			ch.Archived = *p.Archived
		}
		s.dispatchLocked(event{typ: "THREAD_UPDATE", data: mustJSON(ch.wire())})
		return reply{status: http.StatusOK, body: ch.wire()}
	}
	return notFound
}

func (s *Server) checkThreadEdit(ch *Channel, name *string, tags *[]string) string {
	if name != nil {
		if n := utf8.RuneCountInString(*name); n == 0 || n > 100 {
			return "name: Must be between 1 and 100 in length."
		}
	}
	if tags == nil {
		return ""
	}
	if ch.Type != ChannelPublicThread {
		return "applied_tags: only a forum post has tags"
	}
	if len(*tags) > 5 {
		return "applied_tags: Must be 5 or fewer in length."
	}
	forum := s.channels[ch.ParentID]
	for _, t := range *tags {
		if forum == nil || !slices.ContainsFunc(forum.AvailableTags, func(ft ForumTag) bool { return ft.ID == t }) {
			return "applied_tags: Unknown tag " + t
		}
	}
	return ""
}

// addReaction answers PUT /channels/{c}/messages/{m}/reactions/{emoji}/@me.
func (s *Server) addReaction(seg []string, _ Call) reply {
	m := s.messageIn(seg[1], seg[3])
	if m == nil {
		return apiError(http.StatusNotFound, 10008, "Unknown Message")
	}
	s.reactLocked(m, s.opts.BotID, seg[5])
	return reply{status: http.StatusNoContent}
}
