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

// TestCriteriaCases runs the second labelled set, written criterion by
// criterion from AGS Beers 2023, STOPP/START v3, STOPPFall and the SmPCs:
// every expected flag and every deliberate non-flag quotes its criterion;
// dose bands are tested on both sides, as-needed against regular use,
// age 64 against 65, and lists that should raise nothing.
func TestCriteriaCases(t *testing.T) {
	kb, err := risk.DefaultKB()
	if err != nil {
		t.Fatal(err)
	}
	cases, err := evals.LoadFile(os.DirFS("../../evals/suite/builtin/data"), "risk_cases_criteria.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 100 {
		t.Fatalf("%d cases; at least 100 are required", len(cases))
	}
	for _, c := range cases {
		var exp Expected
		if err := c.DecodeExpected(&exp); err != nil {
			t.Fatal(err)
		}
		if err := exp.Quoted(); err != nil {
			t.Errorf("line %d (%s): %v", c.Line, c.ID, err)
		}
		if len(exp.Flags) == 0 && len(exp.NotFlags) == 0 && !c.HasTag("no_flag") {
			t.Errorf("line %d (%s): no expected flag, no non-flag and not tagged no_flag", c.Line, c.ID)
		}
	}
	rep, err := Run(kb, cases)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d criteria cases (%d deliberate non-flags), knowledge base %s\n%s", rep.Cases, rep.NonFlags, kb.Version(), rep.Tally.Report())
	for _, m := range rep.Tally.Misses() {
		t.Logf("%s %s %s (%s)", m.Kind, m.CaseID, m.Item, m.Label)
	}
	for _, m := range rep.NonFlagsFired {
		t.Errorf("deliberate non-flag fired: %s", m)
	}
	for _, m := range rep.NoteMisses {
		t.Error(m)
	}
	// Whole set (both files): the figure the README reports.
	all, err := evals.LoadFile(os.DirFS("../../evals/suite/builtin/data"), "risk_cases.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	both, err := Run(kb, append(all, cases...))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("whole labelled set: %d cases\n%s", both.Cases, both.Tally.Report())
	total := rep.Tally.Total()
	if total.Precision() < 0.9 || total.Recall() < 0.9 {
		t.Errorf("criteria set precision %.3f recall %.3f; want both ≥ 0.90", total.Precision(), total.Recall())
	}
}
