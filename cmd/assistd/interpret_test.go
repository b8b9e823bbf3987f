package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/interpret"
	"github.com/soteai/gateway/evals"
	"github.com/soteai/gateway/speech"
	"github.com/soteai/gateway/speech/speechtest"
)

// glossaryExcerpt is the TICO-19 terminology excerpt kept in the repository.
const glossaryExcerpt = "../../assist/interpret/testdata/tico19_terminology_excerpt.jsonl"

// loadGlossary ingests the excerpt into a glossary collection through the
// retrieval API, the way an administrator loads one.
func loadGlossary(t testing.TB, g *gateway, collection string) int {
	t.Helper()
	f, err := os.Open(glossaryExcerpt)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	entries, err := interpret.ReadTICO19(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		req := e.IngestRequest(collection, "tico19")
		q := url.Values{"source": {req.Source}, "lang": {req.Lang}}
		for k, v := range req.Metadata {
			q.Add("meta", k+"="+v)
		}
		resp := g.do(t, assist.RoleAdmin, "POST", "/v1/retrieval/collections/"+collection+"/documents?"+q.Encode(), string(req.Data),
			"Content-Type", "text/plain; charset=utf-8")
		if body := readAll(t, resp); resp.StatusCode != http.StatusCreated {
			t.Fatalf("ingest %s: %d %s", e.ID, resp.StatusCode, body)
		}
	}
	return len(entries)
}

// interpretClient is a client of the session protocol: it streams audio
// in real time and collects every event until the server closes.
type interpretClient struct {
	conn   *websocket.Conn
	mu     sync.Mutex
	events []interpret.Event
	got    map[string]time.Time // event key → arrival time
	closed chan struct{}
	code   websocket.StatusCode
	reason string
}

func dialInterpret(t testing.TB, g *gateway, role assist.Role, start map[string]any) *interpretClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	u := "ws" + strings.TrimPrefix(g.URL, "http") + "/v1/interpret/sessions"
	conn, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + g.Tokens[role]}}, Subprotocols: []string{"sote.interpret.v1"}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	conn.SetReadLimit(64 << 20)
	c := &interpretClient{conn: conn, got: map[string]time.Time{}, closed: make(chan struct{})}
	b, _ := json.Marshal(start)
	if err := conn.Write(ctx, websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(c.closed)
		for {
			_, b, err := conn.Read(context.Background())
			if err != nil {
				var ce websocket.CloseError
				if errors.As(err, &ce) {
					c.code, c.reason = ce.Code, ce.Reason
				} else {
					c.code, c.reason = -1, err.Error()
				}
				return
			}
			var ev interpret.Event
			if err := json.Unmarshal(b, &ev); err != nil {
				c.code, c.reason = -2, "bad event: "+err.Error()
				return
			}
			c.mu.Lock()
			c.events = append(c.events, ev)
			c.got[ev.Type+"/"+ev.Segment] = time.Now()
			c.mu.Unlock()
		}
	}()
	t.Cleanup(func() { conn.CloseNow() })
	return c
}

// stream sends audio in 20 ms frames at real-time pace, each prefixed by
// the party's channel byte; it returns when the last frame is sent.
func (c *interpretClient) stream(t testing.TB, channel byte, a speech.Audio) {
	t.Helper()
	pcm := speech.EncodePCM16(nil, a.Samples)
	step := a.SampleRate / 50 * 2
	t0 := time.Now()
	for i := 0; len(pcm) > 0; i++ {
		n := min(step, len(pcm))
		if err := c.conn.Write(context.Background(), websocket.MessageBinary, append([]byte{channel}, pcm[:n]...)); err != nil {
			t.Fatalf("audio frame %d: %v", i, err)
		}
		pcm = pcm[n:]
		time.Sleep(time.Until(t0.Add(time.Duration(i+1) * 20 * time.Millisecond)))
	}
}

// ready waits for the session to start; a refusal fails the test.
func (c *interpretClient) ready(t testing.TB) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		c.mu.Lock()
		ok := len(c.events) > 0 && c.events[0].Type == interpret.EventReady
		c.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-c.closed:
			t.Fatalf("session refused: %d %q %+v", c.code, c.reason, c.events)
		default:
		}
	}
	t.Fatal("no ready event")
}

func (c *interpretClient) send(t testing.TB, v any) {
	t.Helper()
	b, _ := json.Marshal(v)
	if err := c.conn.Write(context.Background(), websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
}

func (c *interpretClient) wait(t testing.TB, d time.Duration) []interpret.Event {
	t.Helper()
	select {
	case <-c.closed:
	case <-time.After(d):
		t.Fatal("the session did not end")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]interpret.Event(nil), c.events...)
}

