package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"github.com/labstack/echo/v4"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/interpret"
)

// InterpretProtocol is the WebSocket subprotocol of interpretation
// sessions. A browser, which cannot send an Authorization header on a
// WebSocket, offers its bearer token as a second subprotocol
// "bearer.<token>"; the server answers with InterpretProtocol only.
const InterpretProtocol = "sote.interpret.v1"

const bearerProtocolPrefix = "bearer."

var interpretRoles = []assist.Role{assist.RoleInterpreter, assist.RoleClinician, assist.RoleService, assist.RoleAdmin}

// Session timing of the WebSocket adapter.
const (
	startTimeout = 10 * time.Second // for the start message
	// maxBadMessages ends a session whose client sends this many
	// malformed messages in a row.
	maxBadMessages = 50
)

func registerInterpretRoutes(e *echo.Echo, d Deps, authn echo.MiddlewareFunc) {
	if d.Interpret == nil {
		return
	}
	log := d.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e.GET("/v1/interpret/sessions", interpretSession(d.Interpret, log), bearerFromProtocol, authn, allow(interpretRoles...))
}

// bearerFromProtocol moves a bearer token offered as a WebSocket
// subprotocol into the Authorization header, where authenticate looks.
func bearerFromProtocol(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.Header.Get("Authorization") == "" {
			for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
				for _, p := range strings.Split(v, ",") {
					if tok, ok := strings.CutPrefix(strings.TrimSpace(p), bearerProtocolPrefix); ok {
						r.Header.Set("Authorization", "Bearer "+tok)
					}
				}
			}
		}
		return next(c)
	}
}

// closeCode is the WebSocket close code of a session that ended with err:
// 4000 + the HTTP status of its kind (4400 invalid, 4408 duration limit,
// 4413 too large, 4429 busy, 4503 unavailable, …).
func closeCode(err error) websocket.StatusCode {
	k := assist.KindOf(err)
	if k == assist.KindTimeout {
		return 4408
	}
	return websocket.StatusCode(4000 + Status(k))
}

// closeReason fits a client-safe message into a close frame (123 bytes).
func closeReason(err error) string {
	msg := assist.MessageOf(err)
	for len(msg) > 123 {
		_, size := utf8.DecodeLastRuneInString(msg)
		msg = msg[:len(msg)-size]
	}
	return msg
}

// clientMessage is any JSON message a client sends.
type clientMessage struct {
	Type string `json:"type"`
}

func interpretSession(svc *interpret.Service, log *slog.Logger) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		conn, err := websocket.Accept(c.Response(), r, &websocket.AcceptOptions{Subprotocols: []string{InterpretProtocol}})
		if err != nil {
			return nil // Accept has answered the request
		}
		defer conn.CloseNow()
		conn.SetReadLimit(int64(4*svc.Config().MaxFrameBytes) + 4096)
		// The session outlives the request's deadline; it ends with the
		// client, its own duration limit or the gateway's shutdown.
		ctx := context.WithoutCancel(r.Context())
		sess, err := openSession(ctx, conn, svc)
		if err != nil {
			if assist.KindOf(err) != assist.KindCanceled {
				log.Info("interpret: session refused", "request_id", assist.RequestIDFrom(ctx), "kind", string(assist.KindOf(err)))
				writeEvent(ctx, conn, errorEvent(err), svc.Config().SlowClient)
				_ = conn.Close(closeCode(err), closeReason(err))
			}
			return nil
		}
		log.Info("interpret: session started", "request_id", assist.RequestIDFrom(ctx), "session", sess.ID)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			writeEvents(ctx, conn, sess, svc.Config().SlowClient)
		}()
		readMessages(ctx, conn, sess)
		sess.Abort() // the client went away before the end (no-op after it)
		wg.Wait()
		sess.Wait()
		end := "ok"
		if err := sess.Err(); err != nil {
			end = string(assist.KindOf(err))
		}
		log.Info("interpret: session ended", "request_id", assist.RequestIDFrom(ctx), "session", sess.ID, "end", end)
		return nil
	}
}

