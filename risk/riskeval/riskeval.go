// Package riskeval runs labelled medication lists (evals dataset format,
// task "risk_assess") through the risk engine and scores the flags per
// rule category. The risk package's tests and the CLI ("assist risk eval")
// use it (and evals/runner's RiskExecutor). It imports risk, evals and
// assist only.
package riskeval

import (
	"fmt"
	"slices"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/evals"
	"github.com/soteai/gateway/risk"
)

// Expected is the "expected" object of a risk_assess case: the rule ids a
// clinician expects to fire, and note reasons that must be present.
type Expected struct {
	Flags []string          `json:"flags"`
	Notes []risk.NoteReason `json:"notes,omitempty"`
}

// Report is the outcome of a run.
type Report struct {
	Cases int
	// Tally has flag counts per rule category.
	Tally *evals.Tally
	// NoteMisses lists expected notes that were not produced.
	NoteMisses []string
}

// Run assesses every risk_assess case. It fails on a malformed case or an
// expected rule id the knowledge base does not define (a typo would
// otherwise count as a miss forever).
func Run(kb *risk.KB, cases []evals.Case) (Report, error) {
	cases = evals.FilterTask(cases, string(assist.TaskRiskAssess))
	rep := Report{Cases: len(cases), Tally: evals.NewTally()}
	category := func(id string) string {
		if r, ok := kb.Rule(id); ok {
			return string(r.Category)
		}
		return "unknown_rule"
	}
	for _, c := range cases {
		var in risk.Input
		var exp Expected
		if err := c.DecodeInput(&in); err != nil {
			return Report{}, err
		}
		if err := c.DecodeExpected(&exp); err != nil {
			return Report{}, err
		}
		for _, id := range exp.Flags {
			if _, ok := kb.Rule(id); !ok {
				return Report{}, fmt.Errorf("line %d: case %q expects rule %s, which the knowledge base does not define", c.Line, c.ID, id)
			}
		}
		res, err := risk.Assess(kb, in)
		if err != nil {
			return Report{}, fmt.Errorf("line %d: case %q: %w", c.Line, c.ID, err)
		}
		var got []string
		for _, f := range res.Flags {
			if !slices.Contains(got, f.RuleID) {
				got = append(got, f.RuleID)
			}
		}
		rep.Tally.Add(c.ID, exp.Flags, got, category)
		var notes []risk.NoteReason
		for _, n := range res.Notes {
			notes = append(notes, n.Reason)
		}
		for _, want := range exp.Notes {
			if !slices.Contains(notes, want) {
				rep.NoteMisses = append(rep.NoteMisses, fmt.Sprintf("%s: note %s missing (got %v)", c.ID, want, notes))
			}
		}
	}
	return rep, nil
}
