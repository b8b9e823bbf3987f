package clinic

import (
	"context"
	"testing"
)

// BenchmarkAssistPipeline measures a whole suggestion with an instant
// model, search and audit log: red flags, medicines and the risk engine,
// prompt rendering, the safety checks and the suggestion record's
// encoding — the pipeline's own time beyond the model (target < 20 ms).
// The real retrieval and audit round trips are measured by the
// integration test against PostgreSQL.
func BenchmarkAssistPipeline(b *testing.B) {
	s, _, _ := newTestService(b, answer("self_care", "Lepää ja juo riittävästi [1]. Parasetamolia voi ottaa 500 mg [1].", []int{1}, "flunssa"))
	req := Request{Collection: "ohjeet", Conversation: []Message{
		{Author: AuthorPatient, Text: "Minulla on ollut flunssa viisi päivää, kuumetta 38,5 ja yskää. Ei rintakipua eikä hengenahdistusta. Käytän Marevania, voinko ottaa Buranaa vai parasetamolia?"},
		{Author: AuthorProfessional, Text: "Kiitos viestistä. Onko sinulla ollut hengitysvaikeuksia?"},
		{Author: AuthorPatient, Text: "Ei ole, mutta yskä on pahempi öisin ja olen tosi väsynyt."},
	}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Assist(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/suggestion")
}
