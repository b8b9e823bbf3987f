package speech

import (
	"bytes"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-audio/audio"
	"github.com/go-audio/wav"

	"github.com/soteai/gateway/assist"
)

// writeWAV encodes frames (interleaved) as a PCM WAV file.
func writeWAV(t *testing.T, rate, ch, bits int, frames []int) *os.File {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "a.wav"))
	if err != nil {
		t.Fatal(err)
	}
	e := wav.NewEncoder(f, rate, bits, ch, 1)
	if err := e.Write(&audio.IntBuffer{Data: frames, Format: &audio.Format{NumChannels: ch, SampleRate: rate}, SourceBitDepth: bits}); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestDecodeWAV(t *testing.T) {
	const rate = 16000
	sine := make([]int, rate) // one second of 440 Hz at half scale
	for i := range sine {
		sine[i] = int(16383 * math.Sin(2*math.Pi*440*float64(i)/rate))
	}
	a, err := DecodeWAV(writeWAV(t, rate, 1, 16, sine), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if a.SampleRate != rate || len(a.Samples) != rate || a.Duration() != time.Second {
		t.Fatalf("got %d Hz, %d samples, %s", a.SampleRate, len(a.Samples), a.Duration())
	}
	var peak float32
	for _, s := range a.Samples {
		peak = max(peak, s)
	}
	if peak < 0.49 || peak > 0.51 {
		t.Fatalf("peak %f, want 0.5", peak)
	}

	stereo := []int{1000, -1000, 2000, 2000}
	a, err = DecodeWAV(writeWAV(t, 8000, 2, 16, stereo), Limits{})
	if err != nil || len(a.Samples) != 2 || a.Samples[0] != 0 {
		t.Fatalf("stereo mix-down: %v %v", a.Samples, err)
	}
}

func TestDecodeWAVErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		file func(t *testing.T) io.ReadSeeker
		lim  Limits
		kind assist.Kind
	}{
		{"empty", func(t *testing.T) io.ReadSeeker { return bytes.NewReader(nil) }, Limits{}, assist.KindInvalid},
		{"not wav", func(t *testing.T) io.ReadSeeker { return bytes.NewReader([]byte("RIFF....garbage garbage")) }, Limits{}, assist.KindInvalid},
		{"no samples", func(t *testing.T) io.ReadSeeker { return writeWAV(t, 16000, 1, 16, nil) }, Limits{}, assist.KindInvalid},
		{"rate too low", func(t *testing.T) io.ReadSeeker { return writeWAV(t, 4000, 1, 16, []int{1, 2}) }, Limits{}, assist.KindInvalid},
		{"too long", func(t *testing.T) io.ReadSeeker { return writeWAV(t, 8000, 1, 16, make([]int, 16000)) }, Limits{MaxDuration: time.Second}, assist.KindTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeWAV(tc.file(t), tc.lim)
			if assist.KindOf(err) != tc.kind || assist.MessageOf(err) == "" {
				t.Fatalf("got %v, want kind %s", err, tc.kind)
			}
		})
	}
}

// WAV files as sox writes them: extensible 24-bit stereo and 32-bit float.
func TestDecodeWAVFormats(t *testing.T) {
	sox, err := exec.LookPath("sox")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("sox is not installed")
		}
		t.Skip("sox is not installed")
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		rate int
	}{
		{"extensible 24-bit stereo", []string{"-b", "24", "-c", "2", "-r", "48000"}, 48000},
		{"32-bit float", []string{"-e", "floating-point", "-b", "32", "-r", "44100"}, 44100},
		{"8-bit unsigned", []string{"-e", "unsigned-integer", "-b", "8", "-r", "8000"}, 8000},
		{"a-law is refused", []string{"-e", "a-law", "-r", "8000"}, 0},
		{"64-bit float is refused", []string{"-e", "floating-point", "-b", "64", "-r", "16000"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".wav")
			args := append([]string{"-n"}, tc.args...)
			args = append(args, p, "synth", "0.5", "sine", "440", "vol", "0.5")
			if out, err := exec.Command(sox, args...).CombinedOutput(); err != nil {
				t.Fatalf("sox: %v %s", err, out)
			}
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			a, err := DecodeWAV(f, Limits{})
			if tc.rate == 0 {
				if assist.KindOf(err) != assist.KindInvalid || assist.MessageOf(err) == "" {
					t.Fatalf("got %v, want a clear invalid", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.SampleRate != tc.rate || a.Duration() != 500*time.Millisecond {
				t.Fatalf("%d Hz, %s", a.SampleRate, a.Duration())
			}
			// A sine at half scale: -9 dBFS RMS.
			if l := Level(a.Samples); math.Abs(l-(-9.03)) > 0.3 {
				t.Fatalf("level %.2f dBFS", l)
			}
		})
	}
}
