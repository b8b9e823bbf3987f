package risk

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/soteai/gateway/assist"
)

// fakeGenerator is a function-field fake of the host pool.
type fakeGenerator struct {
	generate func(ctx context.Context, prompt string) (string, error)
	calls    int
}

func (f *fakeGenerator) Generate(ctx context.Context, prompt string) (string, error) {
	f.calls++
	return f.generate(ctx, prompt)
}

var _ Generator = (*fakeGenerator)(nil)

func summaryResult(t *testing.T) (*KB, Result) {
	kb := testKB(t)
	res, err := Assess(kb, in(pat(78, 55, "I48.9"), "B01AF02", "M01AE01"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(flagKeys(res), ",") != "DDI-BLEED-01,PIM-NSAID-01" {
		t.Fatalf("test setup: flags %v", flagKeys(res))
	}
	return kb, res
}

func TestSummaryPrompt(t *testing.T) {
	_, res := summaryResult(t)
	res.KBVersion = "test"
	golden(t, "summary_prompt_fi.golden.txt", []byte(SummaryPrompt(res, "fi")))
	golden(t, "summary_prompt_en.golden.txt", []byte(SummaryPrompt(res, "en")))
}

func TestCheckSummary(t *testing.T) {
	kb, res := summaryResult(t)
	for _, tc := range []struct {
		name, text string
		ok         bool
	}{
		{"faithful", "Apixaban with ibuprofen raises the risk of serious bleeding [DDI-BLEED-01]. Ibuprofen is best avoided at 78 without stomach protection; paracetamol is an alternative [PIM-NSAID-01].", true},
		{"faithful in Finnish with inflections", "Apiksabaanin ja ibuprofeenin yhdistelmä lisää vuotoriskiä [DDI-BLEED-01]. Ibuprofeenia kannattaa välttää; parasetamoli on vaihtoehto [PIM-NSAID-01].", true},
		{"omits a flag", "Apixaban with ibuprofen raises the bleeding risk [DDI-BLEED-01].", false},
		{"invents a flag key", "Bleeding [DDI-BLEED-01] [PIM-NSAID-01] and kidneys [REN-NSAID-01].", false},
		{"names a rule that did not fire", "Bleeding [DDI-BLEED-01] [PIM-NSAID-01]; see also DDI-QT-01.", false},
		{"adds a drug", "Bleeding [DDI-BLEED-01] [PIM-NSAID-01]. Also stop simvastatin.", false},
		{"adds a drug in Finnish", "Vuoto [DDI-BLEED-01] [PIM-NSAID-01]. Lopeta simvastatiinin käyttö.", false},
		{"adds a brand", "Bleeding [DDI-BLEED-01] [PIM-NSAID-01]. Consider Marevan.", false},
		{"empty", "  ", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckSummary(kb, res, tc.text)
			if (err == nil) != tc.ok {
				t.Fatalf("CheckSummary = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && assist.KindOf(err) != assist.KindUpstream {
				t.Errorf("kind = %s", assist.KindOf(err))
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	kb, res := summaryResult(t)
	ctx := context.Background()

	good := &fakeGenerator{generate: func(_ context.Context, p string) (string, error) {
		if !strings.Contains(p, "[DDI-BLEED-01]") || !strings.Contains(p, "Finnish") {
			t.Errorf("prompt lacks the flags or the language:\n%s", p)
		}
		return " Apiksabaani ja ibuprofeeni [DDI-BLEED-01]; ibuprofeeni iäkkäällä [PIM-NSAID-01]. ", nil
	}}
	s, err := Summarize(ctx, good, kb, res, "fi")
	if err != nil {
		t.Fatal(err)
	}
	if !s.AIGenerated || !strings.HasPrefix(s.Label, "Tekoälyn tuottama") || s.Text[0] == ' ' || len(s.FlagKeys) != 2 || s.KBVersion != kb.Version() {
		t.Errorf("summary = %+v", s)
	}

	bad := &fakeGenerator{generate: func(context.Context, string) (string, error) { return "Everything is fine.", nil }}
	if _, err := Summarize(ctx, bad, kb, res, "en"); assist.KindOf(err) != assist.KindUpstream {
		t.Errorf("unfaithful summary: err = %v", err)
	}

	down := &fakeGenerator{generate: func(context.Context, string) (string, error) {
		return "", assist.E(assist.KindUnavailable, "models.Acquire", "no host", errors.New("all hosts down"))
	}}
	if _, err := Summarize(ctx, down, kb, res, "en"); assist.KindOf(err) != assist.KindUnavailable {
		t.Errorf("generator failure: kind %s, err %v", assist.KindOf(err), err)
	}

	none := &fakeGenerator{generate: func(context.Context, string) (string, error) { return "", errors.New("must not be called") }}
	empty, _ := Assess(kb, in(pat(40, 90), "N02BE01"))
	s, err = Summarize(ctx, none, kb, empty, "en")
	if err != nil || none.calls != 0 || s.AIGenerated || s.Text == "" {
		t.Errorf("no flags: %+v, %v, calls %d", s, err, none.calls)
	}
}
