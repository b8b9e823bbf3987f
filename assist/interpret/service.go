package interpret

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"log/slog"
	"sync"
	"time"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/prompt"
	"github.com/soteai/gateway/assist/record"
	"github.com/soteai/gateway/speech"
)

//go:embed prompts
var promptFiles embed.FS

// Templates are the package's prompt templates (interpret.translate@N).
var Templates = prompt.MustLoad(promptFiles, "prompts", "interpret.")

// TranslateTemplateID names the translation prompt.
const TranslateTemplateID = "interpret.translate"

// Recorder makes audited model calls and records the session's own events
// (*record.Recorder). Errors: unavailable when the audit log cannot be
// written (nothing is released); the model's kinds from Generate.
type Recorder interface {
	Generate(ctx context.Context, c record.Call) (record.Result, error)
	Commit(ctx context.Context, e record.Entry) (int64, error)
}

var _ Recorder = (*record.Recorder)(nil)

// Recognizer is a speech recogniser and the name and version of its
// engine, for the ready event and the audit log.
type Recognizer struct {
	speech.Transcriber
	Engine string
	// Streaming, when set, recognises each utterance while it is spoken:
	// partial captions come from its hypothesis and the final text is
	// ready shortly after the end of speech. When it has no free decoder
	// at the start of an utterance, that utterance is transcribed whole.
	Streaming speech.StreamingTranscriber
}

// Voice is a synthesizer and its engine name.
type Voice struct {
	speech.Synthesizer
	Engine string
}

// Deps are what sessions run on.
type Deps struct {
	// Recognizer picks the recogniser for a language. Errors: invalid for
	// a language no engine serves (refused at session start).
	Recognizer func(lang string) (Recognizer, error)
	// Voice picks the synthesizer for a language (nil: no synthesis).
	// Errors: invalid for a language without a voice.
	Voice func(lang string) (Voice, error)
	// Rec makes the audited translation calls and records every event.
	Rec Recorder
	// Glossary searches glossary collections; nil disables glossaries.
	Glossary Searcher
	// Model names the translation model in the ready event ("" unknown).
	Model  string
	Logger *slog.Logger
	// NewID makes session ids (default: 16 random hex digits).
	NewID func() string
}

// Config bounds sessions. Zero fields take the defaults shown.
type Config struct {
	MaxDuration          time.Duration // of one session; 2h
	MaxSessions          int           // at once on this gateway; 16
	MaxSessionsPerCaller int           // at once per credential; 2
	MaxFrameBytes        int           // one audio frame; 64 KiB
	EventQueue           int           // events waiting for the client; 256
	// SlowClient is how long the pipeline waits for a client that reads
	// no events (or for a pipeline that cannot keep up with the audio)
	// before the session ends as busy; 15s.
	SlowClient time.Duration
	// IdleTimeout ends a session whose client sends nothing (no audio, no
	// message) this long: a client gone without closing; 60s.
	IdleTimeout time.Duration
	// UtteranceQueue is how many finished utterances may wait for the
	// recogniser; 16.
	UtteranceQueue int
	// PartialEvery is how much new speech makes a new partial caption; 1s
	// (0.5s with a streaming recogniser, whose partials cost nothing).
	PartialEvery time.Duration
	// StreamStartWait is how long an utterance waits for a streaming
	// decoder before it is transcribed whole instead; 50ms.
	StreamStartWait time.Duration
	// MaxTranslationTokens bounds one translation; 256.
	MaxTranslationTokens int
	VAD                  speech.VADConfig
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	defInt := func(n *int, v int) {
		if *n <= 0 {
			*n = v
		}
	}
	def(&c.MaxDuration, 2*time.Hour)
	def(&c.SlowClient, 15*time.Second)
	def(&c.PartialEvery, time.Second)
	def(&c.StreamStartWait, 50*time.Millisecond)
	def(&c.IdleTimeout, time.Minute)
	defInt(&c.MaxSessions, 16)
	defInt(&c.MaxSessionsPerCaller, 2)
	defInt(&c.MaxFrameBytes, 64*1024)
	defInt(&c.EventQueue, 256)
	defInt(&c.UtteranceQueue, 16)
	defInt(&c.MaxTranslationTokens, 256)
	return c
}

// Service opens sessions within the limits and ends them all on Close.
type Service struct {
	cfg  Config
	d    Deps
	tmpl *prompt.Template

	base   context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	active    int
	perCaller map[string]int
	closed    bool
}

// New makes a Service. Errors: invalid when a dependency is missing.
func New(cfg Config, d Deps) (*Service, error) {
	if d.Recognizer == nil || d.Rec == nil {
		return nil, assist.E(assist.KindInvalid, "interpret.New", "interpretation needs a speech recogniser and the audited model call")
	}
	if _, err := speech.NewSegmenter(cfg.VAD); err != nil {
		return nil, err
	}
	if d.NewID == nil {
		d.NewID = randomID
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	t, err := Templates.Latest(TranslateTemplateID)
	if err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg.withDefaults(), d: d, tmpl: t, perCaller: map[string]int{}}
	s.base, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// Config returns the limits in force.
func (s *Service) Config() Config { return s.cfg }

// Active is the number of sessions open now.
func (s *Service) Active() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active
}

// Close ends every session (as canceled) and waits for them.
func (s *Service) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
}

func randomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// admit counts a new session of caller. Errors: busy over a limit,
// unavailable after Close.
func (s *Service) admit(caller string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return assist.E(assist.KindUnavailable, "interpret.Open", "the gateway is shutting down", 5)
	case s.active >= s.cfg.MaxSessions:
		return assist.E(assist.KindBusy, "interpret.Open", "the gateway has as many interpretation sessions as it can run in real time; try again shortly", 10)
	case s.perCaller[caller] >= s.cfg.MaxSessionsPerCaller:
		return assist.E(assist.KindBusy, "interpret.Open", "this credential already has the most interpretation sessions it may have open at once", 10)
	}
	s.active++
	s.perCaller[caller]++
	s.wg.Add(1)
	return nil
}

func (s *Service) release(caller string) {
	s.mu.Lock()
	s.active--
	if s.perCaller[caller]--; s.perCaller[caller] <= 0 {
		delete(s.perCaller, caller)
	}
	s.mu.Unlock()
	s.wg.Done()
}
