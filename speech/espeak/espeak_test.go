package espeak_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/speech"
	"github.com/soteai/gateway/speech/espeak"
	"github.com/soteai/gateway/speech/speechtest"
)

func newEngine(t *testing.T, cfg espeak.Config) *espeak.Engine {
	t.Helper()
	speechtest.Require(t, "espeak-ng")
	e, err := espeak.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// checkAudible decodes the WAV and checks its length and level.
func checkAudible(t *testing.T, s speech.Speech, minDur time.Duration) {
	t.Helper()
	a, err := speech.DecodeWAV(bytes.NewReader(s.WAV), speech.Limits{})
	if err != nil {
		t.Fatalf("the WAV does not decode: %v", err)
	}
	if a.Duration() < minDur || a.Duration() > 20*time.Second || s.Duration != a.Duration() {
		t.Fatalf("%s of audio (reported %s), want at least %s", a.Duration(), s.Duration, minDur)
	}
	if lvl := speech.Level(a.Samples); lvl < -35 {
		t.Fatalf("level %.1f dBFS: not audible", lvl)
	}
	t.Logf("%s: %s at %d Hz, %.1f dBFS", s.Engine, a.Duration(), a.SampleRate, speech.Level(a.Samples))
}

func TestSynthesize(t *testing.T) {
	e := newEngine(t, espeak.Config{})
	for _, tc := range []struct{ lang, text string }{
		{"fi", "Ottakaa yksi tabletti joka aamu."},
		{"sv", "Ta en tablett varje morgon."},
		{"en", "Take one tablet every morning."},
		{"en-GB", "Take one tablet every morning."},
		{"ar", "خذ قرصا واحدا كل صباح"},
		{"ru", "Принимайте одну таблетку каждое утро."},
		{"uk", "Приймайте одну таблетку щоранку."},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			s, err := e.Synthesize(context.Background(), tc.text, tc.lang)
			if err != nil {
				t.Fatal(err)
			}
			checkAudible(t, s, 800*time.Millisecond)
			if !strings.HasPrefix(s.Engine, "espeak-ng 1.") {
				t.Fatalf("engine %q", s.Engine)
			}
		})
	}
}

func TestSynthesizeErrors(t *testing.T) {
	e := newEngine(t, espeak.Config{MaxChars: 50})
	for _, tc := range []struct {
		name, text, lang, msg string
		kind                  assist.Kind
	}{
		{"somali has no espeak-ng voice", "Subax wanaagsan", "so", "no speech synthesis voice", assist.KindInvalid},
		{"unknown language", "hello", "xx", "no speech synthesis voice", assist.KindInvalid},
		{"empty text", "  ", "fi", "no text", assist.KindInvalid},
		{"too long", strings.Repeat("a", 51), "fi", "at most 50", assist.KindInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.Synthesize(context.Background(), tc.text, tc.lang)
			if assist.KindOf(err) != tc.kind || !strings.Contains(assist.MessageOf(err), tc.msg) {
				t.Fatalf("got %v (%q), want %s mentioning %q", err, assist.MessageOf(err), tc.kind, tc.msg)
			}
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	time.Sleep(time.Millisecond)
	if _, err := e.Synthesize(ctx, "hei", "fi"); assist.KindOf(err) != assist.KindTimeout {
		t.Fatalf("past deadline: got %v", err)
	}
}

// With flite configured for English, English goes to flite and the rest
// to espeak-ng.
func TestFliteForEnglish(t *testing.T) {
	speechtest.Require(t, "flite")
	e := newEngine(t, espeak.Config{English: espeak.Flite{}})
	s, err := e.Synthesize(context.Background(), "Please take one tablet every morning.", "en")
	if err != nil {
		t.Fatal(err)
	}
	checkAudible(t, s, time.Second)
	if !strings.HasPrefix(s.Engine, "flite") {
		t.Fatalf("English spoken by %q", s.Engine)
	}
	s, err = e.Synthesize(context.Background(), "Hyvää huomenta.", "fi")
	if err != nil || !strings.HasPrefix(s.Engine, "espeak-ng") {
		t.Fatalf("Finnish: %q %v", s.Engine, err)
	}
	if _, err := (espeak.Flite{}).Synthesize(context.Background(), "hei", "fi"); assist.KindOf(err) != assist.KindInvalid {
		t.Fatalf("flite in Finnish: %v", err)
	}
}

// A faster rate gives shorter speech, in both engines.
func TestSynthesizeAt(t *testing.T) {
	speechtest.Require(t, "flite")
	e := newEngine(t, espeak.Config{English: espeak.Flite{}})
	for _, lang := range []string{"fi", "en"} {
		normal, err := e.SynthesizeAt(context.Background(), "Ottakaa yksi tabletti joka aamu ja illalla.", lang, 1)
		if err != nil {
			t.Fatal(err)
		}
		fast, err := e.SynthesizeAt(context.Background(), "Ottakaa yksi tabletti joka aamu ja illalla.", lang, 2)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %s at 1×, %s at 2× (%s)", lang, normal.Duration, fast.Duration, fast.Engine)
		if r := float64(fast.Duration) / float64(normal.Duration); r > 0.75 || r < 0.3 {
			t.Fatalf("%s: 2× took %.2f of the time", lang, r)
		}
	}
	if _, err := e.SynthesizeAt(context.Background(), "hei", "fi", 5); assist.KindOf(err) != assist.KindInvalid {
		t.Fatalf("rate 5: %v", err)
	}
}