func ofType(evs []interpret.Event, typ string) []interpret.Event {
	var out []interpret.Event
	for _, e := range evs {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// TestInterpretFliteSession streams English speech made with flite through
// the WebSocket in real time (at 48 kHz, resampled by the gateway; the
// Finnish-speaking patient only listens, as no Finnish recogniser runs on
// the test machine):
// PocketSphinx recognises it (word error rate reported and guarded), the
// real Ollama model translates each segment into Finnish with the glossary
// terms found in it, espeak-ng speaks the translation, and every step is
// in the audit log.
func TestInterpretFliteSession(t *testing.T) {
	requireSpeechEngines(t)
	g := startGateway(t, hostYAML("h1", ollamaURL(t), 4), auditYAML(t)+"models:\n  chat: "+testModel()+"\n  embedding: "+testModel()+"\n")
	n := loadGlossary(t, g, "tico19")

	refs := speechtest.Sentences[:3]
	var parts []speech.Audio
	parts = append(parts, speechtest.Silence(500*time.Millisecond, speech.EngineSampleRate))
	for _, s := range refs {
		parts = append(parts, speechtest.Flite(t, s), speechtest.Silence(1200*time.Millisecond, speech.EngineSampleRate))
	}
	audio, err := speech.Resample(speechtest.Concat(parts...), 48000)
	if err != nil {
		t.Fatal(err)
	}

	c := dialInterpret(t, g, assist.RoleInterpreter, map[string]any{
		"type": "start", "audio": map[string]any{"encoding": "pcm16le", "sample_rate": 48000}, "glossary": "tico19",
		"parties": []map[string]any{{"speaker": "clinician", "language": "en", "channel": 0}, {"speaker": "patient", "language": "fi", "channel": 1, "listen_only": true}},
	})
	c.ready(t)
	c.stream(t, 0, audio)
	c.send(t, map[string]any{"type": "stop"})
	evs := c.wait(t, 90*time.Second)
	if c.code != websocket.StatusNormalClosure {
		t.Fatalf("closed with %d %q; events %v", c.code, c.reason, typesOf(evs))
	}
	if errs := ofType(evs, interpret.EventError); len(errs) > 0 {
		t.Fatalf("error events: %+v", errs)
	}
	finals, trans, spoken := ofType(evs, interpret.EventFinal), ofType(evs, interpret.EventTranslation), ofType(evs, interpret.EventSpeech)
	if len(finals) != len(refs) || len(trans) != len(refs) || len(spoken) != len(refs) {
		t.Fatalf("%d finals, %d translations, %d speech for %d sentences: %v", len(finals), len(trans), len(spoken), len(refs), typesOf(evs))
	}
	hyps := make([]string, len(finals))
	for i, f := range finals {
		hyps[i] = normWords(f.Text)
		if f.Speaker != "clinician" || f.Language != "en" || f.AuditSeq == 0 || f.Confidence == nil || *f.End <= *f.Start || !strings.Contains(f.Engine, "pocketsphinx") {
			t.Errorf("final %d: %+v", i, f)
		}
	}
	ec, err := evals.WordErrors(refs, hyps)
	if err != nil {
		t.Fatal(err)
	}
	wer := ec.ErrorRate()
	t.Logf("WER %.3f over %d sentences (S=%d D=%d I=%d); heard %q", wer, len(refs), ec.Substitutions, ec.Deletions, ec.Insertions, hyps)
	if wer >= 0.4 {
		t.Errorf("word error rate %.2f, want < 0.40", wer)
	}
	var glossaryHits int
	for i, tr := range trans {
		// The tiny test model's output is nonsense: check structure, not meaning.
		if tr.Segment != finals[i].Segment || tr.From != "en" || tr.Language != "fi" || strings.TrimSpace(tr.Text) == "" ||
			!strings.HasPrefix(tr.Model, testModel()) || tr.AuditSeq == 0 {
			t.Errorf("translation %d: %+v", i, tr)
		}
		for _, term := range tr.Glossary {
			if !strings.Contains(strings.ToLower(finals[i].Text), strings.ToLower(term.Source)) || term.Target == "" {
				t.Errorf("glossary term %+v not in %q", term, finals[i].Text)
			}
			glossaryHits++
		}
	}
	if glossaryHits == 0 && strings.Contains(strings.Join(hyps, " "), "fever") {
		t.Errorf("no glossary term found in %q (glossary of %d entries)", hyps, n)
	}
	for i, sp := range spoken {
		a, err := speech.DecodeWAV(bytes.NewReader(sp.WAV), speech.Limits{})
		if err != nil || a.Duration() < 300*time.Millisecond || speech.Level(a.Samples) < -45 || sp.Language != "fi" || sp.AuditSeq == 0 {
			t.Errorf("speech %d: %v, %.1f dBFS, %v, %+v", i, a.Duration(), speech.Level(a.Samples), err, sp.Latency)
		}
		if sp.Latency != nil {
			l := sp.Latency
			t.Logf("segment %s: end of speech → audio %.0f ms: queue %.0f, recognition %.0f, translation %.0f, synthesis %.0f, pipeline %.1f ms",
				sp.Segment, l.TotalMS, l.QueueMS, l.ASRMS, l.TranslateMS, l.SynthesisMS, l.OverheadMS)
		}
	}
	last := evs[len(evs)-1]
	if last.Type != interpret.EventTranscript || len(last.Transcript) != len(refs) || last.Transcript[0].Translations[0].Language != "fi" {
		t.Fatalf("transcript %+v", last)
	}

	// The audit log: the session, each segment, translation and synthesis.
	for kind, want := range map[string]int{"interpret.session.start": 1, "interpret.session.end": 1, "interpret.segment": len(refs), "interpret.synthesis": len(refs)} {
		if got := auditEntries(t, g, kind); len(got) != want {
			t.Errorf("%d %s records, want %d", len(got), kind, want)
		}
	}
	var translations int
	for _, r := range auditEntries(t, g, "ai.output") {
		if r["task"] == string(assist.TaskInterpret) && r["template_id"] == interpret.TranslateTemplateID && r["model_digest"] != "" {
			translations++
		}
	}
	if translations != len(refs) {
		t.Errorf("%d audited translations, want %d", translations, len(refs))
	}
	seg := auditEntries(t, g, "interpret.segment")[0]
	if attrs, _ := seg["attrs"].(map[string]any); attrs["confidence"] == nil || !strings.Contains(seg["model"].(string), "pocketsphinx") || seg["content_stored"] == true {
		t.Errorf("segment record %+v", seg)
	}
}

func typesOf(evs []interpret.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Type
	}
	return out
}

// TestInterpretRefusedThroughGateway: a language no engine serves and a
// role that may not interpret are refused with clear codes.
func TestInterpretRefusedThroughGateway(t *testing.T) {
	requireSpeechEngines(t)
	g := startGateway(t, hostYAML("h1", ollamaURL(t), 2), "models:\n  chat: "+testModel()+"\n")
	c := dialInterpret(t, g, assist.RoleClinician, map[string]any{
		"type": "start", "audio": map[string]any{"sample_rate": 16000},
		"parties": []map[string]any{{"speaker": "clinician", "language": "fi"}, {"speaker": "patient", "language": "so"}},
	})
	evs := c.wait(t, 20*time.Second)
	if c.code != 4400 || len(evs) != 1 || evs[0].Kind != assist.KindInvalid || !strings.Contains(evs[0].Message, "fi") {
		t.Fatalf("close %d %q, events %+v", c.code, c.reason, evs)
	}
	resp := g.do(t, assist.RoleRiskReviewer, "GET", "/v1/interpret/sessions", "", "Connection", "Upgrade", "Upgrade", "websocket",
		"Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	if body := readAll(t, resp); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "forbidden") {
		t.Fatalf("risk reviewer: %d %s", resp.StatusCode, body)
	}
}

// TestInterpretUpstreamRecognizer: a gateway without a local recogniser
// interprets through a transcription host (here another gateway, whose
// PocketSphinx answers), each utterance sent whole at realtime priority.
func TestInterpretUpstreamRecognizer(t *testing.T) {
	requireSpeechEngines(t)
	a := startGateway(t, hostYAML("h1", ollamaURL(t), 4), "")
	keyFile := filepath.Join(t.TempDir(), "gw-a.key")
	if err := os.WriteFile(keyFile, []byte(a.Tokens[assist.RoleService]+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	hosts := hostYAML("h1", ollamaURL(t), 4) +
		fmt.Sprintf("  - name: gw-a\n    kind: transcription\n    url: %s\n    api_key_file: %s\n    languages: [en]\n", a.URL, keyFile)
	b := startGateway(t, hosts, auditYAML(t)+"models:\n  chat: "+testModel()+"\nspeech:\n  pocketsphinx:\n    enabled: false\n")
	start := map[string]any{"type": "start", "audio": map[string]any{"sample_rate": 16000}, "synthesis": false,
		"parties": []map[string]any{{"speaker": "clinician", "language": "en"}, {"speaker": "patient", "language": "fi", "listen_only": true}}}
	var c *interpretClient
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		c = dialInterpret(t, b, assist.RoleInterpreter, start)
		select {
		case <-c.closed: // refused until the host's first health check lists English
			if time.Now().After(deadline) {
				t.Fatalf("refused: %d %q", c.code, c.reason)
			}
			continue
		case <-time.After(time.Second):
		}
		break
	}
	c.ready(t)
	said := speechtest.Sentences[1]
	c.stream(t, 0, speechtest.Concat(speechtest.Silence(300*time.Millisecond, 16000), speechtest.Flite(t, said), speechtest.Silence(time.Second, 16000)))
	c.send(t, map[string]any{"type": "stop"})
	evs := c.wait(t, 60*time.Second)
	finals, trans := ofType(evs, interpret.EventFinal), ofType(evs, interpret.EventTranslation)
	if c.code != websocket.StatusNormalClosure || len(finals) != 1 || len(trans) != 1 || len(ofType(evs, interpret.EventSpeech)) != 0 {
		t.Fatalf("close %d %q, events %v", c.code, c.reason, typesOf(evs))
	}
	ec, _ := evals.WordErrors([]string{said}, []string{normWords(finals[0].Text)})
	if !strings.Contains(finals[0].Engine, "@ gw-a") || ec.ErrorRate() >= 0.4 {
		t.Fatalf("final %+v (WER %.2f)", finals[0], ec.ErrorRate())
	}
	if !strings.Contains(a.Logs.String(), `"/v1/audio/transcriptions"`) {
		t.Fatal("the upstream gateway's log shows no transcription")
	}
}
