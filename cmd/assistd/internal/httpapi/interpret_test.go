package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/labstack/echo/v4"
	"go.uber.org/goleak"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/interpret"
	it "github.com/soteai/gateway/assist/interpret/interprettest"
	"github.com/soteai/gateway/assist/record"
	"github.com/soteai/gateway/speech"
)

// interpretRig is the gateway's interpretation route on a real HTTP
// server, with fake engines (tone bursts as words, beeps as speech).
type interpretRig struct {
	url string
	svc *interpret.Service
	log *it.MemLog
}

func newInterpretRig(t *testing.T, cfg interpret.Config, words map[string][]string) *interpretRig {
	t.Helper()
	log := &it.MemLog{}
	rec := record.New(record.Deps{Log: log, Models: &it.EchoModel{}, Resolver: record.Configured{Default: "tiny"}})
	recog := &it.ToneRecognizer{Words: words}
	svc, err := interpret.New(cfg, interpret.Deps{
		Recognizer: func(lang string) (interpret.Recognizer, error) {
			if _, ok := words[lang]; !ok {
				return interpret.Recognizer{}, assist.Errorf(assist.KindInvalid, "no speech recogniser serves %s", lang)
			}
			return interpret.Recognizer{Transcriber: recog, Engine: "tone 1"}, nil
		},
		Voice: func(lang string) (interpret.Voice, error) {
			return interpret.Voice{Synthesizer: &it.BeepVoice{}, Engine: "beep 1"}, nil
		},
		Rec: rec, Model: "tiny",
	})
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.HTTPErrorHandler = errorHandler(slog.New(slog.DiscardHandler))
	authn := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			tok, _ := strings.CutPrefix(c.Request().Header.Get("Authorization"), "Bearer ")
			roles := map[string]assist.Role{"sote_interp": assist.RoleInterpreter, "sote_interp2": assist.RoleInterpreter, "sote_review": assist.RoleRiskReviewer}
			role, ok := roles[tok]
			if !ok {
				return assist.E(assist.KindUnauthorized, "test", "authentication is required")
			}
			a := assist.Actor{TokenID: tok, Role: role}
			c.Set(actorKey, a)
			c.SetRequest(c.Request().WithContext(assist.WithActor(c.Request().Context(), a)))
			return next(c)
		}
	}
	registerInterpretRoutes(e, Deps{Interpret: svc}, authn)
	srv := httptest.NewServer(e)
	t.Cleanup(func() {
		svc.Close()
		srv.Close()
	})
	return &interpretRig{url: "ws" + strings.TrimPrefix(srv.URL, "http") + "/v1/interpret/sessions", svc: svc, log: log}
}

var wsWords = map[string][]string{"en": {"fever", "cough"}, "fi": {"kuume", "yskä"}}

// dial connects as a browser does: the token as a subprotocol.
func dial(t *testing.T, url, token string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{InterpretProtocol, "bearer." + token}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	if c.Subprotocol() != InterpretProtocol {
		t.Fatalf("subprotocol %q", c.Subprotocol())
	}
	c.SetReadLimit(1 << 24)
	return c
}

func sendJSON(t *testing.T, c *websocket.Conn, v any) {
	t.Helper()
	b, _ := json.Marshal(v)
	if err := c.Write(context.Background(), websocket.MessageText, b); err != nil {
		t.Fatalf("write: %v", err)
	}
}

func startMsg(rate int) map[string]any {
	return map[string]any{"type": "start", "audio": map[string]any{"encoding": "pcm16le", "sample_rate": rate},
		"parties": []map[string]any{{"speaker": "clinician", "language": "en", "channel": 0}, {"speaker": "patient", "language": "fi", "channel": 1}}}
}

