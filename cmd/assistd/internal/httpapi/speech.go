package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/models"
	"github.com/soteai/gateway/speech"
	"github.com/soteai/gateway/speech/sox"
)

// SpeechDeps serve POST /v1/audio/transcriptions and /v1/audio/speech.
type SpeechDeps struct {
	// Transcriber returns the recogniser for a scheduling class (upstream
	// hosts with failover, then the in-process engine).
	Transcriber func(assist.Priority) speech.Transcriber
	Synthesizer speech.Synthesizer
	// MaxAudio is the longest upload; MaxUploadBytes bounds its body.
	MaxAudio       time.Duration
	MaxUploadBytes int64
	// MaxChars is the longest text synthesized at once.
	MaxChars int
	// Hosts reports the transcription hosts' pool, for GET
	// /v1/admin/hosts; nil leaves them out.
	Hosts func() models.Stats
	// Converter decodes FLAC and Ogg uploads and encodes FLAC speech
	// (sox); nil accepts and answers WAV only.
	Converter AudioConverter
}

// AudioConverter converts between WAV and compressed formats.
type AudioConverter interface {
	ToWAV(ctx context.Context, data []byte, format string, maxDuration time.Duration) ([]byte, error)
	FromWAV(ctx context.Context, wav []byte, format string) ([]byte, error)
}

// EngineHeader names the engine that transcribed or spoke.
const EngineHeader = "X-Sote-Speech-Engine"

var languageTag = regexp.MustCompile(`^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$`)

// transcriptionForm is the multipart upload, as OpenAI defines it.
type transcriptionForm struct {
	audio  []byte
	model  string
	lang   string
	format string
}

func readTranscriptionForm(c echo.Context, limit int64) (transcriptionForm, error) {
	mt, params, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return transcriptionForm{}, assist.Errorf(assist.KindInvalid, "send the audio as multipart/form-data with a \"file\" field")
	}
	body, err := readBody(c, limit)
	if err != nil {
		return transcriptionForm{}, err
	}
	form, err := multipart.NewReader(bytes.NewReader(body), params["boundary"]).ReadForm(limit + 1<<20)
	if err != nil {
		return transcriptionForm{}, assist.Errorf(assist.KindInvalid, "the multipart form could not be read")
	}
	defer form.RemoveAll()
	val := func(k string) string {
		if v := form.Value[k]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	f := transcriptionForm{model: val("model"), lang: val("language"), format: val("response_format")}
	files := form.File["file"]
	if len(files) != 1 {
		return transcriptionForm{}, assist.Errorf(assist.KindInvalid, "the form must have one \"file\" field with the audio")
	}
	fh, err := files[0].Open()
	if err != nil {
		return transcriptionForm{}, assist.Errorf(assist.KindInvalid, "the audio file could not be read")
	}
	defer fh.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(fh); err != nil {
		return transcriptionForm{}, assist.Errorf(assist.KindInvalid, "the audio file could not be read")
	}
	f.audio = buf.Bytes()
	if f.format == "" {
		f.format = "json"
	}
	switch f.format {
	case "json", "text", "verbose_json", "srt", "vtt":
	default:
		return transcriptionForm{}, assist.Errorf(assist.KindInvalid, "response_format must be json, text, verbose_json, srt or vtt, got %q", f.format)
	}
	if f.lang != "" && !languageTag.MatchString(f.lang) {
		return transcriptionForm{}, assist.Errorf(assist.KindInvalid, "language must be a language code such as en or fi")
	}
	return f, nil
}

// transcribe serves POST /v1/audio/transcriptions: WAV audio in, the
// transcript out, recorded (audio by hash only) before it is released.
func transcribe(d Deps) echo.HandlerFunc {
	sd := d.Speech
	return func(c echo.Context) error {
		start := time.Now()
		rec := TaskRecord{Event: audit.Event{Kind: audit.KindSpeechTranscribe, Task: assist.TaskTranscribe, Attrs: map[string]string{}}}
		f, err := readTranscriptionForm(c, sd.MaxUploadBytes)
		if err != nil {
			return refuseTask(c, d.Rec, rec, start, err)
		}
		sum := sha256.Sum256(f.audio)
		rec.InputHash, rec.Model = sum[:], f.model
		setAttr(&rec, "language", f.lang)
		setAttr(&rec, "response_format", f.format)
		prio, attrs, err := priorityOf(c, d.Priority)
		if err != nil {
			return refuseTask(c, d.Rec, rec, start, err)
		}
		for k, v := range attrs {
			rec.Attrs[k] = v
		}
		a, err := decodeUpload(c.Request().Context(), sd, f.audio)
		if err != nil {
			return refuseTask(c, d.Rec, rec, start, err)
		}
		rec.Attrs["sample_rate"] = strconv.Itoa(a.SampleRate)
		rec.Attrs["audio_ms"] = strconv.FormatInt(a.Duration().Milliseconds(), 10)
		t0 := time.Now()
		tr, err := sd.Transcriber(prio).Transcribe(c.Request().Context(), a, f.lang)
		rec.Attrs["engine_ms"] = strconv.FormatInt(time.Since(t0).Milliseconds(), 10)
		if err != nil {
			return refuseTask(c, d.Rec, rec, start, err)
		}
		rec.Host = tr.Engine
		rec.Attrs["engine"] = tr.Engine
		ctype, out := transcriptionBody(f.format, tr, a.Duration())
		rec.Output, rec.Outcome, rec.Status = out, audit.OutcomeOK, http.StatusOK
		if err := recordTask(c, d.Rec, rec, start, "the audit log cannot be written; the transcript was not released"); err != nil {
			return err
		}
		c.Response().Header().Set(EngineHeader, tr.Engine)
		return c.Blob(http.StatusOK, ctype, out)
	}
}