// openSession reads the start message and opens the session.
func openSession(ctx context.Context, conn *websocket.Conn, svc *interpret.Service) (*interpret.Session, error) {
	rctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	typ, data, err := conn.Read(rctx)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, assist.E(assist.KindInvalid, "httpapi.interpret", "no start message arrived in time")
		}
		return nil, assist.E(assist.KindCanceled, "httpapi.interpret", err)
	}
	if typ != websocket.MessageText {
		return nil, assist.E(assist.KindInvalid, "httpapi.interpret", "the first message must be a JSON start message, not audio")
	}
	var st interpret.Start
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, assist.E(assist.KindInvalid, "httpapi.interpret", "the start message is not valid JSON of the session protocol", err)
	}
	return svc.Open(ctx, st)
}

func errorEvent(err error) interpret.Event {
	return interpret.Event{Type: interpret.EventError, Kind: assist.KindOf(err), Message: assist.MessageOf(err)}
}

func writeEvent(ctx context.Context, conn *websocket.Conn, ev interpret.Event, timeout time.Duration) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return conn.Write(wctx, websocket.MessageText, b)
}

// writeEvents sends the session's events until it ends, then closes the
// connection: 1000 after a graceful stop, 4xxx with the reason otherwise.
// A client that cannot take an event within timeout (the session's
// slow-client limit) is gone.
func writeEvents(ctx context.Context, conn *websocket.Conn, sess *interpret.Session, timeout time.Duration) {
	for {
		ev, ok := sess.Next(ctx)
		if !ok {
			break
		}
		if err := writeEvent(ctx, conn, ev, timeout); err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				sess.Fail(assist.E(assist.KindBusy, "httpapi.interpret", "the client does not read the session's events fast enough"))
			}
			sess.Abort()
			for ok {
				_, ok = sess.Next(ctx) // let the pipeline finish
			}
			conn.CloseNow()
			return
		}
	}
	err := sess.Err()
	switch {
	case err == nil:
		_ = conn.Close(websocket.StatusNormalClosure, "session ended")
	case assist.KindOf(err) == assist.KindCanceled:
		conn.CloseNow()
	default:
		_ = writeEvent(ctx, conn, errorEvent(err), timeout)
		_ = conn.Close(closeCode(err), closeReason(err))
	}
}

// readMessages feeds the session until the connection ends: binary frames
// are audio (the first byte the party's channel, then PCM16 LE samples),
// text frames are JSON control messages (correct, stop). Malformed input
// gets an error event; too much of it in a row ends the session (4400).
func readMessages(ctx context.Context, conn *websocket.Conn, sess *interpret.Session) {
	bad := 0
	// A client that sends nothing for the idle timeout is gone: the
	// session ends with 4408 (the writer closes the connection).
	idle := sess.IdleTimeout()
	timer := time.AfterFunc(idle, func() {
		sess.Fail(assist.E(assist.KindTimeout, "httpapi.interpret", "nothing arrived from the client for "+idle.String()))
	})
	defer timer.Stop()
	for {
		typ, data, err := conn.Read(ctx)
		if err != nil {
			return
		}
		timer.Reset(idle)
		if err = handleMessage(ctx, sess, typ, data); err == nil {
			bad = 0
			continue
		}
		switch assist.KindOf(err) {
		case assist.KindCanceled, assist.KindBusy:
			continue // the session is ending; the writer closes
		}
		if bad++; bad >= maxBadMessages {
			sess.Fail(assist.E(assist.KindInvalid, "httpapi.interpret", "too many malformed messages in a row"))
			continue
		}
		sess.Report(err)
	}
}

func handleMessage(ctx context.Context, sess *interpret.Session, typ websocket.MessageType, data []byte) error {
	const op = "httpapi.interpret"
	if typ == websocket.MessageBinary {
		if len(data) < 3 {
			return assist.E(assist.KindInvalid, op, "an audio frame is a channel byte followed by PCM16 samples")
		}
		return sess.Audio(int(data[0]), data[1:])
	}
	var m clientMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return assist.E(assist.KindInvalid, op, "a text message must be a JSON object with a type", err)
	}
	switch m.Type {
	case "correct":
		var c interpret.Correction
		if err := json.Unmarshal(data, &c); err != nil {
			return assist.E(assist.KindInvalid, op, "the correction is not valid JSON of the session protocol", err)
		}
		return sess.Correct(ctx, c)
	case "stop":
		sess.Stop()
		return nil
	case "start":
		return assist.E(assist.KindInvalid, op, "the session has already started")
	}
	return assist.Errorf(assist.KindInvalid, "unknown message type %q (want correct or stop)", m.Type)
}