// sendSpeech sends silence, a tone burst (word k) and a pause as
// channel-prefixed 20 ms frames.
func sendSpeech(t *testing.T, c *websocket.Conn, channel byte, k, rate int) {
	t.Helper()
	a := it.Silence(300*time.Millisecond, rate)
	a.Samples = append(a.Samples, it.Tone(float64(300*(k+1)), 800*time.Millisecond, rate).Samples...)
	a.Samples = append(a.Samples, it.Silence(900*time.Millisecond, rate).Samples...)
	for _, f := range it.Frames(a) {
		if err := c.Write(context.Background(), websocket.MessageBinary, append([]byte{channel}, f...)); err != nil {
			t.Fatalf("write audio: %v", err)
		}
	}
}

// readAll reads events until the server closes; it returns them and the
// close status (-1 when the connection broke without one).
func readAll(t *testing.T, c *websocket.Conn) ([]interpret.Event, websocket.StatusCode, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var evs []interpret.Event
	for {
		typ, b, err := c.Read(ctx)
		if err != nil {
			var ce websocket.CloseError
			if errors.As(err, &ce) {
				return evs, ce.Code, ce.Reason
			}
			if ctx.Err() != nil {
				t.Fatal("the server did not end the session")
			}
			return evs, -1, err.Error()
		}
		if typ != websocket.MessageText {
			t.Fatalf("binary message from the server")
		}
		var ev interpret.Event
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatalf("event %s: %v", b, err)
		}
		evs = append(evs, ev)
	}
}

func eventTypes(evs []interpret.Event) string {
	var s []string
	for _, e := range evs {
		s = append(s, e.Type)
	}
	return strings.Join(s, " ")
}

func waitIdle(t *testing.T, svc *interpret.Service) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); svc.Active() > 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions still open", svc.Active())
		}
	}
}

func TestInterpretSession(t *testing.T) {
	noLeaks(t)
	r := newInterpretRig(t, interpret.Config{}, wsWords)
	c := dial(t, r.url, "sote_interp")
	defer c.CloseNow()
	sendJSON(t, c, startMsg(44100))
	sendSpeech(t, c, 0, 0, 44100)
	// Malformed input: each gets an error event, the session goes on.
	_ = c.Write(context.Background(), websocket.MessageBinary, []byte{0, 1, 2, 3}) // odd PCM length after the channel byte
	_ = c.Write(context.Background(), websocket.MessageBinary, []byte{9, 0, 0, 0, 0})
	_ = c.Write(context.Background(), websocket.MessageText, []byte("{not json"))
	sendJSON(t, c, map[string]any{"type": "dance"})
	sendSpeech(t, c, 1, 1, 44100)
	sendJSON(t, c, map[string]any{"type": "stop"})
	evs, code, _ := readAll(t, c)
	if code != websocket.StatusNormalClosure {
		t.Fatalf("close code %d, events %s", code, eventTypes(evs))
	}
	var finals, trans, sp, errs []interpret.Event
	for _, e := range evs {
		switch e.Type {
		case interpret.EventFinal:
			finals = append(finals, e)
		case interpret.EventTranslation:
			trans = append(trans, e)
		case interpret.EventSpeech:
			sp = append(sp, e)
		case interpret.EventError:
			errs = append(errs, e)
		}
	}
	if evs[0].Type != interpret.EventReady || len(finals) != 2 || len(trans) != 2 || len(sp) != 2 || len(errs) != 4 {
		t.Fatalf("events %s", eventTypes(evs))
	}
	if finals[0].Text != "fever" || finals[1].Text != "yskä" || *finals[1].Channel != 1 || trans[1].Text != "[English] yskä" {
		t.Errorf("finals %+v %+v, translation %+v", finals[0], finals[1], trans[1])
	}
	for _, e := range errs {
		if e.Kind != assist.KindInvalid || e.Message == "" {
			t.Errorf("error event %+v", e)
		}
	}
	if a, err := speech.DecodeWAV(strings.NewReader(string(sp[0].WAV)), speech.Limits{}); err != nil || a.Duration() < 100*time.Millisecond {
		t.Errorf("speech WAV: %v, %v", a.Duration(), err)
	}
	last := evs[len(evs)-1]
	if last.Type != interpret.EventTranscript || len(last.Transcript) != 2 || last.Transcript[0].Speaker != "clinician" {
		t.Errorf("last event %+v", last)
	}
	waitIdle(t, r.svc)
	if evs := r.log.Events(); evs[0].Actor.TokenID != "sote_interp" || evs[len(evs)-1].Kind != interpret.KindSessionEnd {
		t.Errorf("audit %v", r.log.Kinds())
	}
}