// decodeUpload decodes an uploaded WAV, or a FLAC or Ogg Vorbis file
// through the converter.
func decodeUpload(ctx context.Context, sd *SpeechDeps, data []byte) (speech.Audio, error) {
	format := sox.Sniff(data)
	switch {
	case format == "flac" || format == "ogg":
		if sd.Converter == nil {
			return speech.Audio{}, assist.Errorf(assist.KindInvalid, "only WAV audio is accepted here")
		}
		wav, err := sd.Converter.ToWAV(ctx, data, format, sd.MaxAudio)
		if err != nil {
			return speech.Audio{}, err
		}
		data = wav
	case format == "" && len(data) >= 4 && string(data[:4]) != "RIFF":
		return speech.Audio{}, assist.Errorf(assist.KindInvalid, "the audio format is not supported; send WAV (PCM or 32-bit float, 8–48 kHz), FLAC or Ogg Vorbis")
	}
	a, err := speech.DecodeWAV(bytes.NewReader(data), speech.Limits{MaxDuration: sd.MaxAudio})
	if err != nil && assist.KindOf(err) == assist.KindInvalid {
		err = assist.Errorf(assist.KindInvalid, "%s (send PCM or 32-bit float WAV, 8–48 kHz)", assist.MessageOf(err))
	}
	return a, err
}

// verboseSegment is a segment of OpenAI's verbose_json.
type verboseSegment struct {
	ID               int      `json:"id"`
	Seek             int      `json:"seek"`
	Start            float64  `json:"start"`
	End              float64  `json:"end"`
	Text             string   `json:"text"`
	Tokens           []int    `json:"tokens"`
	Temperature      float64  `json:"temperature"`
	AvgLogprob       *float64 `json:"avg_logprob,omitempty"`
	CompressionRatio float64  `json:"compression_ratio"`
	NoSpeechProb     float64  `json:"no_speech_prob"`
	// Confidence is the engine's own, in [0, 1] (-1: none given).
	Confidence float64 `json:"confidence"`
}

func transcriptionBody(format string, tr speech.Transcript, dur time.Duration) (string, []byte) {
	switch format {
	case "text":
		return echo.MIMETextPlainCharsetUTF8, []byte(tr.Text + "\n")
	case "srt", "vtt":
		return echo.MIMETextPlainCharsetUTF8, []byte(subtitles(format, tr))
	case "verbose_json":
		segs := make([]verboseSegment, len(tr.Segments))
		for i, s := range tr.Segments {
			segs[i] = verboseSegment{ID: i, Start: s.Start.Seconds(), End: s.End.Seconds(), Text: s.Text, Tokens: []int{}, Confidence: s.Confidence}
			if s.Confidence > 0 {
				lp := math.Log(s.Confidence)
				segs[i].AvgLogprob = &lp
			}
		}
		b, _ := json.Marshal(map[string]any{"task": "transcribe", "language": tr.Language, "duration": dur.Seconds(), "text": tr.Text, "segments": segs})
		return echo.MIMEApplicationJSON, b
	}
	b, _ := json.Marshal(map[string]any{"text": tr.Text})
	return echo.MIMEApplicationJSON, b
}

// subtitles renders the segments as SubRip or WebVTT.
func subtitles(format string, tr speech.Transcript) string {
	var b strings.Builder
	stamp := func(d time.Duration) string {
		ms := d.Milliseconds()
		sep := ","
		if format == "vtt" {
			sep = "."
		}
		return fmt.Sprintf("%02d:%02d:%02d%s%03d", ms/3600000, ms/60000%60, ms/1000%60, sep, ms%1000)
	}
	if format == "vtt" {
		b.WriteString("WEBVTT\n\n")
	}
	for i, s := range tr.Segments {
		if format == "srt" {
			fmt.Fprintf(&b, "%d\n", i+1)
		}
		fmt.Fprintf(&b, "%s --> %s\n%s\n\n", stamp(s.Start), stamp(s.End), s.Text)
	}
	return b.String()
}

// openAIVoices are OpenAI's voice names; they speak English here unless
// the request names another language.
var openAIVoices = map[string]bool{"alloy": true, "ash": true, "ballad": true, "coral": true, "echo": true, "fable": true,
	"nova": true, "onyx": true, "sage": true, "shimmer": true, "verse": true}

