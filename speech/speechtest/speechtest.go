// Package speechtest gives tests real speech: English sentences spoken by
// flite (voice slt), decoded and resampled to the engine rate, and helpers
// to lay them out with silence. A missing engine skips the test locally and
// fails it under CI=true, so a green build always heard real speech.
//
// It is for tests only; it imports speech and the standard library.
package speechtest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/soteai/gateway/speech"
)

// Sentences are clearly spoken English sentences in plain words that the
// CPU recogniser's general English model knows.
var Sentences = []string{
	"the patient has a fever and a cough",
	"please take one tablet every morning",
	"do you have any pain in your chest",
	"my head hurts when I stand up",
	"we will check your blood pressure today",
}

// Require fails the test under CI=true and skips it otherwise when the
// named program is not installed.
func Require(t testing.TB, program string) string {
	t.Helper()
	path, err := exec.LookPath(program)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed (CI=true: a missing speech engine fails the test)", program)
		}
		t.Skipf("%s is not installed", program)
	}
	return path
}

// FliteWAV speaks text with flite's slt voice and returns the WAV file.
func FliteWAV(t testing.TB, text string) []byte {
	t.Helper()
	bin := Require(t, "flite")
	out := filepath.Join(t.TempDir(), "flite.wav")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-voice", "slt", "-t", text, "-o", out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("flite: %v: %s", err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Flite speaks text with flite's slt voice and returns it at the engine
// rate (16 kHz).
func Flite(t testing.TB, text string) speech.Audio {
	t.Helper()
	a, err := speech.DecodeWAV(bytes.NewReader(FliteWAV(t, text)), speech.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	a, err = speech.Resample(a, speech.EngineSampleRate)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// Silence is d of digital silence at rate.
func Silence(d time.Duration, rate int) speech.Audio {
	return speech.Audio{SampleRate: rate, Samples: make([]float32, int(d.Seconds()*float64(rate)))}
}

// Concat joins pieces of audio of one rate.
func Concat(parts ...speech.Audio) speech.Audio {
	out := speech.Audio{SampleRate: parts[0].SampleRate}
	for _, p := range parts {
		out.Samples = append(out.Samples, p.Samples...)
	}
	return out
}
