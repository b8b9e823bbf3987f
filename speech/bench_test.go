package speech

import (
	"testing"
	"time"
)

// BenchmarkResample48k measures streaming resampling of one second of
// 48 kHz audio in 20 ms frames; x-realtime is audio seconds per CPU second.
func BenchmarkResample48k(b *testing.B) {
	in := sineWave(48000, 440, 0.5, 48000)
	r, _ := NewResampler(48000, EngineSampleRate)
	out := make([]float32, 0, 17000)
	for b.Loop() {
		out = out[:0]
		for i := 0; i < len(in); i += 960 {
			out = r.Process(out, in[i:i+960])
		}
		out = r.Flush(out)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "x-realtime")
}

// BenchmarkSegmenter measures the voice-activity detector over one second
// of 16 kHz audio in 20 ms frames.
func BenchmarkSegmenter(b *testing.B) {
	in := sineWave(EngineSampleRate, 300, 0.3, EngineSampleRate)
	s, _ := NewSegmenter(VADConfig{MaxSegment: time.Minute})
	for b.Loop() {
		for i := 0; i < len(in); i += 320 {
			s.Write(in[i : i+320])
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "x-realtime")
}
