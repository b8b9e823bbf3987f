package riskeval

import (
	"os"
	"strings"
	"testing"

	"github.com/soteai/gateway/evals"
	"github.com/soteai/gateway/risk"
)

// TestLabelledCases runs the labelled medication lists in
// evals/suite/builtin/data/risk_cases.jsonl and reports precision and recall per
// rule category.
func TestLabelledCases(t *testing.T) {
	kb, err := risk.DefaultKB()
	if err != nil {
		t.Fatal(err)
	}
	cases, err := evals.LoadFile(os.DirFS("../../evals/suite/builtin/data"), "risk_cases.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(kb, cases)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Cases < 60 {
		t.Fatalf("%d risk_assess cases; at least 60 are required", rep.Cases)
	}
	report := rep.Tally.Report()
	t.Logf("%d labelled cases, knowledge base %s\n%s", rep.Cases, kb.Version(), report)
	for _, m := range rep.Tally.Misses() {
		t.Logf("%s %s %s (%s)", m.Kind, m.CaseID, m.Item, m.Label)
	}
	for _, m := range rep.NoteMisses {
		t.Error(m)
	}
	if !strings.Contains(report, "TOTAL") || len(rep.Tally.Labels()) < len(risk.Categories) {
		t.Errorf("report lacks categories:\n%s", report)
	}
	total := rep.Tally.Total()
	if total.Precision() < 0.9 || total.Recall() < 0.9 {
		t.Errorf("overall precision %.3f recall %.3f; want both ≥ 0.90", total.Precision(), total.Recall())
	}
}

func TestRunRejectsUnknownRule(t *testing.T) {
	kb, err := risk.DefaultKB()
	if err != nil {
		t.Fatal(err)
	}
	cases, err := evals.Load(strings.NewReader(`{"id":"x","task":"risk_assess","input":{"drugs":[{"atc":"B01AA03"}]},"expected":{"flags":["DDI-TYPO-01"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(kb, cases); err == nil || !strings.Contains(err.Error(), "DDI-TYPO-01") {
		t.Fatalf("err = %v", err)
	}
}