func TestInterpretRefusals(t *testing.T) {
	noLeaks(t)
	r := newInterpretRig(t, interpret.Config{MaxSessionsPerCaller: 1}, wsWords)

	// Without a credential, or with a role that may not interpret: HTTP errors before the upgrade.
	for _, tc := range []struct {
		token string
		want  int
	}{{"", http.StatusUnauthorized}, {"sote_bad", http.StatusUnauthorized}, {"sote_review", http.StatusForbidden}} {
		opts := &websocket.DialOptions{Subprotocols: []string{InterpretProtocol}}
		if tc.token != "" {
			opts.HTTPHeader = http.Header{"Authorization": {"Bearer " + tc.token}}
		}
		_, resp, err := websocket.Dial(context.Background(), r.url, opts)
		if err == nil || resp == nil || resp.StatusCode != tc.want {
			t.Errorf("token %q: %v (%v)", tc.token, resp, err)
		}
	}

	tests := []struct {
		name  string
		first func(c *websocket.Conn)
		code  websocket.StatusCode
		msg   string
	}{
		{"unsupported rate", func(c *websocket.Conn) { m := startMsg(22050); sendJSON(t, c, m) }, 4400, "sample rate 22050"},
		{"unsupported language", func(c *websocket.Conn) {
			m := startMsg(16000)
			m["parties"].([]map[string]any)[1]["language"] = "so"
			sendJSON(t, c, m)
		}, 4400, "no speech recogniser serves so"},
		{"audio before start", func(c *websocket.Conn) { _ = c.Write(context.Background(), websocket.MessageBinary, make([]byte, 641)) }, 4400, "not audio"},
		{"not json", func(c *websocket.Conn) { _ = c.Write(context.Background(), websocket.MessageText, []byte("hello")) }, 4400, "not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, r.url, "sote_interp")
			defer c.CloseNow()
			tt.first(c)
			evs, code, reason := readAll(t, c)
			if code != tt.code || !strings.Contains(reason, tt.msg) || len(evs) != 1 || evs[0].Type != interpret.EventError || !strings.Contains(evs[0].Message, tt.msg) {
				t.Fatalf("close %d %q, events %+v", code, reason, evs)
			}
		})
	}

	// One session per caller: the second is closed with 4429.
	c1 := dial(t, r.url, "sote_interp")
	defer c1.CloseNow()
	sendJSON(t, c1, startMsg(16000))
	readReady(t, c1)
	c2 := dial(t, r.url, "sote_interp")
	defer c2.CloseNow()
	sendJSON(t, c2, startMsg(16000))
	if evs, code, reason := readAll(t, c2); code != 4429 || !strings.Contains(reason, "this credential") || evs[0].Kind != assist.KindBusy {
		t.Fatalf("second session: %d %q %+v", code, reason, evs)
	}
	c1.CloseNow()
	waitIdle(t, r.svc)
}

