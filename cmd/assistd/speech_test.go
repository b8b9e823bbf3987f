package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/openai/openai-go"
	"github.com/openai/openai-go/option"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/evals"
	"github.com/soteai/gateway/speech"
	"github.com/soteai/gateway/speech/pocketsphinx"
	"github.com/soteai/gateway/speech/sox"
	"github.com/soteai/gateway/speech/speechtest"
)

// normWords lower-cases and drops punctuation, for both sides of a WER.
func normWords(s string) string {
	return strings.Join(strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	}), " ")
}

// requireSpeechEngines fails under CI=true (skips locally) without the
// real engines the gateway wires.
func requireSpeechEngines(t *testing.T) {
	t.Helper()
	speechtest.Require(t, "flite")
	speechtest.Require(t, "espeak-ng")
	speechtest.Require(t, "sox")
	if _, err := pocketsphinx.New(pocketsphinx.Config{}); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PocketSphinx: %v", err)
		}
		t.Skipf("PocketSphinx: %v", err)
	}
}

// auditEntries lists the audit records of a kind.
func auditEntries(t *testing.T, g *gateway, kind string) []map[string]any {
	t.Helper()
	resp := g.do(t, assist.RoleRiskReviewer, "GET", "/v1/audit/records?kind="+kind, "")
	body := readAll(t, resp)
	if resp.StatusCode != 200 {
		t.Fatalf("audit records: %d %s", resp.StatusCode, body)
	}
	var page struct {
		Entries []struct {
			Record map[string]any `json:"record"`
		} `json:"entries"`
	}
	if err := json.Unmarshal([]byte(body), &page); err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, e := range page.Entries {
		out = append(out, e.Record)
	}
	return out
}

