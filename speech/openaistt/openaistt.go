package openaistt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/models"
	"github.com/soteai/gateway/speech"
)

// Path is the upstream endpoint.
const Path = "/v1/audio/transcriptions"

// EngineHeader is the response header in which a gateway names the engine
// that transcribed (so a gateway upstream can report its own engine).
const EngineHeader = "X-Sote-Speech-Engine"

// Host is one upstream's own settings, beyond the pool's name, URL,
// labels and limit.
type Host struct {
	Name string
	URL  string
	// APIKey is sent as a bearer token (another gateway's service token).
	APIKey string
	// Model is the model name sent upstream; "whisper-1" when empty.
	Model string
	// HealthPath is fetched by the health check (2xx is healthy);
	// "/v1/models" when empty ("/health" suits whisper.cpp and speaches).
	HealthPath string
	// Languages the host serves (BCP 47 primary tags); empty means every
	// language Whisper knows.
	Languages []string
}

// PoolModel is the pool model name for a language ("" means detection).
func PoolModel(lang string) string {
	p := primary(lang)
	if p == "" {
		p = "auto"
	}
	return "stt:" + p
}

func primary(lang string) string {
	p, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(lang)), "-")
	p, _, _ = strings.Cut(p, "_")
	return p
}

// Upstreams holds the hosts' settings and health-checks them for their
// models.Pool (it is the pool's Prober). Safe for concurrent use; SetHosts
// applies a reloaded configuration.
type Upstreams struct {
	HTTP *http.Client

	mu    sync.RWMutex
	byURL map[string]Host
}

var _ models.Prober = (*Upstreams)(nil)

// NewUpstreams keeps hosts; client makes the HTTP calls (health checks and
// transcriptions), with the gateway's dial and header timeouts.
func NewUpstreams(hosts []Host, client *http.Client) *Upstreams {
	u := &Upstreams{HTTP: client}
	u.SetHosts(hosts)
	return u
}

// SetHosts replaces the hosts' settings.
func (u *Upstreams) SetHosts(hosts []Host) {
	m := make(map[string]Host, len(hosts))
	for _, h := range hosts {
		if h.Model == "" {
			h.Model = "whisper-1"
		}
		if h.HealthPath == "" {
			h.HealthPath = "/v1/models"
		}
		m[strings.TrimRight(h.URL, "/")] = h
	}
	u.mu.Lock()
	u.byURL = m
	u.mu.Unlock()
}

// serves reports whether some configured host (healthy or not) is meant
// to serve lang; "" (detection) is served by every host.
func (u *Upstreams) serves(lang string) bool {
	if u == nil {
		return false
	}
	u.mu.RLock()
	defer u.mu.RUnlock()
	p := primary(lang)
	for _, h := range u.byURL {
		langs := h.Languages
		if len(langs) == 0 {
			langs = WhisperLanguages
		}
		if p == "" || slices.ContainsFunc(langs, func(l string) bool { return primary(l) == p }) {
			return true
		}
	}
	return false
}

func (u *Upstreams) host(baseURL string) (Host, bool) {
	u.mu.RLock()
	defer u.mu.RUnlock()
	h, ok := u.byURL[strings.TrimRight(baseURL, "/")]
	return h, ok
}

// Probe fetches the host's health path; its models are the languages it
// serves.
func (u *Upstreams) Probe(ctx context.Context, baseURL string) (models.Probe, error) {
	h, ok := u.host(baseURL)
	if !ok {
		return models.Probe{}, errors.New("openaistt: unknown host")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(h.URL, "/")+h.HealthPath, nil)
	if err != nil {
		return models.Probe{}, err
	}
	if h.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+h.APIKey)
	}
	resp, err := u.HTTP.Do(req)
	if err != nil {
		return models.Probe{}, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return models.Probe{}, fmt.Errorf("openaistt: health check: %s", resp.Status)
	}
	langs := h.Languages
	if len(langs) == 0 {
		langs = WhisperLanguages
	}
	pr := models.Probe{Version: "openai-compatible " + h.Model, Models: []models.ModelInfo{{Name: PoolModel("")}}}
	for _, l := range langs {
		pr.Models = append(pr.Models, models.ModelInfo{Name: PoolModel(l)})
	}
	return pr, nil
}

