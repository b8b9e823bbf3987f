package interpret

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
	"github.com/soteai/gateway/retrieval"
	"github.com/soteai/gateway/speech"
)

// memLog is an in-memory audit log.
type memLog struct {
	mu   sync.Mutex
	evs  []audit.Event
	fail bool
}

func (l *memLog) Append(ctx context.Context, ev audit.Event) (audit.Receipt, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail {
		return audit.Receipt{}, errors.New("database down")
	}
	if err := ctx.Err(); err != nil {
		return audit.Receipt{}, err
	}
	l.evs = append(l.evs, ev)
	return audit.Receipt{Seq: int64(len(l.evs))}, nil
}

func (l *memLog) setFail(v bool) {
	l.mu.Lock()
	l.fail = v
	l.mu.Unlock()
}

func (l *memLog) events() []audit.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]audit.Event(nil), l.evs...)
}

func (l *memLog) kinds() []string {
	var ks []string
	for _, e := range l.events() {
		ks = append(ks, string(e.Kind))
	}
	return ks
}

// fakeModel translates by tagging the quoted text with the target
// language and echoing the glossary terms it was given.
type fakeModel struct {
	mu      sync.Mutex
	prompts []string
	delay   time.Duration
}

var quoted = regexp.MustCompile(`Text: (".*")`)
var intoLang = regexp.MustCompile(`into ([A-Z][a-z]+)\.`)

func (m *fakeModel) Generate(ctx context.Context, req record.Request) (record.Generation, error) {
	m.mu.Lock()
	m.prompts = append(m.prompts, req.Prompt)
	m.mu.Unlock()
	if req.Priority != assist.PriorityRealtime {
		return record.Generation{}, fmt.Errorf("priority %s, want realtime", req.Priority)
	}
	if m.delay > 0 {
		select {
		case <-time.After(m.delay):
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

func (m *fakeModel) GenerateStream(ctx context.Context, req record.Request, emit func(record.Piece) error) (record.Generation, error) {
	return record.Generation{}, errors.New("not used")
}

func (m *fakeModel) allPrompts() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.prompts...)
}

// toneRecognizer "recognises" the tone bursts the tests speak: each burst
// of a frequency near 300·k Hz is the k-th word of its language's list.
type toneRecognizer struct {
	words map[string][]string
	fail  error
	calls sync.WaitGroup
}

func (r *toneRecognizer) Transcribe(ctx context.Context, a speech.Audio, lang string) (speech.Transcript, error) {
	if r.fail != nil {
		return speech.Transcript{}, r.fail
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
	ws := r.words[lang]
	if k < 0 || k >= len(ws) {
		return speech.Transcript{Language: lang, Engine: "tone 1"}, nil
	}
	return speech.Transcript{Text: ws[k], Language: lang, Engine: "tone 1",
		Segments: []speech.Segment{{Start: 0, End: a.Duration(), Text: ws[k], Confidence: 0.9}}}, nil
}

// beepVoice speaks a tone as long as the text has letters (50 ms each).
type beepVoice struct{ fail error }

func (beepVoice) name() string { return "beep 1" }

func (v beepVoice) Synthesize(ctx context.Context, text, lang string) (speech.Speech, error) {
	if v.fail != nil {
		return speech.Speech{}, v.fail
	}
	if strings.TrimSpace(text) == "" {
		return speech.Speech{}, assist.Errorf(assist.KindInvalid, "nothing to say")
	}
	a := tone(440, time.Duration(len(text))*50*time.Millisecond, 16000)
	return speech.Speech{WAV: speech.EncodeWAV(a), Duration: a.Duration(), Engine: "beep 1 " + lang}, nil
}

// memGlossary finds glossary documents sharing a word with the query
// (the "or" query the pipeline sends), as the full-text search does.
type memGlossary struct {
	entries []GlossaryEntry
	queries []retrieval.Query
	fail    error
	mu      sync.Mutex
}

func (g *memGlossary) Search(ctx context.Context, q retrieval.Query) (retrieval.Hits, error) {
	g.mu.Lock()
	g.queries = append(g.queries, q)
	g.mu.Unlock()
	if g.fail != nil {
		return retrieval.Hits{}, g.fail
	}
	words := map[string]bool{}
	for _, w := range strings.Split(q.Text, " or ") {
		words[w] = true
	}
	h := retrieval.Hits{Collection: q.Collection, Mode: q.Mode, Results: []retrieval.Result{}}
	for i, e := range g.entries {
		req := e.IngestRequest(q.Collection, "test")
		match := false
		for _, w := range strings.Fields(strings.ToLower(string(req.Data))) {
			match = match || words[strings.Trim(w, ":")]
		}
		if match {
			h.Results = append(h.Results, retrieval.Result{ChunkID: int64(i + 1), Metadata: req.Metadata, Text: string(req.Data)})
		}
	}
	return h, nil
}

// tone is a sine at freq Hz with amplitude 0.5.
func tone(freq float64, d time.Duration, rate int) speech.Audio {
	n := int(d.Seconds() * float64(rate))
	a := speech.Audio{SampleRate: rate, Samples: make([]float32, n)}
	for i := range a.Samples {
		a.Samples[i] = float32(0.5 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return a
}

func silence(d time.Duration, rate int) speech.Audio {
	return speech.Audio{SampleRate: rate, Samples: make([]float32, int(d.Seconds()*float64(rate)))}
}

// frames cuts audio into 20 ms PCM16 frames.
func frames(a speech.Audio) [][]byte {
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
