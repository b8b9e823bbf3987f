package pocketsphinx_test

import (
	"context"
	"testing"

	"github.com/soteai/gateway/speech/speechtest"
)

// BenchmarkTranscribeRTF measures the real-time factor of the CPU engine:
// seconds of decoding per second of speech (below 1 keeps up with a
// speaker), on one flite sentence per iteration.
func BenchmarkTranscribeRTF(b *testing.B) {
	e := newEngine(b, 1)
	a := speechtest.Flite(b, speechtest.Sentences[0])
	ctx := context.Background()
	if _, err := e.Transcribe(ctx, a, "en"); err != nil { // warm the decoder
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := e.Transcribe(ctx, a, "en"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/(float64(b.N)*a.Duration().Seconds()), "rtf")
	b.ReportMetric(a.Duration().Seconds(), "audio-s/op")
}
