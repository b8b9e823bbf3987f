package interpret

import (
	"context"
	"sort"
	"testing"
)

// BenchmarkPipelineOverhead is the pipeline's own time per segment, from
// the end of speech to the speech event, with instant engines (a tone
// recogniser, an echoing model, a beep synthesizer) and an in-memory
// audit log: VAD hand-off, three audit records, glossary lookup, prompt,
// event queue. The end-to-end benchmarks with the real engines are in
// cmd/assistd (BenchmarkInterpretSegment).
func BenchmarkPipelineOverhead(b *testing.B) {
	r := newRig(b, Config{})
	st := start(16000)
	s, err := r.svc.Open(actorCtx("bench"), st)
	if err != nil {
		b.Fatal(err)
	}
	var over []float64
	b.ResetTimer()
	for i := range b.N {
		speak(b, s, 0, i%4, 16000)
		for {
			ev, ok := s.Next(context.Background())
			if !ok {
				b.Fatal("ended")
			}
			if ev.Type == EventError {
				b.Fatalf("error %+v", ev)
			}
			if ev.Type == EventSpeech {
				over = append(over, ev.Latency.OverheadMS+ev.Latency.QueueMS)
				break
			}
		}
	}
	b.StopTimer()
	s.Abort()
	for ok := true; ok; _, ok = s.Next(context.Background()) {
	}
	s.Wait()
	sort.Float64s(over)
	b.ReportMetric(over[len(over)/2], "overhead-p50-ms")
	b.ReportMetric(over[min(len(over)-1, len(over)*95/100)], "overhead-p95-ms")
}