// TestOpenAISDKAudio: the official openai-go SDK transcribes flite speech
// (PocketSphinx in the gateway) and gets spoken Finnish and English WAV
// back; each call is an audit record holding the audio's hash only.
func TestOpenAISDKAudio(t *testing.T) {
	t.Parallel()
	requireSpeechEngines(t)
	ay := auditYAML(t)
	g := startGateway(t, hostYAML("h1", ollamaURL(t), 4), ay)
	cl := openai.NewClient(option.WithBaseURL(g.URL+"/v1/"), option.WithAPIKey(g.Tokens[assist.RoleClinician]), option.WithMaxRetries(0))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	var refs, hyps []string
	var sums []string
	for _, s := range speechtest.Sentences[:3] {
		wav := speechtest.FliteWAV(t, s)
		sum := sha256.Sum256(wav)
		sums = append(sums, hex.EncodeToString(sum[:]))
		tr, err := cl.Audio.Transcriptions.New(ctx, openai.AudioTranscriptionNewParams{
			File:     openai.File(bytes.NewReader(wav), "speech.wav", "audio/wav"),
			Model:    openai.AudioModelWhisper1,
			Language: openai.String("en"),
		})
		if err != nil {
			t.Fatalf("transcription: %v", err)
		}
		t.Logf("%q -> %q", s, tr.Text)
		refs, hyps = append(refs, normWords(s)), append(hyps, normWords(tr.Text))
	}
	c, err := evals.WordErrors(refs, hyps)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("WER through the gateway: %.1f%% (%+v)", 100*c.ErrorRate(), c)
	if c.ErrorRate() >= 0.25 {
		t.Fatalf("WER %.1f%%, want below 25%%", 100*c.ErrorRate())
	}

	// verbose_json carries timed segments with confidences.
	var raw *http.Response
	vtr, err := cl.Audio.Transcriptions.New(ctx, openai.AudioTranscriptionNewParams{
		File:           openai.File(bytes.NewReader(speechtest.FliteWAV(t, speechtest.Sentences[3])), "speech.wav", "audio/wav"),
		Model:          openai.AudioModelWhisper1,
		ResponseFormat: openai.AudioResponseFormatVerboseJSON,
	}, option.WithResponseInto(&raw))
	if err != nil {
		t.Fatal(err)
	}
	var vj struct {
		Language string  `json:"language"`
		Duration float64 `json:"duration"`
		Text     string  `json:"text"`
		Segments []struct {
			Start, End, Confidence float64
			Text                   string
		} `json:"segments"`
	}
	if err := json.Unmarshal([]byte(vtr.RawJSON()), &vj); err != nil {
		t.Fatal(err)
	}
	if vj.Language != "en" || vj.Duration < 1 || len(vj.Segments) == 0 || vj.Segments[0].End <= vj.Segments[0].Start || vj.Segments[0].Confidence <= 0 {
		t.Fatalf("verbose_json: %+v", vj)
	}
	if e := raw.Header.Get("X-Sote-Speech-Engine"); e != pocketsphinx.Version {
		t.Fatalf("engine header %q", e)
	}

	for _, tc := range []struct {
		voice, text string
	}{
		{"fi", "Ottakaa yksi tabletti joka aamu."},
		{"sv", "Ta en tablett varje morgon."},
		{"alloy", "Take one tablet every morning."}, // an OpenAI voice speaks English
	} {
		resp, err := cl.Audio.Speech.New(ctx, openai.AudioSpeechNewParams{
			Model: openai.SpeechModelTTS1, Input: tc.text, Voice: openai.AudioSpeechNewParamsVoice(tc.voice),
			ResponseFormat: openai.AudioSpeechNewParamsResponseFormatWAV,
		})
		if err != nil {
			t.Fatalf("speech %s: %v", tc.voice, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		a, err := speech.DecodeWAV(bytes.NewReader(b), speech.Limits{})
		if err != nil {
			t.Fatalf("speech %s: the WAV does not decode: %v", tc.voice, err)
		}
		if a.Duration() < time.Second || speech.Level(a.Samples) < -35 || resp.Header.Get("Content-Type") != "audio/wav" {
			t.Fatalf("speech %s: %s at %.1f dBFS (%s)", tc.voice, a.Duration(), speech.Level(a.Samples), resp.Header.Get("Content-Type"))
		}
		t.Logf("speech %s: %s by %s", tc.voice, a.Duration(), resp.Header.Get("X-Sote-Speech-Engine"))
	}

	// FLAC in (transcription) and out (speech), through sox.
	conv := sox.Converter{}
	flacIn, err := conv.FromWAV(ctx, speechtest.FliteWAV(t, speechtest.Sentences[1]), "flac")
	if err != nil {
		t.Fatal(err)
	}
	ftr, err := cl.Audio.Transcriptions.New(ctx, openai.AudioTranscriptionNewParams{
		File: openai.File(bytes.NewReader(flacIn), "speech.flac", "audio/flac"), Model: openai.AudioModelWhisper1, Language: openai.String("en"),
	})
	if err != nil || normWords(ftr.Text) != normWords(speechtest.Sentences[1]) {
		t.Fatalf("FLAC upload: %v %q", err, ftr.Text)
	}
	fresp, err := cl.Audio.Speech.New(ctx, openai.AudioSpeechNewParams{Model: openai.SpeechModelTTS1, Input: "Hyvää huomenta.", Voice: "fi",
		ResponseFormat: openai.AudioSpeechNewParamsResponseFormatFLAC})
	if err != nil {
		t.Fatal(err)
	}
	fb, _ := io.ReadAll(fresp.Body)
	fresp.Body.Close()
	fwav, err := conv.ToWAV(ctx, fb, "flac", time.Minute)
	if err != nil || fresp.Header.Get("Content-Type") != "audio/flac" {
		t.Fatalf("FLAC speech: %v (%s)", err, fresp.Header.Get("Content-Type"))
	}
	if a, err := speech.DecodeWAV(bytes.NewReader(fwav), speech.Limits{}); err != nil || a.Duration() < 500*time.Millisecond || speech.Level(a.Samples) < -35 {
		t.Fatalf("FLAC speech: %v %s", err, a.Duration())
	}

	// speed: twice as fast is about half as long.
	var lens [2]time.Duration
	for i, sp := range []float64{1, 2} {
		resp, err := cl.Audio.Speech.New(ctx, openai.AudioSpeechNewParams{
			Model: openai.SpeechModelTTS1, Input: "Ottakaa yksi tabletti joka aamu ja illalla.", Voice: "fi",
			ResponseFormat: openai.AudioSpeechNewParamsResponseFormatWAV, Speed: openai.Float(sp),
		})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		a, err := speech.DecodeWAV(bytes.NewReader(b), speech.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		lens[i] = a.Duration()
	}
	if r := float64(lens[1]) / float64(lens[0]); r > 0.75 {
		t.Fatalf("speed 2: %s vs %s at 1", lens[1], lens[0])
	}

	recs := auditEntries(t, g, "speech.transcribe")
	if len(recs) != 5 {
		t.Fatalf("%d transcription records, want 5", len(recs))
	}
	for _, r := range recs {
		attrs, _ := r["attrs"].(map[string]any)
		if r["outcome"] != "ok" || r["task"] != "transcription" || attrs["engine"] != pocketsphinx.Version || attrs["audio_ms"] == nil || r["content_stored"] == true {
			t.Fatalf("record %v", r)
		}
	}
	var found int
	for _, r := range recs {
		for _, s := range sums {
			if r["input_sha256"] == s {
				found++
			}
		}
	}
	if found != len(sums) {
		t.Fatalf("%d of %d uploads recorded by their SHA-256", found, len(sums))
	}
	// What was said and spoken never reaches the logs.
	for _, w := range []string{"fever", "tablet", "Ottakaa", "chest"} {
		if strings.Contains(g.Logs.String(), w) {
			t.Errorf("the gateway's logs contain speech content (%q)", w)
		}
	}
	syn := auditEntries(t, g, "speech.synthesize")
	if len(syn) != 6 || syn[0]["output_sha256"] == nil || syn[0]["host"] == "" {
		t.Fatalf("synthesis records: %v", syn)
	}
}

// multipartWAV builds a transcription upload.
func multipartWAV(t *testing.T, wav []byte, fields ...string) (string, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	fw, err := mw.CreateFormFile("file", "a.wav")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(wav)
	for i := 0; i+1 < len(fields); i += 2 {
		mw.WriteField(fields[i], fields[i+1])
	}
	mw.Close()
	return b.String(), mw.FormDataContentType()
}

// TestAudioBadInput: every bad upload or request gets a 4xx with the kind
// and a message that says what is wrong, in OpenAI's error shape.
func TestAudioBadInput(t *testing.T) {
	t.Parallel()
	requireSpeechEngines(t)
	g := startGateway(t, hostYAML("h1", ollamaURL(t), 4), "speech:\n  max_audio: 4s\n  max_upload_bytes: 400000\n")
	good := speechtest.FliteWAV(t, "hello")
	tone := func(rate int, d time.Duration) []byte {
		a := speech.Audio{SampleRate: rate, Samples: make([]float32, int(d.Seconds()*float64(rate)))}
		for i := range a.Samples {
			a.Samples[i] = 0.1 * float32(i%50) / 50
		}
		return speech.EncodeWAV(a)
	}
	wrongHeader := append([]byte("RIFF\x00\x00\x00\x00WAVEjunk"), good[20:]...)
	for _, tc := range []struct {
		name, path, body, ctype string
		role                    assist.Role
		status                  int
		msg                     string
	}{
		{"wav with a wrong header", "/v1/audio/transcriptions", "", "", "", 400, "not a valid WAV"},
		{"unsupported rate", "/v1/audio/transcriptions", "", "", "", 400, "sample rate 96000 Hz"},
		{"unknown language", "/v1/audio/transcriptions", "", "", "", 400, `language "xx"`},
		{"finnish without a finnish engine", "/v1/audio/transcriptions", "", "", "", 400, `language "fi"`},
		{"malformed language", "/v1/audio/transcriptions", "", "", "", 400, "language code"},
		{"audio too long", "/v1/audio/transcriptions", "", "", "", 413, "longer than the limit"},
		{"upload too large", "/v1/audio/transcriptions", "", "", "", 413, "larger than the limit"},
		{"mp3 upload", "/v1/audio/transcriptions", "", "", "", 400, "FLAC or Ogg"},
		{"broken flac", "/v1/audio/transcriptions", "", "", "", 400, "could not be decoded"},
		{"not multipart", "/v1/audio/transcriptions", `{"file":"x"}`, "application/json", "", 400, "multipart/form-data"},
		{"no file", "/v1/audio/transcriptions", "", "", "", 400, `"file"`},
		{"bad response format", "/v1/audio/transcriptions", "", "", "", 400, "response_format"},
		{"reviewers may not transcribe", "/v1/audio/transcriptions", "", "", assist.RoleRiskReviewer, 403, "may not use"},
		{"no voice for somali", "/v1/audio/speech", `{"model":"tts-1","input":"Subax wanaagsan","voice":"so"}`, "application/json", "", 400, `language "so"`},
		{"mp3 refused", "/v1/audio/speech", `{"model":"tts-1","input":"hei","voice":"fi","response_format":"mp3"}`, "application/json", "", 400, "wav"},
		{"no input", "/v1/audio/speech", `{"model":"tts-1","input":" ","voice":"fi"}`, "application/json", "", 400, "input"},
		{"text too long", "/v1/audio/speech", `{"model":"tts-1","input":"` + strings.Repeat("a", 4001) + `","voice":"fi"}`, "application/json", "", 400, "4000"},
		{"bad json", "/v1/audio/speech", `{"input":`, "application/json", "", 400, "not valid JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, ctype := tc.body, tc.ctype
			if body == "" {
				switch tc.name {
				case "wav with a wrong header":
					body, ctype = multipartWAV(t, wrongHeader, "model", "whisper-1")
				case "unsupported rate":
					body, ctype = multipartWAV(t, tone(96000, time.Second), "model", "whisper-1")
				case "unknown language":
					body, ctype = multipartWAV(t, good, "model", "whisper-1", "language", "xx")
				case "finnish without a finnish engine":
					body, ctype = multipartWAV(t, good, "model", "whisper-1", "language", "fi")
				case "malformed language":
					body, ctype = multipartWAV(t, good, "model", "whisper-1", "language", "en us!")
				case "audio too long":
					body, ctype = multipartWAV(t, tone(8000, 5*time.Second), "model", "whisper-1")
				case "upload too large":
					body, ctype = multipartWAV(t, tone(48000, 5*time.Second), "model", "whisper-1")
				case "mp3 upload":
					body, ctype = multipartWAV(t, []byte("ID3\x03\x00\x00\x00\x00\x00\x00 not really mp3"), "model", "whisper-1")
				case "broken flac":
					body, ctype = multipartWAV(t, []byte("fLaC\x00\x00\x00\x22 broken"), "model", "whisper-1")
				case "no file":
					var b bytes.Buffer
					mw := multipart.NewWriter(&b)
					mw.WriteField("model", "whisper-1")
					mw.Close()
					body, ctype = b.String(), mw.FormDataContentType()
				case "bad response format":
					body, ctype = multipartWAV(t, good, "model", "whisper-1", "response_format", "mp4")
				default:
					body, ctype = multipartWAV(t, good, "model", "whisper-1")
				}
			}
			role := tc.role
			if role == "" {
				role = assist.RoleInterpreter
			}
			resp := g.do(t, role, "POST", tc.path, body, "Content-Type", ctype)
			out := readAll(t, resp)
			var e struct {
				Error struct{ Message, Type, Code string } `json:"error"`
			}
			if err := json.Unmarshal([]byte(out), &e); err != nil {
				t.Fatalf("%d %s: not the OpenAI error shape", resp.StatusCode, out)
			}
			if resp.StatusCode != tc.status || e.Error.Type == "" || !strings.Contains(e.Error.Message, tc.msg) {
				t.Fatalf("got %d %s, want %d mentioning %q", resp.StatusCode, out, tc.status, tc.msg)
			}
		})
	}
	// The SDK surfaces the same errors as *openai.Error.
	cl := openai.NewClient(option.WithBaseURL(g.URL+"/v1/"), option.WithAPIKey(g.Tokens[assist.RoleService]), option.WithMaxRetries(0))
	_, err := cl.Audio.Transcriptions.New(context.Background(), openai.AudioTranscriptionNewParams{
		File: openai.File(bytes.NewReader(good), "a.wav", "audio/wav"), Model: openai.AudioModelWhisper1, Language: openai.String("so"),
	})
	var oe *openai.Error
	if !errors.As(err, &oe) || oe.StatusCode != 400 || !strings.Contains(oe.Message, `"so"`) {
		t.Fatalf("SDK error: %v", err)
	}
}

// TestGatewayAsTranscriptionUpstream: gateway B has no recogniser of its
// own; its transcription host is gateway A (behind a dead host), reached
// with A's service token. B's answer names A's engine.
func TestGatewayAsTranscriptionUpstream(t *testing.T) {
	t.Parallel()
	requireSpeechEngines(t)
	a := startGateway(t, hostYAML("h1", ollamaURL(t), 4), "")
	keyFile := filepath.Join(t.TempDir(), "gw-a.key")
	if err := os.WriteFile(keyFile, []byte(a.Tokens[assist.RoleService]+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dead := "  - name: dead\n    kind: transcription\n    url: http://127.0.0.1:9\n    languages: [en]\n"
	noLocal := "speech:\n  pocketsphinx:\n    enabled: false\n"
	// Gateway D answers health checks but cannot transcribe (its only
	// engine is a dead host): every transcription there is a 503.
	d := startGateway(t, hostYAML("h1", ollamaURL(t), 4)+dead, noLocal)
	keyD := filepath.Join(t.TempDir(), "gw-d.key")
	if err := os.WriteFile(keyD, []byte(d.Tokens[assist.RoleService]), 0o600); err != nil {
		t.Fatal(err)
	}
	hosts := hostYAML("h1", ollamaURL(t), 4) + dead +
		fmt.Sprintf("  - name: gw-d\n    kind: transcription\n    url: %s\n    api_key_file: %s\n    languages: [en]\n", d.URL, keyD) +
		fmt.Sprintf("  - name: gw-a\n    kind: transcription\n    url: %s\n    api_key_file: %s\n    labels: [gpu]\n    languages: [en]\n", a.URL, keyFile)
	b := startGateway(t, hosts, noLocal)

	s := speechtest.Sentences[4]
	body, ctype := multipartWAV(t, speechtest.FliteWAV(t, s), "model", "whisper-1", "language", "en", "response_format", "verbose_json")
	resp := b.do(t, assist.RoleInterpreter, "POST", "/v1/audio/transcriptions", body, "Content-Type", ctype, "X-Sote-Priority", "realtime")
	out := readAll(t, resp)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, out)
	}
	var vj struct {
		Text     string `json:"text"`
		Segments []struct {
			Start, End, Confidence float64
		} `json:"segments"`
	}
	if err := json.Unmarshal([]byte(out), &vj); err != nil {
		t.Fatal(err)
	}
	c, _ := evals.WordErrors([]string{normWords(s)}, []string{normWords(vj.Text)})
	want := "openai-compatible whisper-1 @ gw-a (" + pocketsphinx.Version + ")"
	if e := resp.Header.Get("X-Sote-Speech-Engine"); e != want || c.ErrorRate() > 0.4 || len(vj.Segments) == 0 || vj.Segments[0].Confidence <= 0 {
		t.Fatalf("engine %q (want %q), %q (WER %.2f), %+v", e, want, vj.Text, c.ErrorRate(), vj.Segments)
	}
	if p := resp.Header.Get("X-Sote-Priority"); p != "realtime" {
		t.Fatalf("served at %q", p)
	}
	if !strings.Contains(a.Logs.String(), `"/v1/audio/transcriptions"`) {
		t.Fatal("gateway A's log shows no transcription request")
	}
	// At interactive priority B spreads the calls over gw-d and gw-a; gw-d
	// fails each (503) and B fails over to gw-a: every call is served.
	hello := speechtest.FliteWAV(t, "hello")
	for i := range 3 {
		body, ctype := multipartWAV(t, hello, "model", "whisper-1", "language", "en")
		resp := b.do(t, assist.RoleService, "POST", "/v1/audio/transcriptions", body, "Content-Type", ctype)
		if out := readAll(t, resp); resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("X-Sote-Speech-Engine"), "@ gw-a") {
			t.Fatalf("call %d: %d %s (engine %q)", i, resp.StatusCode, out, resp.Header.Get("X-Sote-Speech-Engine"))
		}
	}
	if !strings.Contains(d.Logs.String(), `"/v1/audio/transcriptions"`) {
		t.Fatal("no call was tried on gw-d first: failover not shown")
	}

	// A gateway whose hosts are all down still serves English in-process.
	gc := startGateway(t, hostYAML("h1", ollamaURL(t), 4)+dead, "")
	body, ctype = multipartWAV(t, hello, "model", "whisper-1", "language", "en")
	resp = gc.do(t, assist.RoleClinician, "POST", "/v1/audio/transcriptions", body, "Content-Type", ctype)
	if out := readAll(t, resp); resp.StatusCode != 200 || resp.Header.Get("X-Sote-Speech-Engine") != pocketsphinx.Version {
		t.Fatalf("fallback: %d %s (engine %q)", resp.StatusCode, out, resp.Header.Get("X-Sote-Speech-Engine"))
	}

	// The admin sees the transcription hosts and their health.
	var hs struct {
		Transcription []struct {
			Name   string   `json:"name"`
			Up     bool     `json:"up"`
			Labels []string `json:"labels"`
		} `json:"transcription_hosts"`
	}
	if err := json.Unmarshal([]byte(readAll(t, b.do(t, assist.RoleAdmin, "GET", "/v1/admin/hosts", ""))), &hs); err != nil {
		t.Fatal(err)
	}
	up := map[string]bool{}
	for _, h := range hs.Transcription {
		up[h.Name] = h.Up
	}
	if len(hs.Transcription) != 3 || up["dead"] || !up["gw-a"] || !up["gw-d"] {
		t.Fatalf("transcription hosts: %+v", hs.Transcription)
	}

	// B has no engine for Finnish: a clear refusal, not garbage.
	body, ctype = multipartWAV(t, speechtest.FliteWAV(t, "hello"), "model", "whisper-1", "language", "fi")
	resp = b.do(t, assist.RoleInterpreter, "POST", "/v1/audio/transcriptions", body, "Content-Type", ctype)
	if out := readAll(t, resp); resp.StatusCode != 400 || !strings.Contains(out, `language \"fi\"`) {
		t.Fatalf("Finnish on B: %d %s", resp.StatusCode, out)
	}
}