func TestInterpretClientVanishes(t *testing.T) {
	noLeaks(t)
	r := newInterpretRig(t, interpret.Config{}, wsWords)
	c := dial(t, r.url, "sote_interp")
	sendJSON(t, c, startMsg(16000))
	readReady(t, c)
	sendSpeech(t, c, 0, 0, 16000)
	// Mid-utterance: half a burst, then the connection drops without a close frame.
	a := it.Silence(300*time.Millisecond, 16000)
	a.Samples = append(a.Samples, it.Tone(600, 400*time.Millisecond, 16000).Samples...)
	for _, f := range it.Frames(a) {
		_ = c.Write(context.Background(), websocket.MessageBinary, append([]byte{1}, f...))
	}
	c.CloseNow()
	waitIdle(t, r.svc)
	evs := r.log.Events()
	if last := evs[len(evs)-1]; last.Kind != interpret.KindSessionEnd || last.Outcome != "canceled" {
		t.Fatalf("end record %+v", last)
	}
}

func TestInterpretIdleClient(t *testing.T) {
	noLeaks(t)
	r := newInterpretRig(t, interpret.Config{IdleTimeout: 300 * time.Millisecond}, wsWords)
	c := dial(t, r.url, "sote_interp")
	defer c.CloseNow()
	sendJSON(t, c, startMsg(16000))
	evs, code, reason := readAll(t, c) // the client sends nothing more, but reads
	if code != 4408 || !strings.Contains(reason, "nothing arrived") || evs[len(evs)-1].Kind != assist.KindTimeout {
		t.Fatalf("close %d %q, events %s", code, reason, eventTypes(evs))
	}
	waitIdle(t, r.svc)
}

func TestInterpretSlowReader(t *testing.T) {
	noLeaks(t)
	// Long words make long speech (large events); the client reads nothing.
	long := strings.Repeat("a", 400)
	r := newInterpretRig(t, interpret.Config{EventQueue: 2, SlowClient: 300 * time.Millisecond},
		map[string][]string{"en": {long, long}, "fi": {long, long}})
	c := dial(t, r.url, "sote_interp")
	defer c.CloseNow()
	m := startMsg(16000)
	m["partials"] = false
	sendJSON(t, c, m)
	readReady(t, c)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 40 && r.svc.Active() > 0; i++ {
			a := it.Silence(300*time.Millisecond, 16000)
			a.Samples = append(a.Samples, it.Tone(300, 800*time.Millisecond, 16000).Samples...)
			a.Samples = append(a.Samples, it.Silence(900*time.Millisecond, 16000).Samples...)
			for _, f := range it.Frames(a) {
				if c.Write(context.Background(), websocket.MessageBinary, append([]byte{0}, f...)) != nil {
					return
				}
			}
		}
	}()
	waitIdle(t, r.svc)
	<-done
	evs := r.log.Events()
	last := evs[len(evs)-1]
	if last.Kind != interpret.KindSessionEnd || last.ErrorKind != assist.KindBusy {
		t.Fatalf("end record %+v", last)
	}
}

// noLeaks checks, after the test and its cleanups, that no goroutine it
// started is left.
func noLeaks(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
}

// readReady waits for the session to start.
func readReady(t *testing.T, c *websocket.Conn) {
	t.Helper()
	if _, b, err := c.Read(context.Background()); err != nil || !strings.Contains(string(b), `"ready"`) {
		t.Fatalf("ready: %s %v", b, err)
	}
}

func TestCloseCodes(t *testing.T) {
	tests := []struct {
		err  error
		code websocket.StatusCode
	}{
		{assist.E(assist.KindInvalid, "x", "bad"), 4400},
		{assist.E(assist.KindBusy, "x", "full"), 4429},
		{assist.E(assist.KindTimeout, "x", "too long"), 4408},
		{assist.E(assist.KindUnavailable, "x", "down"), 4503},
		{errors.New("boom"), 4500},
	}
	for _, tt := range tests {
		if got := closeCode(tt.err); got != tt.code {
			t.Errorf("closeCode(%v) = %d, want %d", tt.err, got, tt.code)
		}
	}
	if r := closeReason(assist.E(assist.KindInvalid, "x", strings.Repeat("ä", 100))); len(r) > 123 || !strings.HasPrefix(r, "ää") {
		t.Errorf("reason %d bytes", len(r))
	}
}
