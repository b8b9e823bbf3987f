package redflags

import "testing"

// BenchmarkDetect measures red-flag detection over a mix of messages in the
// three languages, one message per call, on one goroutine. It reports
// messages per second (target ≥ 10,000 on one core).
func BenchmarkDetect(b *testing.B) {
	s := defaultSet(b)
	msgs := make([][]Message, len(ruleCases))
	for i, tc := range ruleCases {
		msgs[i] = []Message{{Text: tc.text + " " + filler[i%len(filler)]}}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Detect(msgs[i%len(msgs)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// filler makes messages the length of real chat messages (~300 characters).
var filler = []string{
	"Olen ollut flunssassa viikon, yskin paljon ja nenä vuotaa. Otin eilen parasetamolia, mutta olo ei juuri parantunut. Voinko mennä töihin maanantaina vai pitäisikö jäädä kotiin lepäämään?",
	"Jag har varit förkyld i en vecka, hostar mycket och är täppt i näsan. Jag tog paracetamol igår men det hjälpte inte så mycket. Kan jag gå till jobbet på måndag?",
	"I've had a cold for a week, coughing a lot and a runny nose. I took paracetamol yesterday but it didn't help much. Can I go back to work on Monday or should I stay at home?",
}
