package espeak

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/speech"
)

// Config tunes the synthesizer. Zero fields take the defaults shown.
type Config struct {
	Binary   string        // espeak-ng
	Timeout  time.Duration // one synthesis; 20s
	Speed    int           // words per minute; 160
	MaxChars int           // longest text; 4000
	// Voices maps a language tag to an espeak-ng voice, over the built-in
	// choices (e.g. {"en": "en-gb"}).
	Voices map[string]string
	// English, when set, speaks English instead of espeak-ng (e.g. Flite).
	English speech.Synthesizer
}

// Engine speaks with espeak-ng. It is safe for concurrent use: each call
// runs its own process.
type Engine struct {
	cfg     Config
	bin     string
	version string
	voices  map[string]bool // voices espeak-ng has
}

var _ speech.RateSynthesizer = (*Engine)(nil)

// defaultVoices picks a voice for primary language tags whose espeak-ng
// voice has another name.
var defaultVoices = map[string]string{"en": "en-us", "pt": "pt", "zh": "cmn", "no": "nb", "fr": "fr-fr"}

// New finds espeak-ng and lists its voices; a missing program is kind
// unavailable.
func New(cfg Config) (*Engine, error) {
	const op = "espeak.New"
	if cfg.Binary == "" {
		cfg.Binary = "espeak-ng"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 20 * time.Second
	}
	if cfg.Speed <= 0 {
		cfg.Speed = 160
	}
	if cfg.MaxChars <= 0 {
		cfg.MaxChars = 4000
	}
	bin, err := exec.LookPath(cfg.Binary)
	if err != nil {
		return nil, assist.E(assist.KindUnavailable, op, "espeak-ng is not installed (Debian package espeak-ng)", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--voices").Output()
	if err != nil {
		return nil, assist.E(assist.KindUnavailable, op, "espeak-ng does not run", err)
	}
	e := &Engine{cfg: cfg, bin: bin, voices: map[string]bool{}}
	for _, line := range strings.Split(string(out), "\n")[1:] {
		if f := strings.Fields(line); len(f) >= 2 {
			e.voices[strings.ToLower(f[1])] = true
		}
	}
	if v, err := exec.CommandContext(ctx, bin, "--version").Output(); err == nil {
		if m := regexp.MustCompile(`text-to-speech:\s*(\S+)`).FindSubmatch(v); m != nil {
			e.version = string(m[1])
		}
	}
	return e, nil
}

// Voice returns the espeak-ng voice for a language tag, or kind invalid
// when there is none (espeak-ng 1.51 has no Somali voice, for example).
func (e *Engine) Voice(lang string) (string, error) {
	tag := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(lang), "_", "-"))
	primary, _, _ := strings.Cut(tag, "-")
	for _, k := range []string{tag, primary} {
		if v, ok := e.cfg.Voices[k]; ok {
			return v, nil
		}
	}
	if tag != "" && e.voices[tag] {
		return tag, nil
	}
	if v, ok := defaultVoices[primary]; ok && e.voices[v] {
		return v, nil
	}
	if primary != "" && e.voices[primary] {
		return primary, nil
	}
	return "", assist.Errorf(assist.KindInvalid, "no speech synthesis voice for language %q", lang)
}

// Synthesize speaks text in lang. Errors: invalid for empty or overlong
// text or a language without a voice; timeout when espeak-ng runs past its
// deadline; unavailable when it fails.
func (e *Engine) Synthesize(ctx context.Context, text, lang string) (speech.Speech, error) {
	return e.SynthesizeAt(ctx, text, lang, 1)
}

// SynthesizeAt speaks at rate times the configured speed (espeak-ng's
// 80–450 words per minute bound it).
func (e *Engine) SynthesizeAt(ctx context.Context, text, lang string, rate float64) (speech.Speech, error) {
	const op = "espeak.Synthesize"
	if err := checkText(text, e.cfg.MaxChars); err != nil {
		return speech.Speech{}, err
	}
	if err := checkRate(rate); err != nil {
		return speech.Speech{}, err
	}
	if e.cfg.English != nil && primaryTag(lang) == "en" {
		if rs, ok := e.cfg.English.(speech.RateSynthesizer); ok {
			return rs.SynthesizeAt(ctx, text, lang, rate)
		}
		return e.cfg.English.Synthesize(ctx, text, lang)
	}
	voice, err := e.Voice(lang)
	if err != nil {
		return speech.Speech{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	defer cancel()
	wpm := int(math.Round(max(80, min(450, float64(e.cfg.Speed)*rate))))
	cmd := exec.CommandContext(ctx, e.bin, "-v", voice, "-s", strconv.Itoa(wpm), "--stdout", "--stdin")
	cmd.Stdin = strings.NewReader(text)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return speech.Speech{}, runError(ctx, op, "espeak-ng", err)
	}
	a, err := streamedWAV(out)
	if err != nil {
		return speech.Speech{}, assist.E(assist.KindUnavailable, op, "espeak-ng gave no usable audio", err)
	}
	return speech.Speech{WAV: speech.EncodeWAV(a), Duration: a.Duration(), Engine: fmt.Sprintf("espeak-ng %s voice %s", e.version, voice)}, nil
}

func checkRate(rate float64) error {
	if rate < 0.25 || rate > 4 || rate != rate {
		return assist.Errorf(assist.KindInvalid, "the speaking rate must be between 0.25 and 4")
	}
	return nil
}

func primaryTag(lang string) string {
	p, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(lang)), "-")
	p, _, _ = strings.Cut(p, "_")
	return p
}