// synthesize serves POST /v1/audio/speech: text in, WAV (or raw PCM) out.
// The voice is a language tag ("fi", "sv-SE") or one of OpenAI's voice
// names (English); a "language" field, when given, decides.
func synthesize(d Deps, limit int64) echo.HandlerFunc {
	sd := d.Speech
	return func(c echo.Context) error {
		start := time.Now()
		rec := TaskRecord{Event: audit.Event{Kind: audit.KindSpeechSynthesize, Task: assist.TaskSynthesize, Attrs: map[string]string{}}}
		var req struct {
			Model          string   `json:"model"`
			Input          string   `json:"input"`
			Voice          string   `json:"voice"`
			Language       string   `json:"language"`
			ResponseFormat string   `json:"response_format"`
			Speed          *float64 `json:"speed"`
		}
		body, err := decodeJSON(c, limit, &req)
		if err != nil {
			return refuseTask(c, d.Rec, rec, start, err)
		}
		rec.Input, rec.Model = body, req.Model
		lang := req.Language
		if lang == "" {
			lang = req.Voice
			if openAIVoices[strings.ToLower(req.Voice)] {
				lang = "en"
			}
		}
		format := req.ResponseFormat
		if format == "" {
			format = "wav"
		}
		setAttr(&rec, "language", lang)
		setAttr(&rec, "response_format", format)
		switch {
		case strings.TrimSpace(req.Input) == "":
			err = assist.Errorf(assist.KindInvalid, "the field \"input\" (the text to speak) is required")
		case len([]rune(req.Input)) > sd.MaxChars:
			err = assist.Errorf(assist.KindInvalid, "the input has %d characters; at most %d can be spoken at once", len([]rune(req.Input)), sd.MaxChars)
		case lang == "":
			err = assist.Errorf(assist.KindInvalid, "the field \"voice\" is required: a language code such as fi or sv, or an OpenAI voice name")
		case !languageTag.MatchString(lang):
			err = assist.Errorf(assist.KindInvalid, "voice %q is neither a language code (fi, sv, en, …) nor an OpenAI voice name", lang)
		case format != "wav" && format != "pcm" && !(format == "flac" && sd.Converter != nil):
			err = assist.Errorf(assist.KindInvalid, "response_format %q is not available; use wav, flac or pcm (raw 16-bit 24 kHz mono)", format)
		case req.Speed != nil && (*req.Speed < 0.25 || *req.Speed > 4):
			err = assist.Errorf(assist.KindInvalid, "speed must be between 0.25 and 4")
		}
		if err != nil {
			return refuseTask(c, d.Rec, rec, start, err)
		}
		t0 := time.Now()
		var sp speech.Speech
		if rs, ok := sd.Synthesizer.(speech.RateSynthesizer); ok && req.Speed != nil && *req.Speed != 1 {
			rec.Attrs["speed"] = strconv.FormatFloat(*req.Speed, 'f', -1, 64)
			sp, err = rs.SynthesizeAt(c.Request().Context(), req.Input, lang, *req.Speed)
		} else {
			sp, err = sd.Synthesizer.Synthesize(c.Request().Context(), req.Input, lang)
		}
		rec.Attrs["engine_ms"] = strconv.FormatInt(time.Since(t0).Milliseconds(), 10)
		if err != nil {
			return refuseTask(c, d.Rec, rec, start, err)
		}
		out, ctype := sp.WAV, "audio/wav"
		if format == "flac" {
			if out, err = sd.Converter.FromWAV(c.Request().Context(), sp.WAV, "flac"); err != nil {
				return refuseTask(c, d.Rec, rec, start, err)
			}
			ctype = "audio/flac"
		}
		if format == "pcm" {
			// OpenAI's pcm: raw signed 16-bit little-endian, 24 kHz mono.
			a, err := speech.DecodeWAV(bytes.NewReader(sp.WAV), speech.Limits{MaxDuration: time.Hour})
			if err == nil {
				a, err = speech.Resample(a, 24000)
			}
			if err != nil {
				return refuseTask(c, d.Rec, rec, start, assist.E(assist.KindInternal, "httpapi.synthesize", err))
			}
			out, ctype = speech.EncodePCM16(nil, a.Samples), "audio/pcm"
		}
		sum := sha256.Sum256(out)
		rec.OutputHash, rec.Host = sum[:], sp.Engine
		rec.Attrs["engine"] = sp.Engine
		rec.Attrs["audio_ms"] = strconv.FormatInt(sp.Duration.Milliseconds(), 10)
		rec.Outcome, rec.Status = audit.OutcomeOK, http.StatusOK
		if err := recordTask(c, d.Rec, rec, start, "the audit log cannot be written; the speech was not released"); err != nil {
			return err
		}
		c.Response().Header().Set(EngineHeader, sp.Engine)
		return c.Blob(http.StatusOK, ctype, out)
	}
}
