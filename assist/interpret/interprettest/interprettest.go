// Package interprettest has the fakes the interpretation tests and
// benchmarks share: an in-memory audit log, a model that echoes, a
// recogniser of tone bursts (each frequency a word) and a synthesizer of
// beeps, plus audio helpers. For tests only.
package interprettest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/record"
	"github.com/soteai/gateway/speech"
)

// MemLog is an in-memory audit log.
type MemLog struct {
	mu   sync.Mutex
	Evs  []audit.Event
	Fail bool
}

func (l *MemLog) Append(ctx context.Context, ev audit.Event) (audit.Receipt, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.Fail {
		return audit.Receipt{}, errors.New("database down")
	}
	if err := ctx.Err(); err != nil {
		return audit.Receipt{}, err
	}
	l.Evs = append(l.Evs, ev)
	return audit.Receipt{Seq: int64(len(l.Evs))}, nil
}

func (l *MemLog) SetFail(v bool) {
	l.mu.Lock()
	l.Fail = v
	l.mu.Unlock()
}

func (l *MemLog) Events() []audit.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]audit.Event(nil), l.Evs...)
}

func (l *MemLog) Kinds() []string {
	var ks []string
	for _, e := range l.Events() {
		ks = append(ks, string(e.Kind))
	}
	return ks
}

// EchoModel translates by tagging the quoted text with the target
// language and echoing the glossary terms it was given.
type EchoModel struct {
	mu      sync.Mutex
	Prompts []string
	Delay   time.Duration
}

var quoted = regexp.MustCompile(`Text: (".*")`)
var intoLang = regexp.MustCompile(`into ([A-Z][a-z]+)\.`)

func (m *EchoModel) Generate(ctx context.Context, req record.Request) (record.Generation, error) {
	m.mu.Lock()
	m.Prompts = append(m.Prompts, req.Prompt)
	m.mu.Unlock()
	if req.Priority != assist.PriorityRealtime {
		return record.Generation{}, fmt.Errorf("priority %s, want realtime", req.Priority)
	}
	if m.Delay > 0 {
		select {
		case <-time.After(m.Delay):
		case <-ctx.Done():
			return record.Generation{}, assist.E(assist.KindCanceled, ctx.Err())
		}
	}
	q := quoted.FindStringSubmatch(req.Prompt)
	to := intoLang.FindStringSubmatch(req.Prompt)
	if q == nil || to == nil {
		return record.Generation{}, fmt.Errorf("unexpected prompt %q", req.Prompt)
	}
	text, _ := strconv.Unquote(q[1])
	return record.Generation{Text: "[" + to[1] + "] " + text, Model: req.Model.Name, Digest: "sha256:feed", Host: "fake"}, nil
}

func (m *EchoModel) GenerateStream(ctx context.Context, req record.Request, emit func(record.Piece) error) (record.Generation, error) {
	return record.Generation{}, errors.New("not used")
}

func (m *EchoModel) AllPrompts() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.Prompts...)
}

// ToneRecognizer "recognises" the tone bursts the tests speak: each burst
// of a frequency near 300·k Hz is the k-th word of its language's list.
type ToneRecognizer struct {
	Words map[string][]string
	Fail  error
}

func (r *ToneRecognizer) Transcribe(ctx context.Context, a speech.Audio, lang string) (speech.Transcript, error) {
	if r.Fail != nil {
		return speech.Transcript{}, r.Fail
	}
	if err := ctx.Err(); err != nil {
		return speech.Transcript{}, assist.E(assist.KindCanceled, err)
	}
	if a.SampleRate != speech.EngineSampleRate {
		return speech.Transcript{}, fmt.Errorf("rate %d", a.SampleRate)
	}
	// Estimate the dominant frequency from the zero crossings between the
	// first and the last loud sample (silence is exact zeros: no crossings).
	first, last, crossings := -1, -1, 0
	for i, v := range a.Samples {
		if math.Abs(float64(v)) > 0.05 {
			if first < 0 {
				first = i
			}
			last = i
		}
		if i > 0 && (v < 0) != (a.Samples[i-1] < 0) {
			crossings++
		}
	}
	loud := last - first + 1
	if first < 0 {
		return speech.Transcript{Language: lang, Engine: "tone 1"}, nil
	}
	freq := float64(crossings) / 2 / (float64(loud) / float64(a.SampleRate))
	k := int(math.Round(freq/300)) - 1
	ws := r.Words[lang]
	if k < 0 || k >= len(ws) {
		return speech.Transcript{Language: lang, Engine: "tone 1"}, nil
	}
	return speech.Transcript{Text: ws[k], Language: lang, Engine: "tone 1",
		Segments: []speech.Segment{{Start: 0, End: a.Duration(), Text: ws[k], Confidence: 0.9}}}, nil
}

