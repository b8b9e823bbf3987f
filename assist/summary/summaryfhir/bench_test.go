package summaryfhir_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/soteai/gateway/assist/record"
	"github.com/soteai/gateway/assist/summary"
	"github.com/soteai/gateway/assist/summary/grounding"
	"github.com/soteai/gateway/assist/summary/summaryfhir"
	"github.com/soteai/gateway/risk"
)

// instant is a model that answers at once with a fixed draft: what is
// measured is everything around the model.
type instant struct{ answer string }

func (m instant) Generate(context.Context, record.Call) (record.Result, error) {
	return record.Result{Text: m.answer, Model: record.Model{Name: "m", Digest: "sha256:d"}}, nil
}

func (m instant) Stream(_ context.Context, _ record.Call, emit func(string) error) (record.Result, error) {
	for i := 0; i < len(m.answer); i += 16 {
		if err := emit(m.answer[i:min(i+16, len(m.answer))]); err != nil {
			return record.Result{}, err
		}
	}
	return record.Result{Model: record.Model{Name: "m", Digest: "sha256:d"}}, nil
}

func (instant) Commit(context.Context, record.Entry) (int64, error) { return 1, nil }

// visit12 is a 12-turn visit with names and an identity code, and the
// draft a model would write for it: 9 cited sentences, two of them wrong.
func visit12() ([]summary.Turn, string) {
	texts := []string{
		"Hei Liisa Virtanen, mikä tuo tänään vastaanotolle?",
		"Minulla on ollut kolme päivää kovaa päänsärkyä oikealla puolella. Henkilötunnukseni on 131052-308T.",
		"Onko rintakipua, kuumetta tai näköhäiriöitä?",
		"Ei rintakipua eikä kuumetta, mutta valo häiritsee.",
		"Mitä lääkkeitä käytät?",
		"Otan ramipriilia 5 mg aamuisin ja parasetamolia tarvittaessa.",
		"Onko sinulla allergioita?",
		"Penisilliinistä tulee ihottumaa.",
		"Verenpaine on 150/95 ja syke 78. Neurologinen status on normaali.",
		"Onko päänsärky ollut tällaista ennenkin?",
		"Ei ole, tämä on uutta.",
		"Aloitetaan ibuprofeeni 400 mg kolme kertaa päivässä ja kontrolli viikon päästä maanantaina.",
	}
	var turns []summary.Turn
	for i, t := range texts {
		sp := "potilas"
		if i%2 == 0 {
			sp = "lääkäri"
		}
		turns = append(turns, summary.Turn{ID: fmt.Sprintf("t%d", i+1), Speaker: sp, Text: t})
	}
	answer := `{"subjective":[{"text":"Kolme päivää kovaa päänsärkyä oikealla.","cites":["t2"]},{"text":"Ei rintakipua eikä kuumetta.","cites":["t3","t4"]},
	{"text":"Valonarkuutta.","cites":["t4"]},{"text":"Lääkitys ramipriili 5 mg aamuisin, parasetamoli tarvittaessa.","cites":["t6"]},{"text":"Penisilliiniallergia (ihottuma).","cites":["t8"]}],
	"objective":[{"text":"RR 150/95, syke 78, neurologinen status normaali.","cites":["t9"]}],
	"assessment":[{"text":"Uusi vasemmanpuoleinen päänsärky.","cites":["t2","t11"]}],
	"plan":[{"text":"Ibuprofeeni 800 mg x 3.","cites":["t12"]},{"text":"Kontrolli viikon päästä maanantaina.","cites":["t12","zz"]}]}`
	return turns, answer
}

// BenchmarkPipeline12Turns is the pipeline beyond the model for a 12-turn
// visit: validation, pseudonymisation, prompt rendering, parsing the
// answer, citation checks, restoring names, the grounding checker over
// every sentence, the audit entries (in memory) and the FHIR Bundle with
// its validation. Target: < 20 ms (target_ratio < 1).
func BenchmarkPipeline12Turns(b *testing.B) {
	kb, err := risk.DefaultKB()
	if err != nil {
		b.Fatal(err)
	}
	turns, answer := visit12()
	svc := &summary.Service{Models: instant{answer}, Templates: summary.DefaultTemplates(),
		Grounder: summary.CheckerGrounder{Checker: grounding.New(kb)}}
	for _, stream := range []bool{false, true} {
		b.Run(fmt.Sprintf("stream=%v", stream), func(b *testing.B) {
			var fhirTime time.Duration
			var sentences, flagged int
			b.ReportAllocs()
			for b.Loop() {
				d, err := svc.Draft(context.Background(), &summary.Request{Turns: turns, Template: "soap", Lang: "fi", Stream: stream},
					func(summary.Event) error { return nil })
				if err != nil {
					b.Fatal(err)
				}
				t0 := time.Now()
				if _, err := summaryfhir.Bundle(d, turns, nil); err != nil {
					b.Fatal(err)
				}
				fhirTime += time.Since(t0)
				sentences = len(d.Sentences())
				flagged = 0
				for _, s := range d.Sentences() {
					if !s.Supported {
						flagged++
					}
				}
			}
			per := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(per/1e6, "ms/visit")
			b.ReportMetric(per/20e6, "target_ratio")
			b.ReportMetric(float64(fhirTime.Nanoseconds())/float64(b.N)/1e6, "fhir_ms")
			b.ReportMetric(float64(sentences), "sentences")
			b.ReportMetric(float64(flagged), "flagged")
			if sentences != 9 || flagged < 2 || strings.Contains(answer, "Liisa") {
				b.Fatalf("draft: %d sentences, %d flagged", sentences, flagged)
			}
		})
	}
}
