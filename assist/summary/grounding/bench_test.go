package grounding

import (
	"path/filepath"
	"testing"
)

// BenchmarkCheck checks every sentence of the labelled set against its
// transcript (12 turns at most), building each transcript's evidence once
// per call as a caller does, and reports sentences per second on one core.
func BenchmarkCheck(b *testing.B) {
	c := testChecker(b)
	t := &testing.T{}
	dir := filepath.Join("testdata", "labelled")
	trs := map[string]labelledTranscript{}
	for _, tr := range readJSONL[labelledTranscript](t, filepath.Join(dir, "transcripts.jsonl")) {
		trs[tr.ID] = tr
	}
	type job struct {
		lang  string
		src   []Source
		draft []Sentence
	}
	byTr := map[string]*job{}
	var order []string
	n := 0
	for _, ls := range readJSONL[labelledSentence](t, filepath.Join(dir, "sentences.jsonl")) {
		j := byTr[ls.Transcript]
		if j == nil {
			j = &job{lang: ls.Lang, src: trs[ls.Transcript].Turns}
			byTr[ls.Transcript] = j
			order = append(order, ls.Transcript)
		}
		j.draft = append(j.draft, Sentence{ID: ls.ID, Text: ls.Text, Cites: ls.Cites})
		n++
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, id := range order {
			j := byTr[id]
			if _, err := c.Check(j.lang, j.src, j.draft); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "sentences/s")
}
