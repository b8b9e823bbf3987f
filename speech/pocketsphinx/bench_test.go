package pocketsphinx_test

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/soteai/gateway/evals"
	"github.com/soteai/gateway/speech"
	"github.com/soteai/gateway/speech/pocketsphinx"
	"github.com/soteai/gateway/speech/speechtest"
)

// BenchmarkTranscribeRTF measures the real-time factor of the CPU engine
// (seconds of decoding per second of speech; below 1 keeps up with a
// speaker) over the five flite sentences, with the default decoder and
// with the faster settings of pocketsphinx.FastOptions, and reports the
// word error rate of each in the same run.
func BenchmarkTranscribeRTF(b *testing.B) {
	var audio []speech.Audio
	var total time.Duration
	for _, s := range speechtest.Sentences {
		a := speechtest.Flite(b, s)
		audio = append(audio, a)
		total += a.Duration()
	}
	for _, bc := range []struct {
		name string
		opts map[string]string
	}{{"default", nil}, {"fast", pocketsphinx.FastOptions}} {
		b.Run(bc.name, func(b *testing.B) {
			e, err := pocketsphinx.New(pocketsphinx.Config{Decoders: 1, Options: bc.opts})
			if err != nil {
				if os.Getenv("CI") == "true" {
					b.Fatal(err)
				}
				b.Skip(err)
			}
			defer e.Close()
			ctx := context.Background()
			hyps := make([]string, len(audio))
			refs := make([]string, len(audio))
			for i, a := range audio { // warm the decoder, and score
				tr, err := e.Transcribe(ctx, a, "en")
				if err != nil {
					b.Fatal(err)
				}
				hyps[i], refs[i] = norm(tr.Text), norm(speechtest.Sentences[i])
			}
			c0 := cpuTime()
			for b.Loop() {
				for _, a := range audio {
					if _, err := e.Transcribe(ctx, a, "en"); err != nil {
						b.Fatal(err)
					}
				}
			}
			c, _ := evals.WordErrors(refs, hyps)
			// On a shared machine the wall-clock factor mostly measures the
			// other processes; CPU time per audio second is the engine's.
			b.ReportMetric((cpuTime()-c0).Seconds()/(float64(b.N)*total.Seconds()), "cpu-rtf")
			b.ReportMetric(b.Elapsed().Seconds()/(float64(b.N)*total.Seconds()), "rtf")
			b.ReportMetric(100*c.ErrorRate(), "wer%")
		})
	}
}

// cpuTime is the CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkFinalAfterSpeech measures what a session waits for after the
// last sample of an utterance: decoding the whole utterance then
// (Transcribe) against finishing a stream that decoded while the speaker
// spoke (Start/Write/End). ns/op is that wait only.
func BenchmarkFinalAfterSpeech(b *testing.B) {
	a := speechtest.Flite(b, speechtest.Sentences[0])
	e := newEngine(b, 1)
	ctx := context.Background()
	b.Run("batch", func(b *testing.B) {
		for b.Loop() {
			if _, err := e.Transcribe(ctx, a, "en"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("stream", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			st, err := e.Start(ctx, "en")
			if err != nil {
				b.Fatal(err)
			}
			for i := 0; i < len(a.Samples); i += 320 {
				if err := st.Write(a.Samples[i:min(i+320, len(a.Samples))]); err != nil {
					b.Fatal(err)
				}
			}
			b.StartTimer()
			if _, err := st.End(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