// Client transcribes on the upstream hosts and falls back to a local
// engine. Safe for concurrent use.
type Client struct {
	Pool      *models.Pool // the transcription hosts' pool
	Upstreams *Upstreams
	// Fallback serves when no host can (nil: none); FallbackServes tells
	// which languages it takes (nil error) before audio is sent to it.
	Fallback       speech.Transcriber
	FallbackServes func(lang string) error
	// Priority is the scheduling class of the calls; see At.
	Priority assist.Priority
	// MaxResponseBytes bounds an upstream answer; 4 MiB when 0.
	MaxResponseBytes int64
	Log              *slog.Logger
}

var _ speech.Transcriber = (*Client)(nil)

// At returns a copy of the client whose calls run in class p (realtime
// for interpretation sessions).
func (c *Client) At(p assist.Priority) *Client {
	cc := *c
	cc.Priority = p
	return &cc
}

// Supports reports, before any audio is sent, whether some engine serves
// lang: a host whose languages include it, or the fallback. The error is
// kind invalid and says so.
func (c *Client) Supports(lang string) error {
	if c.Pool != nil && c.Upstreams != nil {
		for _, m := range c.Pool.Models() {
			if m.Name == PoolModel(lang) {
				return nil
			}
		}
	}
	if c.FallbackServes != nil {
		if err := c.FallbackServes(lang); err == nil {
			return nil
		}
	}
	return assist.Errorf(assist.KindInvalid, "no speech recognition engine serves language %q now", lang)
}

// Transcribe sends the audio (re-encoded as 16 kHz 16-bit WAV) to a
// healthy host, failing over to the next; when no host can serve it runs
// the fallback. Errors: invalid (no engine serves lang, or the audio was
// refused), too_large, busy, unavailable, upstream, timeout, canceled.
func (c *Client) Transcribe(ctx context.Context, a speech.Audio, lang string) (speech.Transcript, error) {
	const op = "openaistt.Transcribe"
	if len(a.Samples) == 0 {
		return speech.Transcript{}, assist.E(assist.KindInvalid, op, "the audio is empty")
	}
	a, err := speech.Resample(a, speech.EngineSampleRate)
	if err != nil {
		return speech.Transcript{}, err
	}
	fallbackServes := c.Fallback != nil && (c.FallbackServes == nil || c.FallbackServes(lang) == nil)
	if c.Pool == nil || !c.Upstreams.serves(lang) {
		// No host is configured for the language: the local engine or a
		// clear refusal, without waiting on the pool.
		if fallbackServes {
			return c.Fallback.Transcribe(ctx, a, lang)
		}
		return speech.Transcript{}, assist.Errorf(assist.KindInvalid, "no speech recognition engine serves language %q", lang)
	}
	tr, err := c.upstream(ctx, a, lang)
	if err == nil {
		return tr, nil
	}
	switch assist.KindOf(err) {
	case assist.KindCanceled, assist.KindInvalid, assist.KindTooLarge:
		return speech.Transcript{}, err
	}
	if !fallbackServes {
		return speech.Transcript{}, err
	}
	if c.Log != nil {
		c.Log.Warn("no transcription host served; using the local engine", "kind", string(assist.KindOf(err)), "op", op)
	}
	return c.Fallback.Transcribe(ctx, a, lang)
}

// upstream runs one transcription through the pool's failover.
func (c *Client) upstream(ctx context.Context, a speech.Audio, lang string) (speech.Transcript, error) {
	const op = "openaistt.Transcribe"
	tp := &transport{up: c.Upstreams, wav: speech.EncodeWAV(a), lang: primary(lang)}
	resp, err := c.Pool.Forward(ctx, tp, models.Call{Model: PoolModel(lang), Priority: c.Priority, Path: Path})
	if err != nil {
		return speech.Transcript{}, err
	}
	limit := c.MaxResponseBytes
	if limit <= 0 {
		limit = 4 << 20
	}
	body, err := io.ReadAll(io.LimitReader(io.MultiReader(bytes.NewReader(resp.First), resp.Body), limit+1))
	if err == nil && int64(len(body)) > limit {
		err = errors.New("answer too large")
	}
	if err != nil {
		resp.Finish(err)
		if ctx.Err() != nil {
			return speech.Transcript{}, assist.ContextError(op, ctx)
		}
		return speech.Transcript{}, assist.E(assist.KindUpstream, op, "the transcription host's answer broke off", err, 2)
	}
	h, _ := c.Upstreams.host(resp.Lease.Host.URL)
	if resp.Status/100 != 2 {
		err := statusError(resp.Status, body)
		resp.Finish(nil) // the host answered; a refusal is not its failure
		if c.Log != nil {
			c.Log.Warn("transcription host refused", "host", h.Name, "status", resp.Status)
		}
		return speech.Transcript{}, err
	}
	resp.Finish(nil)
	tr, err := parse(body)
	if err != nil {
		return speech.Transcript{}, assist.E(assist.KindUpstream, op, "the transcription host's answer is not a transcription", err, 2)
	}
	if tr.Language == "" {
		tr.Language = primary(lang)
	}
	tr.Engine = fmt.Sprintf("openai-compatible %s @ %s", h.Model, h.Name)
	if e := resp.Header.Get(EngineHeader); e != "" {
		tr.Engine += " (" + e + ")"
	}
	return tr, nil
}