// BeepVoice speaks a tone as long as the text has letters (50 ms each).
type BeepVoice struct{ Fail error }

func (v BeepVoice) Synthesize(ctx context.Context, text, lang string) (speech.Speech, error) {
	if v.Fail != nil {
		return speech.Speech{}, v.Fail
	}
	if strings.TrimSpace(text) == "" {
		return speech.Speech{}, assist.Errorf(assist.KindInvalid, "nothing to say")
	}
	a := Tone(440, time.Duration(len(text))*50*time.Millisecond, 16000)
	return speech.Speech{WAV: speech.EncodeWAV(a), Duration: a.Duration(), Engine: "beep 1 " + lang}, nil
}

// tone is a sine at freq Hz with amplitude 0.5.
func Tone(freq float64, d time.Duration, rate int) speech.Audio {
	n := int(d.Seconds() * float64(rate))
	a := speech.Audio{SampleRate: rate, Samples: make([]float32, n)}
	for i := range a.Samples {
		a.Samples[i] = float32(0.5 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return a
}

func Silence(d time.Duration, rate int) speech.Audio {
	return speech.Audio{SampleRate: rate, Samples: make([]float32, int(d.Seconds()*float64(rate)))}
}

// frames cuts audio into 20 ms PCM16 frames.
func Frames(a speech.Audio) [][]byte {
	pcm := speech.EncodePCM16(nil, a.Samples)
	step := a.SampleRate / 50 * 2
	var out [][]byte
	for len(pcm) > 0 {
		n := min(step, len(pcm))
		out = append(out, pcm[:n])
		pcm = pcm[n:]
	}
	return out
}

// ToneStreamer recognises tone bursts while they are "spoken": a stream
// collects the samples and recognises them on Partial and End. Free is
// how many streams may be open at once (its decoders); Open counts them.
type ToneStreamer struct {
	*ToneRecognizer
	mu     sync.Mutex
	Free   int
	Open   int
	Starts int
}

// Start opens a stream, or fails as busy when no decoder is free.
func (s *ToneStreamer) Start(ctx context.Context, lang string) (speech.Stream, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Open >= s.Free {
		return nil, assist.E(assist.KindBusy, "tone.Start", "no free decoder")
	}
	s.Open++
	s.Starts++
	return &toneStream{s: s, lang: lang}, nil
}

// OpenStreams is the number of streams not yet ended or closed.
func (s *ToneStreamer) OpenStreams() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Open
}

type toneStream struct {
	s      *ToneStreamer
	lang   string
	a      speech.Audio
	closed bool
}

func (t *toneStream) Write(samples []float32) error {
	t.a.SampleRate = speech.EngineSampleRate
	t.a.Samples = append(t.a.Samples, samples...)
	return nil
}

func (t *toneStream) Partial() string {
	tr, _ := t.s.Transcribe(context.Background(), t.a, t.lang)
	return tr.Text
}

func (t *toneStream) End() (speech.Transcript, error) {
	defer t.Close()
	return t.s.Transcribe(context.Background(), t.a, t.lang)
}

func (t *toneStream) Close() {
	if t.closed {
		return
	}
	t.closed = true
	t.s.mu.Lock()
	t.s.Open--
	t.s.mu.Unlock()
}
