package discordfake

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// event is one queued dispatch; its sequence number is its index + 1.
type event struct {
	typ           string
	data          json.RawMessage
	interactionID string // set for INTERACTION_CREATE, to time the acknowledgement
}

// conn is one gateway websocket connection.
type conn struct {
	ws   *websocket.Conn
	wmu  sync.Mutex // gorilla allows one concurrent writer
	done chan struct{}
	once sync.Once
}

type frameOut struct {
	Op   int    `json:"op"`
	Data any    `json:"d"`
	Seq  *int   `json:"s,omitempty"`
	Type string `json:"t,omitempty"`
}

func (c *conn) write(f frameOut) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.ws.WriteJSON(f)
}

func (c *conn) close() {
	c.once.Do(func() {
		close(c.done)
		_ = c.ws.Close()
	})
}

// closeWith sends a close frame with code, then closes the socket.
func (c *conn) closeWith(code int) {
	c.wmu.Lock()
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, closeText(code)), time.Now().Add(time.Second))
	c.wmu.Unlock()
	c.close()
}

func closeText(code int) string {
	switch code {
	case 4004:
		return "Authentication failed."
	case 4014:
		return "Disallowed intent(s)."
	case 4000:
		return "Unknown error."
	}
	return ""
}

// Dispatch queues a gateway event (op 0) with the next sequence number. It
// is written to the current connection, or replayed after the client
// resumes when none is open.
func (s *Server) Dispatch(eventType string, data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dispatchLocked(event{typ: eventType, data: raw})
	return nil
}

func (s *Server) dispatchLocked(e event) {
	s.events = append(s.events, e)
	close(s.eventsChanged)
	s.eventsChanged = make(chan struct{})
}

// Drop ends the current gateway connection mid-session: abruptly when code
// is 0, else with a close frame carrying code. It reports whether a
// connection was open.
func (s *Server) Drop(code int) bool {
	s.mu.Lock()
	c := s.current
	s.current = nil
	s.mu.Unlock()
	if c == nil {
		return false
	}
	if code == 0 {
		c.close()
	} else {
		c.closeWith(code)
	}
	return true
}

func (s *Server) wsURL() string {
	return "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/gateway"
}

func (s *Server) serveGateway(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &conn{ws: ws, done: make(chan struct{})}
	s.mu.Lock()
	s.conns[c] = true
	s.mu.Unlock()
	defer func() {
		c.close()
		s.mu.Lock()
		delete(s.conns, c)
		if s.current == c {
			s.current = nil
		}
		s.mu.Unlock()
	}()

	hello := map[string]any{"heartbeat_interval": s.opts.HeartbeatInterval.Milliseconds()}
	if c.write(frameOut{Op: 10, Data: hello}) != nil {
		return
	}
	for {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			return
		}
		var in struct {
			Op   int             `json:"op"`
			Data json.RawMessage `json:"d"`
		}
		if json.Unmarshal(msg, &in) != nil {
			c.closeWith(4002)
			return
		}
		s.frames.add(Frame{Op: in.Op, Data: in.Data, Time: time.Now()})
		switch in.Op {
		case OpHeartbeat:
			err = c.write(frameOut{Op: 11})
		case OpIdentify:
			err = s.identify(c, in.Data)
		case OpResume:
			err = s.resume(c, in.Data)
		}
		if err != nil {
			return
		}
	}
}

var errRejected = errors.New("discordfake: session rejected")

// rejectCode is the close code for an IDENTIFY or RESUME with token, or 0.
func (s *Server) rejectCode(token string) int {
	if s.failIdentify != 0 {
		return s.failIdentify
	}
	if !s.tokenOK(token) {
		if s.revoked != nil && s.revoked.Close != 0 {
			return s.revoked.Close
		}
		return 4004
	}
	return 0
}

func (s *Server) identify(c *conn, data json.RawMessage) error {
	var id struct {
		Token string `json:"token"`
	}
	_ = json.Unmarshal(data, &id)
	s.mu.Lock()
	if code := s.rejectCode(id.Token); code != 0 {
		s.mu.Unlock()
		c.closeWith(code)
		return errRejected
	}
	sid := "session-" + s.newID()
	start := s.delivered
	s.sessions[sid] = start
	s.current = c
	ready := map[string]any{
		"v":                  9,
		"session_id":         sid,
		"user":               s.BotUser(),
		"application":        map[string]any{"id": s.opts.AppID, "flags": 0},
		"guilds":             []any{map[string]any{"id": s.opts.GuildID, "unavailable": true}},
		"private_channels":   []any{},
		"resume_gateway_url": s.wsURL(),
	}
	s.mu.Unlock()
	if err := c.write(frameOut{Op: 0, Type: "READY", Seq: &start, Data: ready}); err != nil {
		return err
	}
	go s.deliver(c, start)
	return nil
}

func (s *Server) resume(c *conn, data json.RawMessage) error {
	var r struct {
		Token     string `json:"token"`
		SessionID string `json:"session_id"`
		Seq       int    `json:"seq"`
	}
	_ = json.Unmarshal(data, &r)
	s.mu.Lock()
	if code := s.rejectCode(r.Token); code != 0 {
		s.mu.Unlock()
		c.closeWith(code)
		return errRejected
	}
	start, ok := s.sessions[r.SessionID]
	if !ok {
		s.mu.Unlock()
		return c.write(frameOut{Op: 9, Data: false}) // invalid session: identify again
	}
	from := min(max(start, r.Seq), s.eventBase+len(s.events))
	s.current = c
	s.mu.Unlock()
	if err := c.write(frameOut{Op: 0, Type: "RESUMED", Seq: &r.Seq, Data: map[string]any{}}); err != nil {
		return err
	}
	go s.deliver(c, from)
	return nil
}

// deliver writes queued events from index i on to c until c closes.
func (s *Server) deliver(c *conn, i int) {
	for {
		s.mu.Lock()
		i = max(i, s.eventBase) // Forget dropped delivered events
		if i >= s.eventBase+len(s.events) {
			changed := s.eventsChanged
			s.mu.Unlock()
			select {
			case <-changed:
				continue
			case <-c.done:
				return
			}
		}
		e := s.events[i-s.eventBase]
		if in := s.interactions[e.interactionID]; in != nil && in.dispatched.IsZero() {
			in.dispatched = time.Now()
		}
		s.mu.Unlock()
		seq := i + 1
		if c.write(frameOut{Op: 0, Type: e.typ, Seq: &seq, Data: e.data}) != nil {
			return
		}
		s.mu.Lock()
		s.delivered = max(s.delivered, seq)
		s.mu.Unlock()
		i++
	}
}