// statusError maps a host's refusal to a kind, keeping its message when
// it gave one in the OpenAI error shape.
func statusError(status int, body []byte) error {
	var e struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	msg := ""
	if json.Unmarshal(body, &e) == nil && len(e.Error.Message) < 300 {
		msg = e.Error.Message
	}
	with := func(def string) string {
		if msg != "" {
			return def + ": " + msg
		}
		return def
	}
	switch {
	case status == http.StatusRequestEntityTooLarge:
		return assist.Errorf(assist.KindTooLarge, "%s", with("the transcription host refused the audio as too large"))
	case status == http.StatusTooManyRequests:
		return assist.E(assist.KindBusy, "openaistt.Transcribe", "the transcription host is busy; retry later", 2)
	case status == http.StatusBadRequest || status == http.StatusUnprocessableEntity:
		return assist.Errorf(assist.KindInvalid, "%s", with("the transcription host refused the request"))
	case status/100 == 4:
		return assist.E(assist.KindUnavailable, "openaistt.Transcribe", fmt.Sprintf("the transcription host answered %d (check its URL and key)", status), 5)
	}
	return assist.E(assist.KindUpstream, "openaistt.Transcribe", fmt.Sprintf("the transcription host failed (%d)", status), 2)
}

// verbose is the OpenAI verbose_json answer (plain json has text only).
type verbose struct {
	Text     string  `json:"text"`
	Language string  `json:"language"`
	Duration float64 `json:"duration"`
	Segments []struct {
		Start      float64  `json:"start"`
		End        float64  `json:"end"`
		Text       string   `json:"text"`
		AvgLogprob *float64 `json:"avg_logprob"`
	} `json:"segments"`
}

func parse(body []byte) (speech.Transcript, error) {
	var v verbose
	if err := json.Unmarshal(body, &v); err != nil {
		return speech.Transcript{}, err
	}
	tr := speech.Transcript{Text: strings.TrimSpace(v.Text), Language: languageTag(v.Language)}
	for _, s := range v.Segments {
		seg := speech.Segment{
			Start: time.Duration(s.Start * float64(time.Second)),
			End:   time.Duration(s.End * float64(time.Second)),
			Text:  strings.TrimSpace(s.Text), Confidence: -1,
		}
		if s.AvgLogprob != nil {
			seg.Confidence = math.Min(1, math.Exp(*s.AvgLogprob))
		}
		tr.Segments = append(tr.Segments, seg)
	}
	return tr, nil
}

// languageTag turns Whisper's language names ("english") into tags.
func languageTag(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) <= 3 {
		return s
	}
	if t, ok := whisperNames[s]; ok {
		return t
	}
	return ""
}

// transport sends one transcription: the multipart body is built per host
// (each names its own model and key).
type transport struct {
	up   *Upstreams
	wav  []byte
	lang string
}

var _ models.Transport = (*transport)(nil)

func (t *transport) Send(ctx context.Context, baseURL, path string, _ []byte) (*http.Response, error) {
	h, ok := t.up.host(baseURL)
	if !ok {
		return nil, errors.New("openaistt: unknown host")
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	hdr := textproto.MIMEHeader{}
	hdr.Set("Content-Disposition", `form-data; name="file"; filename="audio.wav"`)
	hdr.Set("Content-Type", "audio/wav")
	fw, err := mw.CreatePart(hdr)
	if err != nil {
		return nil, err
	}
	_, _ = fw.Write(t.wav)
	_ = mw.WriteField("model", h.Model)
	_ = mw.WriteField("response_format", "verbose_json")
	if t.lang != "" {
		_ = mw.WriteField("language", t.lang)
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(baseURL, "/")+path, &body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Accept", "application/json")
	if h.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+h.APIKey)
	}
	return t.up.HTTP.Do(req)
}

// WhisperLanguages are the languages Whisper models recognise: a host
// with no languages configured is offered all of them.
var WhisperLanguages = slices.Sorted(func(yield func(string) bool) {
	for _, t := range whisperNames {
		if !yield(t) {
			return
		}
	}
})