func checkText(text string, maxChars int) error {
	if strings.TrimSpace(text) == "" {
		return assist.Errorf(assist.KindInvalid, "there is no text to speak")
	}
	if n := len([]rune(text)); n > maxChars {
		return assist.Errorf(assist.KindInvalid, "the text has %d characters; at most %d can be spoken at once", n, maxChars)
	}
	return nil
}

// runError classifies a failed synthesis process.
func runError(ctx context.Context, op, program string, err error) error {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return assist.E(assist.KindTimeout, op, program+" ran past its deadline", err)
	case ctx.Err() != nil:
		return assist.E(assist.KindCanceled, op, ctx.Err())
	}
	return assist.E(assist.KindUnavailable, op, program+" failed", err)
}

// streamedWAV reads the 16-bit mono PCM WAV a synthesizer wrote to a pipe,
// whose size fields are placeholders: the samples run to the end.
func streamedWAV(b []byte) (speech.Audio, error) {
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return speech.Audio{}, errors.New("not a WAV stream")
	}
	var rate int
	for p := 12; p+8 <= len(b); {
		id, size := string(b[p:p+4]), int(binary.LittleEndian.Uint32(b[p+4:]))
		body := b[p+8:]
		switch id {
		case "fmt ":
			if len(body) < 16 {
				return speech.Audio{}, errors.New("short fmt chunk")
			}
			format, ch, bits := binary.LittleEndian.Uint16(body), binary.LittleEndian.Uint16(body[2:]), binary.LittleEndian.Uint16(body[14:])
			if format != 1 || ch != 1 || bits != 16 {
				return speech.Audio{}, fmt.Errorf("format %d, %d channels, %d bits; want 16-bit mono PCM", format, ch, bits)
			}
			rate = int(binary.LittleEndian.Uint32(body[4:]))
		case "data":
			if rate == 0 {
				return speech.Audio{}, errors.New("data before fmt")
			}
			if size > len(body) {
				size = len(body)
			}
			size &^= 1
			s, err := speech.AppendPCM16(nil, body[:size])
			if err != nil {
				return speech.Audio{}, err
			}
			if len(s) == 0 {
				return speech.Audio{}, errors.New("no samples")
			}
			return speech.Audio{SampleRate: rate, Samples: s}, nil
		}
		if size > len(body) {
			break
		}
		p += 8 + size + size&1
	}
	return speech.Audio{}, errors.New("no data chunk")
}

// Flite speaks English with flite (voice slt by default), which sounds
// more natural than espeak-ng's English.
type Flite struct {
	Binary   string        // flite
	Voice    string        // slt
	Timeout  time.Duration // 20s
	MaxChars int           // 4000
}

var _ speech.RateSynthesizer = Flite{}

// Synthesize speaks English text; other languages are kind invalid.
func (f Flite) Synthesize(ctx context.Context, text, lang string) (speech.Speech, error) {
	return f.SynthesizeAt(ctx, text, lang, 1)
}

// SynthesizeAt speaks English at rate times flite's normal pace.
func (f Flite) SynthesizeAt(ctx context.Context, text, lang string, rate float64) (speech.Speech, error) {
	const op = "espeak.Flite"
	if err := checkRate(rate); err != nil {
		return speech.Speech{}, err
	}
	if f.Binary == "" {
		f.Binary = "flite"
	}
	if f.Voice == "" {
		f.Voice = "slt"
	}
	if f.Timeout <= 0 {
		f.Timeout = 20 * time.Second
	}
	if f.MaxChars <= 0 {
		f.MaxChars = 4000
	}
	if p := primaryTag(lang); p != "en" {
		return speech.Speech{}, assist.Errorf(assist.KindInvalid, "flite speaks English only, not %q", lang)
	}
	if err := checkText(text, f.MaxChars); err != nil {
		return speech.Speech{}, err
	}
	bin, err := exec.LookPath(f.Binary)
	if err != nil {
		return speech.Speech{}, assist.E(assist.KindUnavailable, op, "flite is not installed (Debian package flite)", err)
	}
	dir, err := os.MkdirTemp("", "flite-")
	if err != nil {
		return speech.Speech{}, assist.E(assist.KindInternal, op, err)
	}
	defer os.RemoveAll(dir)
	in, out := filepath.Join(dir, "in.txt"), filepath.Join(dir, "out.wav")
	if err := os.WriteFile(in, []byte(text), 0o600); err != nil {
		return speech.Speech{}, assist.E(assist.KindInternal, op, err)
	}
	ctx, cancel := context.WithTimeout(ctx, f.Timeout)
	defer cancel()
	stretch := strconv.FormatFloat(1/rate, 'f', 3, 64)
	if err := exec.CommandContext(ctx, bin, "-voice", f.Voice, "--setf", "duration_stretch="+stretch, "-f", in, "-o", out).Run(); err != nil {
		return speech.Speech{}, runError(ctx, op, "flite", err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return speech.Speech{}, assist.E(assist.KindUnavailable, op, "flite wrote no audio", err)
	}
	a, err := streamedWAV(b)
	if err != nil {
		return speech.Speech{}, assist.E(assist.KindUnavailable, op, "flite gave no usable audio", err)
	}
	return speech.Speech{WAV: speech.EncodeWAV(a), Duration: a.Duration(), Engine: "flite 2.2 voice " + f.Voice}, nil
}
