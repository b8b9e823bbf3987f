package summaryeval

import (
	"math"
	"testing"

	"github.com/soteai/gateway/assist/summary"
)

func TestScores(t *testing.T) {
	d := &summary.Draft{Sections: []summary.DraftSection{
		{Title: "Subjektiivinen", Sentences: []summary.Sentence{
			{ID: "s1", Text: "Päänsärkyä kolme päivää.", Cites: []string{"t2"}, Supported: true},
			{ID: "s2", Text: "Ei rintakipua.", Supported: false},
		}},
	}}
	metrics := []string{"rouge1", "rouge1_ascii", "rougeL", "citation_coverage", "unsupported_rate"}
	sc, hyp, err := Scores(metrics, d, "section", "Päänsärkyä kolme päivää. Ei rintakipua.")
	if err != nil {
		t.Fatal(err)
	}
	if hyp != "Päänsärkyä kolme päivää. Ei rintakipua." {
		t.Errorf("hypothesis %q", hyp)
	}
	// The Unicode tokenizer keeps Finnish words whole; both give 100 on an
	// exact match, and the section-only hypothesis leaves the title out.
	if sc["rouge1"] != 100 || sc["rouge1_ascii"] != 100 || sc["rougeL"] != 100 {
		t.Errorf("scores %v", sc)
	}
	if sc["citation_coverage"] != 0.5 || sc["unsupported_rate"] != 0.5 {
		t.Errorf("coverage %v unsupported %v", sc["citation_coverage"], sc["unsupported_rate"])
	}
	// One changed vowel: the ASCII tokenizer splits "päivää" into "p" and
	// "iv", so the two tokenizers disagree.
	sc, _, _ = Scores(metrics, d, "section", "Päänsärkyä kolme päivä. Ei rintakipua.")
	if math.Abs(sc["rouge1"]-sc["rouge1_ascii"]) < 1e-9 {
		t.Errorf("tokenizers agree on Finnish: %v", sc)
	}
	sc, hyp, _ = Scores(metrics, d, "note", "x")
	if hyp != d.Text() || sc["rouge1"] != 0 {
		t.Errorf("note %q %v", hyp, sc)
	}
	empty, _, _ := Scores(metrics, &summary.Draft{}, "note", "x")
	if empty["citation_coverage"] != 0 || empty["unsupported_rate"] != 0 {
		t.Errorf("empty draft %v", empty)
	}
}