var whisperNames = map[string]string{
	"english": "en", "chinese": "zh", "german": "de", "spanish": "es", "russian": "ru", "korean": "ko", "french": "fr",
	"japanese": "ja", "portuguese": "pt", "turkish": "tr", "polish": "pl", "catalan": "ca", "dutch": "nl", "arabic": "ar",
	"swedish": "sv", "italian": "it", "indonesian": "id", "hindi": "hi", "finnish": "fi", "vietnamese": "vi", "hebrew": "he",
	"ukrainian": "uk", "greek": "el", "malay": "ms", "czech": "cs", "romanian": "ro", "danish": "da", "hungarian": "hu",
	"tamil": "ta", "norwegian": "no", "thai": "th", "urdu": "ur", "croatian": "hr", "bulgarian": "bg", "lithuanian": "lt",
	"latin": "la", "maori": "mi", "malayalam": "ml", "welsh": "cy", "slovak": "sk", "telugu": "te", "persian": "fa",
	"latvian": "lv", "bengali": "bn", "serbian": "sr", "azerbaijani": "az", "slovenian": "sl", "kannada": "kn",
	"estonian": "et", "macedonian": "mk", "breton": "br", "basque": "eu", "icelandic": "is", "armenian": "hy",
	"nepali": "ne", "mongolian": "mn", "bosnian": "bs", "kazakh": "kk", "albanian": "sq", "swahili": "sw",
	"galician": "gl", "marathi": "mr", "punjabi": "pa", "sinhala": "si", "khmer": "km", "shona": "sn", "yoruba": "yo",
	"somali": "so", "afrikaans": "af", "occitan": "oc", "georgian": "ka", "belarusian": "be", "tajik": "tg",
	"sindhi": "sd", "gujarati": "gu", "amharic": "am", "yiddish": "yi", "lao": "lo", "uzbek": "uz", "faroese": "fo",
	"haitian creole": "ht", "pashto": "ps", "turkmen": "tk", "nynorsk": "nn", "maltese": "mt", "sanskrit": "sa",
	"luxembourgish": "lb", "myanmar": "my", "tibetan": "bo", "tagalog": "tl", "malagasy": "mg", "assamese": "as",
	"tatar": "tt", "hawaiian": "haw", "lingala": "ln", "hausa": "ha", "bashkir": "ba", "javanese": "jw",
	"sundanese": "su", "cantonese": "yue",
}

var _ speech.StreamingTranscriber = (*Client)(nil)

// Start begins an utterance. When no healthy host serves lang and the
// fallback streams (PocketSphinx), the utterance is decoded locally as it
// is spoken; otherwise the audio is buffered and sent, with failover, at
// End (hosts answer whole utterances), and Partial stays empty.
func (c *Client) Start(ctx context.Context, lang string) (speech.Stream, error) {
	const op = "openaistt.Start"
	hostServes := false
	if c.Pool != nil && c.Upstreams.serves(lang) {
		for _, m := range c.Pool.Models() {
			if m.Name == PoolModel(lang) {
				hostServes = true
				break
			}
		}
	}
	if !hostServes {
		if st, ok := c.Fallback.(speech.StreamingTranscriber); ok && (c.FallbackServes == nil || c.FallbackServes(lang) == nil) {
			return st.Start(ctx, lang)
		}
		if err := c.Supports(lang); err != nil && !c.Upstreams.serves(lang) {
			return nil, err
		}
	}
	return &buffered{c: c, ctx: ctx, lang: lang, op: op}, nil
}

// buffered collects an utterance for a whole-utterance Transcribe at End.
type buffered struct {
	c       *Client
	ctx     context.Context
	lang    string
	op      string
	samples []float32
	done    bool
}

func (b *buffered) Write(samples []float32) error {
	if b.done {
		return assist.E(assist.KindInvalid, b.op, "the utterance has ended")
	}
	b.samples = append(b.samples, samples...)
	return nil
}

func (b *buffered) Partial() string { return "" }

func (b *buffered) End() (speech.Transcript, error) {
	if b.done {
		return speech.Transcript{}, assist.E(assist.KindInvalid, b.op, "the utterance has ended")
	}
	b.done = true
	s := b.samples
	b.samples = nil
	return b.c.Transcribe(b.ctx, speech.Audio{SampleRate: speech.EngineSampleRate, Samples: s}, b.lang)
}

func (b *buffered) Close() { b.done, b.samples = true, nil }
