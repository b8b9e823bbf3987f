package summary

import (
	"context"
	"testing"

	"github.com/soteai/gateway/assist/record"
	"github.com/soteai/gateway/assist/summary/grounding"
	"github.com/soteai/gateway/risk"
)

// TestDraftGrounded runs the real grounding checker over a draft whose
// model invents a dose and turns a denial around: those sentences are
// flagged with the checker's reason, the faithful ones are supported.
func TestDraftGrounded(t *testing.T) {
	kb, err := risk.DefaultKB()
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeModels{answer: func(record.Call) string {
		return `{"subjective":[{"text":"Päänsärkyä kolme päivää oikealla.","cites":["t2"]},{"text":"Rintakipua.","cites":["t4"]}],
		"plan":[{"text":"Ibuprofeeni 800 mg kolmesti päivässä.","cites":["t5"]},{"text":"Ibuprofeeni 400 mg x 3.","cites":["t5"]},{"text":"Kontrolli viikon päästä."}]}`
	}}
	s := newService(f, Options{})
	s.Grounder = CheckerGrounder{Checker: grounding.New(kb)}
	d, err := s.Draft(context.Background(), &Request{Turns: visit(), Template: "soap", Lang: "fi"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Sentence{}
	for _, x := range d.Sentences() {
		got[x.Text] = x
	}
	for text, want := range map[string]string{
		"Päänsärkyä kolme päivää oikealla.": "",
		"Rintakipua.": "negation",
		"Ibuprofeeni 800 mg kolmesti päivässä.": "dose",
		"Ibuprofeeni 400 mg x 3.":               "",
		"Kontrolli viikon päästä.":              FlagNoCitation,
	} {
		x := got[text]
		if want == "" {
			if !x.Supported || len(x.Flags) > 0 {
				t.Errorf("%q: supported %v flags %+v", text, x.Supported, x.Flags)
			}
			continue
		}
		if x.Supported || !hasType(x.Flags, want) {
			t.Errorf("%q: want a %s flag, got supported %v flags %+v", text, want, x.Supported, x.Flags)
		}
	}
}
