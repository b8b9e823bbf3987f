package sox_test

import (
	"bytes"
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/speech"
	"github.com/soteai/gateway/speech/sox"
	"github.com/soteai/gateway/speech/speechtest"
)

func TestRoundTrip(t *testing.T) {
	speechtest.Require(t, "sox")
	a := speechtest.Flite(t, speechtest.Sentences[0])
	wav := speech.EncodeWAV(a)
	var c sox.Converter
	ctx := context.Background()
	flac, err := c.FromWAV(ctx, wav, "flac")
	if err != nil {
		t.Fatal(err)
	}
	if sox.Sniff(flac) != "flac" || len(flac) >= len(wav) {
		t.Fatalf("FLAC of %d bytes from %d", len(flac), len(wav))
	}
	back, err := c.ToWAV(ctx, flac, "flac", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	b, err := speech.DecodeWAV(bytes.NewReader(back), speech.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if b.SampleRate != 16000 || len(b.Samples) != len(a.Samples) || math.Abs(speech.Level(b.Samples)-speech.Level(a.Samples)) > 0.1 {
		t.Fatalf("%d Hz, %d samples (want %d)", b.SampleRate, len(b.Samples), len(a.Samples))
	}

	// Ogg Vorbis made by sox itself, at 44.1 kHz stereo.
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.wav"), filepath.Join(dir, "out.ogg")
	if err := os.WriteFile(in, wav, 0o600); err != nil {
		t.Fatal(err)
	}
	if msg, err := exec.Command("sox", in, "-r", "44100", "-c", "2", out).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, msg)
	}
	ogg, _ := os.ReadFile(out)
	if sox.Sniff(ogg) != "ogg" {
		t.Fatal("not sniffed as Ogg")
	}
	back, err = c.ToWAV(ctx, ogg, "ogg", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := speech.DecodeWAV(bytes.NewReader(back), speech.Limits{}); err != nil || b.SampleRate != 16000 || b.Duration() < a.Duration()-50*time.Millisecond {
		t.Fatalf("Ogg: %v %s", err, b.Duration())
	}

	for _, tc := range []struct {
		name string
		data []byte
		max  time.Duration
		kind assist.Kind
	}{
		{"garbage flac", []byte("fLaC not really"), time.Minute, assist.KindInvalid},
		{"too long", flac, time.Second, assist.KindTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := c.ToWAV(ctx, tc.data, "flac", tc.max); assist.KindOf(err) != tc.kind || assist.MessageOf(err) == "" {
				t.Fatalf("got %v, want %s", err, tc.kind)
			}
		})
	}
	if sox.Sniff([]byte("ID3\x03mp3")) != "" {
		t.Fatal("mp3 sniffed as something")
	}
}
